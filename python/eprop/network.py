"""The Pythonic API: networks, populations, projections, the optimizer and recorders.

Names follow NEST (models ``input``, ``eprop_iaf``, ``eprop_readout``; synapse models
``eprop_synapse``, ``static_synapse``, ``eprop_learning_signal_connection``; parameters
``V_th``, ``c_reg``, …; units ms, mV, pF, pA, Hz). Neuron ids are 0-based within their
population; 2-D weight arrays are indexed ``[post, pre]``.

Example::

    net = eprop.Network(resolution=1.0)
    inp = net.add_population("input", 100)
    rec = net.add_population("eprop_iaf", 100, C_m=1.0, V_th=0.03)
    out = net.add_population("eprop_readout", 1)
    net.set_optimizer(type="adam", eta=1e-4)
    net.connect(inp, rec, "eprop_synapse", weights=w_in)            # dense, (100, 100)
    net.connect(rec, rec, "eprop_synapse", weights=w_rec, allow_autapses=False)
    net.connect(rec, out, "eprop_synapse", weights=w_out)
    net.connect(out, rec, "eprop_learning_signal_connection", weights=b)
    inp.set_spike_times(neurons, times)
    out.set_target(target_times, target_values)
    out.set_learning_window([2.0], [1.0])
    v = net.record_state(out, ["readout_signal", "target_signal"])
    net.simulate(505.0, progress=True)

Every method states the C function it calls. This module never touches ctypes: it goes
through :mod:`eprop._capi`.
"""

from __future__ import annotations

import numbers
import re
import sys
import time as _time

import numpy as np

from . import _capi
from .errors import BadPropertyError, EpropError, InvalidArgumentError, InvalidStateError, ERR_INVALID_ARGUMENT, ERR_BAD_PROPERTY
from .models import model_recordables, parameter_info, model_parameters
from .recording import SpikeRecorder, StateRecorder, WeightRecorder

__all__ = ["Network", "Population", "Projection", "optimizer_parameters", "estimate_memory"]

def estimate_memory(n_recurrent: int, n_plastic: int, *, n_readout: int = 0, n_input: int = 0, n_fixed: int = 0,
                    n_sources: int | None = None, optimizer: str = "gradient_descent", optimize_each_step: bool = False,
                    batch_size: int = 1, cutoff_ms: float = float("inf"), flush_interval_ms: float = float("inf"),
                    resolution_ms: float = 1.0, synapse_precision: str = "double") -> int:
    """Predicted bytes of a network before building it (``eprop_estimate_memory_v2``).

    ``n_plastic`` eprop synapses, ``n_fixed`` static and feedback synapses, ``n_sources`` the
    sum over eprop projections of their source population sizes (default: the neurons),
    eprop synapses stored in ``synapse_precision`` (``"double"`` or ``"single"``). Without
    ``optimize_each_step`` the interval gradients kept after flush events count at their
    bound (8 B per synapse; a running network holds them only for sources whose last event
    was a flush). A recurrent population with dense incoming projections also keeps a
    step-major copy of its history (as many bytes again as its history), not counted here.
    Building a network that cannot fit fails fast with :class:`OutOfMemoryError`.
    """
    if n_sources is None:
        n_sources = n_recurrent + n_input
    return _capi.estimate_memory_v2(n_recurrent, n_readout, n_input, n_plastic, n_fixed, n_sources, optimizer,
                                    optimize_each_step, batch_size, cutoff_ms, flush_interval_ms, resolution_ms,
                                    synapse_precision)


def _choices(info) -> list:
    """The names a choice parameter takes, in index order (from its rule text)."""
    return re.findall(r'"([^"]+)"', info.rule)


def optimizer_parameters() -> dict:
    """Optimizer parameter names (NEST: the ``optimizer`` defaults of ``eprop_synapse``,
    spec 9.1) and their kinds, from the library's catalogue: ``type`` is a name
    ("choice"), ``batch_size`` an "int", the others "real" or "bool"."""
    global _OPTIMIZER_KINDS
    if _OPTIMIZER_KINDS is None:
        _OPTIMIZER_KINDS = {row.name: ("int" if row.name == "batch_size" else row.kind)
                            for row in model_parameters("eprop_synapse")}
    return dict(_OPTIMIZER_KINDS)


_OPTIMIZER_KINDS = None


def _number(name: str, value) -> float:
    """A parameter value as float (bools as 0/1); a clear error for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return 1.0 if value else 0.0
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return float(value)
    raise InvalidArgumentError(
        f"{name}: expected a number or a bool, got {type(value).__name__} {value!r}", ERR_INVALID_ARGUMENT
    )


class _TextProgress:
    """A plain text progress bar on stderr (no dependency)."""

    def __init__(self, start_ms: float, dt: float, stream=None, width: int = 30):
        self.start_ms = start_ms
        self.dt = dt
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.t0 = _time.perf_counter()

    def __call__(self, done: int, total: int) -> bool:
        frac = done / total if total else 1.0
        filled = int(round(frac * self.width))
        elapsed = _time.perf_counter() - self.t0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * frac:5.1f}% "
            f"{self.start_ms + done * self.dt:.0f} ms  {elapsed:.1f} s"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
        return True


class Network:
    """A network of e-prop populations (one ``eprop_network`` handle).

    Args:
        resolution: the time step dt in ms (``eprop_network_create``).
        threads: threads of the parallel phases of a step (results do not depend on it).
        parallel_min_work: work a step needs before it runs on the threads (see
            :attr:`parallel_min_work`; default: the library's, 32768).
        synapse_precision: how ``eprop_synapse`` stores its state, ``"double"`` (default,
            NEST's arithmetic bit for bit) or ``"single"`` (4-byte floats, about half the
            memory; docs/precision.md) — the same as
            ``set_synapse_defaults("eprop_synapse", precision=…)`` before connecting.

    A network is not thread-safe: use it from one thread at a time. It is freed by
    :meth:`close`, by leaving a ``with`` block, or when garbage-collected.
    """

    def __init__(self, resolution: float = 1.0, threads: int = 1, synapse_precision: str = "double",
                 parallel_min_work: int | None = None):
        self._handle = _capi.network_create(_number("resolution", resolution))
        self._populations: list = []
        self._projections: list = []
        self._recorders: list = []
        if threads != 1:
            self.threads = threads
        if parallel_min_work is not None:
            self.parallel_min_work = parallel_min_work
        if synapse_precision != "double":
            _capi.set_synapse_string(self._handle, "eprop_synapse", "precision", synapse_precision)

    @property
    def memory(self) -> dict:
        """Bytes the engine holds now (``eprop_network_memory``): ``{"total": …, "history": …}``."""
        total, history = _capi.network_memory(self._h)
        return {"total": total, "history": history}

    @property
    def threads(self) -> int:
        """Threads of the parallel phases of a step (``eprop_network_threads``); results are
        bit-identical for any number."""
        return _capi.network_threads(self._h)

    @threads.setter
    def threads(self, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise InvalidArgumentError(f"threads: expected a whole number, got {n!r}", ERR_INVALID_ARGUMENT)
        _capi.network_set_threads(self._h, int(n))

    @property
    def parallel_min_work(self) -> int:
        """Work a step needs before it runs on the worker threads
        (``eprop_network_parallel_min_work``): its planned synapse work (eligibility steps
        plus 4 per synapse event) plus 10 per recurrent neuron. Smaller steps run on the
        calling thread, which is faster for them (the N-MNIST tutorial network, ≈ 24 k per
        step, is 5 % slower on 2 threads than on 1). Results do not depend on it; 0 makes
        every step parallel."""
        return _capi.network_parallel_min_work(self._h)

    @parallel_min_work.setter
    def parallel_min_work(self, work: int) -> None:
        if isinstance(work, bool) or not isinstance(work, (int, np.integer)):
            raise InvalidArgumentError(f"parallel_min_work: expected a whole number, got {work!r}",
                                       ERR_INVALID_ARGUMENT)
        _capi.network_set_parallel_min_work(self._h, int(work))

    # -- work counters and energy ------------------------------------------------------------

    def counters(self) -> dict:
        """Work done by the simulate calls since creation or :meth:`reset_counters`
        (``eprop_get_counters``): ``{name: count}`` in the library's order. Counts are the same
        for any number of threads; docs/energy.md defines each one exactly.

        * ``neuron_updates``, ``readout_updates``: recurrent / readout neuron updates, one per
          neuron per step;
        * ``spikes`` (recurrent neurons), ``input_spikes`` (repeated spikes each),
          ``flush_events`` (emitted by recurrent and input neurons), ``automatic_flush_events``
          (silent sources in accumulate mode, one per source per eprop projection);
        * ``synaptic_events``: spike transmissions, one per synapse (static or eprop) per spike;
        * ``plastic_events``: events processed by eprop synapses, one per synapse per spike or flush;
        * ``eligibility_steps``: synapse-steps of the gradient loop into recurrent targets
          (``adaptive_eligibility_steps`` of those into adaptive ones),
          ``readout_eligibility_steps`` into readouts, ``presynaptic_trace_steps`` of z̄,
          ``trace_decays`` (closed-form decays past the cutoff);
        * ``optimizer_calls`` (per synapse), ``weight_writes`` (calls that computed a new weight),
          ``gradient_descent_steps``, ``adam_steps`` (catch-up iterations included);
        * ``learning_signal_writes``: B·err additions, one per feedback synapse per step;
        * ``history_entries_written``; ``peak_history_bytes`` (a maximum, not a sum);
        * ``synapse_state_bytes_touched``: bytes of per-synapse state read plus written.
        """
        from .energy import counter_names
        return dict(zip(counter_names(), (int(x) for x in _capi.get_counters(self._h))))

    def reset_counters(self) -> None:
        """Set every counter to 0, ``peak_history_bytes`` to the bytes held now (``eprop_reset_counters``)."""
        _capi.reset_counters(self._h)

    def energy_table(self) -> dict:
        """The network's energy table, ``{entry: pJ per operation}`` (``eprop_energy_table_get``)."""
        from .energy import energy_entries
        return {e.name: _capi.energy_table_get(self._h, e.name) for e in energy_entries()}

    def set_energy_table(self, table: dict | None = None, **entries) -> None:
        """Replace entries of the network's energy table, in pJ (``eprop_energy_table_set``):
        ``net.set_energy_table(dram_access_64b=2600)`` or ``net.set_energy_table({...})``.
        Validated as a whole (known names, finite, ≥ 0); nothing changes if a check fails."""
        changes = dict(table or {}, **entries)
        _capi.energy_table_set(self._h, list(changes), [_number(k, v) for k, v in changes.items()])

    def reset_energy_table(self) -> None:
        """Restore the default energy table (``eprop_energy_table_reset``)."""
        _capi.energy_table_reset(self._h)

    def energy(self, table: dict | None = None) -> dict:
        """Energy estimate of the counters (``eprop_energy_estimate``), in joules::

            {"total": J, "by_counter": {counter: J}, "by_operation": {entry: J}, "table": {entry: pJ}}

        E = Σ count × operations per count × pJ × 1e-12 (:func:`eprop.energy_operations`).
        ``table`` (``{entry: pJ}``) overrides entries of the network's table for this call only.
        """
        from .energy import counter_names, energy_entries
        saved = self.energy_table() if table else None
        if table:
            self.set_energy_table(table)
        try:
            used = self.energy_table()
            total, per_counter, per_entry = _capi.energy_estimate(self._h)
        finally:
            if saved is not None:
                self.set_energy_table(saved)
        return {
            "total": float(total),
            "by_counter": dict(zip(counter_names(), (float(x) for x in per_counter))),
            "by_operation": dict(zip((e.name for e in energy_entries()), (float(x) for x in per_entry))),
            "table": used,
        }

    # -- lifetime ----------------------------------------------------------------------------

    @property
    def _h(self):
        if self._handle is None:
            raise InvalidStateError("network: the network was closed", None)
        return self._handle

    def close(self) -> None:
        """Free the network (``eprop_network_destroy``); further use raises InvalidStateError."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            _capi.network_destroy(handle)

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 -- never raise from a finalizer (e.g. at shutdown)
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        if self._handle is None:
            return "<eprop.Network (closed)>"
        pops = ", ".join(f"{p.model}[{len(p)}]" for p in self._populations)
        return f"<eprop.Network dt={self.resolution} ms, t={self.time} ms, populations: {pops}>"

    # -- clock -------------------------------------------------------------------------------

    @property
    def resolution(self) -> float:
        """Time step dt in ms (``eprop_network_resolution``)."""
        return _capi.network_resolution(self._h)

    @property
    def time(self) -> float:
        """Simulated time so far in ms (``eprop_network_time``)."""
        return _capi.network_time(self._h)

    def simulate(self, duration_ms: float, progress=None, every: int | None = None) -> None:
        """Simulate ``duration_ms`` (a non-negative multiple of dt), continuing where the last call stopped.

        Several calls in a row give exactly the same result as one call of their total
        duration.

        Args:
            duration_ms: how long to simulate, ms.
            progress: ``None`` (``eprop_simulate``); ``True`` for a text progress bar on
                stderr; or a callable ``progress(steps_done, steps_total)`` of this call,
                returning ``False`` to stop after the current step
                (``eprop_simulate_progress``).
            every: call ``progress`` every this many steps (default: about 100 times per call).

        Raises:
            SimulationInterrupted: ``progress`` returned False before the last step.
            Any exception raised by ``progress``, after the simulation stopped cleanly.
        """
        duration = _number("duration_ms", duration_ms)
        if progress is None or progress is False:
            _capi.simulate(self._h, duration)
            return
        dt = self.resolution
        if progress is True:
            progress = _TextProgress(self.time, dt)
        elif not callable(progress):
            raise TypeError(f"progress: expected None, True or a callable, got {type(progress).__name__}")
        if every is None:
            steps = duration / dt if np.isfinite(duration) and dt > 0 else 0
            every = max(1, int(steps) // 100)
        _capi.simulate_progress(self._h, duration, progress, int(every))

    # -- populations ---------------------------------------------------------------------------

    @property
    def populations(self) -> tuple:
        """Populations in creation order (their ids are 0, 1, 2, …)."""
        return tuple(self._populations)

    def add_population(self, model: str, size: int, **params) -> "Population":
        """Add ``size`` neurons of ``model`` (``eprop_add_population``), then set ``params``.

        Models: ``"input"`` (spike source driven by spike times, NEST's spike_generator +
        parrot_neuron), ``"eprop_iaf"``, ``"eprop_readout"`` (see :func:`eprop.models`).
        """
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise InvalidArgumentError(f"size: expected an integer, got {size!r}", ERR_INVALID_ARGUMENT)
        pid = _capi.add_population(self._h, model, int(size))
        pop = Population(self, pid)
        self._populations.append(pop)
        if params:
            pop.set(**params)
        return pop

    # -- projections -------------------------------------------------------------------------

    @property
    def projections(self) -> tuple:
        """Projections in creation order."""
        return tuple(self._projections)

    def connect(
        self,
        pre: "Population",
        post: "Population",
        synapse_model: str = "eprop_synapse",
        weights=None,
        *,
        pre_ids=None,
        post_ids=None,
        delay: float | None = None,
        allow_autapses: bool = True,
        rule: str | None = None,
        p: float | None = None,
        indegree: int | None = None,
        allow_multapses: bool = True,
        seed: int = 0,
    ) -> "Projection":
        """Connect two populations; creates a new :class:`Projection`.

        Two forms:

        * dense (``eprop_connect_dense``): ``weights`` of shape (len(post), len(pre)) (or a
          scalar for all pairs; default 1.0, NEST's default weight). With ``pre is post``
          and ``allow_autapses=False`` the diagonal is skipped.
        * explicit (``eprop_connect``): ``pre_ids`` and ``post_ids`` of equal length, one
          synapse (pre_ids[i] -> post_ids[i]) each, with ``weights`` of the same length or
          a scalar.

        Args:
            synapse_model: ``"eprop_synapse"`` (plastic), ``"static_synapse"`` or
                ``"eprop_learning_signal_connection"`` (readout -> recurrent, weight B).
            delay: ms; default one time step (the only delay eprop synapses accept).

        * by rule (``eprop_connect_rule``): ``rule="all_to_all"``, ``"pairwise_bernoulli"``
          (with ``p``) or ``"fixed_indegree"`` (with ``indegree``, ``allow_multapses``), and
          ``weights`` a number (constant) or a distribution tuple: ``("normal", mean, std)``,
          ``("uniform", low, high)``, ``("normal_fan_in", scale)`` (randn·scale/√n_pre) or
          ``("glorot_uniform", scale)``; drawn with ``seed`` (same seed, same network).

        Must be called before the first :meth:`simulate`.
        """
        self._own(pre, "pre")
        self._own(post, "post")
        delay = self.resolution if delay is None else _number("delay", delay)
        if rule is not None:
            if pre_ids is not None or post_ids is not None:
                raise InvalidArgumentError("rule: give either a rule or pre_ids/post_ids, not both", ERR_INVALID_ARGUMENT)
            value = {"all_to_all": 0.0, "pairwise_bernoulli": p, "fixed_indegree": indegree}.get(rule, 0.0)
            if value is None:
                needed = "p" if rule == "pairwise_bernoulli" else "indegree"
                raise InvalidArgumentError(f"{needed}: required by rule {rule}", ERR_INVALID_ARGUMENT)
            w = 1.0 if weights is None else weights
            if isinstance(w, tuple):
                name, *args = w
                args = [float(a) for a in args] + [0.0] * (2 - len(args))
                distribution, a, b = name, args[0], args[1]
            else:
                distribution, a, b = "constant", _number("weights", w), 0.0
            pid = _capi.connect_rule(self._h, pre.id, post.id, synapse_model, rule, float(value), allow_autapses,
                                     allow_multapses, distribution, a, b, seed, delay)
            proj = Projection(self, pid, pre, post, synapse_model, delay)
            self._projections.append(proj)
            return proj
        if (pre_ids is None) != (post_ids is None):
            raise InvalidArgumentError("pre_ids and post_ids: give both or neither", ERR_INVALID_ARGUMENT)
        if pre_ids is not None:
            pre_arr = _capi.i64(pre_ids)
            w = 1.0 if weights is None else weights
            w = np.asarray(w, dtype=np.float64)
            if w.ndim == 0:
                w = np.full(pre_arr.shape, float(w))
            pid = _capi.connect(self._h, pre.id, post.id, synapse_model, pre_arr, post_ids, w, delay)
        else:
            w = 1.0 if weights is None else weights
            w = np.asarray(w, dtype=np.float64)
            if w.ndim == 0:
                w = np.full((len(post), len(pre)), float(w))
            elif w.ndim != 2:
                raise InvalidArgumentError(
                    f"weights: a dense connection needs shape (len(post), len(pre)) = ({len(post)}, {len(pre)}), "
                    f"got {w.shape}; give pre_ids and post_ids for a list of synapses",
                    ERR_INVALID_ARGUMENT,
                )
            pid = _capi.connect_dense(self._h, pre.id, post.id, synapse_model, w, allow_autapses, delay)
        proj = Projection(self, pid, pre, post, synapse_model, delay)
        self._projections.append(proj)
        return proj

    def _own(self, obj, what: str) -> None:
        owner = getattr(obj, "network", None)
        if owner is not self:
            raise InvalidArgumentError(f"{what}: not a population of this network: {obj!r}", ERR_INVALID_ARGUMENT)

    # -- optimizer ---------------------------------------------------------------------------

    def set_optimizer(self, type: str | None = None, **params) -> None:  # noqa: A002 -- NEST's name
        """Set the optimizer shared by all ``eprop_synapse`` (NEST: ``SetDefaults("eprop_synapse", {"optimizer": …})``).

        ``type`` (``"gradient_descent"`` or ``"adam"``) goes first through
        ``eprop_set_optimizer_string`` and can change only before any eprop_synapse
        exists; the numbers (``batch_size``, ``eta``, ``Wmin``, ``Wmax``,
        ``optimize_each_step``, ``beta_1``, ``beta_2``, ``epsilon``) then go in one
        transactional ``eprop_set_optimizer_parameters`` call. If that call fails, a type
        changed by this call is restored, so nothing changes.
        """
        names = list(params)
        values = [_number(k, v) for k, v in params.items()]
        old_type = None
        if type is not None:
            old_type = _capi.get_optimizer_string(self._h, "type")
            _capi.set_optimizer_string(self._h, "type", type)
        try:
            if names:
                _capi.set_optimizer_parameters(self._h, names, values)
        except EpropError:
            if old_type is not None and old_type != type:
                _capi.set_optimizer_string(self._h, "type", old_type)
            raise

    def get_optimizer(self, name: str):
        """One optimizer parameter (``eprop_get_optimizer_parameter``; ``type`` by name with
        ``eprop_get_optimizer_string``); bools as bool, ``batch_size`` as int."""
        if name == "type":
            return _capi.get_optimizer_string(self._h, "type")
        value = _capi.get_optimizer_parameter(self._h, name)
        kind = optimizer_parameters().get(name)
        if kind == "bool":
            return bool(value)
        if kind == "int":
            return int(value)
        return value

    @property
    def optimizer_params(self) -> dict:
        """All optimizer parameters as a dict (see :meth:`get_optimizer`)."""
        return {name: self.get_optimizer(name) for name in optimizer_parameters()}

    @property
    def optimizer(self) -> str:
        """The optimizer type, ``"gradient_descent"`` or ``"adam"``."""
        return self.get_optimizer("type")

    # -- synapse model defaults and kernel parameters ----------------------------------------

    def set_synapse_defaults(self, synapse_model: str, type: str | None = None,  # noqa: A002
                             precision: str | None = None, **params) -> None:
        """Set the common properties of a plastic synapse model (NEST: ``SetDefaults``).

        ``"eprop_synapse"``: its optimizer (as :meth:`set_optimizer`) and ``precision``, how
        its synapses store their state: ``"double"`` (default; NEST's results bit for bit) or
        ``"single"`` (4-byte floats, computed in double; about half the memory, see
        docs/precision.md); each :meth:`connect` takes the value in effect then.
        ``"eprop_synapse_bsshslm_2020"``: its own optimizer (same names; ``batch_size``
        counts update intervals), ``average_gradient`` and ``tau_m_readout`` (ms; each
        :meth:`connect` takes the value in effect then). Validated as one transaction
        (``eprop_set_synapse_string``, ``eprop_set_synapse_parameters``).
        """
        names = list(params)
        values = [_number(k, v) for k, v in params.items()]
        restore = []
        try:
            for key, value in (("type", type), ("precision", precision)):
                if value is not None:
                    old = _capi.get_synapse_string(self._h, synapse_model, key)
                    _capi.set_synapse_string(self._h, synapse_model, key, value)
                    restore.append((key, old))
            if names:
                _capi.set_synapse_parameters(self._h, synapse_model, names, values)
        except (EpropError, TypeError):
            for key, old in reversed(restore):
                _capi.set_synapse_string(self._h, synapse_model, key, old)
            raise

    def get_synapse_defaults(self, synapse_model: str) -> dict:
        """Every common property of a plastic synapse model as a dict (bools as bool,
        ``batch_size`` as int, ``type`` by name)."""
        out = {}
        for row in model_parameters(synapse_model):
            if row.name == "type":
                out["type"] = _capi.get_synapse_string(self._h, synapse_model, "type")
                continue
            value = _capi.get_synapse_parameter(self._h, synapse_model, row.name)
            out[row.name] = bool(value) if row.kind == "bool" else int(value) if row.name == "batch_size" else value
        if synapse_model == "eprop_synapse":
            out["precision"] = _capi.get_synapse_string(self._h, synapse_model, "precision")
        return out

    def set_kernel(self, **params) -> None:
        """Set the baseline family's kernel parameters (NEST: ``SetKernelStatus``):
        ``eprop_update_interval`` (ms), ``eprop_learning_window`` (ms, ≤ the interval),
        ``eprop_reset_neurons_on_update`` (bool). Only before the first :meth:`simulate`."""
        names = list(params)
        _capi.set_kernel_parameters(self._h, names, [_number(k, v) for k, v in params.items()])

    @property
    def kernel_params(self) -> dict:
        """The baseline family's kernel parameters as a dict."""
        out = {}
        for row in model_parameters("kernel"):
            value = _capi.get_kernel_parameter(self._h, row.name)
            out[row.name] = bool(value) if row.kind == "bool" else value
        return out

    # -- recording ---------------------------------------------------------------------------

    @property
    def recorders(self) -> tuple:
        """Recorders in creation order."""
        return tuple(self._recorders)

    def record_spikes(self, population: "Population") -> SpikeRecorder:
        """Record the spikes of every neuron of ``population`` (``eprop_record_spikes``)."""
        self._own(population, "population")
        rec = SpikeRecorder(self, _capi.record_spikes(self._h, population.id), population)
        self._recorders.append(rec)
        return rec

    def record_state(self, population: "Population", recordables, neurons=None) -> StateRecorder:
        """Record ``recordables`` (names or one comma-separated str) of ``neurons`` (default
        all) after every step (``eprop_record_state``)."""
        self._own(population, "population")
        names = [s.strip() for s in recordables.split(",")] if isinstance(recordables, str) else list(recordables)
        ids = np.arange(len(population), dtype=np.int64) if neurons is None else _capi.i64(np.atleast_1d(neurons))
        rid = _capi.record_state(self._h, population.id, names, ids)
        rec = StateRecorder(self, rid, population, names, ids)
        self._recorders.append(rec)
        return rec

    def record_weights(self, projection: "Projection", pre=None, post=None) -> WeightRecorder:
        """Record the weights of synapses (pre[i], post[i]) of ``projection`` after every step
        (``eprop_record_weights``); default: every synapse, in storage order."""
        if getattr(projection, "network", None) is not self:
            raise InvalidArgumentError(f"projection: not a projection of this network: {projection!r}", ERR_INVALID_ARGUMENT)
        if (pre is None) != (post is None):
            raise InvalidArgumentError("pre and post: give both or neither", ERR_INVALID_ARGUMENT)
        if pre is None:
            pre, post = projection.connections
        pre, post = _capi.i64(np.atleast_1d(pre)), _capi.i64(np.atleast_1d(post))
        rid = _capi.record_weights(self._h, projection.id, pre, post)
        rec = WeightRecorder(self, rid, projection, pre, post)
        self._recorders.append(rec)
        return rec


class Population:
    """``size`` neurons of one model in a :class:`Network` (create with :meth:`Network.add_population`)."""

    def __init__(self, network: Network, population_id: int):
        self.network = network
        #: Population id in its network (0, 1, 2, … in creation order).
        self.id = population_id
        #: Model name (``eprop_population_model``).
        self.model = _capi.population_model(network._h, population_id)
        self._size = _capi.population_size(network._h, population_id)

    def __len__(self) -> int:
        """Number of neurons (``eprop_population_size``)."""
        return self._size

    @property
    def size(self) -> int:
        """Number of neurons."""
        return self._size

    def __repr__(self) -> str:
        return f"<eprop.Population {self.id}: {self.model} × {self._size}>"

    # -- parameters --------------------------------------------------------------------------

    def set(self, **params) -> None:
        """Set parameters by NEST name, in NEST units, validated as a whole.

        * numbers and bools (one value for every neuron) go in one transactional
          ``eprop_set_parameters`` call; ``V_m`` (and ``adaptation`` for adaptive models)
          set the state of every neuron;
        * names (e.g. ``surrogate_gradient_function="exponential"``, or
          ``loss="cross_entropy"`` for softmax readouts, an eprop extension) go through
          ``eprop_set_parameter_string``;
        * 1-D arrays of ``len(self)`` values set the parameter per neuron
          (``eprop_set_parameter_array``), e.g. ``tau_m=np.linspace(20, 40, n)``.

        Names and arrays are applied first and restored if anything later fails, so a
        failing call changes nothing.
        """
        h = self.network._h
        strings, arrays, names, values = {}, {}, [], []
        for name, value in params.items():
            info = parameter_info(self.model, name)
            if isinstance(value, str):
                if info is not None and info.kind != "choice":
                    raise InvalidArgumentError(
                        f"{self.model} parameter {name}: takes a number, got the name {value!r}", ERR_INVALID_ARGUMENT
                    )
                strings[name] = value
            elif info is not None and info.kind == "choice":
                if np.ndim(value) != 1 or not all(isinstance(v, str) for v in value):
                    raise InvalidArgumentError(
                        f"{self.model} parameter {name}: takes a name or one name per neuron ({info.rule}), got {value!r}",
                        ERR_INVALID_ARGUMENT,
                    )
                if len(value) != self._size:
                    raise InvalidArgumentError(
                        f"{name}: per-neuron values need one value per neuron ({self._size}), got {len(value)}",
                        ERR_INVALID_ARGUMENT,
                    )
                choices = _choices(info)
                unknown = [v for v in value if v not in choices]
                if unknown:
                    raise BadPropertyError(f"{self.model} parameter {name}: {info.rule} required, got {unknown[0]!r}",
                                           ERR_BAD_PROPERTY)
                arrays[name] = np.array([choices.index(v) for v in value], dtype=np.float64)
            elif np.ndim(value) >= 1 and not isinstance(value, (str, bytes)):
                arr = np.asarray(value)
                if arr.dtype.kind not in "biuf" or arr.ndim != 1:
                    raise InvalidArgumentError(
                        f"{name}: per-neuron values must be a 1-D array of numbers, got {arr.dtype} of shape {arr.shape}",
                        ERR_INVALID_ARGUMENT,
                    )
                if arr.size != self._size:
                    raise InvalidArgumentError(
                        f"{name}: per-neuron values need one value per neuron ({self._size}), got {arr.size}",
                        ERR_INVALID_ARGUMENT,
                    )
                arrays[name] = arr.astype(np.float64)
            else:
                names.append(name)
                values.append(_number(name, value))
        undo = []  # (kind, name, old value), applied in reverse on failure
        try:
            for name, arr in arrays.items():
                undo.append(self._snapshot(name))
                _capi.set_parameter_array(h, self.id, name, arr)
            for name, value in strings.items():
                undo.append(("string", name, _capi.get_parameter_string(h, self.id, name)))
                _capi.set_parameter_string(h, self.id, name, value)
            if names:
                _capi.set_parameters(h, self.id, names, values)
        except EpropError:
            for kind, name, old in reversed(undo):
                if kind == "string":
                    _capi.set_parameter_string(h, self.id, name, old)
                elif kind == "scalar":
                    _capi.set_parameters(h, self.id, [name], [old])
                elif kind == "array":
                    _capi.set_parameter_array(h, self.id, name, old)
            raise

    def _snapshot(self, name: str) -> tuple:
        """How to restore ``name``: ("scalar", name, value) for a population-wide parameter,
        ("array", name, values) for a per-neuron one or a state, ("none", name, None) if unknown."""
        h = self.network._h
        info = parameter_info(self.model, name)
        if info is not None:
            try:
                return ("scalar", name, _capi.get_parameter(h, self.id, name))
            except EpropError:
                return ("array", name, _capi.get_parameter_array(h, self.id, name, self._size))
        try:
            return ("array", name, _capi.get_state(h, self.id, name, self._size))
        except EpropError:
            return ("none", name, None)  # unknown name: the set itself will report it

    def get(self, name: str):
        """One parameter: float for real, bool for bool, str for choice parameters
        (``eprop_get_parameter`` / ``eprop_get_parameter_string``); a parameter set per
        neuron gives the (size,) array of its values (``eprop_get_parameter_array``).
        Per-neuron state such as ``V_m`` is read with :meth:`get_state`."""
        info = parameter_info(self.model, name)
        if info is not None and info.kind == "choice":
            try:
                return _capi.get_parameter_string(self.network._h, self.id, name)
            except InvalidArgumentError:
                # Set per neuron: one name per neuron.
                indices = _capi.get_parameter_array(self.network._h, self.id, name, self._size)
                return [_choices(info)[int(i)] for i in indices]
        try:
            value = _capi.get_parameter(self.network._h, self.id, name)
        except InvalidArgumentError:
            if info is None:
                raise
            # A parameter set per neuron has no single value: return all of them.
            values = _capi.get_parameter_array(self.network._h, self.id, name, self._size)
            return values.astype(bool) if info.kind == "bool" else values
        if info is not None and info.kind == "bool":
            return bool(value)
        return value

    def get_array(self, name: str) -> np.ndarray:
        """Every neuron's value of parameter ``name``, (size,) float64, whether it was set per
        neuron or for the whole population (``eprop_get_parameter_array``)."""
        return _capi.get_parameter_array(self.network._h, self.id, name, self._size)

    def set_array(self, name: str, values) -> None:
        """Set parameter (or state ``V_m``/``adaptation``) ``name`` per neuron, validated for every
        neuron (``eprop_set_parameter_array``); same as ``set(name=values)``."""
        self.set(**{name: np.asarray(values, dtype=np.float64)})

    @property
    def params(self) -> dict:
        """All parameters of the model (see :func:`eprop.model_parameters`) as a dict."""
        return {row.name: self.get(row.name) for row in model_parameters(self.model)}

    @property
    def recordables(self) -> list:
        """Names accepted by :meth:`get_state` and :meth:`Network.record_state`."""
        return model_recordables(self.model)

    def get_state(self, name: str) -> np.ndarray:
        """Per-neuron state ``name`` (a recordable, e.g. ``"V_m"``), (size,) float64 (``eprop_get_state``)."""
        return _capi.get_state(self.network._h, self.id, name, self._size)

    def set_state(self, name: str, values) -> None:
        """Set per-neuron state (only ``"V_m"``, mV) of every neuron; a scalar is broadcast (``eprop_set_state``)."""
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(self._size, float(arr))
        _capi.set_state(self.network._h, self.id, name, arr)

    # -- inputs ------------------------------------------------------------------------------

    def set_spike_times(self, neurons=None, times_ms=None) -> None:
        """Replace the pending spikes of an ``input`` population (``eprop_set_spike_times``).

        Neuron ``neurons[i]`` receives a spike_generator spike at ``times_ms[i]`` (a
        multiple of dt later than the current time) and fires one step later, as NEST's
        parrot_neuron does. Alternatively pass only ``times_ms`` as a sequence of
        ``len(self)`` arrays, the spike times of each neuron (NEST's per-generator
        ``spike_times``).
        """
        if neurons is None:
            if times_ms is None or len(times_ms) != self._size:
                raise InvalidArgumentError(
                    f"times_ms: without neurons, give one array of times per neuron ({self._size})",
                    ERR_INVALID_ARGUMENT,
                )
            per = [np.atleast_1d(np.asarray(t, dtype=np.float64)) for t in times_ms]
            counts = np.array([len(t) for t in per], dtype=np.int64)
            neurons = np.repeat(np.arange(self._size, dtype=np.int64), counts)
            times_ms = np.concatenate(per) if per else np.empty(0)
        _capi.set_spike_times(self.network._h, self.id, np.atleast_1d(neurons), np.atleast_1d(times_ms))

    def set_target(self, times_ms, values) -> None:
        """Target signal y* of an ``eprop_readout`` population (``eprop_set_target``).

        ``values[n, k]`` is the target of neuron n from the readout step at ``times_ms[k]``
        on (NEST step_rate_generator semantics; strictly increasing multiples of dt, not
        before the current time). ``values`` has shape (len(self), len(times_ms)); a 1-D
        array of len(times_ms) values is used for every neuron. Replaces the pending
        schedule.
        """
        _capi.set_target(self.network._h, self.id, np.atleast_1d(times_ms), np.asarray(values), self._size)

    def set_current(self, times_ms, values) -> None:
        """Current input (pA) of a recurrent or readout population (``eprop_set_current``).

        NEST step_current_generator semantics with a one-step connection: ``values[n, k]``
        is neuron n's current from the step at ``times_ms[k]`` on; it enters I_in at the end
        of that step, so the membrane feels it one step later. Layout and rules as
        :meth:`set_target` (a 1-D array is used for every neuron).
        """
        _capi.set_current(self.network._h, self.id, np.atleast_1d(times_ms), np.asarray(values), self._size)

    def set_learning_window(self, times_ms, values) -> None:
        """Learning window λ of an ``eprop_readout`` population (``eprop_set_learning_window``),
        same layout and timing as :meth:`set_target`."""
        _capi.set_learning_window(self.network._h, self.id, np.atleast_1d(times_ms), np.asarray(values), self._size)


class Projection:
    """The synapses created by one :meth:`Network.connect` call."""

    def __init__(self, network: Network, projection_id: int, pre: Population, post: Population,
                 synapse_model: str, delay: float):
        self.network = network
        #: Projection id in its network (0, 1, 2, … in creation order).
        self.id = projection_id
        self.pre = pre
        self.post = post
        self.synapse_model = synapse_model
        #: Delay in ms as given to connect.
        self.delay = delay

    def __len__(self) -> int:
        """Number of synapses (``eprop_projection_size``)."""
        return _capi.projection_size(self.network._h, self.id)

    def __repr__(self) -> str:
        return (
            f"<eprop.Projection {self.id}: {self.synapse_model} population {self.pre.id} ({self.pre.model}) -> "
            f"{self.post.id} ({self.post.model})>"
        )

    @property
    def memory(self) -> dict:
        """Memory of this projection now (``eprop_projection_memory``): ``bytes_per_synapse``
        (state per synapse, target index included) and ``pending_gradients`` (bytes of the
        interval gradients eprop_synapse keeps after flush events)."""
        per_synapse, pending = _capi.projection_memory(self.network._h, self.id)
        return {"bytes_per_synapse": per_synapse, "pending_gradients": pending}

    @property
    def weights(self) -> np.ndarray:
        """Weight of every synapse in storage order (sorted by pre, then post) (``eprop_get_weights``)."""
        return _capi.get_weights(self.network._h, self.id)

    @weights.setter
    def weights(self, values) -> None:
        self.set_weights(values)

    def set_weights(self, values) -> None:
        """Set every weight in storage order (``eprop_set_weights``); eprop_synapse weights
        must lie in [Wmin, Wmax]. A 2-D (len(post), len(pre)) array is read at each
        synapse's (post, pre) entry."""
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 2:
            if arr.shape != (len(self.post), len(self.pre)):
                raise InvalidArgumentError(
                    f"weights: a matrix must have shape (len(post), len(pre)) = ({len(self.post)}, {len(self.pre)}), "
                    f"got {arr.shape}",
                    ERR_INVALID_ARGUMENT,
                )
            pre, post = self.connections
            arr = arr[post, pre]
        _capi.set_weights(self.network._h, self.id, arr)

    @property
    def connections(self) -> tuple:
        """``(pre, post)`` int64 arrays of every synapse in storage order (``eprop_get_connections``)."""
        return _capi.get_connections(self.network._h, self.id)

    def weight_matrix(self) -> np.ndarray:
        """Dense (len(post), len(pre)) weights; absent synapses read 0, parallel ones add up
        (``eprop_get_weight_matrix``)."""
        return _capi.get_weight_matrix(self.network._h, self.id, len(self.post), len(self.pre))
