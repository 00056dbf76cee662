"""Translate a NEST feature-fixture spec (``Tests/Fixtures/nest/features/*.npz``, ``config``)
into an eprop network, run its schedule and return the recordings under the fixture's keys.

The spec is the NEST-like network description executed by ``tools/nest_features.py::run_spec``
(documented in ``Tests/Fixtures/nest/README.md``, "config of a feature fixture"). This module
never imports NEST. The translation rules (spec /work/shared/reference/nest-eprop-spec.md
sections 1.1, 2, 5.4):

* ``spike_generator`` --static--> ``parrot_neuron``: the parrots become one eprop ``input``
  population whose spike times are the generators' spike times (an input neuron fires one
  step after its time, as the parrot does; NEST's parrot ignores the weight and repeats the
  multiplicity). A connection delay of d steps shifts the times by d - 1 steps.
* ``spike_generator`` --static--> neuron (directly): an extra ``input`` population (one per
  generator population, created at the generator's place in the creation order) with the
  spike times shifted one step earlier (t - dt; plus d - 1 steps for a delay of d steps:
  a generator spike at T arrives in step T + d - 1, an input spike at T' in step T' + 1),
  connected by ``static_synapse`` with the connection's weights.
* ``step_rate_generator`` --rate_connection_delayed--> ``eprop_readout``: receptor 2 becomes
  ``set_target``, receptor 1 ``set_learning_window``, value x connection weight, amplitude
  times as given (spec 5.4: the value with amplitude time T is in effect from readout step T
  on when the readout was created before the generator, as in every fixture; a generator
  created before its readout acts one step earlier, so its times are then shifted by -dt).
  The connection delay is ignored, as in NEST (spec 1.2).
* ``step_current_generator`` --static--> neuron: ``set_current`` on the target population,
  amplitude x weight. eprop's current input is NEST's with a one-step connection; a delay of
  d steps is first felt d - 1 steps later (fixture README, "Current input": amplitude time T
  over delay d is first felt in update step T + d), so the amplitude times are shifted by
  (d - 1) steps, e.g. +1 step for the 2 ms connections of the ``current_*`` fixtures. Several
  generators onto one neuron add up.
* parameters keep their NEST names; a list of n values is a per-neuron array (per-node dicts
  of ``per_neuron`` are merged into such arrays); ``f_target`` is given in Hz in both.
  ``eprop_isi_trace_cutoff`` takes one value per eprop population: non-uniform values raise
  :class:`Untranslatable` (README, "Where eprop differs from NEST, on purpose"); per-neuron
  ``surrogate_gradient_function`` names are passed as a list.
* multimeters and spike recorders become state and spike recorders, all created before the
  first ``simulate`` (eprop keeps NEST's history bookkeeping, hence
  ``eprop_history_duration`` and the exact ``learning_signal`` recordable, only for neurons
  recorded from before the first simulate call).
* ``set_status`` on chosen neurons: the current per-neuron values are read with
  ``get_array`` / ``get_state``, the chosen entries replaced, and the whole array set.
* the optimizer: ``net.set_optimizer(**synapse_defaults['eprop_synapse']['optimizer'])``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import eprop

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "Tests" / "Fixtures" / "nest" / "features"

NEURON_MODELS = ("eprop_iaf", "eprop_iaf_adapt", "eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt", "eprop_readout")
#: Parameters eprop takes once per population (README, "Where eprop differs from NEST").
UNIFORM_ONLY = ("eprop_isi_trace_cutoff",)
#: Per-neuron state (set with set_state / read with get_state).
STATE_NAMES = ("V_m", "adaptation")
#: Read-only state that GetStatus may ask for.
READ_STATE_NAMES = ("V_m", "adaptation", "V_th_adapt")


class Untranslatable(Exception):
    """The spec uses something eprop does not express (the message says what and why)."""


def readme_difference(topic_fragment: str) -> str:
    """The row of README's "Where eprop differs from NEST, on purpose" table naming ``topic_fragment``."""
    text = (REPO / "README.md").read_text()
    for line in text.splitlines():
        if line.startswith("|") and topic_fragment in line.split("|")[1]:
            return line.strip()
    return f"(README row for {topic_fragment!r} not found)"


def decode(value):
    """Inverse of the fixtures' JSON encoding of infinities ("inf", "-inf", "nan")."""
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def load(path):
    """(arrays, decoded config) of one feature fixture."""
    data = np.load(path)
    return data, decode(json.loads(str(data["config"])))


def fixture_paths():
    return sorted(FEATURES.glob("*.npz"))


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def _population_values(pop) -> dict:
    """{key: scalar | list(n)} of a population: ``params`` overridden by ``per_neuron`` dicts."""
    n = int(pop["n"])
    values = {k: (list(v) if isinstance(v, list) else v) for k, v in (pop.get("params") or {}).items()}
    for j, d in enumerate(pop.get("per_neuron") or []):
        for key, v in d.items():
            cur = values.get(key)
            if not isinstance(cur, list):
                cur = [cur] * n
            cur[j] = v
            values[key] = cur
    return values


def _uniform(key, value, where):
    """A scalar for a population-wide-only parameter; Untranslatable if the values differ."""
    if not isinstance(value, (list, np.ndarray)):
        return value
    vals = list(value)
    if all(v == vals[0] for v in vals):
        return vals[0]
    raise Untranslatable(
        f"{where}: per-neuron {key} = {vals}; eprop takes one value per population. README, "
        f"'Where eprop differs from NEST, on purpose': {readme_difference('per-neuron')}"
    )


def check_translatable(spec: dict) -> None:
    """Raise :class:`Untranslatable` naming every per-neuron value of a parameter that eprop
    takes once per population, in the populations' creation parameters (a set_status that
    makes such a parameter non-uniform raises it when it is executed)."""
    found = []
    for p in spec["populations"]:
        if p["model"] not in NEURON_MODELS:
            continue
        for key, v in _population_values(p).items():
            if key in UNIFORM_ONLY and isinstance(v, list) and any(x != v[0] for x in v):
                found.append(f"population {p['name']} ({p['model']}): per-neuron {key} = {v}")
    if found:
        raise Untranslatable(
            "; ".join(found) + ". eprop takes one value per population; README, 'Where eprop differs from NEST, "
            f"on purpose': {readme_difference('per-neuron')}"
        )


def _set_neuron_params(pop, values: dict, where: str) -> None:
    """Set NEST-named parameters (scalars or per-neuron lists) on an eprop population.

    E_L goes first, on its own: eprop keeps absolute V_th/V_min/V_reset and absolute V_m when
    E_L changes (spec 1.4), so this is NEST's single-dict semantics. The state (V_m,
    adaptation) goes last, so it is taken relative to the new E_L, as NEST does when E_L and
    V_m are in the same dict.
    """
    n = len(pop)
    groups = [["E_L"]] if "E_L" in values else []
    rest = [k for k in values if k != "E_L" and k not in STATE_NAMES]
    if rest:
        groups.append(rest)
    groups += [[k] for k in STATE_NAMES if k in values]
    for keys in groups:
        kwargs = {}
        for key in keys:
            v = values[key]
            if key in UNIFORM_ONLY:
                v = _uniform(key, v, where)
            if isinstance(v, list):
                if len(v) != n:
                    raise ValueError(f"{where}: {key} has {len(v)} values for {n} neurons")
                if all(isinstance(x, str) for x in v):
                    v = v[0] if all(x == v[0] for x in v) else list(v)   # one name per neuron
                else:
                    v = np.asarray(v, dtype=np.float64)
            kwargs[key] = v
        pop.set(**kwargs)


# ---------------------------------------------------------------------------------------------
# Step schedules (rate and current generators)
# ---------------------------------------------------------------------------------------------


def _step_value(times, values, t):
    """Value of a step signal (amplitude_times/values) at time t; 0 before the first time."""
    k = np.searchsorted(times, t, side="right") - 1
    return values[k] if k >= 0 else 0.0


def _schedule_matrix(n, sources):
    """(times, values (n, n_times)) of n neurons from ``sources[j]`` = list of (times, values)
    step signals added up for neuron j (0 for neurons without sources)."""
    all_t = sorted({float(t) for srcs in sources.values() for times, _ in srcs for t in times})
    times = np.asarray(all_t, dtype=np.float64)
    out = np.zeros((n, times.size))
    for j, srcs in sources.items():
        for k, t in enumerate(times):
            total = _step_value(*srcs[0], t)
            for st, sv in srcs[1:]:
                total += _step_value(st, sv, t)
            out[j, k] = total
    return times, out


# ---------------------------------------------------------------------------------------------
# Translation
# ---------------------------------------------------------------------------------------------


class FeatureNetwork:
    """The eprop network of one feature spec, with its recorders; :meth:`run` executes the schedule."""

    def __init__(self, spec: dict):
        check_translatable(spec)
        self.spec = spec
        dt = float(spec.get("resolution", 1.0))
        self.dt = dt
        self.net = eprop.Network(resolution=dt)
        self.pops = {}  # NEST population name -> eprop Population (neurons and parrots)
        self.models = {p["name"]: p["model"] for p in spec["populations"]}
        self.sizes = {p["name"]: int(p["n"]) for p in spec["populations"]}
        self.order = {p["name"]: i for i, p in enumerate(spec["populations"])}
        self.direct_inputs = {}  # spike_generator name -> eprop input population (direct connections)
        self.projections = {}  # connection name -> eprop Projection
        gen_values = {p["name"]: _population_values(p) for p in spec["populations"]}
        conns = spec.get("connections", [])
        direct_gens = {
            c["pre"] for c in conns
            if self.models[c["pre"]] == "spike_generator" and self.models[c["post"]] != "parrot_neuron"
        }

        # 1. populations, in the spec's creation order
        for p in spec["populations"]:
            name, model, n = p["name"], p["model"], int(p["n"])
            where = f"population {name} ({model})"
            if model == "spike_generator":
                extra = set(gen_values[name]) - {"spike_times"}
                if extra:
                    raise NotImplementedError(f"{where}: parameters {sorted(extra)} not translated")
                if name in direct_gens:
                    self.direct_inputs[name] = self.net.add_population("input", n)
            elif model == "parrot_neuron":
                pop = self.net.add_population("input", n)
                vals = gen_values[name]
                extra = set(vals) - {"flush_event_send_interval"}
                if extra:
                    raise NotImplementedError(f"{where}: parameters {sorted(extra)} not translated")
                _set_neuron_params(pop, vals, where)
                self.pops[name] = pop
            elif model in NEURON_MODELS:
                pop = self.net.add_population(model, n)
                _set_neuron_params(pop, gen_values[name], where)
                self.pops[name] = pop
            elif model in ("step_rate_generator", "step_current_generator"):
                extra = set(gen_values[name]) - {"amplitude_times", "amplitude_values"}
                if extra:
                    raise NotImplementedError(f"{where}: parameters {sorted(extra)} not translated")
            else:
                raise NotImplementedError(f"{where}: model not translated")

        def amplitudes(gen_name, i):
            v = gen_values[gen_name]
            times, values = v.get("amplitude_times", []), v.get("amplitude_values", [])
            if times and not isinstance(times[0], list):  # the same schedule for every generator
                times, values = [times] * self.sizes[gen_name], [values] * self.sizes[gen_name]
            return np.asarray(times[i], dtype=np.float64), np.asarray(values[i], dtype=np.float64)

        def spike_times(gen_name, i):
            st = gen_values[gen_name].get("spike_times", [])
            if st and not isinstance(st[0], list):
                st = [st] * self.sizes[gen_name]
            return np.asarray(st[i] if st else [], dtype=np.float64)

        # 2. optimizer, before any connection (NEST: SetDefaults before Connect)
        sd = spec.get("synapse_defaults") or {}
        for model, defaults in sd.items():
            if model != "eprop_synapse" or set(defaults) - {"optimizer"}:
                raise NotImplementedError(f"synapse_defaults of {model}: {sorted(defaults)} not translated")
            self.net.set_optimizer(**defaults.get("optimizer", {}))

        # 3. connections, in the spec's order
        parrot_spikes = {}  # parrot population -> (neurons, times)
        direct_spikes = {}  # generator population -> (neurons, times)
        rate_sources = {}  # (readout population, receptor) -> {neuron: [(times, values)]}
        current_sources = {}  # target population -> {neuron: [(times, values)]}
        for c in conns:
            pre_m, post_m = self.models[c["pre"]], self.models[c["post"]]
            src = np.asarray(c["sources"], dtype=np.int64)
            tgt = np.asarray(c["targets"], dtype=np.int64)
            w = np.broadcast_to(np.asarray(c.get("weights", 1.0), dtype=np.float64), src.shape)
            d_steps = int(round(float(c.get("delay", dt)) / dt))
            syn = c["synapse_model"]
            receptor = int(c.get("receptor_type", 0))
            where = f"connection {c['name']} ({pre_m} -> {post_m}, {syn}, receptor {receptor})"
            if pre_m == "spike_generator":
                if syn != "static_synapse" or receptor != 0:
                    raise NotImplementedError(f"{where}: not translated")
                if post_m == "parrot_neuron":
                    # The parrot re-emits in step T + d - 1, as an input neuron with time T + (d - 1) dt.
                    neurons, times = parrot_spikes.setdefault(c["post"], ([], []))
                    for i, j in zip(src, tgt):
                        t = spike_times(c["pre"], i) + (d_steps - 1) * dt
                        neurons.extend([int(j)] * t.size)
                        times.extend(t.tolist())
                else:
                    # Direct: generator spike T reaches the neuron in step T + d - 1; an input
                    # neuron with time T' reaches it in step T' + 1, so T' = T - dt + (d - 1) dt.
                    if c["pre"] not in direct_spikes:
                        neurons, times = direct_spikes.setdefault(c["pre"], ([], []))
                        for i in range(self.sizes[c["pre"]]):
                            t = spike_times(c["pre"], i) - dt
                            if np.any(t <= 0.0):
                                raise Untranslatable(
                                    f"{where}: a generator spike at {t.min() + dt:g} ms reaches the neuron in step "
                                    f"{(t.min() + dt) / dt:g}, which needs an input spike time of {t.min():g} ms; eprop "
                                    f"input times must lie after the current time (README: "
                                    f"{readme_difference('input spike times')})"
                                )
                            neurons.extend([i] * t.size)
                            times.extend(t.tolist())
                    if d_steps != 1:
                        raise NotImplementedError(f"{where}: delay {d_steps} steps of a direct generator connection")
                    self.projections[c["name"]] = self.net.connect(
                        self.direct_inputs[c["pre"]], self.pops[c["post"]], "static_synapse", weights=w,
                        pre_ids=src, post_ids=tgt,
                    )
            elif pre_m == "step_rate_generator":
                if post_m != "eprop_readout" or syn != "rate_connection_delayed" or receptor not in (1, 2):
                    raise NotImplementedError(f"{where}: not translated")
                # spec 5.4: a generator created before the readout acts one step earlier.
                shift = -dt if self.order[c["pre"]] < self.order[c["post"]] else 0.0
                per = rate_sources.setdefault((c["post"], receptor), {})
                for i, j, wk in zip(src, tgt, w):
                    times, values = amplitudes(c["pre"], int(i))
                    if int(j) in per:
                        raise NotImplementedError(f"{where}: two generators on one readout receptor")
                    per[int(j)] = [(times + shift, values * wk)]
            elif pre_m == "step_current_generator":
                if syn != "static_synapse" or receptor != 0 or post_m not in NEURON_MODELS:
                    raise NotImplementedError(f"{where}: not translated")
                per = current_sources.setdefault(c["post"], {})
                for i, j, wk in zip(src, tgt, w):
                    times, values = amplitudes(c["pre"], int(i))
                    # eprop's current input is NEST's with d = 1; a delay of d steps is felt
                    # (d - 1) steps later (e.g. d = 2: amplitude times + 1 step).
                    per.setdefault(int(j), []).append((times + (d_steps - 1) * dt, values * wk))
            elif c["pre"] in self.pops and c["post"] in self.pops:
                if receptor != 0:
                    raise NotImplementedError(f"{where}: receptor not translated")
                self.projections[c["name"]] = self.net.connect(
                    self.pops[c["pre"]], self.pops[c["post"]], syn, weights=np.ascontiguousarray(w),
                    pre_ids=src, post_ids=tgt, delay=d_steps * dt,
                )
            else:
                raise NotImplementedError(f"{where}: not translated")

        # 4. inputs
        for name, (neurons, times) in parrot_spikes.items():
            if neurons:
                self.pops[name].set_spike_times(np.asarray(neurons, dtype=np.int64), np.asarray(times))
        for name, (neurons, times) in direct_spikes.items():
            if neurons:
                self.direct_inputs[name].set_spike_times(np.asarray(neurons, dtype=np.int64), np.asarray(times))
        for (name, receptor), per in rate_sources.items():
            times, values = _schedule_matrix(self.sizes[name], per)
            pop = self.pops[name]
            (pop.set_target if receptor == 2 else pop.set_learning_window)(times, values)
        for name, per in current_sources.items():
            times, values = _schedule_matrix(self.sizes[name], per)
            self.pops[name].set_current(times, values)

        # 5. recorders, all before the first simulate
        rec = spec.get("record", {})
        self.multimeters = []
        for mm in rec.get("multimeters", []):
            if float(mm.get("interval", dt)) != dt:
                raise NotImplementedError(f"multimeter {mm['name']}: interval {mm['interval']}")
            r = self.net.record_state(self.pops[mm["population"]], list(mm["record_from"]), neurons=list(mm["neurons"]))
            self.multimeters.append((mm, r))
        self.spike_recorders = [(sr, self.net.record_spikes(self.pops[sr["population"]])) for sr in rec.get("spike_recorders", [])]

    # -- schedule ----------------------------------------------------------------------------

    def _set_status(self, step) -> None:
        name = step["population"]
        pop = self.pops[name]
        n = len(pop)
        idx = step.get("neurons")
        idx = list(range(n)) if idx is None else [int(i) for i in idx]
        values = {}
        for key, v in step["params"].items():
            new = list(v) if isinstance(v, list) else [v] * len(idx)
            if key in UNIFORM_ONLY:
                cur = pop.get(key)
                full = [cur] * n
            elif key == "surrogate_gradient_function":
                cur = pop.get(key)
                full = list(cur) if isinstance(cur, list) else [cur] * n
            elif key in STATE_NAMES:
                full = pop.get_state(key).tolist()
            else:
                full = pop.get_array(key).tolist()
            for i, x in zip(idx, new):
                full[i] = x
            values[key] = full
        _set_neuron_params(pop, values, f"set_status on {name}")

    def _get_status(self, step, result) -> None:
        pop = self.pops[step["population"]]
        for key in step["keys"]:
            if key in READ_STATE_NAMES:
                vals = pop.get_state(key)
            else:
                vals = pop.get_array(key)
            result[f"status_{step['label']}_{key}"] = np.asarray(vals, dtype=np.float64)

    def run(self) -> dict:
        """Execute the schedule; return the recordings under the fixture's keys (eprop samples,
        every step including the last one: align by time)."""
        result = {}
        sim_time = 0.0
        for step in self.spec.get("schedule", []):
            op = step["op"]
            if op == "simulate":
                self.net.simulate(float(step["duration"]))
                sim_time += float(step["duration"])
            elif op == "set_status":
                self._set_status(step)
            elif op == "get_status":
                self._get_status(step, result)
            else:
                raise NotImplementedError(f"schedule op {op!r}")
        result["sim_time_ms"] = np.float64(sim_time)
        for mm, r in self.multimeters:
            times, data = r.get()
            result[f"{mm['name']}_neurons"] = np.asarray(mm["neurons"], dtype=np.int64)
            result[f"{mm['name']}_times"] = times
            for k, rname in enumerate(r.recordables):
                result[f"{mm['name']}_{rname}"] = np.ascontiguousarray(data[:, k, :])
        for sr, r in self.spike_recorders:
            result[f"{sr['name']}_times"], result[f"{sr['name']}_senders"] = r.get()
        conns = {c["name"]: c for c in self.spec.get("connections", [])}
        for name in self.spec.get("record", {}).get("final_weights", []):
            proj = self.projections[name]
            c = conns[name]
            w = np.zeros((self.sizes[c["post"]], self.sizes[c["pre"]]))
            pre, post = proj.connections
            w[post, pre] = proj.weights
            result[f"weights_{name}_final"] = w
        loss = self.spec.get("record", {}).get("loss")
        if loss:
            result["losses"] = compute_losses(result, loss)
        return result

    def close(self):
        self.net.close()


def compute_losses(result, loss):
    """0.5 * mean_readouts sum_t (y - y*)^2 per iteration from the readout samples at times
    first_time ... first_time + n_iter * steps - 1 (as tools/nest_features.py::compute_losses)."""
    mm = loss["multimeter"]
    times = result[f"{mm}_times"]
    y = result[f"{mm}_readout_signal"]
    ys = result[f"{mm}_target_signal"]
    n_iter, steps = int(loss["n_iter"]), int(loss["steps"])
    wanted = float(loss["first_time"]) + np.arange(n_iter * steps, dtype=np.float64)
    idx = np.searchsorted(times, wanted)
    if np.any(idx >= times.size) or not np.array_equal(times[np.minimum(idx, times.size - 1)], wanted):
        raise ValueError("loss samples missing")
    n_out = y.shape[1]
    y_r = np.ascontiguousarray(y[idx].T).reshape((n_out, n_iter, 1, steps))
    t_r = np.ascontiguousarray(ys[idx].T).reshape((n_out, n_iter, 1, steps))
    return 0.5 * np.mean(np.sum((y_r - t_r) ** 2, axis=3), axis=(0, 2))


def run_spec(spec: dict) -> dict:
    """Build and run one spec; the recordings as a dict keyed like the fixture's arrays."""
    fn = FeatureNetwork(spec)
    try:
        return fn.run()
    finally:
        fn.close()
