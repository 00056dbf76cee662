"""Task generators that reproduce the inputs of NEST's e-prop examples and tests.

This module depends on NumPy only (it never imports NEST). It re-creates, draw for draw,
the random numbers of the sine-wave regression task used by NEST's example
``eprop_supervised_regression_sine-waves.py`` and by ``test_eprop_regression`` in
NEST's ``test_eprop_plasticity.py`` (spec sections 11.1 and 12.3), so that a network built
from a :class:`SineWaveTask` sees exactly the same weights, input spikes and targets as the
NEST run.

Conventions (spec section 1):

* times are in ms on a 1 ms grid (``dt = 1.0``);
* every 2-D weight array is indexed ``[post, pre]`` with 0-based indices inside the
  populations;
* the draws use the legacy global NumPy RNG (``np.random.seed``), in the order
  W_in, W_rec, W_out, B, input mask, target amplitudes, target phases.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = [
    "RECURRENT_MODELS",
    "SineWaveTask",
    "sine_wave_task",
    "loss_per_iteration",
    "recurrent_parameters",
    "readout_parameters",
    "optimizer_parameters",
]

#: Recurrent neuron models of the event-driven e-prop family.
RECURRENT_MODELS = ("eprop_iaf", "eprop_iaf_adapt", "eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt")

_PSC_DELTA_MODELS = ("eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt")

#: Low-pass filter constant of the eligibility trace used by the examples; s = 1 - kappa.
_KAPPA = 0.97

#: Periods (in steps) of the four superimposed sine components of the target (spec 11.1).
_TARGET_PERIODS = (1000, 500, 333, 200)

#: Offsets in steps (spec 2 and 11.1): generators start at step 1, input -> recurrent delay 1.
_OFFSET_GEN = 1
_DELAY_IN_REC = 1
_EXTENSION_SIM = 3


@dataclasses.dataclass
class SineWaveTask:
    """Everything needed to build the sine-wave regression network of NEST's example/test.

    Shapes use ``T = n_iter * steps_per_sequence``. All arrays are ``float64`` unless noted.

    Attributes:
        seed: seed passed to ``np.random.seed`` before the draws.
        n_iter: number of training iterations (sequences); group size is 1.
        steps_per_sequence: steps (= ms, since dt = 1 ms) of one sequence.
        n_in, n_rec, n_out: population sizes (input parrots, recurrent neurons, readouts).
        model: recurrent neuron model name (one of :data:`RECURRENT_MODELS`).
        variant: ``"test"`` (``test_eprop_regression``) or ``"example"`` (the sine-wave example).
            The only effect on the task itself: the example does not rescale W_in, W_rec and B
            for ``eprop_iaf_adapt`` (it rescales only for ``eprop_iaf``), the test does.
        dt: resolution in ms (always 1.0).
        scale: s = 1 - kappa = 0.030000000000000027.
        weights_in: (n_rec, n_in) input -> recurrent weights, [post, pre].
        weights_rec: (n_rec, n_rec) recurrent -> recurrent weights, [post, pre], diagonal 0.
        weights_out: (n_out, n_rec) recurrent -> readout weights, [post, pre].
        feedback: (n_rec, n_out) learning-signal weights B, [post = recurrent, pre = readout].
        input_mask: (n_in, steps_per_sequence) bool, the frozen Poisson pattern.
        input_neurons: (n_spikes,) int64, 0-based input neuron of each spike_generator spike.
        input_times: (n_spikes,) spike_generator spike times in ms, ``k + 1 + steps*iteration``,
            sorted by time and then by neuron. The parrot re-emits each spike one step later
            (it emits in step T, i.e. with stamp T + 1; spec section 2).
        target_sequence: (steps_per_sequence,) one period of the normalised target.
        target_times: (T,) amplitude times of the target step_rate_generator in ms, ``k + 2``.
        target_values: (n_out, T) target amplitudes (every readout gets the same target).
            Identically 0 when steps_per_sequence < 200 (no full sine cycle fits; spec 12.3).
        window_times: (1,) amplitude times of the learning-window generator, ``[2.0]`` ms.
        window_values: (n_out, 1) learning-window amplitudes, all 1.0.
        total_offset: 2 steps (offset_gen + delay_in_rec).
        sim_time_ms: ``T + 2 + 3`` ms, the duration passed to ``Simulate``.
    """

    seed: int
    n_iter: int
    steps_per_sequence: int
    n_in: int
    n_rec: int
    n_out: int
    model: str
    variant: str
    dt: float
    scale: float
    weights_in: np.ndarray
    weights_rec: np.ndarray
    weights_out: np.ndarray
    feedback: np.ndarray
    input_mask: np.ndarray
    input_neurons: np.ndarray
    input_times: np.ndarray
    target_sequence: np.ndarray
    target_times: np.ndarray
    target_values: np.ndarray
    window_times: np.ndarray
    window_values: np.ndarray
    total_offset: int
    sim_time_ms: float
    input_rate_probability: float = 0.05

    @property
    def task_steps(self) -> int:
        """Number of task steps ``n_iter * steps_per_sequence``."""
        return self.n_iter * self.steps_per_sequence

    def input_spike_times_per_neuron(self) -> list:
        """Per input neuron, its spike_generator times in ms as float32 (what NEST is given)."""
        out = []
        for i in range(self.n_in):
            out.append(self.input_times[self.input_neurons == i].astype(np.float32))
        return out


def _superimposed_sines(steps_sequence: int) -> np.ndarray:
    """Normalised sum of four sines; draws amplitudes then phases from the global RNG."""
    n_sines = len(_TARGET_PERIODS)
    amplitudes = np.random.uniform(low=0.5, high=2.0, size=n_sines)
    phases = np.random.uniform(low=0.0, high=2.0 * np.pi, size=n_sines)
    total = None
    for amp, phase, period in zip(amplitudes, phases, _TARGET_PERIODS):
        n_cycles = steps_sequence // period
        component = amp * np.sin(np.linspace(phase, phase + 2.0 * np.pi * n_cycles, steps_sequence))
        # Left-to-right accumulation starting from 0, as Python's built-in sum() does.
        total = (0 + component) if total is None else total + component
    total = total - total[0]
    total = total / max(np.abs(total).max(), 1e-6)
    return total


def sine_wave_task(
    seed: int = 1,
    n_iter: int = 200,
    steps_per_sequence: int = 1000,
    n_in: int = 100,
    n_rec: int = 100,
    n_out: int = 1,
    model: str = "eprop_iaf",
    input_rate_probability: float = 0.05,
    variant: str = "test",
) -> SineWaveTask:
    """Draw the sine-wave regression task exactly as NEST's example and test do.

    The global legacy RNG is seeded with ``seed`` and drawn in the order of spec 11.1/12.3:
    W_in, W_rec, W_out, B, input mask, target amplitudes, target phases. The weights are
    float32 like NEST's script; the scale products are float32 x Python float, which stays
    float32, and only then converted to float64 (the value NEST stores).

    Args:
        seed: RNG seed (``np.random.seed(seed)``).
        n_iter: number of iterations (sequences).
        steps_per_sequence: length of one sequence in steps (ms).
        n_in, n_rec, n_out: population sizes.
        model: recurrent model; selects the weight scaling.
        input_rate_probability: per-step spike probability of the frozen input pattern.
        variant: ``"test"`` or ``"example"``; see :class:`SineWaveTask`.

    Returns:
        A :class:`SineWaveTask`.
    """
    if model not in RECURRENT_MODELS:
        raise ValueError(f"unknown recurrent model {model!r}; expected one of {RECURRENT_MODELS}")
    if variant not in ("test", "example"):
        raise ValueError(f"variant must be 'test' or 'example', got {variant!r}")

    np.random.seed(seed)
    scale = 1.0 - _KAPPA
    f32 = np.float32

    # 1) W_in, 2) W_rec, 3) W_out, 4) B; each randn is transposed to [post, pre] and cast.
    w_in = np.array(np.random.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=f32)
    w_rec = np.array(np.random.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=f32)
    np.fill_diagonal(w_rec, 0.0)
    w_out = np.array(np.random.randn(n_rec, n_out).T / np.sqrt(n_rec), dtype=f32) * scale
    b = np.array(np.random.randn(n_rec, n_out) / np.sqrt(n_rec), dtype=f32)

    scaled_models = ("eprop_iaf", "eprop_iaf_adapt") if variant == "test" else ("eprop_iaf",)
    if model in scaled_models:
        w_in *= scale
        w_rec *= scale
        b *= scale
    elif model in _PSC_DELTA_MODELS:
        b /= scale
    assert w_in.dtype == f32 and w_rec.dtype == f32 and w_out.dtype == f32 and b.dtype == f32

    # 5) frozen input pattern, drawn as (steps, n_in) and transposed to (neuron, step).
    mask = (np.random.rand(steps_per_sequence, n_in) < input_rate_probability).swapaxes(0, 1)
    mask = np.ascontiguousarray(mask)

    # 6), 7) target amplitudes and phases.
    target_seq = _superimposed_sines(steps_per_sequence)

    task_steps = n_iter * steps_per_sequence
    dt = 1.0

    # Input spikes: neuron i spikes at k + 1 + steps * it for each step k with mask[i, k].
    neurons, ks = np.nonzero(mask)
    iters = np.arange(n_iter)
    times = (ks[None, :] + _OFFSET_GEN + steps_per_sequence * iters[:, None]).astype(np.float64)
    neurons_all = np.broadcast_to(neurons[None, :], times.shape)
    times = times.ravel()
    neurons_all = neurons_all.ravel().astype(np.int64)
    order = np.lexsort((neurons_all, times))
    input_times = times[order]
    input_neurons = neurons_all[order]
    # NEST is given float32 times; they are exact integers, so the cast is lossless.
    assert np.array_equal(input_times.astype(np.float32).astype(np.float64), input_times)

    total_offset = _OFFSET_GEN + _DELAY_IN_REC
    target_times = np.arange(0.0, float(task_steps), dt) + total_offset
    target_values = np.tile(np.tile(target_seq, n_iter)[None, :], (n_out, 1))

    return SineWaveTask(
        seed=seed,
        n_iter=n_iter,
        steps_per_sequence=steps_per_sequence,
        n_in=n_in,
        n_rec=n_rec,
        n_out=n_out,
        model=model,
        variant=variant,
        dt=dt,
        scale=scale,
        weights_in=w_in.astype(np.float64),
        weights_rec=w_rec.astype(np.float64),
        weights_out=w_out.astype(np.float64),
        feedback=b.astype(np.float64),
        input_mask=mask,
        input_neurons=input_neurons,
        input_times=input_times,
        target_sequence=target_seq,
        target_times=target_times,
        target_values=target_values,
        window_times=np.array([float(total_offset)]),
        window_values=np.ones((n_out, 1)),
        total_offset=total_offset,
        sim_time_ms=float(task_steps + total_offset + _EXTENSION_SIM),
        input_rate_probability=input_rate_probability,
    )


def loss_per_iteration(readout_signal, target_signal, times, task: SineWaveTask) -> np.ndarray:
    """NEST's per-iteration regression loss 0.5 * mean_readouts sum_t (y - y*)^2.

    Uses the readout multimeter samples at times 3 ... T + 2 ms (readout update steps
    2 ... T + 1, the samples a NEST multimeter with start = 2, stop = T + 2 returns), with
    ``T = n_iter * steps_per_sequence``. Samples outside that range are ignored, so a
    recording of the whole simulation can be passed. The arithmetic follows the order of the
    NEST example (contiguous sum over the steps of a sequence, then mean over readouts).

    Args:
        readout_signal: (n_samples, n_out) recorded ``readout_signal`` (y times window).
        target_signal: (n_samples, n_out) recorded ``target_signal`` (y* times window).
        times: (n_samples,) sample times in ms, shared by all readouts.
        task: the task that was simulated.

    Returns:
        (n_iter,) float64 losses, one per iteration.
    """
    y = np.asarray(readout_signal, dtype=np.float64)
    y_star = np.asarray(target_signal, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y_star.ndim == 1:
        y_star = y_star[:, None]
    if y.shape != y_star.shape or y.shape[0] != times.shape[0]:
        raise ValueError("readout_signal, target_signal and times must have matching lengths")
    n_steps = task.steps_per_sequence
    n_task = task.n_iter * n_steps
    first = task.total_offset + 1
    wanted = np.arange(first, first + n_task, dtype=np.float64)
    idx = np.searchsorted(times, wanted)
    if np.any(idx >= times.size) or not np.array_equal(times[np.minimum(idx, times.size - 1)], wanted):
        raise ValueError(f"samples at times {first} ... {first + n_task - 1} ms are required")
    n_out = y.shape[1]
    # (n_out, n_iter, group=1, steps), C-contiguous like the example's reshaped arrays.
    y_r = np.ascontiguousarray(y[idx].T).reshape((n_out, task.n_iter, 1, n_steps))
    t_r = np.ascontiguousarray(y_star[idx].T).reshape((n_out, task.n_iter, 1, n_steps))
    return 0.5 * np.mean(np.sum((y_r - t_r) ** 2, axis=3), axis=(0, 2))


def recurrent_parameters(task: SineWaveTask, variant: str | None = None) -> dict:
    """NEST parameters of the recurrent population used by the test or the example.

    Args:
        task: the task (its model and sequence length matter).
        variant: ``"test"`` (test_eprop_regression: surrogate width 0.03, adapt model with
            adapt_beta 0.0174, adapt_tau 2000) or ``"example"`` (sine-wave example: width
            1/33.3, adapt model with adapt_beta 0). Defaults to ``task.variant``.
            Both use c_reg = 300 / steps_per_sequence (2 / steps / s^2 for psc_delta models),
            flush interval = steps_per_sequence ms and cutoff 100 ms.

    Returns:
        dict of NEST parameter name -> value (ms, mV, Hz, pF as in NEST).
    """
    variant = task.variant if variant is None else variant
    if variant not in ("test", "example"):
        raise ValueError(f"variant must be 'test' or 'example', got {variant!r}")
    seq_ms = task.steps_per_sequence * task.dt
    params = {
        "C_m": 1.0,
        "c_reg": 300.0 / seq_ms,
        "E_L": 0.0,
        "eprop_isi_trace_cutoff": 100.0,
        "f_target": 10.0,
        "flush_event_send_interval": seq_ms,
        "I_e": 0.0,
        "kappa": _KAPPA,
        "kappa_reg": _KAPPA,
        "surrogate_gradient_function": "piecewise_linear",
        "surrogate_gradient_height": 10.0,
        "surrogate_gradient_width": 0.03 if variant == "test" else 1.0 / 33.3,
        "t_ref": 0.0,
        "tau_m": 30.0,
        "V_m": 0.0,
        "V_th": 0.03,
    }
    if task.model in _PSC_DELTA_MODELS:
        params["V_reset"] = -0.5
        params["c_reg"] = 2.0 / seq_ms / task.scale**2
        params["V_th"] = 0.5
    elif task.model == "eprop_iaf_adapt":
        if variant == "test":
            params["adapt_beta"] = 0.0174
            params["adapt_tau"] = 2000.0
            params["adaptation"] = 0.0
        else:
            params["adapt_beta"] = 0.0
    return params


def readout_parameters(task: SineWaveTask, variant: str | None = None) -> dict:
    """NEST parameters of the ``eprop_readout`` population (same for test and example)."""
    return {
        "C_m": 1.0,
        "E_L": 0.0,
        "eprop_isi_trace_cutoff": 100.0,
        "I_e": 0.0,
        "tau_m": 30.0,
        "V_m": 0.0,
    }


def optimizer_parameters(
    task: SineWaveTask,
    optimizer: str = "gradient_descent",
    optimize_each_step: bool | None = None,
    batch_size: int = 1,
) -> dict:
    """The ``optimizer`` dictionary of ``eprop_synapse`` used by the test/example.

    Args:
        task: the task (its variant picks the default of ``optimize_each_step``).
        optimizer: ``"gradient_descent"`` or ``"adam"``.
        optimize_each_step: defaults to True for the test variant, False for the example.
        batch_size: optimizer batch size.

    Returns:
        dict with type, batch_size, eta = 1e-4 * s^2, optimize_each_step, Wmin -100,
        Wmax 100, and for Adam beta_1 0.9, beta_2 0.999, epsilon 1e-7.
    """
    if optimizer not in ("gradient_descent", "adam"):
        raise ValueError(f"optimizer must be 'gradient_descent' or 'adam', got {optimizer!r}")
    if optimize_each_step is None:
        optimize_each_step = task.variant == "test"
    params = {
        "type": optimizer,
        "batch_size": int(batch_size),
        "eta": 1e-4 * task.scale**2,
        "optimize_each_step": bool(optimize_each_step),
        "Wmin": -100.0,
        "Wmax": 100.0,
    }
    if optimizer == "adam":
        params["beta_1"] = 0.9
        params["beta_2"] = 0.999
        params["epsilon"] = 1e-7
    return params
