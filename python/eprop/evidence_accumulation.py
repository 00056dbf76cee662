"""Bellec et al.'s evidence-accumulation (cue-accumulation) task, as NEST's e-prop example draws it.

NumPy only (never imports NEST or the library). For the same seed this module produces
exactly the input spikes, cues, labels and initial weights of NEST 3.10's example
``eprop_supervised_classification_evidence-accumulation_bsshslm_2020.py`` and of
``test_eprop_classification`` in ``test_eprop_bsshslm_2020_plasticity.py`` (spec 10.7, 11.3):
it makes the same calls on NumPy's legacy Mersenne-Twister stream
(:class:`numpy.random.RandomState`, identical to ``np.random.seed``) in the same order.

The task
--------
One *sequence* has ``steps_per_sequence = n_cues * (steps_cue + steps_spacing) + steps_bg_noise
+ steps_recall`` time steps (2250 with the defaults). The ``n_in`` input neurons form four
equal groups (10 neurons each for ``n_in = 40``):

====== ============= ================================================================
group  neurons       spike probability per time step
====== ============= ================================================================
left   0 ... n/4-1   ``spike_prob`` while a left cue is shown, else 0
right  n/4 ... n/2-1 ``spike_prob`` while a right cue is shown, else 0
recall n/2 ... 3n/4-1 ``spike_prob`` in the last ``steps_recall`` steps, else 0
noise  3n/4 ... n-1  ``spike_prob / 4`` at every step
====== ============= ================================================================

Cue ``c`` (0-based) is shown in steps ``[c*(cue+spacing) + spacing, c*(cue+spacing) + spacing + cue)``
of the sequence. Each sequence first draws which side is favoured (probability 1/2 each), then
``n_cues`` cues, each on the favoured side with probability ``1 - prob_group``. The label is
1 ("right", readout 1) if more than ``n_cues // 2`` cues are right cues, else 0 ("left",
readout 0). No input neuron spikes in step 0 of a sequence (NEST's example removes those
spikes because the time-driven e-prop synapse drops spikes arriving at the start of an
update interval, spec 10.3).

Draw order (per batch, exactly as the example): ``choice([0, 1], n_batch)`` for the
favoured sides; per sequence ``choice([0, 1], n_cues, p=probs)`` with float32 probabilities;
one ``rand`` of size ``n_batch * steps_per_sequence * n_in`` (C order over
(sequence, step, neuron)) compared with the spike probabilities (spike if probability > draw).
The example draws its initial weights (:func:`example_weights`) *before* the first batch, from
the same stream, so use :func:`example_inputs` (or pass the advanced ``rng``) to reproduce it.

Units and timing
----------------
Times are in ms. Step ``s`` of sequence ``b`` of a batch gets the time
``t_start + (b * steps_per_sequence + s) * dt``; NEST's example uses ``dt = 1 ms`` and
``t_start = 1 ms`` (``offset_gen``) for the first batch, and feeds the times to
``spike_generator`` s (which relay through ``parrot_neuron`` s). The target of sequence ``b``
is given to the readouts' ``step_rate_generator`` s (receptor 2) with amplitude time
``t_start + 3 * dt + b * steps_per_sequence * dt`` (``total_offset`` = 4 steps: generator
offset, input->recurrent, recurrent->readout and readout normalisation delays) and the one-hot
values of the label. The example casts spike times to float32; on the 1 ms grid that is exact
below 2**24 ms, and this module returns float64 values equal to them.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

__all__ = [
    "N_SYMBOLS",
    "EvidenceBatch",
    "generate",
    "example_weights",
    "example_inputs",
    "spike_probabilities",
]

#: Number of input groups: left cues, right cues, recall, background noise.
N_SYMBOLS = 4

#: Number of readouts (left, right).
N_OUT = 2

#: Steps between the input time of sequence step 0 and the amplitude time of its target
#: (input->recurrent, recurrent->readout, readout normalisation delays; spec 10.7).
TARGET_DELAY_STEPS = 3


@dataclasses.dataclass(frozen=True)
class EvidenceBatch:
    """One batch of evidence-accumulation sequences.

    Attributes:
        input_spikes: bool (n_batch, steps_per_sequence, n_in); True where input neuron ``i``
            spikes in step ``s`` of sequence ``b``.
        spike_times: list of ``n_in`` float64 arrays, the spike times (ms, ascending) of each
            input neuron over the whole batch (see the module docstring for the time grid).
        cues: int64 (n_batch, n_cues); 0 = left cue, 1 = right cue.
        labels: int64 (n_batch,); 1 if the majority of cues are right cues, else 0. Index of
            the readout that should win.
        targets: float64 (n_batch, 2); one-hot of ``labels`` (column k = readout k).
        target_times: float64 (n_batch,); amplitude times (ms) of the target generators, one
            per sequence.
        target_values: float64 (2, n_batch); amplitude values of generator k (= targets.T).
        n_in: number of input neurons.
        steps_per_sequence: time steps of one sequence.
        steps_recall: time steps of the recall window at the end of each sequence (the
            learning window of the example).
        dt: resolution (ms).
        t_start: time (ms) of step 0 of the first sequence.
    """

    input_spikes: np.ndarray
    spike_times: list
    cues: np.ndarray
    labels: np.ndarray
    targets: np.ndarray
    target_times: np.ndarray
    target_values: np.ndarray
    n_in: int
    steps_per_sequence: int
    steps_recall: int
    dt: float
    t_start: float

    @property
    def n_batch(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_out(self) -> int:
        return N_OUT

    @property
    def duration_ms(self) -> float:
        """Length of the batch in ms (n_batch * steps_per_sequence * dt)."""
        return self.n_batch * self.steps_per_sequence * self.dt

    def target_per_step(self) -> np.ndarray:
        """float64 (n_batch * steps_per_sequence, 2): the one-hot target at every step of the batch."""
        return np.repeat(self.targets, self.steps_per_sequence, axis=0)

    def spike_arrays(self):
        """(neurons, times): all input spikes as two flat arrays (int64, float64), sorted by time
        and then neuron."""
        b, s, i = np.nonzero(self.input_spikes)
        times = self.t_start + (b * self.steps_per_sequence + s) * self.dt
        order = np.lexsort((i, times))
        return i[order].astype(np.int64), times[order]


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def _check_float(name, value, low, high, low_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    bad = not np.isfinite(value) or value > high or (value <= low if low_open else value < low)
    if bad:
        left = "(" if low_open else "["
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}], got {value!r}")
    return value


def _rng(seed, rng):
    if rng is not None:
        if seed is not None:
            raise ValueError("give either seed or rng, not both")
        if not isinstance(rng, np.random.RandomState):
            raise TypeError(
                "rng must be a numpy.random.RandomState (the legacy stream NEST's example uses via np.random.seed), "
                f"got {type(rng).__name__}"
            )
        return rng
    if seed is None:
        raise ValueError("seed is required (an integer in [0, 2**32 - 1]) unless rng is given")
    return np.random.RandomState(_check_int("seed", seed, 0, 2**32 - 1))


def spike_probabilities(cues, n_in=40, spike_prob=0.04, steps_cue=100, steps_spacing=50, steps_bg_noise=1050, steps_recall=150):
    """float64 (n_batch, steps_per_sequence, n_in): the spike probability of every input neuron
    at every step, for the given cues (int array (n_batch, n_cues) of 0/1)."""
    cues = np.asarray(cues)
    n_batch, n_cues = cues.shape
    n_group = n_in // N_SYMBOLS
    steps_seq = n_cues * (steps_cue + steps_spacing) + steps_bg_noise + steps_recall
    p = np.zeros((n_batch, steps_seq, n_in))
    for b in range(n_batch):
        for c in range(n_cues):
            first = c * (steps_cue + steps_spacing) + steps_spacing
            group = int(cues[b, c])
            p[b, first : first + steps_cue, group * n_group : (group + 1) * n_group] = spike_prob
    p[:, steps_seq - steps_recall :, 2 * n_group : 3 * n_group] = spike_prob
    p[:, :, 3 * n_group :] = spike_prob / 4.0
    return p


def generate(
    n_batch,
    seed=None,
    *,
    rng=None,
    n_in=40,
    n_cues=7,
    prob_group=0.3,
    spike_prob=0.04,
    steps_cue=100,
    steps_spacing=50,
    steps_bg_noise=1050,
    steps_recall=150,
    dt=1.0,
    t_start=1.0,
) -> EvidenceBatch:
    """Draw one batch of ``n_batch`` sequences.

    Args:
        n_batch: number of sequences (>= 1).
        seed: seed of a fresh ``numpy.random.RandomState`` (integer in [0, 2**32 - 1]); or
        rng: a ``numpy.random.RandomState`` to draw from (and advance), e.g. to continue the
            example's stream after its weight draws. Exactly one of ``seed`` and ``rng``.
        n_in: input neurons, a positive multiple of 4 (four groups).
        n_cues: cues per sequence (>= 1).
        prob_group: probability that a cue is on the *non*-favoured side, in [0, 1].
        spike_prob: spike probability per step of an active cue/recall neuron, in [0, 1]
            (noise neurons use spike_prob / 4).
        steps_cue, steps_spacing, steps_bg_noise, steps_recall: durations in steps
            (steps_cue >= 1, steps_spacing >= 1 (step 0 must precede the first cue),
            steps_bg_noise >= 0, steps_recall >= 1).
        dt: resolution in ms (> 0).
        t_start: time in ms of step 0 of the first sequence (>= 0; NEST's example: 1 ms plus the
            iteration offset).

    Returns:
        :class:`EvidenceBatch`.
    """
    n_batch = _check_int("n_batch", n_batch, 1)
    n_in = _check_int("n_in", n_in, N_SYMBOLS)
    if n_in % N_SYMBOLS:
        raise ValueError(f"n_in must be a positive multiple of {N_SYMBOLS} (four input groups), got {n_in}")
    n_cues = _check_int("n_cues", n_cues, 1)
    prob_group = _check_float("prob_group", prob_group, 0.0, 1.0)
    spike_prob = _check_float("spike_prob", spike_prob, 0.0, 1.0)
    steps_cue = _check_int("steps_cue", steps_cue, 1)
    steps_spacing = _check_int("steps_spacing", steps_spacing, 1)
    steps_bg_noise = _check_int("steps_bg_noise", steps_bg_noise, 0)
    steps_recall = _check_int("steps_recall", steps_recall, 1)
    dt = _check_float("dt", dt, 0.0, 1e300, low_open=True)
    t_start = _check_float("t_start", t_start, 0.0, 1e300)
    rng = _rng(seed, rng)

    # Favoured side per sequence, then the cues with float32 probabilities (as the example).
    prob_choices = np.array([prob_group, 1.0 - prob_group], dtype=np.float32)
    side = rng.choice([0, 1], n_batch)
    probs = np.zeros((n_batch, 2), dtype=np.float32)
    probs[:, 0] = prob_choices[side]
    probs[:, 1] = prob_choices[1 - side]
    cues = np.zeros((n_batch, n_cues), dtype=np.int64)
    for b in range(n_batch):
        cues[b, :] = rng.choice([0, 1], n_cues, p=probs[b])

    p = spike_probabilities(cues, n_in, spike_prob, steps_cue, steps_spacing, steps_bg_noise, steps_recall)
    draws = rng.rand(p.size).reshape(p.shape)
    spikes = p > draws
    spikes[:, 0, :] = False

    labels = (cues.sum(axis=1) > n_cues // 2).astype(np.int64)
    targets = np.zeros((n_batch, N_OUT))
    targets[np.arange(n_batch), labels] = 1.0

    steps_seq = p.shape[1]
    flat = spikes.reshape(n_batch * steps_seq, n_in)
    times_grid = t_start + np.arange(n_batch * steps_seq) * dt
    spike_times = [times_grid[flat[:, i]] for i in range(n_in)]
    target_times = t_start + TARGET_DELAY_STEPS * dt + np.arange(n_batch) * steps_seq * dt
    return EvidenceBatch(
        input_spikes=spikes,
        spike_times=spike_times,
        cues=cues,
        labels=labels,
        targets=targets,
        target_times=target_times,
        target_values=targets.T.copy(),
        n_in=n_in,
        steps_per_sequence=steps_seq,
        steps_recall=steps_recall,
        dt=dt,
        t_start=t_start,
    )


def example_weights(rng, n_in=40, n_rec=100, n_out=N_OUT):
    """Draw the example's initial weights from ``rng`` (a RandomState), in its order.

    Returns a dict of float64 arrays holding float32 values (the example creates float32
    arrays), indexed [post, pre]:

    * ``in_rec`` (n_rec, n_in): normal / sqrt(n_in);
    * ``rec_rec`` (n_rec, n_rec): normal / sqrt(n_rec), diagonal 0 (no autapses);
    * ``rec_out`` (n_out, n_rec): Glorot-uniform with limit sqrt(3 / max(1, (n_rec + n_out) / 2));
    * ``out_rec`` (n_rec, n_out): feedback weights B, standard normal.
    """
    if not isinstance(rng, np.random.RandomState):
        raise TypeError(f"rng must be a numpy.random.RandomState, got {type(rng).__name__}")
    n_in = _check_int("n_in", n_in, 1)
    n_rec = _check_int("n_rec", n_rec, 1)
    n_out = _check_int("n_out", n_out, 1)
    f32 = np.float32
    w_in = np.array(rng.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=f32)
    w_rec = np.array(rng.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=f32)
    np.fill_diagonal(w_rec, 0.0)
    limit = np.sqrt(3.0 * (1.0 / max(1.0, (n_rec + n_out) / 2.0)))
    w_out = np.array(rng.uniform(low=-limit, high=limit, size=(n_rec, n_out)).T, dtype=f32)
    b = np.array(rng.randn(n_rec, n_out), dtype=f32)
    return {
        "in_rec": w_in.astype(np.float64),
        "rec_rec": w_rec.astype(np.float64),
        "rec_out": w_out.astype(np.float64),
        "out_rec": b.astype(np.float64),
    }


def example_inputs(n_iter, batch_size=32, seed=1, n_rec=100, t_offset=1.0, **task):
    """Weights and batches exactly as NEST's example (and test_eprop_classification) draw them.

    ``np.random.seed(seed)``, then :func:`example_weights`, then one :func:`generate` call of
    ``batch_size`` sequences per iteration; iteration ``k`` starts at
    ``t_offset + k * batch_size * steps_per_sequence * dt`` ms.

    Args:
        n_iter: number of iterations (>= 1).
        batch_size: sequences per iteration (>= 1); 32 in the example, 1 or 2 in the test.
        seed: the example's ``rng_seed`` (1).
        n_rec: recurrent neurons (the example: 50 regular + 50 adaptive).
        t_offset: time (ms) of step 0 of the first sequence (offset_gen, 1 ms).
        **task: further arguments of :func:`generate` (n_in, n_cues, ..., dt).

    Returns:
        (weights, batches): the dict of :func:`example_weights` and a list of ``n_iter``
        :class:`EvidenceBatch`.
    """
    n_iter = _check_int("n_iter", n_iter, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    rng = _rng(seed, None)
    n_in = task.get("n_in", 40)
    weights = example_weights(rng, n_in=n_in, n_rec=n_rec, n_out=N_OUT)
    batches = []
    for k in range(n_iter):
        t_start = float(t_offset) + (k * batches[0].duration_ms if batches else 0.0)
        batches.append(generate(batch_size, rng=rng, t_start=t_start, **task))
    return weights, batches
