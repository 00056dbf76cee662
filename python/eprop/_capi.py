"""The C ABI of libeprop, mirrored one to one from ``Include/eprop.h``.

This is the only module that touches ctypes. It has three parts:

1. **Loading.** :func:`library` loads ``libeprop.so`` once with ``ctypes.CDLL`` (never
   closed), looking in this order: the environment variable ``EPROP_LIBRARY``; ``lib/``
   next to this package (where ``make lib`` and the wheel put it); ``.build/release/`` of
   the repository checkout this package lives in (editable installs). It then checks
   ``eprop_abi_version()`` against :data:`ABI_VERSION` and declares every function.
2. **Declarations.** :data:`SIGNATURES` holds ``restype`` and ``argtypes`` of *every*
   function of the header (arrays as :func:`numpy.ctypeslib.ndpointer` types that also
   accept ``None`` for NULL). ``tests/test_capi_mirror.py`` checks it against the header.
   The raw functions are reachable as ``_capi.lib.eprop_…``.
3. **Manners.** One small wrapper per C function (same name without the ``eprop_``
   prefix) that converts arguments (str to bytes, array-likes to contiguous numpy arrays
   of the right dtype, without a copy when they already are), allocates outputs with
   ``np.empty`` for C to fill, and turns a failing status into the matching
   :class:`eprop.errors.EpropError` subclass carrying ``eprop_last_error()``.

The Pythonic classes (:mod:`eprop.network`) use only these wrappers.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import POINTER, byref, c_char_p, c_double, c_int32, c_int64, c_uint64, c_void_p
from pathlib import Path

import numpy as np

from . import errors
from .errors import LibraryNotFoundError, error_for_status

#: ABI version this module mirrors (EPROP_ABI_VERSION of eprop.h).
ABI_VERSION = 1

# ---- Types ------------------------------------------------------------------------------


class eprop_network(ctypes.Structure):
    """The opaque ``eprop_network`` struct; only pointers to it are ever used."""

    _fields_: list = []


#: ``eprop_network *``: a typed handle (``None`` passes NULL).
NetworkPointer = POINTER(eprop_network)

#: ``eprop_progress_fn``: ``int32_t (*)(int64_t steps_done, int64_t steps_total, void *user_data)``.
PROGRESS_FN = ctypes.CFUNCTYPE(c_int32, c_int64, c_int64, c_void_p)


def _array_type(dtype, writeable: bool = False):
    """An ndpointer type for C-contiguous arrays of ``dtype`` that also accepts None (NULL)."""
    flags = ("C_CONTIGUOUS", "ALIGNED") + (("WRITEABLE",) if writeable else ())
    base = np.ctypeslib.ndpointer(dtype=dtype, flags=flags)

    def from_param(cls, obj):
        if obj is None:
            return None
        return base.from_param(obj)

    name = f"{np.dtype(dtype).name}_{'out' if writeable else 'in'}_array"
    return type(name, (base,), {"from_param": classmethod(from_param)})


#: ``const double *`` (array input).
F64_IN = _array_type(np.float64)
#: ``double *`` (array output).
F64_OUT = _array_type(np.float64, writeable=True)
#: ``const int64_t *`` (array input).
I64_IN = _array_type(np.int64)
#: ``int64_t *`` (array output).
I64_OUT = _array_type(np.int64, writeable=True)

_P_I64 = POINTER(c_int64)
_P_I32 = POINTER(c_int32)
_P_F64 = POINTER(c_double)
_P_STR = POINTER(c_char_p)  # const char ** (OUT) and const char *const * (names)
_NET = NetworkPointer

#: restype and argtypes of every function of eprop.h, in header order.
SIGNATURES: dict = {
    # Library
    "eprop_abi_version": (c_int32, []),
    "eprop_version": (c_char_p, []),
    "eprop_last_error": (c_char_p, []),
    "eprop_status_string": (c_char_p, [c_int32]),
    # Model catalogue
    "eprop_model_count": (c_int32, [_P_I64]),
    "eprop_model_name": (c_int32, [c_int64, _P_STR]),
    "eprop_model_parameter_count": (c_int32, [c_char_p, _P_I64]),
    "eprop_model_parameter_info": (
        c_int32,
        [c_char_p, c_int64, _P_STR, _P_STR, _P_STR, _P_F64, _P_STR, _P_STR],
    ),
    "eprop_model_recordables": (c_int32, [c_char_p, _P_STR]),
    # Network
    "eprop_network_create": (c_int32, [c_double, POINTER(_NET)]),
    "eprop_network_destroy": (None, [_NET]),
    "eprop_network_resolution": (c_int32, [_NET, _P_F64]),
    "eprop_network_time": (c_int32, [_NET, _P_F64]),
    "eprop_network_set_threads": (c_int32, [_NET, c_int32]),
    "eprop_network_set_parallel_min_work": (c_int32, [_NET, c_int64]),
    "eprop_network_parallel_min_work": (c_int32, [_NET, _P_I64]),
    "eprop_network_memory": (c_int32, [_NET, _P_I64, _P_I64]),
    "eprop_estimate_memory": (
        c_int32,
        [c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_char_p, c_int32, c_int64, c_double, c_double,
         c_double, _P_I64],
    ),
    "eprop_estimate_memory_v2": (
        c_int32,
        [c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_char_p, c_int32, c_int64, c_double, c_double,
         c_double, c_char_p, _P_I64],
    ),
    "eprop_network_threads": (c_int32, [_NET, _P_I32]),
    "eprop_simulate": (c_int32, [_NET, c_double]),
    "eprop_simulate_progress": (c_int32, [_NET, c_double, PROGRESS_FN, c_void_p, c_int64]),
    # Populations
    "eprop_add_population": (c_int32, [_NET, c_char_p, c_int64, _P_I32]),
    "eprop_population_size": (c_int32, [_NET, c_int32, _P_I64]),
    "eprop_population_model": (c_int32, [_NET, c_int32, _P_STR]),
    "eprop_set_parameters": (c_int32, [_NET, c_int32, _P_STR, F64_IN, c_int64]),
    "eprop_set_parameter_string": (c_int32, [_NET, c_int32, c_char_p, c_char_p]),
    "eprop_get_parameter": (c_int32, [_NET, c_int32, c_char_p, _P_F64]),
    "eprop_get_parameter_string": (c_int32, [_NET, c_int32, c_char_p, _P_STR]),
    "eprop_set_parameter_array": (c_int32, [_NET, c_int32, c_char_p, F64_IN, c_int64]),
    "eprop_get_parameter_array": (c_int32, [_NET, c_int32, c_char_p, F64_OUT, c_int64]),
    "eprop_get_state": (c_int32, [_NET, c_int32, c_char_p, F64_OUT, c_int64]),
    "eprop_set_state": (c_int32, [_NET, c_int32, c_char_p, F64_IN, c_int64]),
    # Inputs
    "eprop_set_spike_times": (c_int32, [_NET, c_int32, I64_IN, F64_IN, c_int64]),
    "eprop_set_target": (c_int32, [_NET, c_int32, F64_IN, F64_IN, c_int64, c_int64]),
    "eprop_set_learning_window": (c_int32, [_NET, c_int32, F64_IN, F64_IN, c_int64, c_int64]),
    "eprop_set_current": (c_int32, [_NET, c_int32, F64_IN, F64_IN, c_int64, c_int64]),
    # Connections
    "eprop_connect": (
        c_int32,
        [_NET, c_int32, c_int32, c_char_p, I64_IN, I64_IN, F64_IN, c_int64, c_double, _P_I32],
    ),
    "eprop_connect_dense": (
        c_int32,
        [_NET, c_int32, c_int32, c_char_p, F64_IN, c_int64, c_int64, c_int32, c_double, _P_I32],
    ),
    "eprop_connect_rule": (
        c_int32,
        [_NET, c_int32, c_int32, c_char_p, c_char_p, c_double, c_int32, c_int32, c_char_p, c_double, c_double,
         c_uint64, c_double, _P_I32],
    ),
    "eprop_projection_size": (c_int32, [_NET, c_int32, _P_I64]),
    "eprop_projection_memory": (c_int32, [_NET, c_int32, _P_I64, _P_I64]),
    "eprop_get_connections": (c_int32, [_NET, c_int32, I64_OUT, I64_OUT, c_int64]),
    "eprop_get_weights": (c_int32, [_NET, c_int32, F64_OUT, c_int64]),
    "eprop_set_weights": (c_int32, [_NET, c_int32, F64_IN, c_int64]),
    "eprop_get_weight_matrix": (c_int32, [_NET, c_int32, F64_OUT, c_int64, c_int64]),
    # Optimizer
    "eprop_set_optimizer_parameters": (c_int32, [_NET, _P_STR, F64_IN, c_int64]),
    "eprop_set_optimizer_string": (c_int32, [_NET, c_char_p, c_char_p]),
    "eprop_get_optimizer_parameter": (c_int32, [_NET, c_char_p, _P_F64]),
    "eprop_get_optimizer_string": (c_int32, [_NET, c_char_p, _P_STR]),
    # Synapse model defaults and kernel parameters
    "eprop_set_synapse_parameters": (c_int32, [_NET, c_char_p, _P_STR, F64_IN, c_int64]),
    "eprop_set_synapse_string": (c_int32, [_NET, c_char_p, c_char_p, c_char_p]),
    "eprop_get_synapse_parameter": (c_int32, [_NET, c_char_p, c_char_p, _P_F64]),
    "eprop_get_synapse_string": (c_int32, [_NET, c_char_p, c_char_p, _P_STR]),
    "eprop_set_kernel_parameters": (c_int32, [_NET, _P_STR, F64_IN, c_int64]),
    "eprop_get_kernel_parameter": (c_int32, [_NET, c_char_p, _P_F64]),
    # Recording
    "eprop_record_spikes": (c_int32, [_NET, c_int32, _P_I32]),
    "eprop_record_state": (c_int32, [_NET, c_int32, c_char_p, I64_IN, c_int64, _P_I32]),
    "eprop_record_weights": (c_int32, [_NET, c_int32, I64_IN, I64_IN, c_int64, _P_I32]),
    "eprop_recorder_count": (c_int32, [_NET, c_int32, _P_I64]),
    "eprop_recorder_width": (c_int32, [_NET, c_int32, _P_I64]),
    "eprop_recorder_get_spikes": (c_int32, [_NET, c_int32, F64_OUT, I64_OUT, c_int64]),
    "eprop_recorder_get_samples": (c_int32, [_NET, c_int32, F64_OUT, F64_OUT, c_int64]),
    "eprop_recorder_clear": (c_int32, [_NET, c_int32]),
    # Work counters and energy estimate
    "eprop_counter_count": (c_int32, [_P_I64]),
    "eprop_counter_info": (c_int32, [c_int64, _P_STR, _P_STR]),
    "eprop_get_counters": (c_int32, [_NET, I64_OUT, c_int64]),
    "eprop_reset_counters": (c_int32, [_NET]),
    "eprop_energy_entry_count": (c_int32, [_P_I64]),
    "eprop_energy_entry_info": (c_int32, [c_int64, _P_STR, _P_F64, _P_STR]),
    "eprop_energy_operations": (c_int32, [c_int64, F64_OUT, c_int64]),
    "eprop_energy_table_set": (c_int32, [_NET, _P_STR, F64_IN, c_int64]),
    "eprop_energy_table_get": (c_int32, [_NET, c_char_p, _P_F64]),
    "eprop_energy_table_reset": (c_int32, [_NET]),
    "eprop_energy_estimate": (c_int32, [_NET, _P_F64, F64_OUT, c_int64, F64_OUT, c_int64]),
}

# ---- Loading ----------------------------------------------------------------------------

_LIB_NAME = {"darwin": "libeprop.dylib", "win32": "eprop.dll"}.get(sys.platform, "libeprop.so")
_PACKAGE_DIR = Path(__file__).resolve().parent
_lib = None
_lib_path: str | None = None


def candidate_paths() -> list:
    """Where the library is looked for when EPROP_LIBRARY is not set, in order."""
    paths = []
    paths.append(_PACKAGE_DIR / "lib" / _LIB_NAME)
    # python/eprop/ -> repository root (editable checkout).
    paths.append(_PACKAGE_DIR.parent.parent / ".build" / "release" / _LIB_NAME)
    return paths


#: Header functions the loaded library does not export (a library older than the header).
MISSING: list = []


def _missing(name: str):
    def call(*_args, **_kwargs):
        raise LibraryNotFoundError(
            f"{_lib_path} does not export {name} of eprop.h: it is older than this package; "
            "rebuild it with `make lib`"
        )

    call.__name__ = name
    return call


def _declare(lib) -> None:
    """Set restype/argtypes of every function; a function the library lacks (it predates
    the header; ABI versions only grow by new names) raises a clear error when called."""
    MISSING.clear()
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            MISSING.append(name)
            setattr(lib, name, _missing(name))
            continue
        fn.restype = restype
        fn.argtypes = argtypes


def library():
    """The loaded library (ctypes.CDLL), loaded, checked and declared on first use."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    env = os.environ.get("EPROP_LIBRARY")
    # An explicit EPROP_LIBRARY is the only candidate: falling back silently would hide a typo.
    paths = [Path(env)] if env else candidate_paths()
    tried = []
    lib = None
    for path in paths:
        if not path.exists():
            tried.append(f"{path} (not found)")
            continue
        try:
            lib = ctypes.CDLL(str(path))  # never closed: the handle lives as long as the process
        except OSError as exc:
            tried.append(f"{path} ({exc})")
            continue
        _lib_path = str(path)
        break
    if lib is None:
        raise LibraryNotFoundError(
            "could not load the eprop library; tried:\n  "
            + "\n  ".join(tried)
            + "\nLikely causes:\n"
            "  - the Swift library was not built: run `make lib` (or `swift build -c release "
            "--product eprop`) in the repository root;\n"
            "  - EPROP_LIBRARY points to a missing or foreign file;\n"
            "  - the Swift runtime libraries (libswiftCore.so, …) are not on the loader path: "
            "add the toolchain's usr/lib/swift/linux to LD_LIBRARY_PATH."
        )
    try:
        lib.eprop_abi_version.restype = c_int32
        lib.eprop_abi_version.argtypes = []
        abi = lib.eprop_abi_version()
    except AttributeError as exc:
        raise LibraryNotFoundError(f"{_lib_path} is not libeprop (no eprop_abi_version): {exc}") from None
    if abi != ABI_VERSION:
        raise LibraryNotFoundError(
            f"{_lib_path} has ABI version {abi} but this Python package expects {ABI_VERSION}.\n"
            "Likely causes: a stale library next to the package (rebuild with `make lib`), or "
            "EPROP_LIBRARY pointing to a different release."
        )
    _declare(lib)
    _lib = lib
    return lib


def library_path() -> str:
    """Path of the loaded library."""
    library()
    return _lib_path


def __getattr__(name):  # module attribute `lib`, loaded lazily
    if name == "lib":
        return library()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- Status and argument helpers ----------------------------------------------------------


def last_error() -> str:
    """``eprop_last_error()`` as str."""
    raw = library().eprop_last_error()
    return raw.decode("utf-8", "replace") if raw else ""


def check(status: int) -> None:
    """Raise the EpropError subclass for a non-zero status, with eprop_last_error()."""
    if status != errors.OK:
        raise error_for_status(status, last_error() or status_string(status))


def _bytes(s, what: str) -> bytes:
    if isinstance(s, bytes):
        return s
    if not isinstance(s, str):
        raise TypeError(f"{what}: expected str, got {type(s).__name__}")
    return s.encode("utf-8")


def _str(raw) -> str:
    return raw.decode("utf-8", "replace") if raw is not None else ""


def f64(a) -> np.ndarray:
    """A C-contiguous float64 view of ``a`` (no copy if it already is one)."""
    return np.ascontiguousarray(a, dtype=np.float64)


def i64(a) -> np.ndarray:
    """A C-contiguous int64 view of ``a`` (no copy if it already is one).

    Floats are accepted only when they are whole numbers (ids must not be silently truncated).
    """
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise errors.InvalidArgumentError("neuron ids must be whole numbers", errors.ERR_INVALID_ARGUMENT)
    elif arr.dtype.kind not in "iub" and arr.size:
        raise TypeError(f"neuron ids must be integers, got an array of {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _names(names) -> ctypes.Array:
    encoded = [_bytes(n, "parameter name") for n in names]
    return (c_char_p * len(encoded))(*encoded)


# ---- Library ----------------------------------------------------------------------------


def abi_version() -> int:
    """eprop_abi_version."""
    return int(library().eprop_abi_version())


def version() -> str:
    """eprop_version."""
    return _str(library().eprop_version())


def status_string(status: int) -> str:
    """eprop_status_string."""
    return _str(library().eprop_status_string(status))


# ---- Model catalogue --------------------------------------------------------------------


def model_count() -> int:
    """eprop_model_count."""
    n = c_int64()
    check(library().eprop_model_count(byref(n)))
    return n.value


def model_name(index: int) -> str:
    """eprop_model_name."""
    out = c_char_p()
    check(library().eprop_model_name(index, byref(out)))
    return _str(out.value)


def model_parameter_count(model: str) -> int:
    """eprop_model_parameter_count."""
    n = c_int64()
    check(library().eprop_model_parameter_count(_bytes(model, "model"), byref(n)))
    return n.value


def model_parameter_info(model: str, index: int) -> tuple:
    """eprop_model_parameter_info: (name, unit, kind, default, rule, doc)."""
    name, unit, kind, rule, doc = (c_char_p() for _ in range(5))
    default = c_double()
    check(
        library().eprop_model_parameter_info(
            _bytes(model, "model"), index, byref(name), byref(unit), byref(kind), byref(default),
            byref(rule), byref(doc),
        )
    )
    return _str(name.value), _str(unit.value), _str(kind.value), default.value, _str(rule.value), _str(doc.value)


def model_recordables(model: str) -> list:
    """eprop_model_recordables, split at the commas."""
    out = c_char_p()
    check(library().eprop_model_recordables(_bytes(model, "model"), byref(out)))
    csv = _str(out.value)
    return [s for s in csv.split(",") if s]


# ---- Network ----------------------------------------------------------------------------


def network_create(resolution_ms: float):
    """eprop_network_create; returns the handle (a ``NetworkPointer``)."""
    handle = NetworkPointer()
    check(library().eprop_network_create(float(resolution_ms), byref(handle)))
    return handle


def network_destroy(handle) -> None:
    """eprop_network_destroy (NULL is a no-op)."""
    library().eprop_network_destroy(handle)


def network_resolution(handle) -> float:
    """eprop_network_resolution."""
    out = c_double()
    check(library().eprop_network_resolution(handle, byref(out)))
    return out.value


def network_time(handle) -> float:
    """eprop_network_time."""
    out = c_double()
    check(library().eprop_network_time(handle, byref(out)))
    return out.value


def network_set_threads(handle, threads: int) -> None:
    """eprop_network_set_threads."""
    check(library().eprop_network_set_threads(handle, int(threads)))


def network_set_parallel_min_work(handle, work: int) -> None:
    """eprop_network_set_parallel_min_work."""
    check(library().eprop_network_set_parallel_min_work(handle, int(work)))


def network_parallel_min_work(handle) -> int:
    """eprop_network_parallel_min_work."""
    out = c_int64()
    check(library().eprop_network_parallel_min_work(handle, byref(out)))
    return out.value


def network_memory(handle) -> tuple:
    """eprop_network_memory: (bytes, history bytes)."""
    total, history = c_int64(), c_int64()
    check(library().eprop_network_memory(handle, byref(total), byref(history)))
    return total.value, history.value


def estimate_memory(n_recurrent, n_readout, n_input, n_plastic, n_fixed, n_sources, optimizer, optimize_each_step,
                    batch_size, cutoff_ms, flush_interval_ms, resolution_ms) -> int:
    """eprop_estimate_memory."""
    out = c_int64()
    check(library().eprop_estimate_memory(
        int(n_recurrent), int(n_readout), int(n_input), int(n_plastic), int(n_fixed), int(n_sources),
        _bytes(optimizer, "optimizer"), 1 if optimize_each_step else 0, int(batch_size), float(cutoff_ms),
        float(flush_interval_ms), float(resolution_ms), byref(out)))
    return out.value


def estimate_memory_v2(n_recurrent, n_readout, n_input, n_plastic, n_fixed, n_sources, optimizer, optimize_each_step,
                       batch_size, cutoff_ms, flush_interval_ms, resolution_ms, synapse_precision) -> int:
    """eprop_estimate_memory_v2."""
    out = c_int64()
    check(library().eprop_estimate_memory_v2(
        int(n_recurrent), int(n_readout), int(n_input), int(n_plastic), int(n_fixed), int(n_sources),
        _bytes(optimizer, "optimizer"), 1 if optimize_each_step else 0, int(batch_size), float(cutoff_ms),
        float(flush_interval_ms), float(resolution_ms), _bytes(synapse_precision, "synapse_precision"), byref(out)))
    return out.value


def network_threads(handle) -> int:
    """eprop_network_threads."""
    out = c_int32()
    check(library().eprop_network_threads(handle, byref(out)))
    return out.value


def simulate(handle, duration_ms: float) -> None:
    """eprop_simulate."""
    check(library().eprop_simulate(handle, float(duration_ms)))


def simulate_progress(handle, duration_ms: float, progress, every_steps: int = 1) -> None:
    """eprop_simulate_progress with a Python callable ``progress(steps_done, steps_total)``.

    ``progress`` returning ``False`` stops the simulation after the current step
    (:class:`eprop.errors.SimulationInterrupted`); any other return value continues. An
    exception raised by ``progress`` (KeyboardInterrupt included) never crosses the C
    boundary: it stops the simulation and is re-raised here once the C call has returned.
    """
    raised: list = []

    def trampoline(done, total, _user_data):
        try:
            return 1 if progress(int(done), int(total)) is False else 0
        except BaseException as exc:  # noqa: BLE001 -- re-raised below
            raised.append(exc)
            return 1

    callback = PROGRESS_FN(trampoline)  # referenced until the call returns
    status = library().eprop_simulate_progress(handle, float(duration_ms), callback, None, int(every_steps))
    del callback
    if raised:
        if status not in (errors.OK, errors.ERR_INTERRUPTED):
            raise raised[0] from error_for_status(status, last_error())
        raise raised[0]
    check(status)


# ---- Populations -------------------------------------------------------------------------


def add_population(handle, model: str, size: int) -> int:
    """eprop_add_population; returns the population id."""
    out = c_int32()
    check(library().eprop_add_population(handle, _bytes(model, "model"), int(size), byref(out)))
    return out.value


def population_size(handle, population: int) -> int:
    """eprop_population_size."""
    out = c_int64()
    check(library().eprop_population_size(handle, population, byref(out)))
    return out.value


def population_model(handle, population: int) -> str:
    """eprop_population_model."""
    out = c_char_p()
    check(library().eprop_population_model(handle, population, byref(out)))
    return _str(out.value)


def set_parameters(handle, population: int, names, values) -> None:
    """eprop_set_parameters: all of them in one transactional call."""
    values = f64(values)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(f"names and values: lengths must match, got {len(names)} and {values.size}")
    check(library().eprop_set_parameters(handle, population, _names(names), values, len(names)))


def set_parameter_string(handle, population: int, name: str, value: str) -> None:
    """eprop_set_parameter_string."""
    check(library().eprop_set_parameter_string(handle, population, _bytes(name, "name"), _bytes(value, name)))


def get_parameter(handle, population: int, name: str) -> float:
    """eprop_get_parameter."""
    out = c_double()
    check(library().eprop_get_parameter(handle, population, _bytes(name, "name"), byref(out)))
    return out.value


def get_parameter_string(handle, population: int, name: str) -> str:
    """eprop_get_parameter_string."""
    out = c_char_p()
    check(library().eprop_get_parameter_string(handle, population, _bytes(name, "name"), byref(out)))
    return _str(out.value)


def set_parameter_array(handle, population: int, name: str, values) -> None:
    """eprop_set_parameter_array: one value per neuron."""
    values = f64(values)
    if values.ndim != 1:
        raise errors.InvalidArgumentError(f"{name}: per-neuron values must be 1-D, got shape {values.shape}",
                                          errors.ERR_INVALID_ARGUMENT)
    check(library().eprop_set_parameter_array(handle, population, _bytes(name, "name"), values, values.size))


def get_parameter_array(handle, population: int, name: str, size: int) -> np.ndarray:
    """eprop_get_parameter_array: a new (size,) float64 array."""
    out = np.empty(size, dtype=np.float64)
    check(library().eprop_get_parameter_array(handle, population, _bytes(name, "name"), out, size))
    return out


def get_state(handle, population: int, name: str, size: int) -> np.ndarray:
    """eprop_get_state: a new (size,) float64 array."""
    out = np.empty(size, dtype=np.float64)
    check(library().eprop_get_state(handle, population, _bytes(name, "name"), out, size))
    return out


def set_state(handle, population: int, name: str, values) -> None:
    """eprop_set_state."""
    values = f64(values)
    check(library().eprop_set_state(handle, population, _bytes(name, "name"), values, values.size))


# ---- Inputs -----------------------------------------------------------------------------


def set_spike_times(handle, population: int, neurons, times_ms) -> None:
    """eprop_set_spike_times."""
    neurons, times_ms = i64(neurons), f64(times_ms)
    if neurons.ndim != 1 or times_ms.ndim != 1 or neurons.size != times_ms.size:
        raise errors.InvalidArgumentError(
            f"neurons and times_ms: must be 1-D of equal length, got shapes {neurons.shape} and {times_ms.shape}",
            errors.ERR_INVALID_ARGUMENT,
        )
    check(library().eprop_set_spike_times(handle, population, neurons, times_ms, neurons.size))


def _schedule(fn, handle, population, times_ms, values, n_neurons):
    times_ms = f64(times_ms)  # (ascontiguousarray makes scalars 1-D)
    values = f64(values)
    if times_ms.ndim != 1:
        raise errors.InvalidArgumentError(f"times_ms: must be 1-D, got shape {times_ms.shape}", errors.ERR_INVALID_ARGUMENT)
    n_times = times_ms.size
    if values.ndim == 1:
        values = values.reshape(1, -1)
    if values.ndim != 2 or values.shape[1] != n_times:
        raise errors.InvalidArgumentError(
            f"values: must have shape (n_neurons, n_times = {n_times}), got {values.shape}", errors.ERR_INVALID_ARGUMENT
        )
    if values.shape[0] == 1 and n_neurons > 1:
        values = np.ascontiguousarray(np.broadcast_to(values, (n_neurons, n_times)))
    check(fn(handle, population, times_ms, values, n_times, values.shape[0]))


def set_target(handle, population: int, times_ms, values, n_neurons: int) -> None:
    """eprop_set_target: values (n_neurons, n_times); a single row is broadcast to all neurons."""
    _schedule(library().eprop_set_target, handle, population, times_ms, values, n_neurons)


def set_learning_window(handle, population: int, times_ms, values, n_neurons: int) -> None:
    """eprop_set_learning_window: as :func:`set_target`."""
    _schedule(library().eprop_set_learning_window, handle, population, times_ms, values, n_neurons)


def set_current(handle, population: int, times_ms, values, n_neurons: int) -> None:
    """eprop_set_current: as :func:`set_target` (values in pA)."""
    _schedule(library().eprop_set_current, handle, population, times_ms, values, n_neurons)


# ---- Connections --------------------------------------------------------------------------


def connect(handle, pre_population: int, post_population: int, synapse_model: str, pre, post, weights,
            delay_ms: float) -> int:
    """eprop_connect; returns the projection id."""
    pre, post = i64(pre), i64(post)
    if np.ndim(weights) == 0:  # one weight for every synapse
        weights = np.full(pre.shape, weights, dtype=np.float64)
    weights = f64(weights)
    if not (pre.ndim == post.ndim == weights.ndim == 1 and pre.size == post.size == weights.size):
        raise errors.InvalidArgumentError(
            f"pre, post and weights: must be 1-D of equal length, got shapes {pre.shape}, {post.shape} and {weights.shape}",
            errors.ERR_INVALID_ARGUMENT,
        )
    out = c_int32()
    check(
        library().eprop_connect(
            handle, pre_population, post_population, _bytes(synapse_model, "synapse_model"), pre, post, weights,
            pre.size, float(delay_ms), byref(out),
        )
    )
    return out.value


def connect_dense(handle, pre_population: int, post_population: int, synapse_model: str, weights,
                  allow_autapses: bool, delay_ms: float) -> int:
    """eprop_connect_dense with weights of shape (n_post, n_pre); returns the projection id."""
    weights = f64(weights)
    if weights.ndim != 2:
        raise errors.InvalidArgumentError(
            f"weights: must be 2-D (n_post, n_pre), got shape {weights.shape}", errors.ERR_INVALID_ARGUMENT
        )
    out = c_int32()
    check(
        library().eprop_connect_dense(
            handle, pre_population, post_population, _bytes(synapse_model, "synapse_model"), weights,
            weights.shape[0], weights.shape[1], 1 if allow_autapses else 0, float(delay_ms), byref(out),
        )
    )
    return out.value


def connect_rule(handle, pre_population: int, post_population: int, synapse_model: str, rule: str,
                 rule_value: float, allow_autapses: bool, allow_multapses: bool, weight_distribution: str,
                 weight_a: float, weight_b: float, seed: int, delay_ms: float) -> int:
    """eprop_connect_rule; returns the projection id."""
    if not 0 <= int(seed) < 2**64:
        raise errors.InvalidArgumentError(f"seed: must be in 0 … 2**64 − 1, got {seed}", errors.ERR_INVALID_ARGUMENT)
    out = c_int32()
    check(
        library().eprop_connect_rule(
            handle, pre_population, post_population, _bytes(synapse_model, "synapse_model"), _bytes(rule, "rule"),
            float(rule_value), 1 if allow_autapses else 0, 1 if allow_multapses else 0,
            _bytes(weight_distribution, "weight_distribution"), float(weight_a), float(weight_b), int(seed),
            float(delay_ms), byref(out),
        )
    )
    return out.value


def projection_size(handle, projection: int) -> int:
    """eprop_projection_size."""
    out = c_int64()
    check(library().eprop_projection_size(handle, projection, byref(out)))
    return out.value


def get_connections(handle, projection: int) -> tuple:
    """eprop_get_connections: (pre, post) int64 arrays in storage order."""
    n = projection_size(handle, projection)
    pre = np.empty(n, dtype=np.int64)
    post = np.empty(n, dtype=np.int64)
    check(library().eprop_get_connections(handle, projection, pre, post, n))
    return pre, post


def get_weights(handle, projection: int) -> np.ndarray:
    """eprop_get_weights: float64 array in storage order."""
    n = projection_size(handle, projection)
    out = np.empty(n, dtype=np.float64)
    check(library().eprop_get_weights(handle, projection, out, n))
    return out


def set_weights(handle, projection: int, weights) -> None:
    """eprop_set_weights (storage order)."""
    weights = f64(weights)
    if weights.ndim != 1:
        raise errors.InvalidArgumentError(f"weights: must be 1-D, got shape {weights.shape}", errors.ERR_INVALID_ARGUMENT)
    check(library().eprop_set_weights(handle, projection, weights, weights.size))


def get_weight_matrix(handle, projection: int, n_post: int, n_pre: int) -> np.ndarray:
    """eprop_get_weight_matrix: (n_post, n_pre) float64 array."""
    out = np.empty((n_post, n_pre), dtype=np.float64)
    check(library().eprop_get_weight_matrix(handle, projection, out, n_post, n_pre))
    return out


# ---- Optimizer -----------------------------------------------------------------------------


def set_optimizer_parameters(handle, names, values) -> None:
    """eprop_set_optimizer_parameters: all of them in one transactional call."""
    values = f64(values)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(f"names and values: lengths must match, got {len(names)} and {values.size}")
    check(library().eprop_set_optimizer_parameters(handle, _names(names), values, len(names)))


def set_optimizer_string(handle, name: str, value: str) -> None:
    """eprop_set_optimizer_string."""
    check(library().eprop_set_optimizer_string(handle, _bytes(name, "name"), _bytes(value, name)))


def get_optimizer_parameter(handle, name: str) -> float:
    """eprop_get_optimizer_parameter."""
    out = c_double()
    check(library().eprop_get_optimizer_parameter(handle, _bytes(name, "name"), byref(out)))
    return out.value


def get_optimizer_string(handle, name: str) -> str:
    """eprop_get_optimizer_string."""
    out = c_char_p()
    check(library().eprop_get_optimizer_string(handle, _bytes(name, "name"), byref(out)))
    return _str(out.value)


def set_synapse_parameters(handle, synapse_model: str, names, values) -> None:
    """eprop_set_synapse_parameters: all of them in one transactional call."""
    values = f64(values)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(f"names and values: lengths must match, got {len(names)} and {values.size}")
    check(library().eprop_set_synapse_parameters(handle, _bytes(synapse_model, "synapse_model"), _names(names),
                                                 values, len(names)))


def set_synapse_string(handle, synapse_model: str, name: str, value: str) -> None:
    """eprop_set_synapse_string."""
    check(library().eprop_set_synapse_string(handle, _bytes(synapse_model, "synapse_model"), _bytes(name, "name"),
                                             _bytes(value, name)))


def projection_memory(handle, projection: int) -> tuple:
    """eprop_projection_memory: (bytes per synapse, bytes of pending gradients)."""
    per_synapse, pending = c_int64(), c_int64()
    check(library().eprop_projection_memory(handle, projection, byref(per_synapse), byref(pending)))
    return per_synapse.value, pending.value


def get_synapse_parameter(handle, synapse_model: str, name: str) -> float:
    """eprop_get_synapse_parameter."""
    out = c_double()
    check(library().eprop_get_synapse_parameter(handle, _bytes(synapse_model, "synapse_model"), _bytes(name, "name"),
                                                byref(out)))
    return out.value


def get_synapse_string(handle, synapse_model: str, name: str) -> str:
    """eprop_get_synapse_string."""
    out = c_char_p()
    check(library().eprop_get_synapse_string(handle, _bytes(synapse_model, "synapse_model"), _bytes(name, "name"),
                                             byref(out)))
    return _str(out.value)


def set_kernel_parameters(handle, names, values) -> None:
    """eprop_set_kernel_parameters: all of them in one transactional call."""
    values = f64(values)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(f"names and values: lengths must match, got {len(names)} and {values.size}")
    check(library().eprop_set_kernel_parameters(handle, _names(names), values, len(names)))


def get_kernel_parameter(handle, name: str) -> float:
    """eprop_get_kernel_parameter."""
    out = c_double()
    check(library().eprop_get_kernel_parameter(handle, _bytes(name, "name"), byref(out)))
    return out.value


# ---- Recording ----------------------------------------------------------------------------


def record_spikes(handle, population: int) -> int:
    """eprop_record_spikes; returns the recorder id."""
    out = c_int32()
    check(library().eprop_record_spikes(handle, population, byref(out)))
    return out.value


def record_state(handle, population: int, recordables, neurons) -> int:
    """eprop_record_state; recordables is a list of names (or one comma-separated str)."""
    csv = recordables if isinstance(recordables, str) else ",".join(recordables)
    neurons = i64(neurons)
    if neurons.ndim != 1:
        raise errors.InvalidArgumentError(f"neurons: must be 1-D, got shape {neurons.shape}", errors.ERR_INVALID_ARGUMENT)
    out = c_int32()
    check(library().eprop_record_state(handle, population, _bytes(csv, "recordables"), neurons, neurons.size, byref(out)))
    return out.value


def record_weights(handle, projection: int, pre, post) -> int:
    """eprop_record_weights; returns the recorder id."""
    pre, post = i64(pre), i64(post)
    if pre.ndim != 1 or post.ndim != 1 or pre.size != post.size:
        raise errors.InvalidArgumentError(
            f"pre and post: must be 1-D of equal length, got shapes {pre.shape} and {post.shape}",
            errors.ERR_INVALID_ARGUMENT,
        )
    out = c_int32()
    check(library().eprop_record_weights(handle, projection, pre, post, pre.size, byref(out)))
    return out.value


def recorder_count(handle, recorder: int) -> int:
    """eprop_recorder_count."""
    out = c_int64()
    check(library().eprop_recorder_count(handle, recorder, byref(out)))
    return out.value


def recorder_width(handle, recorder: int) -> int:
    """eprop_recorder_width."""
    out = c_int64()
    check(library().eprop_recorder_width(handle, recorder, byref(out)))
    return out.value


def recorder_get_spikes(handle, recorder: int) -> tuple:
    """eprop_recorder_get_spikes: (times_ms float64, senders int64)."""
    n = recorder_count(handle, recorder)
    times = np.empty(n, dtype=np.float64)
    senders = np.empty(n, dtype=np.int64)
    check(library().eprop_recorder_get_spikes(handle, recorder, times, senders, n))
    return times, senders


def recorder_get_samples(handle, recorder: int) -> tuple:
    """eprop_recorder_get_samples: (times_ms (count,), values (count, width))."""
    n = recorder_count(handle, recorder)
    width = recorder_width(handle, recorder)
    times = np.empty(n, dtype=np.float64)
    values = np.empty((n, width), dtype=np.float64)
    check(library().eprop_recorder_get_samples(handle, recorder, times, values, n))
    return times, values


def recorder_clear(handle, recorder: int) -> None:
    """eprop_recorder_clear."""
    check(library().eprop_recorder_clear(handle, recorder))


# ---- Work counters and energy estimate -----------------------------------------------------


def counter_count() -> int:
    """eprop_counter_count."""
    n = c_int64()
    check(library().eprop_counter_count(byref(n)))
    return n.value


def counter_info(index: int) -> tuple:
    """eprop_counter_info: (name, doc)."""
    name, doc = c_char_p(), c_char_p()
    check(library().eprop_counter_info(int(index), byref(name), byref(doc)))
    return _str(name.value), _str(doc.value)


def get_counters(handle) -> np.ndarray:
    """eprop_get_counters: int64 array, one value per counter."""
    out = np.empty(counter_count(), np.int64)
    check(library().eprop_get_counters(handle, out, out.size))
    return out


def reset_counters(handle) -> None:
    """eprop_reset_counters."""
    check(library().eprop_reset_counters(handle))


def energy_entry_count() -> int:
    """eprop_energy_entry_count."""
    n = c_int64()
    check(library().eprop_energy_entry_count(byref(n)))
    return n.value


def energy_entry_info(index: int) -> tuple:
    """eprop_energy_entry_info: (name, default pJ, doc)."""
    name, doc, default = c_char_p(), c_char_p(), c_double()
    check(library().eprop_energy_entry_info(int(index), byref(name), byref(default), byref(doc)))
    return _str(name.value), default.value, _str(doc.value)


def energy_operations(counter: int) -> np.ndarray:
    """eprop_energy_operations: operations per count of ``counter``, one per table entry."""
    out = np.empty(energy_entry_count(), np.float64)
    check(library().eprop_energy_operations(int(counter), out, out.size))
    return out


def energy_table_set(handle, names, values_pj) -> None:
    """eprop_energy_table_set (validated as a whole)."""
    names = list(names)
    values = f64(values_pj)
    if values.ndim != 1 or values.size != len(names):
        raise errors.InvalidArgumentError(
            f"values_pj: one value per name required ({len(names)}), got shape {values.shape}",
            errors.ERR_INVALID_ARGUMENT)
    check(library().eprop_energy_table_set(handle, _names(names), values, len(names)))


def energy_table_get(handle, name: str) -> float:
    """eprop_energy_table_get, pJ."""
    out = c_double()
    check(library().eprop_energy_table_get(handle, _bytes(name, "name"), byref(out)))
    return out.value


def energy_table_reset(handle) -> None:
    """eprop_energy_table_reset."""
    check(library().eprop_energy_table_reset(handle))


def energy_estimate(handle) -> tuple:
    """eprop_energy_estimate: (total J, J per counter, J per table entry)."""
    total = c_double()
    per_counter = np.empty(counter_count(), np.float64)
    per_entry = np.empty(energy_entry_count(), np.float64)
    check(library().eprop_energy_estimate(handle, byref(total), per_counter, per_counter.size, per_entry,
                                          per_entry.size))
    return total.value, per_counter, per_entry


# ---- Data: N-MNIST event files --------------------------------------------------------------
# (Declared here, after the core functions, and merged into SIGNATURES before the library is
# first loaded.)

#: ``uint8_t *`` (array output).
U8_OUT = _array_type(np.uint8, writeable=True)

SIGNATURES.update({
    "eprop_nmnist_read": (c_int32, [c_char_p, U8_OUT, U8_OUT, U8_OUT, I64_OUT, c_int64, _P_I64]),
    "eprop_nmnist_spikes": (
        c_int32,
        [c_char_p, I64_IN, c_int64, c_int64, c_double, I64_OUT, I64_OUT, c_int64, _P_I64],
    ),
})


def _path(path) -> bytes:
    """A file-system path (str, bytes or os.PathLike) as the bytes C receives."""
    raw = os.fsencode(os.fspath(path))
    if b"\0" in raw:
        raise errors.InvalidArgumentError(f"path: must not contain NUL bytes, got {path!r}", errors.ERR_INVALID_ARGUMENT)
    return raw


def _sized_call(call, make_outputs, attempts: int = 3):
    """The size-query protocol of eprop.h: ask for the count (capacity 0), allocate, call again.
    ``call(outputs, capacity, count_ref)`` runs the C function; ``make_outputs(n)`` allocates.
    Retries when the file grew in between; returns the outputs trimmed to the final count."""
    n = c_int64()
    check(call(make_outputs(0, query=True), 0, byref(n)))
    for _ in range(attempts):
        outputs = make_outputs(n.value)
        if n.value == 0:
            return outputs
        status = call(outputs, n.value, byref(n))
        if status == errors.ERR_BUFFER_TOO_SMALL:
            continue  # the file changed between the two calls: n holds its new count
        check(status)
        return tuple(a[: n.value] for a in outputs)
    check(status)


def nmnist_read(path) -> tuple:
    """eprop_nmnist_read: (x uint8, y uint8, polarity uint8, time_us int64) of an N-MNIST file."""
    raw = _path(path)

    def make(n, query=False):
        if query:
            return (None, None, None, None)
        return (np.empty(n, np.uint8), np.empty(n, np.uint8), np.empty(n, np.uint8), np.empty(n, np.int64))

    def call(out, capacity, count):
        return library().eprop_nmnist_read(raw, *out, capacity, count)

    return _sized_call(call, make)


def nmnist_spikes(path, pixel_to_neuron, n_steps: int, duration_us: float) -> tuple:
    """eprop_nmnist_spikes: (neurons int64, steps int64) of an N-MNIST file, sorted by step,
    then neuron; ``pixel_to_neuron`` has 2312 entries (−1 = blocked)."""
    raw = _path(path)
    mapping = i64(pixel_to_neuron)
    if mapping.ndim != 1:
        raise errors.InvalidArgumentError(
            f"pixel_to_neuron: must be 1-D, got shape {mapping.shape}", errors.ERR_INVALID_ARGUMENT
        )

    def make(n, query=False):
        if query:
            return (None, None)
        return (np.empty(n, np.int64), np.empty(n, np.int64))

    def call(out, capacity, count):
        return library().eprop_nmnist_spikes(
            raw, mapping, mapping.size, int(n_steps), float(duration_us), *out, capacity, count
        )

    return _sized_call(call, make)
