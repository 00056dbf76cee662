"""`_capi.py` mirrors `Include/eprop.h` one to one (design item 12).

The header is parsed with regular expressions: every function it declares must be in
`_capi.SIGNATURES` with argtypes and restype that match the C types parameter by
parameter, be declared on the loaded library, and have a Python wrapper; and `_capi`
declares nothing the header lacks. Status codes and the ABI version must agree too.
"""

from __future__ import annotations

import ast
import ctypes
import re
from pathlib import Path

import numpy as np
import pytest

import eprop
from eprop import _capi, errors

from conftest import HEADER

PACKAGE = Path(eprop.__file__).resolve().parent


def _header_text() -> str:
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments, including /* OUT */
    return re.sub(r"//[^\n]*", " ", text)


def header_functions() -> dict:
    """{name: (return type, [parameter types])} of every function declared in eprop.h."""
    text = _header_text()
    text = re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)  # preprocessor lines
    text = text.replace('extern "C" {', " ").replace("{", ";").replace("}", ";")
    out = {}
    pattern = re.compile(r"^\s*((?:const\s+)?[A-Za-z_][\w\s\*]*?)\b(eprop_\w+)\s*\(([^()]*)\)\s*$", re.S)
    for statement in text.split(";"):
        m = pattern.match(statement)
        if not m or "typedef" in m.group(1):
            continue
        ret, name, params = m.groups()
        params = " ".join(params.split())
        types = []
        if params and params != "void":
            for p in params.split(","):
                p = p.strip()
                pm = re.match(r"^(.*?)([A-Za-z_]\w*)$", p)
                types.append(" ".join(pm.group(1).replace("*", " * ").split()))
        out[name] = (" ".join(ret.replace("*", " * ").split()), types)
    return out


def header_defines() -> dict:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"#define\s+(EPROP_\w+)\s+(-?\d+)", HEADER.read_text())}


HEADER_FUNCTIONS = header_functions()


def test_header_parsed():
    # A sanity floor so that a broken regex cannot make the mirror tests vacuous.
    assert len(HEADER_FUNCTIONS) >= 45
    assert "eprop_connect_dense" in HEADER_FUNCTIONS
    assert HEADER_FUNCTIONS["eprop_network_destroy"] == ("void", ["eprop_network *"])


def test_every_header_function_is_declared_and_vice_versa():
    header = set(HEADER_FUNCTIONS)
    declared = set(_capi.SIGNATURES)
    assert header - declared == set(), "in eprop.h but not in _capi.SIGNATURES"
    assert declared - header == set(), "in _capi.SIGNATURES but not in eprop.h"


def test_every_function_has_argtypes_and_restype_on_the_library():
    lib = _capi.library()
    assert _capi.MISSING == [], (
        f"{_capi.library_path()} lacks {_capi.MISSING}: the library is older than eprop.h (run `make lib`)"
    )
    for name, (restype, argtypes) in _capi.SIGNATURES.items():
        fn = getattr(lib, name)
        assert fn.argtypes is not None, name
        assert list(fn.argtypes) == list(argtypes), name
        assert fn.restype is restype, name


def _is_ndpointer(t, dtype, writeable):
    """Whether ``t`` is an array type for C-contiguous ``dtype`` arrays (writeable ones for
    outputs), accepting None for NULL; checked by behaviour, not by numpy internals."""
    if not (isinstance(t, type) and hasattr(t, "from_param") and hasattr(t, "_dtype_")):
        return False
    if np.dtype(t._dtype_) != np.dtype(dtype):
        return False
    ok = np.zeros((2, 3), dtype=dtype)
    t.from_param(ok)
    assert t.from_param(None) is None
    other = np.zeros(3, dtype=np.float32)
    with pytest.raises(TypeError):
        t.from_param(other)
    with pytest.raises(TypeError):
        t.from_param(np.zeros((3, 2), dtype=dtype).T)  # not C-contiguous
    readonly = np.zeros(3, dtype=dtype)
    readonly.flags.writeable = False
    try:
        t.from_param(readonly)
        accepts_readonly = True
    except TypeError:
        accepts_readonly = False
    return accepts_readonly != writeable


def _matches(ctype_text: str, t) -> bool:
    """Whether ctypes type ``t`` is a faithful declaration of C type ``ctype_text``."""
    P = ctypes.POINTER
    if ctype_text == "double":
        return t is ctypes.c_double
    if ctype_text == "int64_t":
        return t is ctypes.c_int64
    if ctype_text == "int32_t":
        return t is ctypes.c_int32
    if ctype_text == "uint64_t":
        return t is ctypes.c_uint64
    if ctype_text == "const char *":
        return t is ctypes.c_char_p
    if ctype_text in ("const char * *", "const char * const *"):
        return t is P(ctypes.c_char_p)
    if ctype_text in ("eprop_network *", "const eprop_network *"):
        return t is _capi.NetworkPointer
    if ctype_text == "eprop_network * *":
        return t is P(_capi.NetworkPointer)
    if ctype_text == "eprop_progress_fn":
        return t is _capi.PROGRESS_FN
    if ctype_text == "void *":
        return t is ctypes.c_void_p
    if ctype_text == "int32_t *":
        return t is P(ctypes.c_int32)
    for base, ct, dtype in (("double", ctypes.c_double, np.float64), ("int64_t", ctypes.c_int64, np.int64),
                            ("uint8_t", ctypes.c_uint8, np.uint8)):
        if ctype_text == f"const {base} *":
            return _is_ndpointer(t, dtype, writeable=False)
        if ctype_text == f"{base} *":
            return t is P(ct) or _is_ndpointer(t, dtype, writeable=True)
    raise AssertionError(f"no ctypes mapping known for C type {ctype_text!r}")


@pytest.mark.parametrize("name", sorted(HEADER_FUNCTIONS))
def test_signature_matches_header(name):
    ret, params = HEADER_FUNCTIONS[name]
    restype, argtypes = _capi.SIGNATURES[name]
    assert len(argtypes) == len(params), f"{name}: {len(params)} parameters in eprop.h, {len(argtypes)} declared"
    for i, (ctext, t) in enumerate(zip(params, argtypes)):
        assert _matches(ctext, t), f"{name} parameter {i}: C type {ctext!r} declared as {t!r}"
    if ret == "void":
        assert restype is None
    else:
        assert _matches(ret, restype), f"{name} returns {ret!r}, declared {restype!r}"


def test_progress_callback_type_matches_typedef():
    text = _header_text()
    m = re.search(r"typedef\s+int32_t\s*\(\s*\*\s*eprop_progress_fn\s*\)\s*\(([^)]*)\)", text)
    assert m, "eprop_progress_fn typedef not found"
    params = [" ".join(re.match(r"^(.*?)\w+$", p.strip()).group(1).replace("*", " * ").split()) for p in m.group(1).split(",")]
    assert params == ["int64_t", "int64_t", "void *"]
    assert _capi.PROGRESS_FN._restype_ is ctypes.c_int32
    assert list(_capi.PROGRESS_FN._argtypes_) == [ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]


def test_every_function_has_a_python_wrapper():
    for name in HEADER_FUNCTIONS:
        wrapper = name[len("eprop_"):]
        assert callable(getattr(_capi, wrapper, None)), f"_capi.{wrapper} (for {name}) is missing"


def test_status_codes_and_abi_version_agree_with_header():
    defines = header_defines()
    assert _capi.ABI_VERSION == defines["EPROP_ABI_VERSION"] == _capi.abi_version()
    codes = {k[len("EPROP_ERR_"):]: v for k, v in defines.items() if k.startswith("EPROP_ERR_")}
    assert defines["EPROP_OK"] == errors.OK == 0
    for key, value in codes.items():
        assert getattr(errors, f"ERR_{key}") == value, key
    # One exception class per status code, and eprop_status_string gives the header's
    # one-line meaning of every code.
    meanings = {
        int(m.group(1)): m.group(2).strip()
        for m in re.finditer(r"#define\s+EPROP_(?:OK|ERR_\w+)\s+(\d+)\s*/\*(.*?)\*/", HEADER.read_text())
    }
    assert set(meanings) == set(codes.values()) | {0}
    for value in codes.values():
        exc = errors.error_for_status(value, "m")
        assert type(exc) is not errors.EpropError and exc.status == value
    for value, meaning in meanings.items():
        assert _capi.status_string(value) == meaning


def test_pythonic_modules_never_touch_ctypes():
    for module in ("network.py", "recording.py", "models.py", "sine_waves.py", "errors.py", "__init__.py"):
        tree = ast.parse((PACKAGE / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name != "ctypes" for a in node.names), module
            if isinstance(node, ast.ImportFrom):
                assert node.module != "ctypes", module
