"""NEST's sine-wave regression network (spec 2, 11.1, 12.3) built and trained with eprop.

:func:`build_sine_wave_network` builds the network of ``eprop_supervised_regression_sine-waves.py``
and ``test_eprop_regression`` from a :class:`eprop.tasks.SineWaveTask`: populations in
NEST's creation order (input parrots, recurrent neurons, readouts), dense connections,
the learning-signal connection, input spikes, target and learning window, and recorders.

:func:`train_sine_waves` simulates it one iteration (sequence) at a time and computes each
iteration's loss as soon as its samples exist, clearing the recorder as it goes, so memory
stays bounded however many iterations run. Simulating in pieces gives exactly the same
result as NEST's single ``Simulate`` call of ``task.sim_time_ms``.
"""

from __future__ import annotations

import dataclasses
import sys
import time as _time

import numpy as np

from . import tasks as _tasks
from .network import Network

__all__ = ["SineWaveNetwork", "SineWaveTraining", "build_sine_wave_network", "train_sine_waves",
           "REC_RECORDABLES", "READOUT_RECORDABLES"]

#: What the recurrent multimeter of NEST's test/example records.
REC_RECORDABLES = ("V_m", "surrogate_gradient", "learning_signal")
#: What the readout multimeter records (the loss needs the first two).
READOUT_RECORDABLES = ("readout_signal", "target_signal")

#: Weight of the final-update spike onto the recurrent neurons (spec 11.1).
FINAL_UPDATE_WEIGHT = 1000.0


@dataclasses.dataclass
class SineWaveNetwork:
    """A built sine-wave network.

    Attributes:
        task: the task it was built from.
        network: the :class:`eprop.Network`.
        inputs, recurrent, readout: the populations (ids 0, 1, 2).
        final_input: the 1-neuron input population standing for the final-update
            spike_generator's direct connection to the recurrent neurons, or None.
        proj_in, proj_rec, proj_out: the eprop_synapse projections (W_in, W_rec, W_out).
        proj_feedback: the eprop_learning_signal_connection projection (B).
        proj_final: static_synapse final_input -> recurrent (weight 1000), or None.
        readout_recorder: state recorder of ``readout_recordables`` of every readout.
        recurrent_recorder: state recorder of ``rec_recordables`` of ``record_rec_neurons``, or None.
        spike_recorder: spike recorder of the recurrent population, or None.
        weight_recorders: ``{"in"|"rec"|"out": WeightRecorder}`` for ``record_synapses``.
    """

    task: _tasks.SineWaveTask
    network: Network
    inputs: object
    recurrent: object
    readout: object
    final_input: object
    proj_in: object
    proj_rec: object
    proj_out: object
    proj_feedback: object
    proj_final: object
    readout_recorder: object
    recurrent_recorder: object
    spike_recorder: object
    weight_recorders: dict

    def losses(self) -> np.ndarray:
        """Per-iteration losses from everything the readout recorder holds (whole-run recording)."""
        rec = self.readout_recorder
        times, data = rec.get()
        y = data[:, rec.recordables.index("readout_signal"), :]
        y_star = data[:, rec.recordables.index("target_signal"), :]
        return _tasks.loss_per_iteration(y, y_star, times, self.task)


def _final_update_spike_time(task) -> float:
    # spike_generator spike at t_task + dt (spec 11.1).
    return task.task_steps * task.dt + task.dt


def build_sine_wave_network(
    task: _tasks.SineWaveTask,
    recurrent_params: dict | None = None,
    readout_params: dict | None = None,
    optimizer_params: dict | None = None,
    record_rec_neurons=(0, 1, 2, 3, 4),
    record_synapses: dict | None = None,
    final_update: bool = False,
    *,
    record_spikes: bool = False,
    readout_recordables=READOUT_RECORDABLES,
    rec_recordables=REC_RECORDABLES,
    threads: int = 1,
    synapse_precision: str = "double",
) -> SineWaveNetwork:
    """Build NEST's sine-wave regression network for ``task``.

    Args:
        task: from :func:`eprop.tasks.sine_wave_task`.
        recurrent_params, readout_params: NEST parameter dicts; default
            :func:`eprop.tasks.recurrent_parameters` / :func:`readout_parameters` of the task.
        optimizer_params: the eprop_synapse ``optimizer`` dict (with ``type``); default
            :func:`eprop.tasks.optimizer_parameters` of the task. Set before connecting, as
            NEST requires for the type.
        record_rec_neurons: recurrent neurons whose ``rec_recordables`` (default V_m,
            surrogate_gradient and learning_signal) are recorded every step (empty: no recorder).
        record_synapses: ``{"in"|"rec"|"out": [(pre, post), …]}`` synapses whose weights
            are recorded every step.
        final_update: add the example's final-update spike (spec 11.1): a spike_generator
            spike at ``T + dt`` (T = task duration) to every input parrot and, with weight
            1000, to every recurrent neuron. Our input population has parrot timing, so the
            parrots get an extra input spike at ``T + dt``, and the direct generator ->
            recurrent connection is an extra 1-neuron input population spiking at ``T``
            (it fires one step later, like the generator's spike with stamp T + dt)
            connected by static_synapse weight 1000. It only matters for the final weights.
        record_spikes: record the recurrent spikes.
        readout_recordables: what the readout recorder records (must include
            readout_signal and target_signal for the losses).
        rec_recordables: what the recurrent recorder records.
        threads: threads of the network (results are identical for any number).
        synapse_precision: storage of the eprop synapses, ``"double"`` (NEST's results) or
            ``"single"`` (docs/precision.md).
    """
    recurrent_params = _tasks.recurrent_parameters(task) if recurrent_params is None else dict(recurrent_params)
    readout_params = _tasks.readout_parameters(task) if readout_params is None else dict(readout_params)
    optimizer_params = _tasks.optimizer_parameters(task) if optimizer_params is None else dict(optimizer_params)

    net = Network(resolution=task.dt, threads=threads, synapse_precision=synapse_precision)
    inputs = net.add_population("input", task.n_in)
    recurrent = net.add_population(task.model, task.n_rec, **recurrent_params)
    readout = net.add_population("eprop_readout", task.n_out, **readout_params)
    final_input = net.add_population("input", 1) if final_update else None

    opt = dict(optimizer_params)
    net.set_optimizer(type=opt.pop("type", None), **opt)

    proj_in = net.connect(inputs, recurrent, "eprop_synapse", weights=task.weights_in)
    proj_rec = net.connect(recurrent, recurrent, "eprop_synapse", weights=task.weights_rec, allow_autapses=False)
    proj_out = net.connect(recurrent, readout, "eprop_synapse", weights=task.weights_out)
    proj_feedback = net.connect(readout, recurrent, "eprop_learning_signal_connection", weights=task.feedback)
    proj_final = None

    neurons, times = task.input_neurons, task.input_times
    if final_update:
        t_final = _final_update_spike_time(task)
        neurons = np.concatenate([neurons, np.arange(task.n_in, dtype=np.int64)])
        times = np.concatenate([times, np.full(task.n_in, t_final)])
        proj_final = net.connect(
            final_input, recurrent, "static_synapse", weights=np.full((task.n_rec, 1), FINAL_UPDATE_WEIGHT)
        )
        final_input.set_spike_times([0], [t_final - task.dt])
    inputs.set_spike_times(neurons, times)
    readout.set_target(task.target_times, task.target_values)
    readout.set_learning_window(task.window_times, task.window_values)

    readout_recorder = net.record_state(readout, list(readout_recordables))
    rec_neurons = list(record_rec_neurons or ())
    recurrent_recorder = net.record_state(recurrent, list(rec_recordables), rec_neurons) if rec_neurons else None
    spike_recorder = net.record_spikes(recurrent) if record_spikes else None
    weight_recorders = {}
    projections = {"in": proj_in, "rec": proj_rec, "out": proj_out}
    for key, pairs in (record_synapses or {}).items():
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs):
            weight_recorders[key] = net.record_weights(projections[key], pairs[:, 0], pairs[:, 1])

    return SineWaveNetwork(
        task=task, network=net, inputs=inputs, recurrent=recurrent, readout=readout, final_input=final_input,
        proj_in=proj_in, proj_rec=proj_rec, proj_out=proj_out, proj_feedback=proj_feedback, proj_final=proj_final,
        readout_recorder=readout_recorder, recurrent_recorder=recurrent_recorder, spike_recorder=spike_recorder,
        weight_recorders=weight_recorders,
    )


@dataclasses.dataclass
class SineWaveTraining:
    """Result of :func:`train_sine_waves`.

    Attributes:
        losses: (iterations run,) loss of each iteration, as NEST's example computes it.
        net: the :class:`SineWaveNetwork` (final weights: ``net.proj_rec.weight_matrix()`` …).
        last_times: (steps,) sample times of the last iteration, ms.
        last_readout, last_target: (steps, n_out) readout signal y·λ and target y*·λ of the
            last iteration.
        simulate_seconds: wall time spent in simulate.
    """

    losses: np.ndarray
    net: SineWaveNetwork
    last_times: np.ndarray
    last_readout: np.ndarray
    last_target: np.ndarray
    simulate_seconds: float

    @property
    def task(self):
        return self.net.task


def _iteration_bar(it: int, n: int, loss: float, stream=None) -> None:
    stream = stream if stream is not None else sys.stderr
    width = 30
    filled = int(round(width * it / n))
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] iteration {it}/{n}  loss {loss:.4f}")
    if it == n:
        stream.write("\n")
    stream.flush()


def train_sine_waves(
    task: _tasks.SineWaveTask | None = None,
    iterations: int | None = None,
    seed: int = 1,
    variant: str = "example",
    *,
    model: str = "eprop_iaf",
    steps_per_sequence: int = 1000,
    optimizer: str = "gradient_descent",
    optimize_each_step: bool | None = None,
    batch_size: int = 1,
    recurrent_params: dict | None = None,
    readout_params: dict | None = None,
    optimizer_params: dict | None = None,
    final_update: bool = True,
    progress=False,
    callback=None,
    threads: int = 1,
    synapse_precision: str = "double",
) -> SineWaveTraining:
    """Train the sine-wave task iteration by iteration and return the per-iteration losses.

    The network is simulated in one call per iteration of ``steps_per_sequence`` ms; the
    first call also covers the two-step input latency (``task.total_offset``) and the last
    one the three-step extension, so the calls add up to NEST's ``Simulate(sim_time_ms)``
    and give the same result. After each call the iteration's loss is computed from the
    readout samples at times ``total_offset + 1 + k·steps … total_offset + (k+1)·steps``
    (exactly :func:`eprop.tasks.loss_per_iteration`'s arithmetic) and the recorder is cleared.

    Args:
        task: a task; default ``sine_wave_task(seed, iterations, steps_per_sequence, model=model,
            variant=variant)``.
        iterations: number of iterations (default: ``task.n_iter``, or 200 without a task).
            Fewer than ``task.n_iter`` trains only the first ones.
        seed, variant, model, steps_per_sequence: task arguments when ``task`` is None.
        optimizer, optimize_each_step, batch_size: optimizer when ``optimizer_params`` is None.
        recurrent_params, readout_params, optimizer_params: as :func:`build_sine_wave_network`.
        final_update: add the example's final-update spike (default True, as the example).
        progress: True for an iteration progress bar on stderr.
        callback: ``callback(iteration, loss, net)`` after each iteration (1-based);
            returning False stops training early.
        threads: threads of the network (results are identical for any number).
        synapse_precision: storage of the eprop synapses (``"double"`` or ``"single"``).
    """
    if task is None:
        n = 200 if iterations is None else int(iterations)
        task = _tasks.sine_wave_task(seed=seed, n_iter=n, steps_per_sequence=steps_per_sequence, model=model,
                                     variant=variant)
    n_iter = task.n_iter if iterations is None else int(iterations)
    if not 1 <= n_iter <= task.n_iter:
        raise ValueError(f"iterations: must be in 1 … task.n_iter = {task.n_iter}, got {n_iter}")
    if optimizer_params is None:
        optimizer_params = _tasks.optimizer_parameters(task, optimizer, optimize_each_step, batch_size)
    net = build_sine_wave_network(task, recurrent_params, readout_params, optimizer_params, record_rec_neurons=(),
                                  final_update=final_update, threads=threads, synapse_precision=synapse_precision)

    dt = task.dt
    steps = task.steps_per_sequence
    seq_ms = steps * dt
    offset_ms = task.total_offset * dt
    extension_ms = task.sim_time_ms - task.task_steps * dt - offset_ms
    one = dataclasses.replace(task, n_iter=1)
    rec = net.readout_recorder
    k_y = rec.recordables.index("readout_signal")
    k_t = rec.recordables.index("target_signal")

    losses = np.empty(n_iter)
    sim_seconds = 0.0
    last = (np.empty(0), np.empty((0, task.n_out)), np.empty((0, task.n_out)))
    ran = 0
    for it in range(n_iter):
        duration = seq_ms + (offset_ms if it == 0 else 0.0) + (extension_ms if it == task.n_iter - 1 else 0.0)
        t0 = _time.perf_counter()
        net.network.simulate(duration)
        sim_seconds += _time.perf_counter() - t0
        times, data = rec.get()
        rec.clear()
        shift = it * seq_ms
        y, y_star = data[:, k_y, :], data[:, k_t, :]
        losses[it] = _tasks.loss_per_iteration(y, y_star, times - shift, one)[0]
        ran = it + 1
        lo = offset_ms + dt + shift  # first sample time of this iteration
        sel = (times >= lo) & (times < lo + seq_ms)
        last = (times[sel], y[sel], y_star[sel])
        if progress:
            _iteration_bar(it + 1, n_iter, losses[it])
        if callback is not None and callback(it + 1, float(losses[it]), net) is False:
            break
    return SineWaveTraining(losses=losses[:ran], net=net, last_times=last[0], last_readout=last[1],
                            last_target=last[2], simulate_seconds=sim_seconds)
