"""NEST 3.10 reference fixtures for the time-driven e-prop baseline (``*_bsshslm_2020``).

Writes ``Tests/Fixtures/nest/bsshslm/<case>.npz`` (``np.savez_compressed``), one per case, each
holding everything needed to rebuild the identical network without NEST (kernel parameters,
populations in creation order with their NEST parameter dicts, every connection as explicit
(pre, post, weight) arrays with synapse model, receptor, delay and synapse parameters, the
eprop synapse defaults incl. the optimizer, input spike times, target generator amplitudes,
simulated duration) and NEST's outputs (losses computed as NEST's test does, multimeter traces,
recurrent spikes, weight_recorder entries, final weights). The keys are documented in
``Tests/Fixtures/nest/README.md`` (section "bsshslm_2020 baseline fixtures"), which this script
rewrites between its markers, and ``python/tests/bsshslm_fixtures.py`` loads a fixture into a
plain dict.

Cases (spec section 10; NEST's ``test_eprop_bsshslm_2020_plasticity.py``):

* ``regression_reference``: the test's regression case; the published losses are asserted (rtol 1e-8);
* ``classification_batch1``, ``classification_batch2``: the test's evidence-accumulation cases
  (cross-entropy, Adam, average_gradient); references asserted;
* ``history_cleaning_rec``, ``history_cleaning_readout``: the test's history-cleaning case
  (``eprop_history_duration``); references asserted;
* variants that exercise what the tests do not (see ``CASES``).

Usage (needs NEST 3.10; about a minute in total)::

    python3 tools/nest_bsshslm.py                       # all cases, rewrites the README section
    python3 tools/nest_bsshslm.py --cases regression_reference,flush
    python3 tools/nest_bsshslm.py --list

The script exits with status 1 if a published reference is not reproduced or a case check
fails; nothing is written for such a case.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
OUT_DIR = os.path.join(ROOT, "Tests", "Fixtures", "nest", "bsshslm")
README = os.path.join(ROOT, "Tests", "Fixtures", "nest", "README.md")
COMMAND = "python3 tools/nest_bsshslm.py"

REC_IAF = "eprop_iaf_bsshslm_2020"
REC_ADAPT = "eprop_iaf_adapt_bsshslm_2020"
READOUT = "eprop_readout_bsshslm_2020"
SYN = "eprop_synapse_bsshslm_2020"
LS_CONN = "eprop_learning_signal_connection_bsshslm_2020"
RATE_CONN = "rate_connection_delayed"

REC_RECORDABLES = ["V_m", "surrogate_gradient", "learning_signal", "eprop_history_duration"]
ADAPT_RECORDABLES = ["V_th_adapt", "adaptation"]
OUT_RECORDABLES = ["V_m", "readout_signal", "readout_signal_unnorm", "target_signal", "error_signal", "eprop_history_duration"]

#: Steps from the input time of a sequence step to the readout step that compares it with
#: its target: offset_gen + delay_in_rec + delay_rec_out + delay_out_norm (spec 10.7).
TOTAL_OFFSET = 4
INF = float("inf")

# Published references (NEST's test_eprop_bsshslm_2020_plasticity.py; spec 10.7).
REF_REGRESSION = [101.964356999041, 103.466731126205, 103.340607074771, 103.680244037686, 104.412775748752]
REF_CLASSIFICATION = {
    1: [0.741152550006, 0.740388187700, 0.665785233177, 0.663644193322, 0.729428962844],
    2: [0.702163370672, 0.735555303152, 0.740354864111, 0.683882815282, 0.707841122268],
}
REF_HISTORY = {
    REC_IAF: [(1, 3), (1, 61), (21, 61), (41, 48)],
    READOUT: [(1, 4), (1, 21), (20, 60), (20, 60), (40, 46)],
}
REF_RTOL = 1e-8


def _load_module(name, relpath):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


evidence = _load_module("_eprop_evidence_accumulation", "python/eprop/evidence_accumulation.py")
#: Losses and accuracy as NEST's test computes them, one definition shared with the reference.
task_metrics = _load_module("_bsshslm_reference", "tools/bsshslm_reference.py").task_metrics


# ---------------------------------------------------------------------------------------------
# Case description ("spec" = JSON part, "arrays" = numpy part)
# ---------------------------------------------------------------------------------------------


class Case:
    """A network to run in NEST: ``spec`` (JSON-able) plus ``arrays`` (numpy)."""

    def __init__(self, name, description, kernel):
        self.name = name
        self.spec = {
            "case": name,
            "description": description,
            "kernel_set": dict(kernel),  # the dict given to nest.set (one call)
            "populations": [],
            "groups": {},
            "synapse_defaults": {},
            "connections": [],
            "inputs": None,
            "targets": None,
            "record": {"multimeters": [], "spike_recorder": None, "weight_recorder": []},
            "sim_time_ms": None,
            "task": None,
        }
        self.arrays = {}
        self.checks = []  # names of extra checks (see CHECKS)

    def pop(self, name, model, n, params=None):
        self.spec["populations"].append({"name": name, "model": model, "n": int(n), "params": dict(params or {})})

    def group(self, name, members):
        self.spec["groups"][name] = list(members)

    def connect(self, name, pre, post, synapse_model, pre_idx, post_idx, weights, *, receptor_type=0, delay=1.0, params=None):
        pre_idx = np.asarray(pre_idx, dtype=np.int64)
        post_idx = np.asarray(post_idx, dtype=np.int64)
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), pre_idx.shape).copy()
        self.spec["connections"].append(
            {
                "name": name,
                "pre": pre,
                "post": post,
                "synapse_model": synapse_model,
                "receptor_type": int(receptor_type),
                "delay": float(delay),
                "params": dict(params or {}),
                "n": int(pre_idx.size),
            }
        )
        self.arrays[f"conn_{name}_pre"] = pre_idx
        self.arrays[f"conn_{name}_post"] = post_idx
        self.arrays[f"conn_{name}_weight"] = w

    def dense(self, name, pre, post, synapse_model, w_post_pre, *, autapses=True, **kw):
        """All-to-all from a [post, pre] matrix, listed pre-major (pre 0's targets first)."""
        w = np.asarray(w_post_pre, dtype=np.float64)
        n_post, n_pre = w.shape
        pre_idx, post_idx = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
        pre_idx, post_idx = pre_idx.ravel(), post_idx.ravel()
        if not autapses:
            keep = pre_idx != post_idx
            pre_idx, post_idx = pre_idx[keep], post_idx[keep]
        self.connect(name, pre, post, synapse_model, pre_idx, post_idx, w[post_idx, pre_idx], **kw)

    def one_to_one(self, name, pre, post, synapse_model, n, weight=1.0, **kw):
        idx = np.arange(n)
        self.connect(name, pre, post, synapse_model, idx, idx, weight, **kw)

    def inputs(self, generator, spike_times_per_neuron):
        neurons = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in enumerate(spike_times_per_neuron)])
        times = np.concatenate([np.asarray(t, dtype=np.float64) for t in spike_times_per_neuron])
        self.spec["inputs"] = {"generator": generator, "n": len(spike_times_per_neuron)}
        self.arrays["in_spike_neuron"] = neurons
        self.arrays["in_spike_time"] = times

    def targets(self, generator, times, values):
        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        if times.ndim == 1:
            times = np.broadcast_to(times, values.shape).copy()
        self.spec["targets"] = {"generator": generator, "receptor_type": 2, "n": int(values.shape[0])}
        self.arrays["target_amplitude_times"] = times
        self.arrays["target_amplitude_values"] = values

    def multimeter(self, name, population, neurons, record_from, stop=None):
        mm = {"name": name, "population": population, "neurons": [int(i) for i in neurons], "record_from": list(record_from), "interval": 1.0}
        if stop is not None:
            mm["stop"] = float(stop)  # samples with times <= stop only
        self.spec["record"]["multimeters"].append(mm)


def pop_sizes(spec):
    return {p["name"]: p["n"] for p in spec["populations"]}


def group_members(spec, name):
    return spec["groups"].get(name, [name])


def group_size(spec, name):
    sizes = pop_sizes(spec)
    return sum(sizes[m] for m in group_members(spec, name))


# ---------------------------------------------------------------------------------------------
# NEST runner
# ---------------------------------------------------------------------------------------------


def run_nest(case, quiet=True, flush_override=None):
    """Build ``case`` in NEST, simulate and return (results dict of arrays, effective kernel dict)."""
    import nest

    spec, arrays = case.spec, case.arrays
    if quiet:
        nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.set(print_time=False, total_num_virtual_procs=1, **spec["kernel_set"])
    ks = nest.GetKernelStatus()
    kernel = {
        "resolution": float(ks["resolution"]),
        "eprop_update_interval": float(ks["eprop_update_interval"]),
        "eprop_learning_window": float(ks["eprop_learning_window"]),
        "eprop_reset_neurons_on_update": bool(ks["eprop_reset_neurons_on_update"]),
    }

    pops = {}
    for p in spec["populations"]:
        params = dict(p["params"])
        if flush_override is not None and "flush_event_send_interval" in params:
            params["flush_event_send_interval"] = flush_override
        pops[p["name"]] = nest.Create(p["model"], p["n"], params) if params else nest.Create(p["model"], p["n"])

    def ids(group):
        out = []
        for m in group_members(spec, group):
            out.extend(pops[m].tolist())
        return np.asarray(out, dtype=np.int64)

    rec = spec["record"]
    mms = []
    for mm in rec["multimeters"]:
        params = {"interval": mm["interval"], "record_from": mm["record_from"]}
        if "stop" in mm:
            params["stop"] = mm["stop"]
        mms.append((mm, nest.Create("multimeter", params)))
    sr = None
    if rec["spike_recorder"]:
        sr = nest.Create("spike_recorder")
    wr = None
    wr_pairs = rec["weight_recorder"]
    conn_by_name = {c["name"]: c for c in spec["connections"]}
    if wr_pairs:
        senders, targets = set(), set()
        for item in wr_pairs:
            c = conn_by_name[item["connection"]]
            senders.add(int(ids(c["pre"])[item["pre"]]))
            targets.add(int(ids(c["post"])[item["post"]]))
        wr = nest.Create("weight_recorder", {"senders": nest.NodeCollection(sorted(senders)), "targets": nest.NodeCollection(sorted(targets))})

    defaults = dict(spec["synapse_defaults"])
    if wr is not None:
        defaults["weight_recorder"] = wr
    nest.SetDefaults(SYN, defaults)

    for c in spec["connections"]:
        name = c["name"]
        pre = ids(c["pre"])[arrays[f"conn_{name}_pre"]]
        post = ids(c["post"])[arrays[f"conn_{name}_post"]]
        syn = {
            "synapse_model": c["synapse_model"],
            "weight": np.ascontiguousarray(arrays[f"conn_{name}_weight"]),
            "delay": np.full(pre.size, c["delay"]),
        }
        if c["receptor_type"]:
            syn["receptor_type"] = c["receptor_type"]
        for key, value in c["params"].items():
            syn[key] = np.full(pre.size, float(value))
        nest.Connect(pre, post, "one_to_one", syn)

    for mm, dev in mms:
        nodes = pops[mm["population"]]
        nest.Connect(dev, nest.NodeCollection([nodes[i].global_id for i in sorted(mm["neurons"])]), "all_to_all")
    if sr is not None:
        nest.Connect(nest.NodeCollection(ids(rec["spike_recorder"]).tolist()), sr, "all_to_all")

    # Inputs and targets.
    inp = spec["inputs"]
    if inp:
        gens = pops[inp["generator"]]
        neuron, times = arrays["in_spike_neuron"], arrays["in_spike_time"]
        gens.set([{"spike_times": times[neuron == i]} for i in range(inp["n"])])
    tg = spec["targets"]
    if tg:
        gens = pops[tg["generator"]]
        at, av = arrays["target_amplitude_times"], arrays["target_amplitude_values"]
        gens.set([{"amplitude_times": at[k], "amplitude_values": av[k]} for k in range(tg["n"])])

    # NEST holds exactly the weights of the case (checked before simulating).
    eprop_conns = [c for c in spec["connections"] if c["synapse_model"] == SYN]
    for c in eprop_conns:
        w0 = _connection_weights(nest, c, ids, arrays)
        if not np.array_equal(w0, arrays[f"conn_{c['name']}_weight"]):
            raise RuntimeError(f"initial weights of {c['name']} differ in NEST")

    t0 = time.perf_counter()
    nest.Simulate(float(spec["sim_time_ms"]))
    wall = time.perf_counter() - t0

    res = {"simulate_wall_time": np.float64(wall), "sim_time_ms": np.float64(spec["sim_time_ms"])}
    for mm, dev in mms:
        ev = dev.get("events")
        nodes = pops[mm["population"]]
        senders = np.asarray(ev["senders"], dtype=np.int64)
        t_all = np.asarray(ev["times"], dtype=np.float64)
        times = None
        neurons = sorted(mm["neurons"])
        cols = {r: [] for r in mm["record_from"]}
        for i in neurons:
            m = senders == nodes[i].global_id
            if times is None:
                times = t_all[m]
            elif not np.array_equal(times, t_all[m]):
                raise RuntimeError("multimeter times differ between senders")
            for r in mm["record_from"]:
                cols[r].append(np.asarray(ev[r], dtype=np.float64)[m])
        res[f"{mm['name']}_neurons"] = np.asarray(neurons, dtype=np.int64)
        res[f"{mm['name']}_times"] = times
        for r, v in cols.items():
            res[f"{mm['name']}_{r}"] = np.stack(v, axis=1)
    spike_times = spike_senders = None
    if sr is not None:
        ev = sr.get("events")
        gid = ids(rec["spike_recorder"])
        lookup = {int(g): k for k, g in enumerate(gid)}
        spike_times = np.asarray(ev["times"], dtype=np.float64)
        spike_senders = np.asarray([lookup[int(s)] for s in ev["senders"]], dtype=np.int64)
        order = np.lexsort((spike_senders, spike_times))
        res["spike_times"] = spike_times[order]
        res["spike_senders"] = spike_senders[order]
    if wr is not None:
        ev = wr.get("events")
        s = np.asarray(ev["senders"], dtype=np.int64)
        t = np.asarray(ev["targets"], dtype=np.int64)
        wt = np.asarray(ev["times"], dtype=np.float64)
        ww = np.asarray(ev["weights"], dtype=np.float64)
        keep = np.zeros(s.shape, dtype=bool)
        code = np.full(s.shape, -1, dtype=np.int64)
        spurious = 0
        rec_group = rec["spike_recorder"]
        rec_ids = set(ids(rec_group).tolist()) if rec_group else set()
        for k, item in enumerate(wr_pairs):
            c = conn_by_name[item["connection"]]
            sg, tgid = int(ids(c["pre"])[item["pre"]]), int(ids(c["post"])[item["post"]])
            m = (s == sg) & (t == tgid)
            if sg in rec_ids:
                # Entries emitted for flush events (NEST quirk, see README) carry no spike time
                # of their sender; genuine entries carry the spike's stamp.
                sender_idx = int(np.nonzero(ids(rec_group) == sg)[0][0])
                genuine = np.isin(wt, spike_times[spike_senders == sender_idx])
                spurious += int(np.count_nonzero(m & ~genuine))
                m &= genuine
            keep |= m
            code[m] = k
        res["wr_pair"] = code[keep]
        res["wr_times"] = wt[keep]
        res["wr_weights"] = ww[keep]
        res["wr_dropped_flush_entries"] = np.int64(spurious)
    for c in eprop_conns:
        res[f"conn_{c['name']}_weight_final"] = _connection_weights(nest, c, ids, arrays)
    return res, kernel


def _connection_weights(nest, c, ids, arrays):
    """Current weights of connection group ``c`` in the order of its pre/post arrays."""
    pre_ids, post_ids = ids(c["pre"]), ids(c["post"])
    got = nest.GetConnections(
        nest.NodeCollection(sorted(set(pre_ids.tolist()))),
        nest.NodeCollection(sorted(set(post_ids.tolist()))),
        synapse_model=c["synapse_model"],
    ).get(["source", "target", "weight"])
    table = {(int(a), int(b)): float(w) for a, b, w in zip(got["source"], got["target"], got["weight"])}
    pre = pre_ids[arrays[f"conn_{c['name']}_pre"]]
    post = post_ids[arrays[f"conn_{c['name']}_post"]]
    return np.array([table[(int(a), int(b))] for a, b in zip(pre, post)], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Losses as NEST's test computes them
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Case builders
# ---------------------------------------------------------------------------------------------


def test_rec_params(model=REC_IAF, **over):
    """Recurrent parameters of the test's regression case (spec 10.7)."""
    p = {
        "C_m": 1.0,
        "c_reg": 300.0,
        "E_L": 0.0,
        "f_target": 10.0,
        "flush_event_send_interval": 1000.0,
        "I_e": 0.0,
        "regular_spike_arrival": False,
        "surrogate_gradient_function": "piecewise_linear",
        "surrogate_gradient_height": 0.3 / 0.03,
        "surrogate_gradient_width": 1.0 * 0.03,
        "t_ref": 0.0,
        "tau_m": 30.0,
        "V_m": 0.0,
        "V_th": 0.03,
    }
    p.update(over)
    return p


def test_out_params(**over):
    p = {"C_m": 1.0, "E_L": 0.0, "I_e": 0.0, "loss": "mean_squared_error", "regular_spike_arrival": False, "tau_m": 30.0, "V_m": 0.0}
    p.update(over)
    return p


def superimposed_sines(rs, steps, periods=(1000, 500, 333, 200)):
    """The test's target: sum of sines with uniform amplitudes and phases, starting at 0, max |.| = 1."""
    n = len(periods)
    amplitudes = rs.uniform(low=0.5, high=2.0, size=n)
    phases = rs.uniform(low=0.0, high=2.0 * np.pi, size=n)
    total = 0.0
    for a, phi, period in zip(amplitudes, phases, periods):
        total = total + a * np.sin(np.linspace(phi, phi + 2.0 * np.pi * (steps // period), steps))
    total = total - total[0]
    return total / max(np.abs(total).max(), 1e-6)


def _std_network(case, n_in, rec_pops, n_out, out_params, w_in, w_rec, w_out, b, *, tau_m_readout, target_first=False, ce=False):
    """Populations and connections in the order of NEST's tests; ``rec_pops`` = [(name, model, n, params)]."""
    case.pop("gen_in", "spike_generator", n_in)
    case.pop("in", "parrot_neuron", n_in)
    if target_first:
        case.pop("gen_target", "step_rate_generator", n_out)
    for name, model, n, params in rec_pops:
        case.pop(name, model, n, params)
    case.pop("out", READOUT, n_out, out_params)
    if not target_first:
        case.pop("gen_target", "step_rate_generator", n_out)
    case.group("rec", [p[0] for p in rec_pops])
    syn = {"tau_m_readout": float(tau_m_readout)}
    case.one_to_one("gen_in_in", "gen_in", "in", "static_synapse", n_in)
    case.dense("in_rec", "in", "rec", SYN, w_in, params=syn)
    case.dense("rec_rec", "rec", "rec", SYN, w_rec, autapses=False, params=syn)
    case.dense("rec_out", "rec", "out", SYN, w_out, params=syn)
    case.dense("out_rec", "out", "rec", LS_CONN, b)
    case.one_to_one("gen_target_out", "gen_target", "out", RATE_CONN, n_out, 1.0, receptor_type=2)
    if ce:
        case.dense("out_out", "out", "out", RATE_CONN, np.ones((n_out, n_out)), autapses=False, receptor_type=1)
    case.spec["record"]["spike_recorder"] = "rec"


def _default_wr(case, n_in, n_rec, n_out):
    pairs = [("in_rec", 0, 0), ("in_rec", min(5, n_in - 1), 1), ("rec_rec", 1, 0), ("rec_rec", 0, 1), ("rec_out", 0, 0)]
    if n_out > 1:
        pairs.append(("rec_out", 1, 1))
    case.spec["record"]["weight_recorder"] = [{"connection": c, "pre": a, "post": b} for c, a, b in pairs]


def build_regression(
    name,
    description,
    *,
    seed=1,
    n_in=100,
    n_rec=100,
    n_out=1,
    steps=1000,
    n_iter=5,
    batch_size=1,
    learning_window=None,
    reset=True,
    model=REC_IAF,
    rec_over=None,
    out_over=None,
    optimizer=None,
    average_gradient=False,
    zero_first_step=True,
    input_prob=0.05,
    record_rec=(0, 1),
):
    """The test's regression task (draw order of test_eprop_regression, spec 10.7)."""
    rs = np.random.RandomState(seed)
    f32 = np.float32
    w_in = np.array(rs.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=f32).astype(np.float64)
    w_rec = np.array(rs.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=f32)
    np.fill_diagonal(w_rec, 0.0)
    w_rec = w_rec.astype(np.float64)
    w_out = np.array(rs.randn(n_rec, n_out).T / np.sqrt(n_rec), dtype=f32).astype(np.float64)
    b = np.array(rs.randn(n_rec, n_out) / np.sqrt(n_rec), dtype=f32).astype(np.float64)
    bools = (rs.rand(steps, n_in) < input_prob).swapaxes(0, 1)
    if zero_first_step:
        bools[:, 0] = 0
    n_seq = n_iter * batch_size
    task_steps = n_seq * steps
    starts = np.arange(0.0, float(task_steps), float(steps)) + 1.0
    spikes = [np.hstack([np.arange(0.0, float(steps))[bools[i]] + s for s in starts]).astype(np.float32).astype(np.float64) for i in range(n_in)]
    target = superimposed_sines(rs, steps)

    window = steps if learning_window is None else learning_window
    case = Case(name, description, {"resolution": 1.0, "eprop_update_interval": float(steps), "eprop_learning_window": float(window), "eprop_reset_neurons_on_update": reset})
    rp = test_rec_params(flush_event_send_interval=float(steps), **(rec_over or {}))
    op = test_out_params(**(out_over or {}))
    opt = {"type": "gradient_descent", "batch_size": batch_size, "eta": 1e-4, "Wmin": -100.0, "Wmax": 100.0}
    opt.update(optimizer or {})
    case.spec["synapse_defaults"] = {"optimizer": opt, "average_gradient": average_gradient}
    if not opt["Wmin"] <= 1.0 <= opt["Wmax"]:
        case.spec["synapse_defaults"]["weight"] = 0.0  # the default weight 1 must lie in [Wmin, Wmax]
        # NEST refuses connections with weights outside [Wmin, Wmax]: clip the draws
        w_in, w_rec, w_out = (np.clip(w, opt["Wmin"], opt["Wmax"]) for w in (w_in, w_rec, w_out))
        case.spec["weights_clipped_to"] = [opt["Wmin"], opt["Wmax"]]
    _std_network(case, n_in, [("rec", model, n_rec, rp)], n_out, op, w_in, w_rec, w_out, b, tau_m_readout=op["tau_m"])
    case.inputs("gen_in", spikes)
    case.targets("gen_target", np.arange(float(task_steps)) + TOTAL_OFFSET, np.tile(np.tile(target, n_seq), (n_out, 1)))
    case.spec["sim_time_ms"] = float(task_steps + TOTAL_OFFSET + 1)
    case.spec["task"] = {
        "kind": "regression",
        "n_iter": n_iter,
        "batch_size": batch_size,
        "steps_per_sequence": steps,
        "learning_window_steps": int(window),
        "total_offset": TOTAL_OFFSET,
        "draws": f"np.random.seed({seed}) legacy stream, order of test_eprop_regression: W_in, W_rec, W_out, B "
        "(float32), input mask rand(steps, n_in) < p (one sequence repeated every iteration"
        + (", step 0 zeroed" if zero_first_step else ", step 0 kept")
        + "), target amplitudes and phases",
    }
    recs = REC_RECORDABLES + (ADAPT_RECORDABLES if model == REC_ADAPT else [])
    case.multimeter("rec", "rec", [i for i in record_rec if i < n_rec], recs)
    case.multimeter("out", "out", range(n_out), OUT_RECORDABLES)
    _default_wr(case, n_in, n_rec, n_out)
    return case


def classification_rec_params(adapt, **over):
    p = {
        "C_m": 1.0,
        "c_reg": 300.0,
        "E_L": 0.0,
        "f_target": 10.0,
        "flush_event_send_interval": 2250.0,
        "I_e": 0.0,
        "regular_spike_arrival": True,
        "surrogate_gradient_function": "piecewise_linear",
        "surrogate_gradient_height": 0.3 / 0.6,
        "surrogate_gradient_width": 1.0 * 0.6,
        "t_ref": 5.0,
        "tau_m": 20.0,
        "V_m": 0.0,
        "V_th": 0.6,
    }
    if adapt:
        p["adapt_tau"] = 2000.0
        p["adaptation"] = 0.0
        p["adapt_beta"] = 1.7 * ((1.0 - np.exp(-1.0 / 2000.0)) / (1.0 - np.exp(-1.0 / 20.0)))
    p.update(over)
    return p


def build_classification(name, description, batch_size, n_iter=5):
    """The test's evidence-accumulation case (test_eprop_classification, spec 10.7)."""
    weights, batches = evidence.example_inputs(n_iter, batch_size, seed=1, n_rec=100)
    steps = batches[0].steps_per_sequence
    window = batches[0].steps_recall
    n_in, n_out = 40, 2
    case = Case(name, description, {"resolution": 1.0, "eprop_update_interval": float(steps), "eprop_learning_window": float(window), "eprop_reset_neurons_on_update": True})
    case.spec["synapse_defaults"] = {
        "optimizer": {"type": "adam", "batch_size": batch_size, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "eta": 5e-3, "Wmin": -100.0, "Wmax": 100.0},
        "average_gradient": True,
    }
    op = test_out_params(loss="cross_entropy", tau_m=20.0)
    _std_network(
        case,
        n_in,
        [("reg", REC_IAF, 50, classification_rec_params(False)), ("ad", REC_ADAPT, 50, classification_rec_params(True))],
        n_out,
        op,
        weights["in_rec"],
        weights["rec_rec"],
        weights["rec_out"],
        weights["out_rec"],
        tau_m_readout=20.0,
        ce=True,
    )
    spikes = [np.concatenate([bt.spike_times[i] for bt in batches]) for i in range(n_in)]
    case.inputs("gen_in", spikes)
    case.targets("gen_target", np.concatenate([bt.target_times for bt in batches]), np.concatenate([bt.target_values for bt in batches], axis=1))
    task_steps = n_iter * batch_size * steps
    case.spec["sim_time_ms"] = float(task_steps + TOTAL_OFFSET + 1)
    case.spec["task"] = {
        "kind": "classification",
        "n_iter": n_iter,
        "batch_size": batch_size,
        "steps_per_sequence": steps,
        "learning_window_steps": window,
        "total_offset": TOTAL_OFFSET,
        "labels": [int(l) for bt in batches for l in bt.labels],
        "draws": "python/eprop/evidence_accumulation.py example_inputs(n_iter, batch_size, seed=1): np.random.seed(1), "
        "weights (W_in, W_rec, Glorot W_out, B), then one batch per iteration, as test_eprop_classification",
        "not_replicated": "the test also sets the Adam moments m = v = 0 on two rec->rec connections "
        "(their initial values; no effect)",
    }
    stop = 2 * steps + TOTAL_OFFSET + 1.0  # first two sequences only (size)
    case.multimeter("reg", "reg", [0], REC_RECORDABLES, stop=stop)
    case.multimeter("ad", "ad", [0], REC_RECORDABLES + ADAPT_RECORDABLES, stop=stop)
    case.multimeter("out", "out", range(n_out), OUT_RECORDABLES)
    _default_wr(case, n_in, 100, n_out)
    return case


def build_history(name, description, model):
    """The test's history-cleaning case (update interval 20 ms, default neuron parameters)."""
    case = Case(name, description, {"resolution": 1.0, "eprop_update_interval": 20.0})
    case.pop("gen_in", "spike_generator", 3)
    case.pop("in", "parrot_neuron", 3)
    case.pop("rec", model, 1)
    case.one_to_one("gen_in_in", "gen_in", "in", "static_synapse", 3)
    case.dense("in_rec", "in", "rec", SYN, np.ones((1, 3)))
    case.inputs("gen_in", [[10.0, 20.0, 50.0, 60.0], [10.0, 30.0, 50.0, 90.0], [40.0, 60.0]])
    case.spec["sim_time_ms"] = 110.0
    case.spec["task"] = {"kind": "none"}
    if model == READOUT:
        recs = OUT_RECORDABLES
    else:
        recs = REC_RECORDABLES
    case.multimeter("rec", "rec", [0], recs)
    case.spec["record"]["weight_recorder"] = [{"connection": "in_rec", "pre": i, "post": 0} for i in range(3)]
    case.checks.append("history_reference")
    return case


def build_random(
    name,
    description,
    seed,
    *,
    n_in=20,
    n_reg=30,
    n_ad=0,
    n_out=2,
    steps=150,
    n_iter=4,
    batch_size=1,
    learning_window=None,
    reset=True,
    loss="mean_squared_error",
    optimizer=None,
    average_gradient=False,
    rec_over=None,
    ad_over=None,
    out_over=None,
    input_prob=0.06,
    w_in_scale=1.5,
    w_rec_scale=1.0,
    w_out_scale=1.0,
    tau_m_readout=None,
    target_first=False,
    record_rec=(0, 1, 2),
    check_flush_neutral=False,
    check_flush_not_neutral=False,
    duplicate_spikes=0,
):
    """A small network with its own draws (``np.random.default_rng(seed)``); a new random input
    pattern for every sequence; input spikes at sequence step 0 are kept (NEST drops them)."""
    rng = np.random.default_rng(seed)
    n_rec = n_reg + n_ad
    n_seq = n_iter * batch_size
    task_steps = n_seq * steps
    ce = loss == "cross_entropy"
    w_in = rng.standard_normal((n_rec, n_in)) / np.sqrt(n_in) * w_in_scale
    w_rec = rng.standard_normal((n_rec, n_rec)) / np.sqrt(n_rec) * w_rec_scale
    np.fill_diagonal(w_rec, 0.0)
    w_out = rng.standard_normal((n_out, n_rec)) / np.sqrt(n_rec) * w_out_scale
    b = rng.standard_normal((n_rec, n_out)) / np.sqrt(n_rec)
    # float32 values, as NEST's scripts use
    w_in, w_rec, w_out, b = (np.asarray(x, dtype=np.float32).astype(np.float64) for x in (w_in, w_rec, w_out, b))

    if ce:
        labels = rng.integers(0, n_out, n_seq)
        # half of the inputs fire more for "their" class so that the task is learnable
        prob = np.full((n_seq, steps, n_in), input_prob)
        per = max(1, (n_in // 2) // n_out)
        for s, lab in enumerate(labels):
            prob[s, :, lab * per : (lab + 1) * per] *= 2.5
        bools = rng.random((n_seq, steps, n_in)) < prob
        values = np.zeros((n_out, n_seq))
        values[labels, np.arange(n_seq)] = 1.0
        t_times = np.arange(n_seq) * float(steps) + TOTAL_OFFSET
    else:
        labels = None
        bools = rng.random((n_seq, steps, n_in)) < input_prob
        values = np.zeros((n_out, task_steps))
        for k in range(n_out):
            for s in range(n_seq):
                amp = rng.uniform(0.5, 1.5, 3)
                phase = rng.uniform(0, 2 * np.pi, 3)
                x = np.arange(steps) / steps
                sig = sum(a * np.sin(2 * np.pi * (j + 1) * x + p) for j, (a, p) in enumerate(zip(amp, phase)))
                values[k, s * steps : (s + 1) * steps] = 0.5 * sig / np.abs(sig).max()
        t_times = np.arange(float(task_steps)) + TOTAL_OFFSET
    flat = bools.reshape(task_steps, n_in)
    grid = np.arange(float(task_steps)) + 1.0
    spikes = [grid[flat[:, i]] for i in range(n_in)]
    if duplicate_spikes:
        # input neuron 0 gets its first spike times twice: the parrot relays them as one
        # event of multiplicity 2
        dup = spikes[0][:duplicate_spikes]
        spikes[0] = np.sort(np.concatenate([spikes[0], dup]))

    window = steps if learning_window is None else learning_window
    case = Case(name, description, {"resolution": 1.0, "eprop_update_interval": float(steps), "eprop_learning_window": float(window), "eprop_reset_neurons_on_update": reset})
    opt = {"type": "gradient_descent", "batch_size": batch_size, "eta": 1e-3, "Wmin": -100.0, "Wmax": 100.0}
    opt.update(optimizer or {})
    case.spec["synapse_defaults"] = {"optimizer": opt, "average_gradient": average_gradient}
    rp = test_rec_params(flush_event_send_interval=float(steps), c_reg=5.0)
    rp.update(rec_over or {})
    pops = [("reg", REC_IAF, n_reg, rp)]
    if n_ad:
        ap = dict(rp, adapt_tau=300.0, adapt_beta=0.01, adaptation=0.0)
        ap.update(ad_over or {})
        pops.append(("ad", REC_ADAPT, n_ad, ap))
    op = test_out_params(loss=loss, tau_m=20.0 if ce else 30.0)
    op.update(out_over or {})
    _std_network(case, n_in, pops, n_out, op, w_in, w_rec, w_out, b, tau_m_readout=tau_m_readout or op["tau_m"], target_first=target_first, ce=ce)
    case.inputs("gen_in", spikes)
    case.targets("gen_target", t_times, values)
    case.spec["sim_time_ms"] = float(task_steps + TOTAL_OFFSET + 1)
    case.spec["task"] = {
        "kind": "classification" if ce else "regression",
        "n_iter": n_iter,
        "batch_size": batch_size,
        "steps_per_sequence": steps,
        "learning_window_steps": int(window),
        "total_offset": TOTAL_OFFSET,
        "draws": f"numpy.random.default_rng({seed}) (tools/nest_bsshslm.py build_random); informative only",
    }
    if labels is not None:
        case.spec["task"]["labels"] = [int(x) for x in labels]
    case.multimeter("reg", "reg", [i for i in record_rec if i < n_reg], REC_RECORDABLES)
    if n_ad:
        case.multimeter("ad", "ad", [0, 1], REC_RECORDABLES + ADAPT_RECORDABLES)
    case.multimeter("out", "out", range(n_out), OUT_RECORDABLES)
    _default_wr(case, n_in, n_rec, n_out)
    if check_flush_neutral:
        case.checks.append("flush_neutral")
    if check_flush_not_neutral:
        case.checks.append("flush_not_neutral")
    return case


def _cases():
    c = {}

    def add(case):
        c[case.name] = case

    add(build_regression("regression_reference", "test_eprop_regression as in NEST's test: 100 in, 100 eprop_iaf_bsshslm_2020, 1 MSE readout, 5 iterations x 1000 steps, GD eta 1e-4, c_reg 300, regular_spike_arrival False, reset on, window = interval = 1000. Published NEST losses asserted (rtol 1e-8)."))
    c["regression_reference"].checks.append("regression_reference")
    add(build_classification("classification_batch1", "test_eprop_classification, batch_size 1: evidence accumulation, 40 in, 50 eprop_iaf + 50 eprop_iaf_adapt bsshslm, 2 cross-entropy readouts, Adam eta 5e-3 eps 1e-8, average_gradient True, interval 2250, window 150, 5 iterations. References asserted.", 1))
    c["classification_batch1"].checks.append("classification_reference")
    add(build_classification("classification_batch2", "As classification_batch1 with batch_size 2 (10 sequences; Adam updates every 2 intervals). References asserted.", 2))
    c["classification_batch2"].checks.append("classification_reference")
    add(build_history("history_cleaning_rec", "test_eprop_history_cleaning, eprop_iaf_bsshslm_2020 (default parameters, weight 1, interval 20 ms, learning window default 1000 ms > interval, accepted). Reference eprop_history_duration asserted.", REC_IAF))
    add(build_history("history_cleaning_readout", "test_eprop_history_cleaning, eprop_readout_bsshslm_2020 as target of the three parrots. Reference asserted.", READOUT))

    add(build_regression(
        "regression_adapt",
        "The test's regression network with eprop_iaf_adapt_bsshslm_2020 (adapt_tau 500, adapt_beta 0.005), 3 iterations x 1000 steps.",
        model=REC_ADAPT, n_iter=3, rec_over={"adapt_tau": 500.0, "adapt_beta": 0.005, "adaptation": 0.0},
    ))
    add(build_regression(
        "regression_adam",
        "Regression (test draws, 60 in / 50 rec / 2 out, 4 x 500 steps) with Adam batch 1, eta 1e-3, beta_1 0.8, beta_2 0.99, epsilon 1e-6, Wmin -0.5, Wmax 0.5 (clipping active).",
        n_in=60, n_rec=50, n_out=2, steps=500, n_iter=4,
        optimizer={"type": "adam", "eta": 1e-3, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6, "Wmin": -0.5, "Wmax": 0.5},
    ))
    add(build_regression(
        "regression_first_step_kept",
        "Regression (test draws, 50 in / 40 rec / 1 out, 4 x 300 steps, input probability 0.08) keeping the input spikes at sequence step 0: they arrive at the first step of each update interval and are dropped by NEST (spec 10.3 step 2).",
        n_in=50, n_rec=40, steps=300, n_iter=4, zero_first_step=False, input_prob=0.08,
    ))
    add(build_random("rsa_true", "regular_spike_arrival True on recurrent (reg + adaptive) and readout neurons (P_z = 1 instead of 1 - exp(-dt/tau_m)), all weights scaled by 0.03 to keep rates moderate; MSE, GD eta 1e-5, 4 x 150 steps.", 11,
                     n_ad=10, n_reg=20, rec_over={"regular_spike_arrival": True}, ad_over={"regular_spike_arrival": True}, out_over={"regular_spike_arrival": True},
                     w_in_scale=0.03, w_rec_scale=0.03, w_out_scale=0.03, optimizer={"eta": 1e-5}))
    add(build_random("reset_off", "eprop_reset_neurons_on_update False: no reset at interval starts (recurrent spikes can then occur in the first step of an interval; they reach the readout synapse exactly at its interval boundary). MSE, GD eta 1e-3, 5 x 120 steps.", 12,
                     reset=False, steps=120, n_iter=5, w_in_scale=3.0))
    add(build_random("window_short", "Learning window 60 ms shorter than the update interval 200 ms (readout signals masked in the first 140 steps of each interval), MSE, 2 readouts, GD, 4 x 200 steps.", 13,
                     steps=200, learning_window=60))
    add(build_random("gd_batch2", "Gradient descent with batch_size 2 (weights change every second interval, gradient sum / 2), MSE, 3 iterations x 2 sequences x 150 steps.", 14,
                     batch_size=2, n_iter=3))
    add(build_random("flush", "Flush events: weak input so that recurrent neurons fall silent for a whole interval; flush_event_send_interval = 100 ms = update interval (the minimum). MSE, Adam, 8 x 100 steps. The script asserts that the same network with no flush (interval infinite) gives identical losses and weights.", 15,
                     steps=100, n_iter=8, input_prob=0.03, w_in_scale=1.5, w_rec_scale=0.5, optimizer={"type": "adam", "eta": 2e-3},
                     rec_over={"flush_event_send_interval": 100.0, "c_reg": 1.0}, check_flush_neutral=True))
    add(build_random("surrogate_exponential", "surrogate_gradient_function exponential (height 5, width 0.02), MSE, GD, 4 x 150 steps.", 16,
                     rec_over={"surrogate_gradient_function": "exponential", "surrogate_gradient_height": 5.0, "surrogate_gradient_width": 0.02}))
    add(build_random("surrogate_fast_sigmoid", "surrogate_gradient_function fast_sigmoid_derivative (height 3, width 0.01) on regular and adaptive neurons, MSE, GD, 4 x 150 steps.", 17,
                     n_reg=20, n_ad=10, rec_over={"surrogate_gradient_function": "fast_sigmoid_derivative", "surrogate_gradient_height": 3.0, "surrogate_gradient_width": 0.01}))
    add(build_random("surrogate_arctan", "surrogate_gradient_function arctan_derivative (height 2, width 0.05), MSE, Adam, 4 x 150 steps.", 18,
                     rec_over={"surrogate_gradient_function": "arctan_derivative", "surrogate_gradient_height": 2.0, "surrogate_gradient_width": 0.05},
                     optimizer={"type": "adam", "eta": 5e-3}))
    add(build_random("tref_vmin", "t_ref 3 ms on recurrent neurons, finite V_min (-0.02 mV recurrent, -0.3 mV readout) with strongly negative input so the clamp acts, MSE, GD, 4 x 150 steps.", 19,
                     rec_over={"t_ref": 3.0, "V_min": -0.02}, out_over={"V_min": -0.3}, w_in_scale=4.0))
    add(build_random("creg_avg", "c_reg 50 with f_target 25 Hz and average_gradient True (gradient / learning window), MSE, GD eta 5e-2, window 100 < interval 150, 4 x 150 steps.", 20,
                     rec_over={"c_reg": 50.0, "f_target": 25.0}, average_gradient=True, learning_window=100, optimizer={"eta": 5e-2}))
    add(build_random("ce_3out", "Cross-entropy with 3 readouts (softmax over 3, readout-readout rate connections on receptor 1), 20 regular + 10 adaptive neurons, Adam, window 50 of interval 120, average_gradient True, 6 x 120 steps.", 21,
                     n_reg=20, n_ad=10, n_out=3, steps=120, n_iter=6, learning_window=50, loss="cross_entropy", optimizer={"type": "adam", "eta": 1e-2}, average_gradient=True))
    add(build_random("target_generator_first", "The target step_rate_generators are created before the readouts (all other cases create them after): the target value with amplitude time T is then used one step earlier (spec 5.4). MSE, GD, 3 x 150 steps.", 22,
                     target_first=True, n_iter=3))
    add(build_random("flush_reset_off", "Flush events that are not neutral: reset off, flush_event_send_interval = update interval = 60 ms, 10 x 60 steps, GD. A neuron that spikes in the first step of an interval and then stays silent sends a flush with stamp E + 1 (E = end of the next interval), which computes that interval's gradient before the learning signal of entry E - 1 arrives; without the flush a later spike computes it completely. The fixture also holds the final weights of the same network without flush events (noflush_conn_<name>_weight_final, noflush_losses); the script asserts they differ.", 45,
                     reset=False, steps=60, n_iter=10, w_in_scale=2.0, input_prob=0.04, rec_over={"flush_event_send_interval": 60.0}, check_flush_not_neutral=True))
    add(build_random("random_seed1", "Random network 20 in / 30 rec / 2 MSE readouts, GD eta 1e-3, c_reg 5, 5 x 100 steps; input neuron 0 has its first 4 spike times listed twice (one parrot event of multiplicity 2: PSP 2w, gradient z = 1).", 101, steps=100, n_iter=5, duplicate_spikes=4))
    add(build_random("random_seed2", "Random network 20 in / 20 rec + 10 adaptive / 2 cross-entropy readouts, Adam, average_gradient, t_ref 2, window = interval = 150, 4 x 150 steps.", 102,
                     n_reg=20, n_ad=10, loss="cross_entropy", optimizer={"type": "adam", "eta": 5e-3}, average_gradient=True, rec_over={"t_ref": 2.0}))
    add(build_random("random_seed3", "Random network with E_L = -65 mV on recurrent neurons (V_th -64.97, V_m -65, V_min -65.5), I_e 0.0005 pA, C_m 2, tau_m_readout 25 ms != readout tau_m 30 ms, 2 MSE readouts, GD, 3 x 200 steps.", 103,
                     steps=200, n_iter=3, tau_m_readout=25.0,
                     rec_over={"E_L": -65.0, "V_th": -64.97, "V_m": -65.0, "V_min": -65.5, "I_e": 0.0005, "C_m": 2.0}))
    return c


CASES = _cases()


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def check_case(case, res, kernel):
    """List of (ok, message)."""
    out = []
    for chk in case.checks:
        if chk == "regression_reference":
            rel = np.max(np.abs(res["losses"] - REF_REGRESSION) / np.abs(REF_REGRESSION))
            out.append((bool(np.allclose(res["losses"], REF_REGRESSION, rtol=REF_RTOL, atol=0.0)), f"published NEST losses reproduced: max rel. diff {rel:.2e} (rtol {REF_RTOL:g})"))
        elif chk == "classification_reference":
            ref = REF_CLASSIFICATION[case.spec["task"]["batch_size"]]
            rel = np.max(np.abs(res["losses"] - ref) / np.abs(ref))
            out.append((bool(np.allclose(res["losses"], ref, rtol=REF_RTOL, atol=0.0)), f"published NEST losses reproduced: max rel. diff {rel:.2e} (rtol {REF_RTOL:g})"))
        elif chk == "history_reference":
            model = case.spec["populations"][2]["model"]
            ref = np.hstack([np.arange(a, b, dtype=np.float64) for a, b in REF_HISTORY[model]])
            got = res["rec_eprop_history_duration"][:, 0]
            ok = got.shape == ref.shape and bool(np.allclose(got, ref, rtol=1e-8))
            out.append((ok, f"eprop_history_duration equals the test's reference ({ref.size} samples)"))
        elif chk == "flush_neutral":
            res2, _ = run_nest(case, flush_override=INF)
            res2.update(task_metrics(case.spec["task"], res2["out_times"], res2["out_readout_signal"], res2["out_target_signal"]))
            dl = float(np.max(np.abs(res2["losses"] - res["losses"])))
            dw = max(float(np.max(np.abs(res2[k] - res[k]))) for k in res if k.endswith("_weight_final"))
            n_flush = int(res.get("wr_dropped_flush_entries", 0))
            ok = dl == 0.0 and dw == 0.0
            out.append((ok, f"same network without flush events: max |loss diff| {dl:.1e}, max |final weight diff| {dw:.1e}; "
                            f"{n_flush} weight_recorder entries of flush events dropped"))
        elif chk == "flush_not_neutral":
            res2, _ = run_nest(case, flush_override=INF)
            res2.update(task_metrics(case.spec["task"], res2["out_times"], res2["out_readout_signal"], res2["out_target_signal"]))
            dw = max(float(np.max(np.abs(res2[k] - res[k]))) for k in res if k.endswith("_weight_final"))
            for k in list(res2):
                if k.endswith("_weight_final") or k == "losses":
                    res["noflush_" + k] = res2[k]
            out.append((dw > 0.0, f"same network without flush events differs: max |final weight diff| {dw:.1e}"))
    return out


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def fixture_arrays(case, res, kernel, nest_version):
    spec = json.loads(json.dumps(case.spec, default=_json_default))
    spec["kernel"] = kernel
    spec["nest_version"] = nest_version
    spec["numpy_version"] = np.__version__
    spec["python_version"] = platform.python_version()
    spec["command"] = COMMAND
    spec["infinity_encoding"] = "infinite floats are written as the string 'inf'"
    arrays = dict(case.arrays)
    arrays.update({k: v for k, v in res.items() if k != "simulate_wall_time"})  # a measurement: not stored
    arrays["config"] = np.array(json.dumps(_encode_inf(spec), sort_keys=True, separators=(",", ":")))
    return arrays


def _unchanged(path, arrays):
    """True if ``path`` holds exactly ``arrays`` (zip files carry timestamps, so an unchanged
    fixture is not rewritten; regenerating leaves the committed files byte-identical)."""
    if not os.path.exists(path):
        return False
    with np.load(path) as z:
        if set(z.files) != set(arrays):
            return False
        for k in z.files:
            a, b = z[k], np.asarray(arrays[k])
            if a.shape != b.shape or a.dtype.kind != b.dtype.kind or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                return False
    return True


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(type(o))


def _encode_inf(v):
    if isinstance(v, float) and not np.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
    if isinstance(v, dict):
        return {k: _encode_inf(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_encode_inf(x) for x in v]
    return v


README_BEGIN = "<!-- bsshslm section: written by tools/nest_bsshslm.py -->"
README_END = "<!-- end of bsshslm section -->"


def _example_summary():
    path = os.path.join(OUT_DIR, "evidence_example_result.json")
    if not os.path.exists(path):
        return "(not generated yet)"
    with open(path) as f:
        r = json.load(f)
    rows = r["rows"]
    train = [x for x in rows if x["phase"] == "training"]
    test = [x for x in rows if x["phase"] == "test"]
    mods = ("; modified: " + ", ".join(r["modifications"])) if r["modifications"] else " (unmodified)"
    test_acc = ", ".join("%.3f" % x["accuracy"] for x in test)
    timings = r.get("timings") or [{"wall_time_total_s": r["wall_time_total_s"], "wall_time_simulate_s": r["wall_time_simulate_s"], "load_average_after": r["machine"]["load_average_after"]}]
    return (
        f"`{r['command']}`{mods}: {r['iterations_simulated']} iterations of {r['settings']['batch_size']} sequences "
        f"({len(train)} training, the rest validation/test with eta 0), early stop {r['early_stopped']}; "
        f"first training iteration loss {train[0]['loss']:.4f} accuracy {train[0]['accuracy']:.3f}, last "
        f"{train[-1]['loss']:.4f} / {train[-1]['accuracy']:.3f}; final test accuracy "
        f"{test_acc} (mean {r['final_test_accuracy_mean']:.3f}); wall time "
        f"{r['wall_time_total_s']:.0f} s, of which nest.Simulate {r['wall_time_simulate_s']:.0f} s "
        f"(fastest of {len(timings)} identical runs: "
        + ", ".join(f"{t['wall_time_total_s']:.0f} s / {t['wall_time_simulate_s']:.0f} s at load {t['load_average_after'][0]:.1f}" for t in timings)
        + f"), on {r['machine']['cpu_count']} cores shared with other jobs"
    )


def write_readme_section(rows, nest_version):
    from_doc = _README_SECTION.format(nest_version=nest_version, command=COMMAND, rows="\n".join(rows), example=_example_summary())
    text = open(README).read() if os.path.exists(README) else ""
    if README_BEGIN in text:
        head = text.split(README_BEGIN)[0]
        tail = text.split(README_END, 1)[1] if README_END in text else ""
    else:
        head, tail = text.rstrip("\n") + "\n\n", ""
    with open(README, "w") as f:
        f.write(head + README_BEGIN + "\n" + from_doc + README_END + (tail if tail.strip() else "\n"))


_README_SECTION = """
## bsshslm_2020 baseline fixtures (`bsshslm/`)

Time-driven e-prop baseline of NEST {nest_version}: `eprop_iaf_bsshslm_2020`,
`eprop_iaf_adapt_bsshslm_2020`, `eprop_readout_bsshslm_2020` (mean_squared_error and
cross_entropy), `eprop_synapse_bsshslm_2020`, `eprop_learning_signal_connection_bsshslm_2020`
and the kernel parameters `eprop_update_interval`, `eprop_learning_window`,
`eprop_reset_neurons_on_update` (spec section 10). Written by `{command}` (needs NEST;
about a minute; `--cases a,b` for a subset); `python/tests/bsshslm_fixtures.py` loads a file into
a plain dict (no NEST, no library). The exact semantics NEST implements, where they differ
from spec 10, are in `tools/bsshslm_semantics.md`; `tools/bsshslm_reference.py` is an
independent NumPy re-implementation that reproduces every file (see its `--check`).
Resolution 1 ms, 1 virtual process; NEST's RNG is never used. `np.savez_compressed`.

The evidence-accumulation example run (`tools/nest_evidence_example.py`) is stored here too:
`evidence_example_result.json` (NEST's example as shipped: per evaluated iteration the phase,
loss, error and accuracy, the wall time and the machine) and `evidence_example_inputs.npz`
(generator settings the example gave its spike and rate generators in its first iterations,
`iter<k>_spike_counts` (40,) int64 + `iter<k>_spike_times` (concatenated per neuron, ms),
`iter<k>_target_times` / `iter<k>_target_values` (2, 32), and its initial weights
`weights_in_rec` (100, 40), `weights_rec_rec` (100, 100), `weights_rec_out` (2, 100),
`weights_out_rec` (100, 2), [post, pre] except B = out_rec [rec, out]). Result of the
stored run: {example}.

Tests without NEST: `python/tests/test_bsshslm_reference.py` (published numbers, every fixture
rebuilt and simulated by the NumPy reference, bit-identical), `python/tests/test_evidence_accumulation.py`
(`eprop.evidence_accumulation` against the example's inputs and the classification fixtures).

### Network description in each case file

* `config` (0-d unicode string): JSON with
  * `kernel`: the effective kernel values (`resolution`, `eprop_update_interval`,
    `eprop_learning_window`, `eprop_reset_neurons_on_update`, read back from NEST after
    `kernel_set`, the dict that was passed to `nest.set`); ms;
  * `populations`: list in **creation order** (each a contiguous block of node ids): `name`,
    `model`, `n`, `params` (the dict given to `nest.Create`; NEST defaults for the rest).
    Standard names: `gen_in` (spike_generator), `in` (parrot_neuron), `reg` / `ad` / `rec`
    (recurrent), `out` (readouts), `gen_target` (step_rate_generator). The target generators
    are created after the readouts except in `target_generator_first` (spec 5.4: with the
    generator after the readout, the amplitude with time T is used by readout step T; created
    before, by step T - 1);
  * `groups`: name -> list of populations concatenated into one index space (`rec` =
    `["reg", "ad"]` in the classification cases); a population is also its own group;
  * `synapse_defaults`: the dict given to `SetDefaults("eprop_synapse_bsshslm_2020", ...)` before
    any connection: `optimizer` (`type`, `batch_size`, `eta`, `Wmin`, `Wmax`, Adam `beta_1`,
    `beta_2`, `epsilon`; other keys NEST defaults) and `average_gradient`;
  * `connections`: list in creation order, each `name`, `pre`, `post` (group names),
    `synapse_model`, `receptor_type` (0 = default; readouts: 1 = normalisation input from the
    other readouts, 2 = target), `delay` (ms), `params` (extra synapse parameters, i.e.
    `tau_m_readout` of eprop synapses), `n`. The endpoints and weights are the arrays
    `conn_<name>_pre`, `conn_<name>_post` (int64, 0-based within the group) and
    `conn_<name>_weight` (float64), connected one-to-one in that order. Names: `gen_in_in`
    (static), `in_rec`, `rec_rec` (no autapses), `rec_out` (eprop synapses), `out_rec`
    (learning-signal connection, weight B), `gen_target_out` (rate_connection_delayed,
    receptor 2), `out_out` (rate_connection_delayed, receptor 1, weight 1, cross-entropy only);
  * `inputs`: `generator` (population of spike generators, relayed by the parrots); the spike
    times are `in_spike_neuron` (int64) / `in_spike_time` (ms), one entry per spike;
  * `targets`: `generator`, `receptor_type`; `target_amplitude_times` / `target_amplitude_values`
    (n_out, K) are the `amplitude_times` / `amplitude_values` of generator k;
  * `sim_time_ms`: one `Simulate` call of this duration (task + total_offset 4 + 1 ms);
  * `task`: `kind` (regression / classification / none), `n_iter`, `batch_size`,
    `steps_per_sequence`, `learning_window_steps`, `total_offset` (4), `labels`
    (classification), `draws` (how the random numbers were made; informative);
  * `record`: `multimeters` (`name`, `population`, `neurons`, `record_from`, interval 1 ms, whole
    run unless a `stop` (ms) is given: the classification cases record their recurrent neurons
    for the first two sequences only), `spike_recorder` (group), `weight_recorder` (list of
    `connection`, `pre`, `post`);
  * provenance: `case`, `description`, `nest_version`, `numpy_version`, `python_version`,
    `command`; infinities as the string "inf".

### Outputs in each case file (float64 unless noted)

* `losses` (n_iter,): computed as NEST's test does from the readout samples with times
  total_offset + 1 ... total_offset + task (readout steps 4 ... task + 3), reshaped
  (n_out, n_iter, batch, steps). Regression: 0.5 * mean over readouts and sequences of the sum
  over steps of (readout_signal - target_signal)^2. Classification: the last
  learning_window steps of each sequence, -mean over sequences and steps of
  sum_k target_signal_k * log(readout_signal_k). `accuracy` (n_iter,) for classification:
  fraction of sequences whose argmax over readouts of the window mean of readout_signal equals
  that of target_signal (as NEST's example).
* `<mm>_neurons` (R,) int64, `<mm>_times` (S,), `<mm>_<recordable>` (S, R) for each multimeter
  (`rec` or `reg` / `ad`, and `out`): samples at times 1 ... sim_time - 1 (the sample of update
  step t has time t + 1; the last step's sample is never returned). Recurrent: `V_m`,
  `surrogate_gradient`, `learning_signal`, `eprop_history_duration` (+ `V_th_adapt`,
  `adaptation`); readout: `V_m`, `readout_signal`, `readout_signal_unnorm`, `target_signal`,
  `error_signal`, `eprop_history_duration`.
* `spike_times`, `spike_senders` (int64, 0-based in group `rec`): every recurrent spike
  (time = emission step + 1), sorted by time then sender.
* `wr_pair` (int64, index into `record.weight_recorder`), `wr_times`, `wr_weights`:
  weight_recorder entries of the chosen synapses in recording order; time = stamp of the
  transmitted spike (emission step + 1), weight = the weight it carried (after that event's
  update); an event of multiplicity m gives m entries. Spikes dropped at an interval start
  produce no entry. `wr_dropped_flush_entries` (int64): entries for flush events, which the new
  synapse emits (see above) and would be removed here; 0 in every bsshslm case.
* `conn_<name>_weight_final` for every eprop connection group, aligned with
  `conn_<name>_pre` / `_post`: weights after Simulate (as left by each synapse's last event).
* `sim_time_ms`; `spike_rate_hz` (mean recurrent rate over the run).
* `flush_reset_off` only: `noflush_losses` and `noflush_conn_<name>_weight_final`, the same
  network simulated with `flush_event_send_interval` infinite (they differ, see the case).

### Cases

| File | What it covers |
|---|---|
{rows}
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for name, case in CASES.items():
            print(f"{name}: {case.spec['description']}")
        return 0
    wanted = [c for c in args.cases.split(",") if c] or list(CASES)
    unknown = [c for c in wanted if c not in CASES]
    if unknown:
        ap.error(f"unknown cases {unknown}")
    import nest

    os.makedirs(args.out, exist_ok=True)
    failures = []
    for name in wanted:
        case = CASES[name]
        res, kernel = run_nest(case)
        if case.spec["task"]["kind"] != "none":
            res.update(task_metrics(case.spec["task"], res["out_times"], res["out_readout_signal"], res["out_target_signal"]))
        checks = check_case(case, res, kernel)
        n_rec = group_size(case.spec, "rec")
        rate = res["spike_times"].size / n_rec / (case.spec["sim_time_ms"] / 1000.0) if "spike_times" in res else 0.0
        msg = f"{name}: Simulate {float(res['simulate_wall_time']):.2f} s, rate {rate:.1f} Hz"
        if "losses" in res:
            msg += ", losses " + " ".join(f"{v:.6g}" for v in res["losses"])
        print(msg)
        ok = True
        for good, text in checks:
            print(("    ok: " if good else "    FAILED: ") + text)
            ok &= good
        if not ok:
            failures.append(name)
            continue
        arrays = fixture_arrays(case, res, kernel, nest.__version__)
        arrays["spike_rate_hz"] = np.float64(rate)
        path = os.path.join(args.out, name + ".npz")
        if _unchanged(path, arrays):
            print(f"    {os.path.relpath(path, ROOT)} unchanged (file kept)")
        else:
            np.savez_compressed(path, **arrays)
            print(f"    wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
    if not args.no_readme:
        rows = []
        for name, case in CASES.items():
            path = os.path.join(args.out, name + ".npz")
            if not os.path.exists(path):
                continue
            with np.load(path) as z:
                extra = ""
                if "losses" in z.files:
                    extra = " Losses: " + ", ".join(f"{v:.12g}" for v in z["losses"]) + "."
                if "accuracy" in z.files:
                    extra += " Accuracy: " + ", ".join(f"{v:.3g}" for v in z["accuracy"]) + "."
                extra += f" Recurrent rate {float(z['spike_rate_hz']):.1f} Hz." if "spike_rate_hz" in z.files else ""
            rows.append(f"| `bsshslm/{name}.npz` ({os.path.getsize(path)} bytes) | {case.spec['description']}{extra} |")
        write_readme_section(rows, nest.__version__)
    if failures:
        print("FAILED: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
