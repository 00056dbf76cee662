"""Run the sine-wave e-prop regression network in NEST and return its recordings.

The network is built like NEST's ``test_eprop_regression`` and its sine-wave example
(spec sections 2, 11.1, 12.3):

* node creation order: spike generators, parrots, recurrent neurons, readouts, target
  step_rate_generators (one per readout), learning-window step_rate_generator, then the
  recorders, then (optionally) the final-update spike generator;
* spike_generator -> parrot: static synapse, one-to-one, delay 1 ms;
* parrot -> recurrent, recurrent -> recurrent (no autapses), recurrent -> readout:
  ``eprop_synapse``, all-to-all, delay 1 ms, weights given as (post, pre) matrices;
* readout -> recurrent: ``eprop_learning_signal_connection`` with weights B;
* target generator -> readout: ``rate_connection_delayed`` receptor 2 (one-to-one);
  window generator -> readout: ``rate_connection_delayed`` receptor 1;
* the optimizer is set with ``SetDefaults("eprop_synapse", ...)`` before connecting;
* resolution 1 ms, 1 virtual process; NEST's own RNG is never used.

All indices returned are 0-based within their population; times are in ms.

Usage as a script prints the losses of a quick run::

    python3 tools/nest_runner.py --model eprop_iaf --optimizer adam
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_TASKS_PATH = os.path.join(_HERE, os.pardir, "python", "eprop", "tasks.py")


def _load_tasks():
    """Import python/eprop/tasks.py by path, so the (compiled) eprop package is not needed."""
    name = "_eprop_tasks_for_nest_runner"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.normpath(_TASKS_PATH))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tasks = _load_tasks()

#: Default (pre, post) pairs whose weights are recorded, 0-based within the populations.
DEFAULT_SYNAPSES = {
    "in": [(0, 0), (3, 1), (17, 2), (42, 3), (99, 4)],
    "rec": [(1, 0), (0, 1), (4, 2), (50, 3), (99, 4)],
    "out": [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)],
}

#: Default recorded recurrent neurons (0-based).
DEFAULT_REC_NEURONS = [0, 1, 2, 3, 4]

REC_RECORDABLES = ["V_m", "surrogate_gradient", "learning_signal"]
ADAPT_RECORDABLES = ["adaptation", "V_th_adapt"]
OUT_RECORDABLES = ["V_m", "readout_signal", "target_signal", "error_signal"]

PROJECTIONS = ("in", "rec", "out")


def _default_record():
    return {
        "rec_neurons": list(DEFAULT_REC_NEURONS),
        "synapses": {k: list(v) for k, v in DEFAULT_SYNAPSES.items()},
        "spikes": True,
        "final_weights": True,
    }


def run_nest(
    task,
    rec_params=None,
    out_params=None,
    opt_params=None,
    record=None,
    *,
    cutoff=None,
    flush_event_send_interval=None,
    batch_size=None,
    optimize_each_step=None,
    optimizer=None,
    seed=None,
    steps_per_sequence=None,
    n_iter=None,
    model=None,
    variant=None,
    final_update=False,
    quiet=True,
):
    """Build the network of ``task`` in NEST, simulate ``task.sim_time_ms`` and collect results.

    Args:
        task: a ``tasks.SineWaveTask``.
        rec_params, out_params, opt_params: NEST parameter dicts for the recurrent
            population, the readouts and ``eprop_synapse``'s ``optimizer``. ``None`` means the
            defaults of ``tasks.recurrent_parameters`` / ``readout_parameters`` /
            ``optimizer_parameters`` for the task's variant (gradient descent).
        record: dict with optional keys
            ``rec_neurons`` (list of 0-based recurrent neurons to record with a multimeter),
            ``synapses`` (dict "in"/"rec"/"out" -> list of 0-based (pre, post) pairs whose
            weight_recorder entries are returned), ``spikes`` (bool, record recurrent
            spikes), ``final_weights`` (bool, return the final weight matrices).
            ``None`` uses 5 neurons and 5 synapses per projection.
        cutoff: overrides ``eprop_isi_trace_cutoff`` (ms) of recurrent neurons and readouts.
        flush_event_send_interval: overrides the recurrent flush interval (ms).
        batch_size, optimize_each_step, optimizer: override the optimizer dict
            (``optimizer`` is "gradient_descent" or "adam"; switching fills in Adam's
            beta_1/beta_2/epsilon).
        seed, steps_per_sequence, n_iter, model, variant: if given, the task is redrawn with
            ``tasks.sine_wave_task`` using these values (other fields kept). Parameter dicts
            passed explicitly are used as given; ``None`` ones are recomputed for the new task.
        final_update: add the example's final-update spike generator (one spike at
            T + 1 ms, weight 1000, to all parrots and recurrent neurons; spec 11.1).
        quiet: lower NEST's verbosity.

    Returns:
        dict of numpy arrays (0-based indices, ms):

        * ``losses`` (n_iter,): ``tasks.loss_per_iteration`` of the readout recording;
        * ``out_times`` (S,), ``out_<name>`` (S, n_out) for name in V_m, readout_signal,
          target_signal, error_signal; samples of the whole run (times 1 ... sim - 1);
        * ``rec_neurons`` (R,), ``rec_times`` (S,), ``rec_<name>`` (S, R) for V_m,
          surrogate_gradient, learning_signal (+ adaptation, V_th_adapt for adapt models);
        * ``wr_projection`` (W,) int64 0=in->rec, 1=rec->rec, 2=rec->out, ``wr_senders``,
          ``wr_targets`` (W,) int64, ``wr_times``, ``wr_weights`` (W,): weight_recorder
          entries of the chosen synapses in recording order, one per transmitted presynaptic
          spike; time = the spike's stamp (its spike_recorder time), weight = the weight after
          the plasticity update of that event (the one transmitted);
        * ``wr_pairs_<proj>`` (P, 2) int64: the chosen (pre, post) pairs;
        * ``wr_dropped_flush_entries`` (scalar int64): spurious flush-event entries of NEST's
          weight_recorder that matched a chosen pair and were dropped (see the code comment);
        * ``spike_times``, ``spike_senders`` (N,): recurrent spikes;
        * ``weights_in_final`` (n_rec, n_in), ``weights_rec_final`` (n_rec, n_rec),
          ``weights_out_final`` (n_out, n_rec): weights after Simulate, [post, pre];
        * ``simulate_wall_time`` (scalar): seconds spent in ``nest.Simulate``;
        * ``sim_time_ms`` (scalar);
        * ``task``: the (possibly redrawn) task object, ``rec_params``, ``out_params``,
          ``opt_params``: the parameter dicts actually used (not arrays).
    """
    import nest

    redraw = {}
    for key, value in (
        ("seed", seed),
        ("steps_per_sequence", steps_per_sequence),
        ("n_iter", n_iter),
        ("model", model),
        ("variant", variant),
    ):
        if value is not None and value != getattr(task, key):
            redraw[key] = value
    if redraw:
        kwargs = dict(
            seed=task.seed,
            n_iter=task.n_iter,
            steps_per_sequence=task.steps_per_sequence,
            n_in=task.n_in,
            n_rec=task.n_rec,
            n_out=task.n_out,
            model=task.model,
            input_rate_probability=task.input_rate_probability,
            variant=task.variant,
        )
        kwargs.update(redraw)
        task = tasks.sine_wave_task(**kwargs)

    rec_params = dict(tasks.recurrent_parameters(task) if rec_params is None else rec_params)
    out_params = dict(tasks.readout_parameters(task) if out_params is None else out_params)
    opt_params = dict(tasks.optimizer_parameters(task) if opt_params is None else opt_params)
    if cutoff is not None:
        rec_params["eprop_isi_trace_cutoff"] = float(cutoff)
        out_params["eprop_isi_trace_cutoff"] = float(cutoff)
    if flush_event_send_interval is not None:
        rec_params["flush_event_send_interval"] = float(flush_event_send_interval)
    if optimizer is not None and optimizer != opt_params.get("type"):
        opt_params = dict(
            tasks.optimizer_parameters(
                task,
                optimizer=optimizer,
                optimize_each_step=opt_params.get("optimize_each_step"),
                batch_size=opt_params.get("batch_size", 1),
            ),
            eta=opt_params.get("eta", 1e-4 * task.scale**2),
            Wmin=opt_params.get("Wmin", -100.0),
            Wmax=opt_params.get("Wmax", 100.0),
        )
    if batch_size is not None:
        opt_params["batch_size"] = int(batch_size)
    if optimize_each_step is not None:
        opt_params["optimize_each_step"] = bool(optimize_each_step)

    rec_cfg = _default_record()
    # Defaults are trimmed to the population sizes; explicit choices must be valid.
    rec_cfg["rec_neurons"] = [i for i in rec_cfg["rec_neurons"] if i < task.n_rec]
    sizes = {"in": (task.n_in, task.n_rec), "rec": (task.n_rec, task.n_rec), "out": (task.n_rec, task.n_out)}
    rec_cfg["synapses"] = {
        p: [(a, b) for a, b in pairs if a < sizes[p][0] and b < sizes[p][1] and (p != "rec" or a != b)]
        for p, pairs in rec_cfg["synapses"].items()
    }
    if record is not None:
        rec_cfg.update(record)
    rec_neurons = [int(i) for i in rec_cfg["rec_neurons"]]
    synapses = {p: [tuple(int(x) for x in pair) for pair in rec_cfg["synapses"].get(p, [])] for p in PROJECTIONS}
    for i in rec_neurons:
        if not 0 <= i < task.n_rec:
            raise ValueError(f"recorded recurrent neuron {i} outside 0 ... {task.n_rec - 1}")
    for p, pairs in synapses.items():
        for a, b in pairs:
            if not (0 <= a < sizes[p][0] and 0 <= b < sizes[p][1]) or (p == "rec" and a == b):
                raise ValueError(f"synapse {(a, b)} is not a connection of projection {p!r}")

    dt = task.dt
    n_in, n_rec, n_out = task.n_in, task.n_rec, task.n_out
    t_task = float(task.task_steps) * dt

    if quiet:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.set(print_time=False, resolution=dt, total_num_virtual_procs=1)

    # Nodes, in the order of the NEST test/example (spec 5.4: readouts before generators).
    gen_spk_in = nest.Create("spike_generator", n_in)
    nrns_in = nest.Create("parrot_neuron", n_in)
    nrns_rec = nest.Create(task.model, n_rec, rec_params)
    nrns_out = nest.Create("eprop_readout", n_out, out_params)
    gen_rate_target = nest.Create("step_rate_generator", n_out)
    gen_learning_window = nest.Create("step_rate_generator")

    # Recorders: whole run, every step.
    rec_recordables = list(REC_RECORDABLES)
    if task.model.endswith("_adapt"):
        rec_recordables += ADAPT_RECORDABLES
    mm_out = nest.Create("multimeter", {"interval": dt, "record_from": OUT_RECORDABLES})
    mm_rec = None
    if rec_neurons:
        mm_rec = nest.Create("multimeter", {"interval": dt, "record_from": rec_recordables})
    # Recurrent spikes are also needed to clean the weight_recorder output (see below).
    any_wr = any(synapses[p] for p in PROJECTIONS)
    sr = nest.Create("spike_recorder") if (rec_cfg["spikes"] or any_wr) else None

    wr_senders, wr_targets = [], []
    for proj, pairs in synapses.items():
        pre_pop = nrns_in if proj == "in" else nrns_rec
        post_pop = nrns_out if proj == "out" else nrns_rec
        for pre, post in pairs:
            wr_senders.append(pre_pop[pre].global_id)
            wr_targets.append(post_pop[post].global_id)
    wr = None
    opt_defaults = {"optimizer": dict(opt_params)}
    if wr_senders:
        wr = nest.Create(
            "weight_recorder",
            {"senders": nest.NodeCollection(sorted(set(wr_senders))), "targets": nest.NodeCollection(sorted(set(wr_targets)))},
        )
        opt_defaults["weight_recorder"] = wr

    # Optimizer before any eprop_synapse is created (spec 12.3: eta_change_count = 1).
    nest.SetDefaults("eprop_synapse", opt_defaults)

    conn_all = {"rule": "all_to_all", "allow_autapses": False}
    conn_one = {"rule": "one_to_one"}
    syn_static = {"synapse_model": "static_synapse", "delay": dt}

    def eprop_syn(weights):
        return {"synapse_model": "eprop_synapse", "delay": dt, "weight": np.ascontiguousarray(weights, dtype=np.float64)}

    nest.Connect(gen_spk_in, nrns_in, conn_one, syn_static)
    nest.Connect(nrns_in, nrns_rec, conn_all, eprop_syn(task.weights_in))
    nest.Connect(nrns_rec, nrns_rec, conn_all, eprop_syn(task.weights_rec))
    nest.Connect(nrns_rec, nrns_out, conn_all, eprop_syn(task.weights_out))
    nest.Connect(
        nrns_out,
        nrns_rec,
        conn_all,
        {"synapse_model": "eprop_learning_signal_connection", "delay": dt, "weight": np.ascontiguousarray(task.feedback)},
    )
    nest.Connect(
        gen_rate_target,
        nrns_out,
        conn_one,
        {"synapse_model": "rate_connection_delayed", "delay": dt, "receptor_type": 2},
    )
    nest.Connect(
        gen_learning_window,
        nrns_out,
        conn_all,
        {"synapse_model": "rate_connection_delayed", "delay": dt, "receptor_type": 1},
    )
    if sr is not None:
        nest.Connect(nrns_rec, sr, conn_all, syn_static)
    if mm_rec is not None:
        nest.Connect(mm_rec, nest.NodeCollection([nrns_rec[i].global_id for i in sorted(set(rec_neurons))]), conn_all, syn_static)
    nest.Connect(mm_out, nrns_out, conn_all, syn_static)

    # Input spikes (float32 times, as NEST's script passes them).
    gen_spk_in.set([{"spike_times": times} for times in task.input_spike_times_per_neuron()])

    # Target (same signal for every readout) and learning window.
    for k in range(n_out):
        gen_rate_target[k].set(
            {"amplitude_times": task.target_times, "amplitude_values": task.target_values[k]}
        )
    gen_learning_window.set(
        {"amplitude_times": task.window_times, "amplitude_values": task.window_values[0]}
    )

    if final_update:
        gen_final = nest.Create("spike_generator", 1, {"spike_times": [t_task + dt]})
        nest.Connect(gen_final, nrns_in + nrns_rec, "all_to_all", {"weight": 1000.0})

    t0 = time.perf_counter()
    nest.Simulate(task.sim_time_ms)
    wall = time.perf_counter() - t0

    result = {
        "simulate_wall_time": np.float64(wall),
        "sim_time_ms": np.float64(task.sim_time_ms),
        "task": task,
        "rec_params": rec_params,
        "out_params": out_params,
        "opt_params": opt_params,
    }

    # Readouts.
    ev = mm_out.get("events")
    out_first = nrns_out[0].global_id
    times, cols = _per_sender(ev, [out_first + k for k in range(n_out)], OUT_RECORDABLES)
    result["out_times"] = times
    for name in OUT_RECORDABLES:
        result["out_" + name] = cols[name]
    result["losses"] = tasks.loss_per_iteration(cols["readout_signal"], cols["target_signal"], times, task)

    # Recurrent traces.
    if mm_rec is not None:
        ev = mm_rec.get("events")
        rec_first = nrns_rec[0].global_id
        times, cols = _per_sender(ev, [rec_first + i for i in rec_neurons], rec_recordables)
        result["rec_neurons"] = np.array(rec_neurons, dtype=np.int64)
        result["rec_times"] = times
        for name in rec_recordables:
            result["rec_" + name] = cols[name]

    # Spikes.
    spike_times = spike_senders = None
    if sr is not None:
        ev = sr.get("events")
        spike_times = np.asarray(ev["times"], dtype=np.float64)
        spike_senders = np.asarray(ev["senders"], dtype=np.int64) - nrns_rec[0].global_id
        if rec_cfg["spikes"]:
            result["spike_times"] = spike_times
            result["spike_senders"] = spike_senders

    # Weight recorder, restricted to the chosen pairs and to genuine spike entries.
    #
    # NEST quirk: eprop_synapse::send returns true for flush events too, and the connector
    # then emits a WeightRecorderEvent whenever the (reused) event object still holds a valid
    # receiver from an earlier delivery. Such entries carry the flush stamp, a stale target id
    # and a stale weight, for every outgoing synapse of the flushing neuron. They are dropped
    # here: a genuine entry's time is a spike time of its presynaptic neuron (flush events are
    # only sent in steps without a spike). Parrots never flush (flush interval infinite).
    if wr is not None:
        ev = wr.get("events")
        senders = np.asarray(ev["senders"], dtype=np.int64)
        targets = np.asarray(ev["targets"], dtype=np.int64)
        wtimes = np.asarray(ev["times"], dtype=np.float64)
        keep = np.zeros(senders.shape, dtype=bool)
        spurious = 0
        proj_code = np.full(senders.shape, -1, dtype=np.int64)
        pre0 = np.zeros(senders.shape, dtype=np.int64)
        post0 = np.zeros(senders.shape, dtype=np.int64)
        for code, proj in enumerate(PROJECTIONS):
            pre_pop = nrns_in if proj == "in" else nrns_rec
            post_pop = nrns_out if proj == "out" else nrns_rec
            for pre, post in synapses[proj]:
                m = (senders == pre_pop[pre].global_id) & (targets == post_pop[post].global_id)
                if proj != "in":
                    genuine = np.isin(wtimes, spike_times[spike_senders == pre])
                    spurious += int(np.count_nonzero(m & ~genuine))
                    m &= genuine
                keep |= m
                proj_code[m] = code
                pre0[m] = pre
                post0[m] = post
            result["wr_pairs_" + proj] = np.array(synapses[proj], dtype=np.int64).reshape(-1, 2)
        result["wr_projection"] = proj_code[keep]
        result["wr_senders"] = pre0[keep]
        result["wr_targets"] = post0[keep]
        result["wr_times"] = wtimes[keep]
        result["wr_weights"] = np.asarray(ev["weights"], dtype=np.float64)[keep]
        result["wr_dropped_flush_entries"] = np.int64(spurious)

    if rec_cfg["final_weights"]:
        result["weights_in_final"] = _dense_weights(nest, nrns_in, nrns_rec)
        result["weights_rec_final"] = _dense_weights(nest, nrns_rec, nrns_rec)
        result["weights_out_final"] = _dense_weights(nest, nrns_rec, nrns_out)
    return result


def _per_sender(events, gids, names):
    """Split multimeter events into (times (S,), {name: (S, len(gids))})."""
    senders = np.asarray(events["senders"])
    all_times = np.asarray(events["times"], dtype=np.float64)
    times = None
    cols = {name: [] for name in names}
    for gid in gids:
        m = senders == gid
        t = all_times[m]
        if times is None:
            times = t
        elif not np.array_equal(times, t):
            raise RuntimeError("multimeter sample times differ between senders")
        for name in names:
            cols[name].append(np.asarray(events[name], dtype=np.float64)[m])
    if times is None:
        times = np.zeros(0)
    return times, {name: np.stack(v, axis=1) if v else np.zeros((times.size, 0)) for name, v in cols.items()}


def _dense_weights(nest, pre_pop, post_pop):
    """Current eprop_synapse weights from pre_pop to post_pop as a dense (post, pre) array."""
    conns = nest.GetConnections(pre_pop, post_pop, synapse_model="eprop_synapse").get(["source", "target", "weight"])
    src = np.asarray(conns["source"], dtype=np.int64) - pre_pop[0].global_id
    tgt = np.asarray(conns["target"], dtype=np.int64) - post_pop[0].global_id
    w = np.zeros((len(post_pop), len(pre_pop)))
    w[tgt, src] = np.asarray(conns["weight"], dtype=np.float64)
    return w


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="eprop_iaf", choices=tasks.RECURRENT_MODELS)
    ap.add_argument("--variant", default="test", choices=("test", "example"))
    ap.add_argument("--optimizer", default="gradient_descent", choices=("gradient_descent", "adam"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n-iter", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--accumulate", action="store_true", help="optimize_each_step False")
    args = ap.parse_args(argv)
    task = tasks.sine_wave_task(seed=args.seed, n_iter=args.n_iter, steps_per_sequence=args.steps, model=args.model, variant=args.variant)
    res = run_nest(task, optimizer=args.optimizer, optimize_each_step=False if args.accumulate else None)
    np.set_printoptions(precision=14)
    print("losses:", res["losses"])
    print("simulate wall time: %.3f s" % res["simulate_wall_time"])


if __name__ == "__main__":
    main()
