"""NEST's N-MNIST e-prop tutorial (spec 11.2) re-done with eprop: network, feeding, evaluation, training.

NEST 3.10's ``eprop_supervised_classification_neuromorphic_mnist.py`` trains a sparse
recurrent network of 150 ``eprop_iaf`` neurons with 10 MSE readouts (one per digit) on
N-MNIST event streams, online (batch 1), with continuous dynamics across samples. This
module rebuilds that pipeline on :class:`eprop.Network`:

* :class:`TutorialConfig` and :func:`recurrent_parameters` / :func:`readout_parameters` /
  :func:`optimizer_parameters`: the parameters of spec 11.2, configurable (sizes, model,
  sparsities, learning rate); :data:`CONFIGS` holds ``"tutorial"`` and ``"large"``.
* :func:`draw_weights`: NEST's random draws, in NEST's order, from the legacy NumPy RNG
  seeded with ``config.seed`` (W_in, W_rec, W_out, B, then the three masks).
* :class:`TutorialNetwork`: the eprop network; :meth:`TutorialNetwork.run_group` feeds one
  group (iteration) of samples as NEST does and returns the evaluation of the *previous*
  group, which is complete two steps into the next one (the readout window of a sample
  ends two steps after the sample: input latency ``total_offset`` = 2).
* :func:`evaluate_window`: NEST's per-sample prediction and loss (MSE, or the cross-entropy
  of readouts with ``TutorialConfig(loss="cross_entropy")``, an eprop extension).
* :func:`train`, :func:`run_test`: the training loop (seeded shuffling per epoch, eta switched
  between training and evaluation phases, validation on a held-out part of Train with early
  stopping) and the final test with eta = 0 (accuracy, confusion matrix).
* :meth:`TutorialNetwork.save` / :meth:`TutorialNetwork.load`: every projection (pre, post,
  weights) and the configuration in one ``.npz``.

Samples come from a *source*: any object with ``len(source)``, ``source.label(i)`` and
``source.spikes(i) -> (neurons, steps)`` (int64 input-neuron ids and step indices within
the sample). :class:`NMNISTSource` wraps :mod:`eprop.nmnist` datasets; :class:`PoissonSource`
makes synthetic class-dependent Poisson patterns (tests, benchmarks, development).

Timing (dt = 1 ms, NEST's): sample g of a group starting at time T0 occupies
[T0 + 300·g, T0 + 300·(g+1)); its event at step k is a spike_generator spike at
T0 + 300·g + k + 1 (the input neuron fires one step later, as NEST's parrot); the one-hot
target is set at T0 + 300·g + 2 and the learning window is 0 from T0 + 300·g + 2 and 1 from
T0 + 300·g + 292 (the last 10 steps). The readout samples of the sample are those with times
in (T0 + 300·g + 2, T0 + 300·(g+1) + 2]. NEST's example sets the next group's spike times
at its start T0, when the generator has already emitted the spikes of time T0; eprop's
``set_spike_times`` replaces every pending spike, so :meth:`TutorialNetwork.run_group` sets the
new schedule a few steps early, at a step without pending spikes, and re-adds the earlier
spikes up to T0 (exact; ``dropped_spikes`` counts spikes lost when no such step exists).

Learning-rate switches take effect one optimization late (spec 9.4), exactly as in NEST:
the first update of each synapse after a switch to eta = 0 still applies the gradient
accumulated during training with the training rate.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time as _time
from pathlib import Path

import numpy as np

from . import losses as _losses
from .network import Network

__all__ = [
    "TutorialConfig",
    "CONFIGS",
    "NetworkWeights",
    "GroupResult",
    "TrainingConfig",
    "TrainingHistory",
    "EvaluationResult",
    "TutorialNetwork",
    "NMNISTSource",
    "PoissonSource",
    "SubsetSource",
    "recurrent_parameters",
    "readout_parameters",
    "optimizer_parameters",
    "draw_weights",
    "evaluate_window",
    "confusion_matrix",
    "train",
    "run_test",
]

#: Input latency of the examples (offset_gen + delay_in_rec), steps.
TOTAL_OFFSET = 2


# ---------------------------------------------------------------------------------------------
# Configuration and parameters (spec 11.2)
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class TutorialConfig:
    """The network of NEST's N-MNIST tutorial (spec 11.2); defaults are NEST's values.

    Attributes:
        n_in, n_rec, n_out: population sizes (1196 active pixels, 150, 10).
        model: recurrent model (``eprop_iaf``; any of the four event-driven models).
        seed: seed of the legacy NumPy RNG for the weights and masks (NEST: 1).
        steps: time steps per sample (300).
        learning_window: last steps of each sample with learning window 1 (10).
        dt: resolution, ms.
        sparsity_in, sparsity_rec, sparsity_out: probability that a mask entry is 0
            (0.75, 0.99, 0.0: 25 %, 1 % and 100 % of the synapses kept).
        kappa: eligibility filter κ of the recurrent neurons; s = 1 − κ scales W_out, B,
            c_reg and the learning rate.
        eta_factor: eta_train = eta_factor · s² (NEST: 5e-3, so 5e-7).
        eta_test: learning rate of validation and test phases (0).
        loss: the readouts' ``loss``: ``"mean_squared_error"`` (NEST's) or
            ``"cross_entropy"`` (eprop's extension: softmax over the readouts of the same
            step, error π − y*); it also selects the loss :func:`evaluate_window` reports.
        rec_params, out_params: overrides of the recurrent / readout parameters.
        optimizer: overrides of the optimizer parameters (e.g. ``{"type": "adam"}``).
    """

    n_in: int = 1196
    n_rec: int = 150
    n_out: int = 10
    model: str = "eprop_iaf"
    seed: int = 1
    steps: int = 300
    learning_window: int = 10
    dt: float = 1.0
    sparsity_in: float = 0.75
    sparsity_rec: float = 0.99
    sparsity_out: float = 0.0
    kappa: float = 0.99
    eta_factor: float = 5e-3
    eta_test: float = 0.0
    loss: str = "mean_squared_error"
    rec_params: dict = dataclasses.field(default_factory=dict)
    out_params: dict = dataclasses.field(default_factory=dict)
    optimizer: dict = dataclasses.field(default_factory=dict)

    @property
    def scale(self) -> float:
        """s = 1 − κ (spec 11.2: "scale factor")."""
        return 1.0 - self.kappa

    @property
    def eta_train(self) -> float:
        """Learning rate of the training phases: eta_factor · s²."""
        return self.eta_factor * self.scale**2

    @property
    def sequence_ms(self) -> float:
        """Duration of one sample, ms."""
        return self.steps * self.dt

    def replace(self, **changes) -> "TutorialConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TutorialConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"TutorialConfig: unknown fields {sorted(unknown)}")
        return cls(**d)


#: Named configurations: NEST's tutorial network and a larger one sized for a ~30-minute
#: budget on a shared 2-core machine: 300 ``eprop_iaf`` (the fast accumulate-mode kernel;
#: the adaptive models are ~3x slower), 25 % input and 2 % recurrent synapses, twice the
#: tutorial's learning rate; NEST's other settings. (``eprop_iaf_adapt`` gets adapt_beta = 0
#: unless overridden, as in NEST's example.)
CONFIGS = {
    "tutorial": TutorialConfig(),
    "large": TutorialConfig(n_rec=300, sparsity_rec=0.98, eta_factor=1e-2),
}


def recurrent_parameters(config: TutorialConfig) -> dict:
    """Recurrent-neuron parameters of spec 11.2 (with NEST's per-model overrides), then
    ``config.rec_params``."""
    s = config.scale
    seq_ms = config.sequence_ms
    params = {
        "C_m": 1.0,
        "c_reg": 2.0 / seq_ms / s**2,
        "E_L": 0.0,
        "eprop_isi_trace_cutoff": 100.0,
        "f_target": 10.0,
        "flush_event_send_interval": seq_ms,
        "I_e": 0.0,
        "kappa": config.kappa,
        "kappa_reg": config.kappa,
        "surrogate_gradient_function": "piecewise_linear",
        "surrogate_gradient_height": 0.5,
        "surrogate_gradient_width": 1.0 / 1.7,
        "t_ref": 0.0,
        "tau_m": 30.0,
        "V_m": 0.0,
        "V_th": 0.6,
    }
    if config.model == "eprop_iaf_adapt":
        params["adapt_beta"] = 0.0
    if config.model in ("eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt"):
        params["V_reset"] = -0.5
        params["c_reg"] = 2.0 / seq_ms / s**2
        params["V_th"] = 0.5
    params.update(config.rec_params)
    return params


def readout_parameters(config: TutorialConfig) -> dict:
    """Readout parameters of spec 11.2 with ``loss`` = ``config.loss``, then ``config.out_params``."""
    params = {"C_m": 1.0, "E_L": 0.0, "eprop_isi_trace_cutoff": 100.0, "I_e": 0.0, "tau_m": 100.0, "V_m": 0.0,
              "loss": config.loss}
    params.update(config.out_params)
    return params


def optimizer_parameters(config: TutorialConfig, eta: float | None = None) -> dict:
    """Optimizer of spec 11.2 (gradient descent, batch 1, once per spike, W in [−100, 100])
    with ``eta`` (default eta_train), then ``config.optimizer``."""
    params = {
        "type": "gradient_descent",
        "batch_size": 1,
        "eta": config.eta_train if eta is None else float(eta),
        "optimize_each_step": False,
        "Wmin": -100.0,
        "Wmax": 100.0,
    }
    params.update(config.optimizer)
    if eta is not None:
        params["eta"] = float(eta)
    return params


@dataclasses.dataclass
class NetworkWeights:
    """Initial weights and masks, all (post, pre); the weights already masked."""

    w_in: np.ndarray  # (n_rec, n_in)
    w_rec: np.ndarray  # (n_rec, n_rec), zero diagonal
    w_out: np.ndarray  # (n_out, n_rec)
    feedback: np.ndarray  # B, (n_rec, n_out)
    mask_in: np.ndarray
    mask_rec: np.ndarray
    mask_out: np.ndarray
    rng: np.random.RandomState  # the RNG after the draws (NEST draws its data permutations next)


def draw_weights(config: TutorialConfig) -> NetworkWeights:
    """NEST's draws (spec 11.2), in NEST's order, from ``np.random.RandomState(config.seed)``
    (the same stream as ``np.random.seed(seed)`` and the global functions):

    1. W_in = randn(n_in, n_rec)ᵀ / √n_in (not scaled by s);
    2. W_rec = randn(n_rec, n_rec)ᵀ / √n_rec, diagonal set to 0;
    3. W_out = uniform(−l, l, (n_rec, n_out))ᵀ · s with l = √(3 / max(1, (n_rec + n_out)/2));
    4. B = randn(n_rec, n_out) / s;
    5. masks ``choice([0, 1], shape, p=[sparsity, 1 − sparsity])`` for in, rec, out, each
       multiplied into its weights.
    """
    rng = np.random.RandomState(config.seed)
    n_in, n_rec, n_out, s = config.n_in, config.n_rec, config.n_out, config.scale
    w_in = np.array(rng.randn(n_in, n_rec).T / np.sqrt(n_in))
    w_rec = np.array(rng.randn(n_rec, n_rec).T / np.sqrt(n_rec))
    np.fill_diagonal(w_rec, 0.0)
    limit = np.sqrt(3.0 * (1.0 / max(1.0, (n_rec + n_out) / 2.0)))
    w_out = np.array(rng.uniform(low=-limit, high=limit, size=(n_rec, n_out)).T) * s
    feedback = np.array(rng.randn(n_rec, n_out)) / s
    mask_in = rng.choice([0, 1], w_in.shape, p=[config.sparsity_in, 1 - config.sparsity_in])
    mask_rec = rng.choice([0, 1], w_rec.shape, p=[config.sparsity_rec, 1 - config.sparsity_rec])
    mask_out = rng.choice([0, 1], w_out.shape, p=[config.sparsity_out, 1 - config.sparsity_out])
    w_in *= mask_in
    w_rec *= mask_rec
    w_out *= mask_out
    return NetworkWeights(w_in, w_rec, w_out, feedback, mask_in, mask_rec, mask_out, rng)


def _sparse(matrix: np.ndarray) -> tuple:
    """(pre, post, weights) of the non-zero entries of a (post, pre) matrix, sorted by pre then post."""
    post, pre = np.nonzero(matrix)
    order = np.lexsort((post, pre))
    pre, post = pre[order].astype(np.int64), post[order].astype(np.int64)
    return pre, post, np.ascontiguousarray(matrix[post, pre], dtype=np.float64)


#: Projection names, in connection order: (pre population, post population, synapse model).
PROJECTIONS = {
    "in": ("inputs", "recurrent", "eprop_synapse"),
    "rec": ("recurrent", "recurrent", "eprop_synapse"),
    "out": ("recurrent", "readout", "eprop_synapse"),
    "feedback": ("readout", "recurrent", "eprop_learning_signal_connection"),
}


def connections_from_weights(weights: NetworkWeights) -> dict:
    """``{name: (pre, post, weights)}`` for every projection: the non-zero entries of the
    masked matrices (NEST connects exactly those) and B all-to-all."""
    n_rec, n_out = weights.feedback.shape
    fb_post, fb_pre = np.meshgrid(np.arange(n_rec), np.arange(n_out))  # sorted by pre then post
    fb_pre, fb_post = fb_pre.ravel().astype(np.int64), fb_post.ravel().astype(np.int64)
    return {
        "in": _sparse(weights.w_in),
        "rec": _sparse(weights.w_rec),
        "out": _sparse(weights.w_out),
        "feedback": (fb_pre, fb_post, np.ascontiguousarray(weights.feedback[fb_post, fb_pre], dtype=np.float64)),
    }


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def evaluate_window(readout: np.ndarray, target: np.ndarray, n_samples: int, steps: int, window: int,
                    loss: str = "mean_squared_error") -> tuple:
    """NEST's evaluation (spec 11.2) of ``n_samples`` consecutive samples.

    Args:
        readout, target: (n_samples · steps, n_out) readout_signal and target_signal, the
            samples of times (T0 + 2, T0 + 2 + n_samples · steps] (sample-aligned).
        window: evaluated last steps of each sample.
        loss: the readouts' loss. ``"cross_entropy"`` (readout_signal = softmax π, window 1)
            reports −Σ_k y*_k·log π_k averaged over the window steps (as NEST's bsshslm
            examples; ln n_out at chance).

    Returns:
        ``(loss, prediction, true_class, window_mean)``: per-sample loss
        0.5 · mean over readouts of Σ_t (y − y*)² over the window (the group loss is its
        mean; or the cross-entropy above), prediction argmax over readouts of the window
        mean of y, the class of the target (argmax of the window mean of y*), and the
        (n_samples, n_out) window means of y.
    """
    readout = np.asarray(readout, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    n_out = readout.shape[-1]
    y = readout.reshape(n_samples, steps, n_out)[:, steps - window:, :]
    y_star = target.reshape(n_samples, steps, n_out)[:, steps - window:, :]
    if loss == "cross_entropy":
        loss_values = np.mean(_losses.cross_entropy(y, y_star), axis=1)
    elif loss == "mean_squared_error":
        loss_values = 0.5 * np.mean(np.sum((y - y_star) ** 2, axis=1), axis=1)
    else:
        raise ValueError(f'loss: "mean_squared_error" or "cross_entropy", got {loss!r}')
    window_mean = np.mean(y, axis=1)
    prediction = np.argmax(window_mean, axis=1)
    true_class = np.argmax(np.mean(y_star, axis=1), axis=1)
    return loss_values, prediction, true_class, window_mean


def confusion_matrix(labels, predictions, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; rows are true labels, columns predictions."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return m


@dataclasses.dataclass
class GroupResult:
    """Evaluation of one group (iteration) of samples.

    Attributes:
        index: running group number of the network (0, 1, …).
        phase: "train", "validation", "test" (whatever the caller passed).
        t_start: simulation time at the group's start, ms.
        labels, predictions: (n,) int64.
        losses: (n,) per-sample losses; ``loss`` is their mean (NEST's iteration loss).
        window_mean: (n, n_out) window means of the readout signals.
        wall_s: wall time of the group's simulate calls (and input setup), s.
        rec_spikes: recurrent spikes recorded during the group (None if not recorded).
        eta: learning rate set for the group.
        snapshot: traces of the first samples if captured (see ``run_group(capture=…)``).
        simulate_s: the part of ``wall_s`` spent inside ``Network.simulate``, s (what a
            NEST script's timer around ``nest.Simulate`` measures).
    """

    index: int
    phase: str
    t_start: float
    labels: np.ndarray
    predictions: np.ndarray
    losses: np.ndarray
    window_mean: np.ndarray
    wall_s: float
    rec_spikes: int | None
    eta: float
    snapshot: dict | None = None
    simulate_s: float = 0.0

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def loss(self) -> float:
        return float(np.mean(self.losses))

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.labels == self.predictions))

    @property
    def error(self) -> float:
        return 1.0 - self.accuracy


@dataclasses.dataclass
class _Pending:
    index: int
    phase: str
    t_start: float
    labels: np.ndarray
    eta: float
    wall_s: float
    capture: int
    inputs: tuple | None  # (neurons, times) of the captured samples
    simulate_s: float = 0.0


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------


class TutorialNetwork:
    """NEST's N-MNIST tutorial network on eprop (spec 2, 11.2).

    Populations in NEST's creation order: ``inputs`` (spike_generator + parrot, n_in),
    ``recurrent`` (n_rec of ``config.model``), ``readout`` (n_out ``eprop_readout``).
    Projections ``projections["in" | "rec" | "out" | "feedback"]``: the non-zero entries of
    the masked W_in, W_rec, W_out (``eprop_synapse``) and B all-to-all
    (``eprop_learning_signal_connection``).

    Args:
        config: a :class:`TutorialConfig` (default NEST's).
        connections: ``{name: (pre, post, weights)}`` for every projection; default the
            draws of :func:`draw_weights` (NEST's order and seed).
        eta: learning rate set before connecting (NEST sets the training rate there);
            default ``config.eta_train``. A network only used for testing should be built
            with ``eta=0`` so that no update ever happens.
        record_spikes: record the recurrent spikes (for rates and plots).
        threads: threads of the parallel phases of a step (:attr:`Network.threads`;
            results do not depend on it).
        synapse_precision: storage of the eprop synapses, ``"double"`` (NEST's arithmetic)
            or ``"single"`` (docs/precision.md).
    """

    def __init__(self, config: TutorialConfig | None = None, connections: dict | None = None, *,
                 eta: float | None = None, record_spikes: bool = True, threads: int = 1,
                 synapse_precision: str = "double"):
        self.config = config = TutorialConfig() if config is None else config
        self.weights0 = None
        if connections is None:
            self.weights0 = draw_weights(config)
            connections = connections_from_weights(self.weights0)
        missing = set(PROJECTIONS) - set(connections)
        if missing:
            raise ValueError(f"connections: missing projections {sorted(missing)}")
        net = self.network = Network(resolution=config.dt, threads=threads, synapse_precision=synapse_precision)
        self._add_populations()
        self._set_optimizer(eta)
        pops = {"inputs": self.inputs, "recurrent": self.recurrent, "readout": self.readout}
        self.projections = {}
        for name, (pre, post, _) in PROJECTIONS.items():
            model = self.synapse_models[name]
            pre_ids, post_ids, w = connections[name]
            self.projections[name] = net.connect(pops[pre], pops[post], model, pre_ids=np.asarray(pre_ids),
                                                 post_ids=np.asarray(post_ids), weights=np.asarray(w, dtype=np.float64))
        self.readout_recorder = net.record_state(self.readout, ["readout_signal", "target_signal", "V_m"])
        self.spike_recorder = net.record_spikes(self.recurrent) if record_spikes else None
        self._pending: _Pending | None = None
        self._groups = 0
        self._t_next = 0.0
        self._scheduled = (np.empty(0, np.int64), np.empty(0))
        #: Input spikes lost at group boundaries because no spike-free step was available
        #: to replace the schedule at (see :meth:`run_group`); 0 means NEST-exact feeding.
        self.dropped_spikes = 0
        #: Samples fed so far (all phases).
        self.samples_seen = 0

    # -- the model family (overridden by eprop.baseline_classification) ---------------------

    #: Steps from a sample's start to the first readout step that compares its target (the
    #: readout samples of a sample have times in (start + offset, end + offset]).
    total_offset = TOTAL_OFFSET
    #: Synapse model of each projection.
    synapse_models = {name: model for name, (_, _, model) in PROJECTIONS.items()}

    @property
    def loss(self) -> str:
        """The readouts' loss (selects the loss :func:`evaluate_window` reports)."""
        return readout_parameters(self.config)["loss"]

    def _add_populations(self) -> None:
        cfg, net = self.config, self.network
        self.inputs = net.add_population("input", cfg.n_in)
        self.recurrent = net.add_population(cfg.model, cfg.n_rec, **recurrent_parameters(cfg))
        self.readout = net.add_population("eprop_readout", cfg.n_out, **readout_parameters(cfg))

    def _set_optimizer(self, eta: float | None) -> None:
        opt = optimizer_parameters(self.config, eta)
        self.eta = opt["eta"]
        self.network.set_optimizer(type=opt.pop("type"), **opt)

    def _set_learning_window(self, starts: np.ndarray) -> None:
        """λ = 0 from each sample's ``start`` (= its start + offset), 1 for its last
        ``learning_window`` steps."""
        cfg = self.config
        window_times = np.stack([starts, starts + (cfg.steps - cfg.learning_window) * cfg.dt], axis=1).ravel()
        self.readout.set_learning_window(window_times, np.tile([0.0, 1.0], len(starts)))

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        self.network.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- weights ----------------------------------------------------------------------------

    def connections(self) -> dict:
        """``{name: (pre, post, weights)}`` of every projection, current weights."""
        out = {}
        for name, proj in self.projections.items():
            pre, post = proj.connections
            out[name] = (pre, post, proj.weights)
        return out

    def save(self, path, **extra) -> Path:
        """Write the configuration and every projection (``<name>_pre``, ``<name>_post``,
        ``<name>_weights``) to an ``.npz``; ``extra`` arrays are stored too (e.g. pixel_map)."""
        path = Path(path)
        arrays = {"config": np.array(json.dumps(self.config.to_dict())),
                  "samples_seen": np.int64(self.samples_seen), "time_ms": np.float64(self.network.time)}
        for name, (pre, post, w) in self.connections().items():
            arrays[f"{name}_pre"] = pre
            arrays[f"{name}_post"] = post
            arrays[f"{name}_weights"] = w
        for key, value in extra.items():
            if key in arrays or any(key.startswith(p + "_") for p in PROJECTIONS):
                raise ValueError(f"save: extra key {key!r} clashes with a stored array")
            arrays[key] = np.asarray(value)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        np.savez(path, **arrays)
        return path

    @staticmethod
    def read_file(path) -> tuple:
        """``(config, connections, extra)`` of a file written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            config = TutorialConfig.from_dict(json.loads(str(data["config"])))
            connections = {name: (data[f"{name}_pre"].astype(np.int64), data[f"{name}_post"].astype(np.int64),
                                  data[f"{name}_weights"].astype(np.float64)) for name in PROJECTIONS}
            stored = {f"{n}_{k}" for n in PROJECTIONS for k in ("pre", "post", "weights")} | {"config"}
            extra = {k: data[k] for k in data.files if k not in stored}
        return config, connections, extra

    @classmethod
    def load(cls, path, *, eta: float | None = None, record_spikes: bool = True) -> "TutorialNetwork":
        """A fresh network with the configuration and weights of ``path`` (see :meth:`save`);
        ``eta`` as in the constructor (use 0 for testing)."""
        config, connections, _ = cls.read_file(path)
        return cls(config, connections, eta=eta, record_spikes=record_spikes)

    # -- feeding --------------------------------------------------------------------------------

    def schedule(self, spikes: list, labels, t0: float | None = None) -> tuple:
        """Set input spikes, one-hot targets and learning window for a group starting at
        ``t0`` (default: now; ahead of now only as :meth:`run_group` does it).

        ``spikes[g] = (neurons, steps)`` of sample g. Input spikes of the previous schedule
        with times in (now, t0] are kept: NEST's spike_generator has already emitted them
        when the example sets the next group's spike times at t0 (see :meth:`run_group`).
        Returns ``(neurons, times)`` of the group's own inputs.
        """
        cfg = self.config
        dt, seq = cfg.dt, cfg.sequence_ms
        now = self.network.time
        t0 = now if t0 is None else float(t0)
        n = len(spikes)
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (n,):
            raise ValueError(f"labels: expected {n} labels, got shape {labels.shape}")
        if n and (labels.min() < 0 or labels.max() >= cfg.n_out):
            raise ValueError(f"labels: must lie in 0 … {cfg.n_out - 1}")
        counts = np.array([len(s[0]) for s in spikes], dtype=np.int64)
        neurons = np.concatenate([np.asarray(s[0], dtype=np.int64) for s in spikes]) if n else np.empty(0, np.int64)
        steps = np.concatenate([np.asarray(s[1], dtype=np.int64) for s in spikes]) if n else np.empty(0, np.int64)
        offsets = np.repeat(np.arange(n, dtype=np.float64) * seq, counts)
        times = t0 + offsets + (steps + 1) * dt
        carry_n, carry_t = self._scheduled
        keep = (carry_t > now + 0.5 * dt) & (carry_t < t0 + 0.5 * dt)
        all_neurons = np.concatenate([carry_n[keep], neurons])
        all_times = np.concatenate([carry_t[keep], times])
        self.inputs.set_spike_times(all_neurons, all_times)
        self._scheduled = (all_neurons, all_times)
        starts = t0 + np.arange(n, dtype=np.float64) * seq + self.total_offset * dt
        targets = np.zeros((cfg.n_out, n))
        targets[labels, np.arange(n)] = 1.0
        self.readout.set_target(starts, targets)
        self._set_learning_window(starts)
        return neurons, times

    def set_eta(self, eta: float) -> None:
        """Set the learning rate of every eprop_synapse (NEST: SetDefaults; effective one
        optimization late, spec 9.4)."""
        self.network.set_optimizer(eta=float(eta))
        self.eta = float(eta)

    @property
    def _reserve(self) -> int:
        """Steps each group stops before its end, so that the next group's schedules can be
        set a few steps early (at most until the previous window's last switch, W − 2 steps
        before the end)."""
        return max(0, min(7, self.config.learning_window - 3))

    def run_group(self, spikes: list, labels, *, eta: float, phase: str = "train", progress=None,
                  capture: int = 0) -> GroupResult | None:
        """Simulate one group of samples as NEST's example does and return the result of the
        previous group (None for the first group).

        NEST's sequence at the group start T0: set eta and the generators (inputs, targets,
        window), simulate 2 steps, evaluate the previous group (its last window steps end at
        T0 + 2), simulate the rest of the group. eprop does the same, except where the input
        spikes are replaced. NEST's spike_generator emits a spike of time T in step T − 1, so
        when the example replaces the spike times at T0, spikes of time T0 (the previous
        group's last step) are already on their way to the parrots. ``set_spike_times``
        replaces every pending spike and accepts only times after now, so replacing at T0
        would drop them. Each group therefore stops a few steps (``_reserve``) before its
        end; the next call replaces the schedule at the latest step T0 − j (j ≥ 0) at which
        no spike is pending, re-adding the previous spikes in (T0 − j, T0]; that is exact.
        If every one of those steps has spikes (dense input such as the Poisson stand-in),
        it replaces at T0 like NEST's script and the spikes of time T0 are lost;
        ``dropped_spikes`` counts them (see the report: an eprop API gap).
        eta is always set at T0.

        Args:
            spikes: ``[(neurons, steps), …]`` per sample.
            labels: class of each sample.
            eta: learning rate for this group (set at the group start T0, as NEST does).
            phase: label stored with the result.
            progress: callable ``progress(done_steps, total_steps)`` for the long simulate call.
            capture: keep the input spikes, recurrent spikes and full readout traces of the
                first ``capture`` samples in the result's ``snapshot``.
        """
        cfg = self.config
        dt = cfg.dt
        n = len(spikes)
        if n == 0:
            raise ValueError("run_group: empty group")
        reserve = self._reserve
        if n * cfg.steps < self.total_offset + reserve + 2:
            raise ValueError("run_group: the group is too short")
        wall = _time.perf_counter()
        now = self.network.time
        t0 = self._t_next if self._pending is not None else now
        k_now, k0 = int(round(now / dt)), int(round(t0 / dt))
        if not 0 <= k0 - k_now <= reserve:
            raise RuntimeError(f"run_group: the network is at {now} ms, the group should start at {t0} ms; "
                               "do not simulate between groups (use flush())")
        # The latest replacement step T0 − j with no pending spike (j = 0: T0 itself).
        carry_t = self._scheduled[1]
        pending = np.rint(carry_t[carry_t > now - 0.5 * dt] / dt).astype(np.int64)  # time == now: not yet fired
        busy = set(pending[pending <= k0].tolist())
        j = next((j for j in range(0, k0 - k_now + 1) if (k0 - j) not in busy), 0)
        if (k0 - j) in busy:
            self.dropped_spikes += int(np.count_nonzero(pending == k0))
        simulated = 0.0   # time inside Network.simulate, s
        if k0 - j > k_now:
            simulated += self._simulate((k0 - j - k_now) * dt)
        neurons, times = self.schedule(spikes, labels, t0)
        inputs = None
        if capture:
            keep = times < t0 + capture * cfg.sequence_ms + dt
            inputs = (neurons[keep], times[keep])
        if j:
            simulated += self._simulate(j * dt)
        self.set_eta(eta)
        lead = self.total_offset * dt
        simulated += self._simulate(lead)
        wall = _time.perf_counter() - wall  # setup and the first steps
        previous = self._evaluate_pending()
        main = self._simulate(n * cfg.sequence_ms - lead - reserve * dt, progress=progress)
        wall += main
        simulated += main
        self._pending = _Pending(self._groups, phase, t0, labels.astype(np.int64) if isinstance(labels, np.ndarray)
                                 else np.asarray(labels, dtype=np.int64), float(eta), wall, int(capture), inputs,
                                 simulated)
        self._t_next = t0 + n * cfg.sequence_ms
        self._groups += 1
        self.samples_seen += n
        return previous

    def flush(self) -> GroupResult | None:
        """Simulate to 2 steps after the last group's end (completing its window; no new
        input) and return its result (None if nothing is pending)."""
        if self._pending is None:
            return None
        last = self._simulate(self._t_next + self.total_offset * self.config.dt - self.network.time)
        self._pending.wall_s += last
        self._pending.simulate_s += last
        return self._evaluate_pending()

    def _simulate(self, duration_ms: float, progress=None) -> float:
        """``Network.simulate`` and the wall time it took, s."""
        t = _time.perf_counter()
        self.network.simulate(duration_ms, progress=progress)
        return _time.perf_counter() - t

    def _evaluate_pending(self) -> GroupResult | None:
        p, self._pending = self._pending, None
        cfg = self.config
        times, data = self.readout_recorder.get()
        self.readout_recorder.clear()
        rec_spikes, spike_data = None, None
        if self.spike_recorder is not None:
            spike_data = self.spike_recorder.get()
            rec_spikes = len(spike_data[0])
            self.spike_recorder.clear()
        if p is None:
            return None
        n = len(p.labels)
        dt = cfg.dt
        k0 = int(round(p.t_start / dt)) + self.total_offset  # samples with step index > k0 (times in ms / dt)
        k = np.rint(times / dt).astype(np.int64)
        sel = (k > k0) & (k <= k0 + n * cfg.steps)
        if np.count_nonzero(sel) != n * cfg.steps:
            raise RuntimeError(f"readout recorder holds {np.count_nonzero(sel)} samples of the group, "
                               f"expected {n * cfg.steps}")
        y = data[sel, 0, :]
        y_star = data[sel, 1, :]
        losses, pred, true_class, wmean = evaluate_window(y, y_star, n, cfg.steps, cfg.learning_window,
                                                          loss=self.loss)
        if not np.array_equal(true_class, p.labels):
            raise RuntimeError("target signal in the learning windows does not match the labels "
                               "(timing of targets or windows is off)")
        snapshot = None
        if p.capture:
            t_end = p.t_start + p.capture * cfg.sequence_ms
            ssel = sel & (times <= t_end + self.total_offset * dt)
            snapshot = {
                "input_neurons": p.inputs[0], "input_times": p.inputs[1],
                "readout_times": times[ssel], "readout_signal": data[ssel, 0, :].copy(),
                "target_signal": data[ssel, 1, :].copy(), "readout_V_m": data[ssel, 2, :].copy(),
                "labels": p.labels[:p.capture].copy(),
                "predictions": pred[:p.capture].copy(), "t_start": p.t_start, "t_end": t_end,
            }
            if spike_data is not None:
                st, ss = spike_data
                m = (st > p.t_start) & (st <= t_end + self.total_offset * dt)
                snapshot["rec_times"], snapshot["rec_senders"] = st[m], ss[m]
        return GroupResult(p.index, p.phase, p.t_start, p.labels, pred, losses, wmean, p.wall_s, rec_spikes,
                           p.eta, snapshot, p.simulate_s)


# ---------------------------------------------------------------------------------------------
# Sample sources
# ---------------------------------------------------------------------------------------------


class NMNISTSource:
    """Samples of an :class:`eprop.nmnist.NMNISTDataset` mapped to input neurons.

    Args:
        dataset: ``len(dataset)``, ``dataset[i] -> (path, label)``.
        pixel_to_neuron: (2312,) int64 input-neuron id of every pixel or −1
            (:func:`eprop.nmnist.pixel_map`).
        n_steps: steps per sample (300).
    """

    def __init__(self, dataset, pixel_to_neuron, n_steps: int = 300, **kwargs):
        from . import nmnist  # noqa: PLC0415 -- optional module, imported when used

        self._nmnist = nmnist
        self.dataset = dataset
        self.pixel_to_neuron = np.asarray(pixel_to_neuron, dtype=np.int64)
        self.n_steps = int(n_steps)
        self.kwargs = kwargs
        self._labels = None

    def __len__(self) -> int:
        return len(self.dataset)

    @property
    def labels(self) -> np.ndarray:
        if self._labels is None:
            labels = getattr(self.dataset, "labels", None)
            if labels is None:
                labels = [int(self.dataset[i][1]) for i in range(len(self.dataset))]
            self._labels = np.asarray(labels, dtype=np.int64)
        return self._labels

    def label(self, i: int) -> int:
        return int(self.labels[i])

    def spikes(self, i: int) -> tuple:
        path, _ = self.dataset[i]
        return self._nmnist.sample_spikes(path, self.pixel_to_neuron, n_steps=self.n_steps, **self.kwargs)


class PoissonSource:
    """Synthetic class-dependent Poisson spike patterns (N-MNIST stand-in).

    Every class c has a random set of ``active_fraction`` of the inputs that fire at
    ``rate_hz_active``; the others fire at ``rate_hz``. Sample i has the label
    ``labels[i]`` (uniform, seeded) and its own Poisson counts per (input, step), so a
    neuron can fire several times in one step (multiplicity > 1, as repeated N-MNIST events).
    With ``active_fraction=0`` all classes look alike (a pure timing benchmark); the default
    ``rate_hz`` ≈ 12.5 Hz gives ≈ 4,500 spikes per 300-step sample for 1196 inputs, like
    N-MNIST.
    """

    def __init__(self, n_samples: int, n_in: int = 1196, n_classes: int = 10, n_steps: int = 300, *,
                 rate_hz: float = 12.5, rate_hz_active: float = 60.0, active_fraction: float = 0.1,
                 dt: float = 1.0, seed: int = 0):
        self.n_samples, self.n_in = int(n_samples), int(n_in)
        self.n_classes, self.n_steps = int(n_classes), int(n_steps)
        self.dt, self.seed = float(dt), int(seed)
        rng = np.random.RandomState(seed)
        self.labels = rng.randint(n_classes, size=self.n_samples).astype(np.int64)
        self.rates = np.full((n_classes, self.n_in), float(rate_hz))
        n_active = int(round(active_fraction * self.n_in))
        for c in range(n_classes):
            self.rates[c, rng.choice(self.n_in, n_active, replace=False)] = rate_hz_active

    def __len__(self) -> int:
        return self.n_samples

    def label(self, i: int) -> int:
        return int(self.labels[i])

    def spikes(self, i: int) -> tuple:
        if not 0 <= i < self.n_samples:
            raise IndexError(i)
        rng = np.random.RandomState([self.seed, int(i), 7])
        lam = self.rates[self.labels[i]] * self.dt / 1000.0
        counts = rng.poisson(np.broadcast_to(lam, (self.n_steps, self.n_in)))
        steps, neurons = np.nonzero(counts)
        reps = counts[steps, neurons]
        steps, neurons = np.repeat(steps, reps), np.repeat(neurons, reps)
        order = np.lexsort((neurons, steps))
        return neurons[order].astype(np.int64), steps[order].astype(np.int64)


class SubsetSource:
    """The samples ``indices`` of another source."""

    def __init__(self, source, indices):
        self.source = source
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def label(self, i: int) -> int:
        return self.source.label(int(self.indices[i]))

    def spikes(self, i: int) -> tuple:
        return self.source.spikes(int(self.indices[i]))


def _labels_of(source) -> np.ndarray:
    labels = getattr(source, "labels", None)
    if labels is not None and not callable(labels):
        return np.asarray(labels, dtype=np.int64)
    return np.array([source.label(i) for i in range(len(source))], dtype=np.int64)


class _Prefetcher:
    """Loads the next group's spikes in a background thread while the current one simulates
    (the simulate call releases the GIL)."""

    def __init__(self, source, enabled: bool = True):
        self.source = source
        self._executor = None
        if enabled:
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

            self._executor = ThreadPoolExecutor(max_workers=1)
        self._next = None

    def _load(self, indices):
        return [self.source.spikes(int(i)) for i in indices]

    def get(self, indices, next_indices=None) -> list:
        if self._next is not None and np.array_equal(self._next[0], indices):
            spikes = self._next[1].result()
        else:
            spikes = self._load(indices)
        self._next = None
        if self._executor is not None and next_indices is not None and len(next_indices):
            self._next = (np.asarray(next_indices).copy(), self._executor.submit(self._load, next_indices))
        return spikes

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


# ---------------------------------------------------------------------------------------------
# Training and test
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class TrainingConfig:
    """The training loop (NEST's example: group 100, validate every 10 iterations, stop at 0.07).

    Attributes:
        group_size: samples per iteration (one simulate call of group_size · 300 ms).
        max_iterations: training iterations at most (None: until stopped otherwise).
        time_budget_s: stop starting new training iterations after this much wall time.
        validate_every: validate before training iterations 0, k, 2k, … (0: never).
        validation_groups: groups (of group_size held-out samples) per validation.
        early_stopping: stop when the criterion holds.
        early_stop_window: validation groups averaged for the criterion (NEST: 8).
        stop_criterion: stop when that average error is below this (NEST: 0.07).
        shuffle_seed: seed of the per-epoch shuffling (default: the network's seed).
        prefetch: load the next group's spikes in a background thread.
    """

    group_size: int = 100
    max_iterations: int | None = None
    time_budget_s: float | None = None
    validate_every: int = 10
    validation_groups: int = 1
    early_stopping: bool = True
    early_stop_window: int = 8
    stop_criterion: float = 0.07
    shuffle_seed: int | None = None
    prefetch: bool = True


@dataclasses.dataclass
class TrainingHistory:
    """Results of :func:`train`: every group result in order, and why training stopped."""

    results: list
    stop_reason: str
    train_samples: int
    wall_s: float
    validation_errors: list

    def phase(self, name: str) -> list:
        return [r for r in self.results if r.phase == name]


@dataclasses.dataclass
class EvaluationResult:
    """Results of :func:`run_test`."""

    accuracy: float
    loss: float
    confusion: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    results: list
    wall_s: float

    @property
    def n(self) -> int:
        return len(self.labels)


class _Status:
    """A status line on a stream: a progress bar with running loss and accuracy, redrawn in
    place on a terminal; on other streams only the finished lines are written."""

    def __init__(self, stream=None, width: int = 24, enabled: bool = True):
        self.stream = sys.stderr if stream is None else stream
        self.width, self.enabled = width, enabled
        isatty = getattr(self.stream, "isatty", None)
        self.live = enabled and bool(isatty and isatty())
        self.t0 = _time.perf_counter()
        self.text = ""

    def elapsed(self) -> float:
        return _time.perf_counter() - self.t0

    def bar(self, prefix: str, suffix: str = ""):
        """A ``progress(done, total)`` callable for :meth:`Network.simulate`, or None."""
        if not self.live:
            return None
        state = {"filled": -1}

        def progress(done, total):
            filled = int(round((done / total if total else 1.0) * self.width))
            if filled != state["filled"]:
                state["filled"] = filled
                self.show(f"{prefix} [{'#' * filled}{'.' * (self.width - filled)}] {suffix} "
                          f"{self.elapsed():7.1f} s")
            return True
        return progress

    def show(self, text: str) -> None:
        if not self.live:
            return
        pad = max(0, len(self.text) - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self.text = text

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        if self.live:
            self.show(text)
        else:
            self.stream.write(text)
        self.stream.write("\n")
        self.stream.flush()
        self.text = ""


def _running(results: list, k: int = 10) -> tuple:
    """(loss, accuracy) over the samples of the last k results."""
    tail = results[-k:]
    if not tail:
        return float("nan"), float("nan")
    losses = np.concatenate([r.losses for r in tail])
    correct = np.concatenate([r.labels == r.predictions for r in tail])
    return float(losses.mean()), float(correct.mean())


def train(tnet: TutorialNetwork, train_source, validation_source=None, config: TrainingConfig | None = None, *,
          progress: bool = True, stream=None, callback=None) -> TrainingHistory:
    """Train ``tnet`` online on ``train_source`` (NEST's loop, spec 11.2).

    Iterations of ``group_size`` samples, in a new seeded random order each epoch, with
    eta = ``eta_train``. Every ``validate_every`` iterations (before iterations 0, k, 2k, …)
    ``validation_groups`` groups of ``validation_source`` run with eta = ``eta_test``
    (cycling through a seeded order). The network keeps its dynamics across all groups.

    Early stopping: when the mean error of the last ``early_stop_window`` validation groups
    is below ``stop_criterion``. A group's result is known two steps into the next group
    (:meth:`TutorialNetwork.run_group`), so the decision after a validation comes during
    the following training group, which is completed (NEST's example also decides with a
    lag of one group). Training also stops after ``max_iterations`` or when the
    ``time_budget_s`` is used up.

    The last training group stays pending (its evaluation completes in the next
    :meth:`~TutorialNetwork.run_group` or :meth:`~TutorialNetwork.flush`); :func:`run_test`
    collects it. ``callback(result)`` is called for every group result as it arrives.
    """
    config = TrainingConfig() if config is None else config
    cfg = tnet.config
    status = _Status(stream, enabled=progress)
    gs = int(config.group_size)
    seed = cfg.seed if config.shuffle_seed is None else config.shuffle_seed
    n_train = len(train_source)
    if n_train == 0:
        raise ValueError("train: empty training source")
    start = _time.perf_counter()
    results, val_errors = [], []
    stop = {"reason": None}

    # Endless streams of sample indices: a new permutation each epoch.
    def train_stream():
        epoch = 0
        while True:
            yield from np.random.RandomState([seed, epoch, 1]).permutation(n_train)
            epoch += 1

    def val_stream():
        order = np.random.RandomState([seed, 0, 2]).permutation(len(validation_source))
        while True:
            yield from order

    tr_iter = train_stream()
    va_iter = val_stream() if validation_source is not None and len(validation_source) else None
    tr_labels = _labels_of(train_source)
    va_labels = _labels_of(validation_source) if va_iter is not None else None
    pre_tr = _Prefetcher(train_source, config.prefetch)
    pre_va = _Prefetcher(validation_source, config.prefetch) if va_iter is not None else None

    def take(it, n):
        return np.fromiter((next(it) for _ in range(n)), dtype=np.int64, count=n)

    def handle(res):
        if res is None:
            return
        results.append(res)
        if res.phase == "validation":
            val_errors.append(res.error)
            if (config.early_stopping and len(val_errors) >= config.early_stop_window
                    and np.mean(val_errors[-config.early_stop_window:]) < config.stop_criterion):
                stop["reason"] = (f"early stop: mean validation error of the last {config.early_stop_window} "
                                  f"groups {np.mean(val_errors[-config.early_stop_window:]):.4f} "
                                  f"< {config.stop_criterion}")
        if callback is not None:
            callback(res)
        trained = [r for r in results if r.phase == "train"]
        loss, acc = _running(trained)
        if res.phase == "train":
            head = f"train it {len(trained):5d}"
            tail = f" | last 10: loss {loss:.4f} acc {acc:.3f} | samples {sum(r.n for r in trained):7d}"
        else:
            head = f"{res.phase[:5]:>5s} {len(val_errors):6d}"
            tail = (f" | mean of last {min(len(val_errors), config.early_stop_window)}: "
                    f"error {np.mean(val_errors[-config.early_stop_window:]):.4f}") if val_errors else ""
        status.line(f"{head}: loss {res.loss:.4f} acc {res.accuracy:.3f}{tail} | "
                    f"{res.wall_s / res.n * 1000:.1f} ms/sample | {status.elapsed():7.1f} s")

    next_tr = take(tr_iter, gs)
    iteration, train_samples = 0, 0
    try:
        while True:
            if config.max_iterations is not None and iteration >= config.max_iterations:
                stop["reason"] = stop["reason"] or f"{config.max_iterations} iterations"
                break
            if stop["reason"]:
                break
            if config.time_budget_s is not None and _time.perf_counter() - start >= config.time_budget_s:
                stop["reason"] = f"time budget {config.time_budget_s:.0f} s"
                break
            if va_iter is not None and config.validate_every and iteration % config.validate_every == 0:
                for _ in range(config.validation_groups):
                    idx = take(va_iter, gs)
                    spikes = pre_va.get(idx)
                    bar = status.bar(f"validation before it {iteration + 1:4d}")
                    handle(tnet.run_group(spikes, va_labels[idx], eta=cfg.eta_test, phase="validation", progress=bar))
            idx, next_tr = next_tr, take(tr_iter, gs)
            spikes = pre_tr.get(idx, next_tr)
            loss, acc = _running([r for r in results if r.phase == "train"])
            bar = status.bar(f"train it {iteration + 1:4d}",
                             f"samples {train_samples + gs:6d} loss {loss:.3f} acc {acc:.3f}")
            handle(tnet.run_group(spikes, tr_labels[idx], eta=cfg.eta_train, phase="train", progress=bar))
            iteration += 1
            train_samples += gs
    finally:
        pre_tr.close()
        if pre_va is not None:
            pre_va.close()
    return TrainingHistory(results, stop["reason"], train_samples, _time.perf_counter() - start, val_errors)


def run_test(tnet: TutorialNetwork, source, *, group_size: int = 100, n_samples: int | None = None,
             seed: int | None = None,
         eta: float | None = None, progress: bool = True, stream=None, callback=None, capture: int = 0,
         prefetch: bool = True) -> EvaluationResult:
    """Run ``source`` (all of it, or ``n_samples``) through ``tnet`` with eta = ``eta_test``
    and return accuracy, mean loss and the confusion matrix.

    The samples go in a seeded random order (NEST's test loader permutes too), in groups of
    ``group_size`` (the last one may be smaller), continuing the network's dynamics. A
    result pending from earlier (the last training group) is completed on the way and passed
    to ``callback`` but not counted. ``capture`` keeps traces of the first samples of the
    first test group (``results[0].snapshot``).
    """
    cfg = tnet.config
    eta = cfg.eta_test if eta is None else eta
    status = _Status(stream, enabled=progress)
    seed = cfg.seed if seed is None else seed
    n = len(source) if n_samples is None else min(int(n_samples), len(source))
    order = np.random.RandomState([seed, 0, 3]).permutation(len(source))[:n]
    labels_all = _labels_of(source)
    groups = [order[i:i + group_size] for i in range(0, n, group_size)]
    pre = _Prefetcher(source, prefetch)
    results = []
    start = _time.perf_counter()

    def handle(res):
        if res is None:
            return
        if callback is not None:
            callback(res)
        if res.phase != "test":
            return
        results.append(res)
        done = sum(r.n for r in results)
        acc = np.mean(np.concatenate([r.labels == r.predictions for r in results]))
        status.line(f"test group {len(results):4d}/{len(groups)}: acc {res.accuracy:.3f} | "
                    f"running acc {acc:.4f} over {done} samples | {res.wall_s / res.n * 1000:.1f} ms/sample")

    try:
        for g, idx in enumerate(groups):
            nxt = groups[g + 1] if g + 1 < len(groups) else None
            spikes = pre.get(idx, nxt)
            bar = status.bar(f"test group {g + 1:4d}/{len(groups)}")
            handle(tnet.run_group(spikes, labels_all[idx], eta=eta, phase="test", progress=bar,
                                  capture=capture if g == 0 else 0))
        handle(tnet.flush())
    finally:
        pre.close()
    labels = np.concatenate([r.labels for r in results]) if results else np.empty(0, np.int64)
    preds = np.concatenate([r.predictions for r in results]) if results else np.empty(0, np.int64)
    losses = np.concatenate([r.losses for r in results]) if results else np.empty(0)
    return EvaluationResult(float(np.mean(labels == preds)) if len(labels) else float("nan"),
                      float(np.mean(losses)) if len(losses) else float("nan"),
                      confusion_matrix(labels, preds, cfg.n_out), labels, preds, results,
                      _time.perf_counter() - start)
