#!/usr/bin/env python3
"""eprop vs NEST 3.10 on a large sparse recurrent e-prop network, side by side in one run.

The network (anchors.md "sparse recurrent"): N ``eprop_iaf`` neurons with 100 plastic
recurrent in-synapses each (fixed in-degree, no autapses, no multapses), 100 Poisson
inputs (≈ 10 Hz, frozen spike times) with 10 plastic synapses onto every recurrent neuron,
10 ``eprop_readout`` neurons each reading 1000 random recurrent neurons through plastic
synapses, learning-signal connections from every readout to every recurrent neuron
(random B), a sine target per readout with the learning window on, gradient descent with
``optimize_each_step`` False, cutoff 100 ms, flush interval 100 ms, firing-rate
regularisation towards 10 Hz. Connectivity, weights, input spikes and targets are drawn
once with numpy and given as explicit arrays to both engines.

``--flush-interval inf`` gives both engines NEST's default (no flush events), the set-up
of anchors.md: NEST then keeps every neuron's history until its next spike, while eprop
bounds its history with its automatic flushes. Flush events never change the results
(spec 7.6), so both set-ups compute the same spikes and weights.

Each engine runs in its own subprocess (``harness.run_isolated``), NEST first, then eprop,
never in parallel. Per engine: build time (create + connect + inputs), setup time (the
first simulated step, where NEST builds its target tables), wall time per simulated second
of the remaining steps, synaptic events (spikes × plastic out-degree) per wall second,
RSS kept by the build per plastic synapse (trimmed heap; also after the setup step) and
peak RSS of the process. The script checks that both engines produce the same recurrent
spikes, readout signals and final weights (relative 1e-9).

    python3 bench/sparse_vs_nest.py                          # 10k for 1 s, 100k for 0.3 s
    python3 bench/sparse_vs_nest.py --sizes 10000 --durations 1000
    python3 bench/sparse_vs_nest.py --sizes 100000 --durations 200 --engines eprop
    python3 bench/sparse_vs_nest.py --flush-interval inf     # NEST's default, as in anchors.md

Needs NEST 3.10 (pip install nest-simulator==3.10.0) and the eprop package (make python).
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DT = 1.0
N_IN = 100
INDEGREE_IN = 10
INDEGREE_REC = 100
N_OUT = 10
OUT_FANIN = 1000
RATE_IN_HZ = 10.0
TOLERANCE = 1e-9

#: Recurrent neurons: the sine-wave example's eprop_iaf (spec 11.1) with cutoff and flush
#: interval of 100 ms; V_th and the weight scales below set the rate to ≈ 10 Hz.
REC_PARAMS = {
    "C_m": 1.0,
    "E_L": 0.0,
    "V_m": 0.0,
    "V_th": 0.03,
    "tau_m": 30.0,
    "t_ref": 0.0,
    "I_e": 0.0,
    "c_reg": 0.3,
    "f_target": 10.0,
    "kappa": 0.97,
    "kappa_reg": 0.97,
    "surrogate_gradient_function": "piecewise_linear",
    "surrogate_gradient_height": 10.0,
    "surrogate_gradient_width": 1.0 / 33.3,
    "eprop_isi_trace_cutoff": 100.0,
    "flush_event_send_interval": 100.0,
}
OUT_PARAMS = {"C_m": 1.0, "E_L": 0.0, "V_m": 0.0, "tau_m": 30.0, "I_e": 0.0, "eprop_isi_trace_cutoff": 100.0}
OPTIMIZER = {"type": "gradient_descent", "batch_size": 1, "eta": 1e-4, "optimize_each_step": False,
             "Wmin": -100.0, "Wmax": 100.0}

#: Weight distributions (normal mean, std), in units of V_th per spike.
W_IN = (0.020, 0.005)
W_REC = (-0.0035, 0.0045)
W_OUT_STD = 0.03 / np.sqrt(OUT_FANIN)
B_STD = 0.03 / np.sqrt(N_OUT)

#: Sampled presynaptic neurons whose every outgoing synapse's final weight is compared.
N_SAMPLE_REC = 200
N_SAMPLE_IN = 10
#: Recurrent neurons whose spikes NEST records. A NEST spike_recorder costs ≈ 31 KB per
#: recorded neuron (a connector per source for device targets: 300 MiB at 10k, 3 GB at
#: 100k), which would swamp the synapse memory, so NEST records a sample (its rate is the
#: sample's); eprop records every spike. NEST's kernel spike counter cannot replace it: it
#: also counts flush events and generator spikes.
N_SPIKE_SAMPLE = 1000


# ---------------------------------------------------------------------------------------------
# the network, drawn once


def _fixed_indegree(rng, n_pre, n_post, k, autapses=True):
    """(pre, post) of k distinct presynaptic neurons per postsynaptic one, sorted by (pre, post)."""
    post = np.repeat(np.arange(n_post, dtype=np.int64), k).reshape(n_post, k)
    span = n_pre - (0 if autapses else 1)
    if 4 * k > span:  # dense choice: one draw without replacement per postsynaptic neuron
        pre = np.stack([rng.choice(span, size=k, replace=False) for _ in range(n_post)]).astype(np.int64)
    else:  # sparse: draw with replacement, then redraw repeated entries until none is left
        pre = np.sort(rng.integers(0, span, size=(n_post, k), dtype=np.int64), axis=1)
        while True:
            dup = np.zeros(pre.shape, bool)
            dup[:, 1:] = pre[:, 1:] == pre[:, :-1]
            if not dup.any():
                break
            pre[dup] = rng.integers(0, span, size=int(dup.sum()), dtype=np.int64)
            pre.sort(axis=1)
    if not autapses:
        pre += pre >= post  # skip the diagonal
    pre, post = pre.ravel(), post.ravel()
    order = np.lexsort((post, pre))
    return np.ascontiguousarray(pre[order]), np.ascontiguousarray(post[order])


def make_spec(n_rec: int, duration_ms: float, seed: int = 1, flush_interval_ms: float = 100.0) -> dict:
    """Every array both engines are given: connectivity, weights, input spikes, targets."""
    rng = np.random.default_rng(seed)
    steps = int(round(duration_ms / DT))
    pre_in, post_in = _fixed_indegree(rng, N_IN, n_rec, INDEGREE_IN)
    pre_rec, post_rec = _fixed_indegree(rng, n_rec, n_rec, INDEGREE_REC, autapses=False)
    pre_out, post_out = _fixed_indegree(rng, n_rec, N_OUT, OUT_FANIN)
    w_in = rng.normal(W_IN[0], W_IN[1], size=pre_in.size)
    w_rec = rng.normal(W_REC[0], W_REC[1], size=pre_rec.size)
    w_out = rng.normal(0.0, W_OUT_STD, size=pre_out.size)
    feedback = rng.normal(0.0, B_STD, size=(n_rec, N_OUT))  # [post = recurrent, pre = readout]
    # Poisson input: generator spike at k·dt, k = 1 … steps - 1 (the parrot fires one step later).
    mask = rng.random((steps - 1, N_IN)) < RATE_IN_HZ * DT / 1000.0
    ks, neurons = np.nonzero(mask)
    input_times = (ks + 1).astype(np.float64) * DT
    input_neurons = neurons.astype(np.int64)  # sorted by time, then neuron
    # Targets: one sine per readout (period 200 … 1000 ms, random phase), from 2 ms on.
    target_times = np.arange(2, steps + 2, dtype=np.float64) * DT
    periods = rng.uniform(200.0, 1000.0, size=N_OUT)
    phases = rng.uniform(0.0, 2 * np.pi, size=N_OUT)
    target_values = np.sin(2 * np.pi * target_times[None, :] / periods[:, None] + phases[:, None])
    sample_rec = np.sort(rng.choice(n_rec, size=min(N_SAMPLE_REC, n_rec), replace=False)).astype(np.int64)
    sample_in = np.sort(rng.choice(N_IN, size=N_SAMPLE_IN, replace=False)).astype(np.int64)
    spike_sample = np.sort(rng.choice(n_rec, size=min(N_SPIKE_SAMPLE, n_rec), replace=False)).astype(np.int64)
    return dict(
        n_rec=np.int64(n_rec), duration_ms=np.float64(steps * DT), seed=np.int64(seed),
        flush_interval_ms=np.float64(flush_interval_ms),
        pre_in=pre_in, post_in=post_in, w_in=w_in,
        pre_rec=pre_rec, post_rec=post_rec, w_rec=w_rec,
        pre_out=pre_out, post_out=post_out, w_out=w_out,
        feedback=feedback, input_times=input_times, input_neurons=input_neurons,
        target_times=target_times, target_values=target_values,
        sample_rec=sample_rec, sample_in=sample_in, spike_sample=spike_sample,
    )


def recurrent_parameters(spec) -> dict:
    """REC_PARAMS with the spec's flush interval (left at the models' default, never, if infinite)."""
    params = dict(REC_PARAMS)
    flush = float(spec["flush_interval_ms"])
    if np.isfinite(flush):
        params["flush_event_send_interval"] = flush
    else:
        del params["flush_event_send_interval"]
    return params


def plastic_synapses(spec) -> int:
    return int(spec["pre_in"].size + spec["pre_rec"].size + spec["pre_out"].size)


# ---------------------------------------------------------------------------------------------
# one engine (runs in a subprocess)


def run_engine(engine: str, spec_path: str, threads: int = 1) -> dict:
    """Build, simulate and measure one engine; called by harness.run_isolated."""
    spec = dict(np.load(spec_path))
    if engine == "nest":
        import nest  # noqa: F401 -- imported before the baseline RSS
        build, version = _build_nest, nest.__version__
    else:  # "eprop", or "eprop-single": eprop synapses stored in single precision (docs/precision.md)
        import eprop
        precision = "single" if engine == "eprop-single" else "double"
        build, version = (lambda s, t, m: _build_eprop(s, t, m, precision)), eprop.version()
    duration = float(spec["duration_ms"])
    rss_before = harness.rss_now()
    timer = harness.Timer()
    marks = {}

    def mark():  # the network is built; recorders come next and are not counted
        timer.lap("build")
        marks["rss_build"] = harness.rss_now()

    sim, collect = build(spec, threads, mark)
    rss_build = marks["rss_build"]
    rss_recorders = harness.rss_now()
    timer.restart()
    sim(DT)
    timer.lap("setup")
    rss_setup = harness.rss_now()
    timer.restart()
    sim(duration - DT)
    timer.lap("simulate")
    rss_end, peak = harness.rss()
    result = collect()
    result.update(
        engine=engine, version=version, threads=threads,
        build_s=timer.laps["build"], setup_s=timer.laps["setup"], simulate_s=timer.laps["simulate"],
        rss_before=rss_before, rss_build=rss_build, rss_recorders=rss_recorders, rss_setup=rss_setup,
        rss_after_simulate=rss_end,
        peak_rss_simulate=peak,
    )
    return result


def _build_eprop(spec, threads, mark, precision="double"):
    import eprop

    n_rec = int(spec["n_rec"])
    # The footprint eprop predicts before building (compared with the RSS growth).
    estimate = eprop.estimate_memory(
        n_rec, plastic_synapses(spec), n_readout=N_OUT, n_input=N_IN, n_fixed=n_rec * N_OUT,
        n_sources=N_IN + 2 * n_rec, optimizer=OPTIMIZER["type"], optimize_each_step=OPTIMIZER["optimize_each_step"],
        batch_size=OPTIMIZER["batch_size"], cutoff_ms=REC_PARAMS["eprop_isi_trace_cutoff"],
        flush_interval_ms=float(spec["flush_interval_ms"]), resolution_ms=DT,
        synapse_precision=precision)
    net = eprop.Network(resolution=DT, threads=threads, synapse_precision=precision)
    inp = net.add_population("input", N_IN)
    rec = net.add_population("eprop_iaf", n_rec, **recurrent_parameters(spec))
    out = net.add_population("eprop_readout", N_OUT, **OUT_PARAMS)
    opt = dict(OPTIMIZER)
    net.set_optimizer(type=opt.pop("type"), **opt)
    p_in = net.connect(inp, rec, "eprop_synapse", spec["w_in"], pre_ids=spec["pre_in"], post_ids=spec["post_in"])
    p_rec = net.connect(rec, rec, "eprop_synapse", spec["w_rec"], pre_ids=spec["pre_rec"], post_ids=spec["post_rec"])
    p_out = net.connect(rec, out, "eprop_synapse", spec["w_out"], pre_ids=spec["pre_out"], post_ids=spec["post_out"])
    net.connect(out, rec, "eprop_learning_signal_connection", weights=spec["feedback"])
    inp.set_spike_times(spec["input_neurons"], spec["input_times"])
    out.set_target(spec["target_times"], spec["target_values"])
    out.set_learning_window([2.0 * DT], np.ones((N_OUT, 1)))
    mark()
    mem_build = net.memory
    readout = net.record_state(out, ["readout_signal", "target_signal"])
    spikes = net.record_spikes(rec)

    def collect():
        mem = net.memory  # the engine's own accounting, bytes
        times, data = readout.get()
        st, ss = spikes.get()
        res = dict(out_times=np.asarray(times, dtype=np.float64), spike_times=st, spike_senders=ss,
                   engine_bytes=mem["total"], engine_history_bytes=mem["history"],
                   engine_bytes_build=mem_build["total"], estimate_bytes=estimate)
        for k, name in enumerate(readout.recordables):
            res["out_" + name] = np.ascontiguousarray(data[:, k, :], dtype=np.float64)
        for key, proj, sample in (("in", p_in, spec["sample_in"]), ("rec", p_rec, spec["sample_rec"]),
                                  ("out", p_out, None)):
            pre, post = proj.connections
            w = proj.weights
            m = np.ones(pre.shape, bool) if sample is None else np.isin(pre, sample)
            res[f"w_{key}_pre"], res[f"w_{key}_post"], res[f"w_{key}"] = pre[m], post[m], w[m]
        return res

    return (lambda ms: net.simulate(ms)), collect


def _build_nest(spec, threads, mark):
    import nest

    n_rec = int(spec["n_rec"])
    harness.quiet_nest(nest)
    nest.ResetKernel()
    nest.set(print_time=False, resolution=DT, total_num_virtual_procs=threads)
    gen_in = nest.Create("spike_generator", N_IN)
    parrots = nest.Create("parrot_neuron", N_IN)
    rec = nest.Create("eprop_iaf", n_rec, recurrent_parameters(spec))
    out = nest.Create("eprop_readout", N_OUT, OUT_PARAMS)
    gen_target = nest.Create("step_rate_generator", N_OUT)
    gen_window = nest.Create("step_rate_generator")
    nest.SetDefaults("eprop_synapse", {"optimizer": dict(OPTIMIZER)})

    g_par, g_rec, g_out = parrots[0].global_id, rec[0].global_id, out[0].global_id
    static = {"synapse_model": "static_synapse", "delay": DT}

    def connect_arrays(pre, post, w, first_pre, first_post):
        nest.Connect(pre + first_pre, post + first_post, "one_to_one",
                     {"synapse_model": "eprop_synapse", "weight": w, "delay": np.full(w.size, DT)})

    nest.Connect(gen_in, parrots, "one_to_one", static)
    connect_arrays(spec["pre_in"], spec["post_in"], spec["w_in"], g_par, g_rec)
    connect_arrays(spec["pre_rec"], spec["post_rec"], spec["w_rec"], g_rec, g_rec)
    connect_arrays(spec["pre_out"], spec["post_out"], spec["w_out"], g_rec, g_out)
    nest.Connect(out, rec, "all_to_all", {"synapse_model": "eprop_learning_signal_connection", "delay": DT,
                                          "weight": np.ascontiguousarray(spec["feedback"])})
    nest.Connect(gen_target, out, "one_to_one",
                 {"synapse_model": "rate_connection_delayed", "delay": DT, "receptor_type": 2})
    nest.Connect(gen_window, out, "all_to_all",
                 {"synapse_model": "rate_connection_delayed", "delay": DT, "receptor_type": 1})

    times, neurons = spec["input_times"], spec["input_neurons"]
    order = np.argsort(neurons, kind="stable")
    bounds = np.searchsorted(neurons[order], np.arange(N_IN + 1))
    gen_in.set([{"spike_times": times[order[bounds[i]:bounds[i + 1]]]} for i in range(N_IN)])
    for k in range(N_OUT):
        gen_target[k].set({"amplitude_times": spec["target_times"], "amplitude_values": spec["target_values"][k]})
    gen_window.set({"amplitude_times": [2.0 * DT], "amplitude_values": [1.0]})
    mark()
    mm = nest.Create("multimeter", {"interval": DT, "record_from": ["readout_signal", "target_signal"]})
    sr = nest.Create("spike_recorder")
    nest.Connect(nest.NodeCollection((spec["spike_sample"] + g_rec).tolist()), sr, "all_to_all", static)
    nest.Connect(mm, out, "all_to_all", static)

    def collect():
        ev = mm.get("events")
        senders = np.asarray(ev["senders"]) - g_out
        t_all = np.asarray(ev["times"], dtype=np.float64)
        times = t_all[senders == 0]
        res = dict(out_times=times)
        for name in ("readout_signal", "target_signal"):
            v = np.asarray(ev[name], dtype=np.float64)
            res["out_" + name] = np.stack([v[senders == k] for k in range(N_OUT)], axis=1)
        ev = sr.get("events")
        res["spike_times"] = np.asarray(ev["times"], dtype=np.float64)
        res["spike_senders"] = np.asarray(ev["senders"], dtype=np.int64) - g_rec
        for key, src, tgt, first_pre, first_post, sample in (
            ("in", parrots, rec, g_par, g_rec, spec["sample_in"]),
            ("rec", rec, rec, g_rec, g_rec, spec["sample_rec"]),
            ("out", rec, out, g_rec, g_out, None),
        ):
            source = src if sample is None else nest.NodeCollection((sample + first_pre).tolist())
            c = nest.GetConnections(source=source, target=tgt, synapse_model="eprop_synapse")
            c = c.get(["source", "target", "weight"])
            res[f"w_{key}_pre"] = np.asarray(c["source"], dtype=np.int64) - first_pre
            res[f"w_{key}_post"] = np.asarray(c["target"], dtype=np.int64) - first_post
            res[f"w_{key}"] = np.asarray(c["weight"], dtype=np.float64)
        return res

    return (lambda ms: nest.Simulate(ms)), collect


# ---------------------------------------------------------------------------------------------
# comparison and the table


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(diff == 0, 0.0, diff / scale)
    return float(np.max(r))


def _sorted_weights(res, key):
    pre, post, w = res[f"w_{key}_pre"], res[f"w_{key}_post"], res[f"w_{key}"]
    order = np.lexsort((post, pre))
    return pre[order], post[order], w[order]


def compare(nest_res, eprop_res, spec) -> dict:
    """Agreement of the two engines: spikes, readout signals, final weights of the sample."""
    out = {}
    a_t, a_s = nest_res["spike_times"], nest_res["spike_senders"]
    m = np.isin(eprop_res["spike_senders"], spec["spike_sample"])
    b_t, b_s = eprop_res["spike_times"][m], eprop_res["spike_senders"][m]
    sa, sb = np.lexsort((a_s, a_t)), np.lexsort((b_s, b_t))
    out["spikes_identical"] = bool(a_t.size == b_t.size and np.array_equal(a_t[sa], b_t[sb])
                                   and np.array_equal(a_s[sa], b_s[sb]))
    common, ia, ib = np.intersect1d(nest_res["out_times"], eprop_res["out_times"], return_indices=True)
    out["readout_samples"] = int(common.size)
    out["readout_rel"] = _rel(nest_res["out_readout_signal"][ia], eprop_res["out_readout_signal"][ib])
    out["target_rel"] = _rel(nest_res["out_target_signal"][ia], eprop_res["out_target_signal"][ib])
    y, ys = nest_res["out_readout_signal"][ia], nest_res["out_target_signal"][ia]
    ye, yse = eprop_res["out_readout_signal"][ib], eprop_res["out_target_signal"][ib]
    out["loss_nest"] = float(0.5 * np.mean(np.sum((y - ys) ** 2, axis=0)))
    out["loss_eprop"] = float(0.5 * np.mean(np.sum((ye - yse) ** 2, axis=0)))
    out["loss_rel"] = _rel(out["loss_nest"], out["loss_eprop"])
    w_rel, n_w, n_changed = 0.0, 0, 0
    initial = {"in": ("pre_in", "post_in", "w_in"), "rec": ("pre_rec", "post_rec", "w_rec"),
               "out": ("pre_out", "post_out", "w_out")}
    for key in ("in", "rec", "out"):
        pa, qa, wa = _sorted_weights(nest_res, key)
        pb, qb, wb = _sorted_weights(eprop_res, key)
        if not (np.array_equal(pa, pb) and np.array_equal(qa, qb)):
            w_rel = np.inf
            continue
        w_rel = max(w_rel, _rel(wa, wb))
        n_w += wa.size
        p0, q0, w0 = (spec[k] for k in initial[key])
        idx = np.searchsorted(p0 * (1 << 32) + q0, pa * (1 << 32) + qa)
        n_changed += int(np.count_nonzero(wa != w0[idx]))
    out["weights_rel"], out["weights_compared"], out["weights_changed"] = w_rel, n_w, n_changed
    out["agree"] = bool(out["spikes_identical"] and out["readout_rel"] <= TOLERANCE
                        and out["weights_rel"] <= TOLERANCE and out["loss_rel"] <= TOLERANCE)
    return out


def _parrot_spikes(spec):
    """Input neurons and stamps of the parrot spikes emitted during the run (stamp ≤ T)."""
    t_in = spec["input_times"] + DT
    keep = t_in <= float(spec["duration_ms"])
    return spec["input_neurons"][keep], t_in[keep]


def events(spec, spike_senders=None, rate_hz=None) -> int:
    """Synaptic events delivered through plastic synapses: Σ over spikes of the sender's
    plastic out-degree (recurrent spikes → recurrent and readout synapses; input spikes →
    recurrent synapses). Exact from every recurrent spike's sender (eprop); from the
    sample's rate × mean out-degree when only that is known (NEST alone)."""
    n_rec = int(spec["n_rec"])
    out_in = np.bincount(spec["pre_in"], minlength=N_IN)
    inputs = int(out_in[_parrot_spikes(spec)[0]].sum())
    if spike_senders is not None:
        out_rec = np.bincount(spec["pre_rec"], minlength=n_rec) + np.bincount(spec["pre_out"], minlength=n_rec)
        return int(out_rec[spike_senders].sum()) + inputs
    rec_spikes = rate_hz * n_rec * float(spec["duration_ms"]) / 1000.0
    return int(round(rec_spikes * (spec["pre_rec"].size + spec["pre_out"].size) / n_rec)) + inputs


def run_case(n_rec: int, duration_ms: float, engines=("nest", "eprop"), seed: int = 1, threads: int = 1,
             repeats: int = 1, nest_repeats: int | None = None, log=print, flush_interval_ms: float = 100.0) -> list:
    """Draw the network, run each engine in its own subprocess (NEST, eprop, NEST, eprop, …
    for ``repeats`` rounds; NEST only in the first ``nest_repeats`` rounds), return table
    rows (dicts) with the measurements of each engine's fastest run and the agreement."""
    nest_repeats = repeats if nest_repeats is None else nest_repeats
    spec = make_spec(n_rec, duration_ms, seed, flush_interval_ms)
    n_plastic = plastic_synapses(spec)
    T = float(spec["duration_ms"])
    results = {}
    with tempfile.TemporaryDirectory(prefix="eprop-sparse-") as tmp:
        path = os.path.join(tmp, "spec.npz")
        np.savez(path, **spec)
        for rep, engine in [(rep, e) for rep in range(repeats) for e in engines
                            if e != "nest" or rep < nest_repeats]:
            log(f"sparse {n_rec:,}: {engine} ({T:.0f} ms simulated{f', round {rep + 1}' if repeats > 1 else ''}) …")
            r = harness.run_isolated("sparse_vs_nest:run_engine", engine=engine, spec_path=path, threads=threads)
            if engine == "nest":  # spikes of the sample only
                r["rate_hz"] = r["spike_times"].size / spec["spike_sample"].size / (T / 1000.0)
                r["events"] = events(spec, rate_hz=r["rate_hz"])
            else:
                r["rate_hz"] = r["spike_times"].size / n_rec / (T / 1000.0)
                r["events"] = events(spec, spike_senders=r["spike_senders"])
            log(f"  build {r['build_s']:.2f} s, setup {r['setup_s']:.2f} s, simulate {r['simulate_s']:.2f} s, "
                f"rate {r['rate_hz']:.2f} Hz{' (sample)' if engine == 'nest' else ''}, "
                f"RSS +{harness.mib(r['rss_build'] - r['rss_before'])} build, "
                f"+{harness.mib(r['rss_recorders'] - r['rss_build'])} recorders, "
                f"+{harness.mib(r['rss_setup'] - r['rss_recorders'])} setup, +{harness.mib(r['rss_after_simulate'] - r['rss_setup'])} "
                f"simulate, peak {harness.mib(r['peak_rss_simulate'])} (baseline {harness.mib(r['rss_before'])})")
            if "engine_bytes" in r:
                log(f"  eprop's own accounting: {harness.mib(r['engine_bytes_build'])} after build "
                    f"({r['engine_bytes_build'] / n_plastic:.1f} B per plastic synapse), {harness.mib(r['engine_bytes'])} "
                    f"at the end, of which history {harness.mib(r['engine_history_bytes'])}")
                log(f"  estimate before building: {harness.mib(r['estimate_bytes'])} = {estimate_ratio(r):.2f} × the RSS "
                    f"growth of build + setup + simulate ({harness.mib(r['rss_after_simulate'] - r['rss_before'])})")
            if engine in results and results[engine]["simulate_s"] <= r["simulate_s"]:
                continue
            results[engine] = r
    agreement = None
    if "eprop" in results and "eprop-single" in results:
        a = compare(results["eprop"], results["eprop-single"], spec)
        results["eprop-single"]["agreement"] = dict(
            a, agree=True, summary=f"loss {a['loss_eprop']:.6g} (double: {a['loss_nest']:.6g}); spikes "
            + ("identical" if a["spikes_identical"] else "differ"))
        log(f"  single vs double precision: {results['eprop-single']['agreement']['summary']}")
    if "nest" in results and "eprop" in results:
        agreement = compare(results["nest"], results["eprop"], spec)
        if agreement["spikes_identical"]:
            results["nest"]["events"] = results["eprop"]["events"]  # the same spikes: the exact count
        log(f"  agreement: spikes of {spec['spike_sample'].size} sampled neurons identical "
            f"{agreement['spikes_identical']}, readout signal max rel diff "
            f"{agreement['readout_rel']:.1e} over {agreement['readout_samples']} steps, loss "
            f"{agreement['loss_nest']:.10g} vs {agreement['loss_eprop']:.10g}, final weights max rel diff "
            f"{agreement['weights_rel']:.1e} over {agreement['weights_compared']:,} synapses "
            f"({agreement['weights_changed']:,} changed by learning)")
    rows = []
    for engine, r in results.items():
        sim_s = T - DT
        rows.append(dict(
            case=f"sparse {n_rec // 1000}k, {n_plastic / 1e6:.2f} M syn, {T / 1000:g} s"
            + ("" if np.isfinite(flush_interval_ms) else ", no flush interval"), engine=f"{'NEST' if engine == 'nest' else 'eprop'} "
            f"{r['version']}" + (f" ({r['threads']} threads)" if r["threads"] > 1 else "")
            + (" single" if engine == "eprop-single" else ""),
            key=engine, n_plastic=n_plastic, simulated_s=T / 1000.0,
            build_s=r["build_s"], setup_s=r["setup_s"], simulate_s=r["simulate_s"],
            wall_per_sim_s=r["simulate_s"] / (sim_s / 1000.0),
            events_per_s=r["events"] / (r["setup_s"] + r["simulate_s"]),
            rate_hz=r["rate_hz"],
            bytes_per_syn=(r["rss_build"] - r["rss_before"]) / n_plastic,
            bytes_per_syn_setup=(r["rss_build"] - r["rss_before"] + r["rss_setup"] - r["rss_recorders"]) / n_plastic,
            peak_rss=r["peak_rss_simulate"], rss_baseline=r["rss_before"],
            agreement=r.get("agreement", agreement),
            estimate_ratio=estimate_ratio(r) if "estimate_bytes" in r else None,
        ))
    return rows


def estimate_ratio(r) -> float:
    """eprop's estimate (``eprop.estimate_memory``, before building) over the RSS the process
    gained from before the build to the end of the simulation (recorders included: < 1 %)."""
    return r["estimate_bytes"] / (r["rss_after_simulate"] - r["rss_before"])


HEADERS = ["case", "engine", "rate Hz", "build s", "setup s", "wall s per simulated s", "NEST/eprop",
           "events/s", "B per plastic syn (build / +setup)", "peak RSS (baseline)", "estimate / RSS",
           "agreement (max rel diff)"]


def table_rows(rows) -> list:
    """Rows of the Markdown table (HEADERS) from run_case rows; ratio within each case."""
    out = []
    by_case = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["key"]] = r
    for r in rows:
        pair = by_case[r["case"]]
        ratio = "–"
        if "nest" in pair and r["key"] in ("eprop", "eprop-single"):
            ratio = f"{pair['nest']['wall_per_sim_s'] / r['wall_per_sim_s']:.1f}×"
        a = r.get("agreement")
        agree = "–"
        if a is not None and r["key"] in ("eprop", "eprop-single"):
            agree = a.get("summary") or (
                f"{'spikes identical' if a['spikes_identical'] else 'SPIKES DIFFER'}; readout "
                f"{a['readout_rel']:.0e}, weights {a['weights_rel']:.0e}")
        bps = r.get("bytes_per_syn")
        bps_txt = "–" if bps is None else f"{bps:.0f} / {r['bytes_per_syn_setup']:.0f}"
        out.append([r["case"], r["engine"], harness.fmt(r.get("rate_hz")), harness.fmt(r.get("build_s")),
                    harness.fmt(r.get("setup_s")), harness.fmt(r["wall_per_sim_s"]), ratio,
                    "–" if r.get("events_per_s") is None else f"{r['events_per_s']:.3g}", bps_txt,
                    f"{harness.mib(r['peak_rss'])} ({r['rss_baseline'] / 2**20:.0f})",
                    "–" if r.get("estimate_ratio") is None else f"{r['estimate_ratio']:.2f}", agree])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="recurrent neurons")
    parser.add_argument("--durations", type=float, nargs="+", default=[1000.0, 300.0],
                        help="simulated ms per size (one value: all sizes)")
    parser.add_argument("--engines", nargs="+", default=["nest", "eprop"], choices=["nest", "eprop", "eprop-single"],
                        help="eprop-single: eprop with single-precision synapses (docs/precision.md)")
    parser.add_argument("--threads", type=int, default=1, help="threads of both engines")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="rounds NEST, eprop; the fastest run of each counts")
    parser.add_argument("--flush-interval", type=float, default=100.0,
                        help="flush_event_send_interval in ms of both engines (default 100; inf: NEST's default, none)")
    args = parser.parse_args()
    durations = args.durations * len(args.sizes) if len(args.durations) == 1 else args.durations
    rows = []
    for n, d in zip(args.sizes, durations):
        rows += run_case(n, d, args.engines, args.seed, args.threads, args.repeats,
                         flush_interval_ms=args.flush_interval)
    print()
    print(harness.machine())
    harness.table(HEADERS, table_rows(rows))
    bad = [r for r in rows if r["agreement"] is not None and not r["agreement"]["agree"]]
    if bad:
        sys.exit("engines disagree beyond relative 1e-9")


if __name__ == "__main__":
    main()
