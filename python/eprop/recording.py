"""Recorders: spikes, per-step neuron state and per-step synaptic weights.

A recorder keeps collecting while the network is simulated. Reading it copies the samples
held so far into new numpy arrays (C fills arrays allocated with ``np.empty``);
:meth:`clear` drops them, so long runs can be read piecewise in bounded memory.

Time conventions (NEST's): a spike emitted in update step t is reported at (t + 1)·dt; a
state or weight sample taken after step t has time (t + 1)·dt. Unlike a NEST multimeter,
the sample of the last simulated step is available at once (NEST returns it only after a
further ``Simulate``).
"""

from __future__ import annotations

import numpy as np

from . import _capi

__all__ = ["SpikeRecorder", "StateRecorder", "WeightRecorder"]


class _Recorder:
    def __init__(self, network, recorder_id: int):
        self.network = network
        self.id = recorder_id

    def __len__(self) -> int:
        """Samples held (spikes for a spike recorder, steps for the others): ``eprop_recorder_count``."""
        return _capi.recorder_count(self.network._h, self.id)

    @property
    def width(self) -> int:
        """Values per sample (``eprop_recorder_width``)."""
        return _capi.recorder_width(self.network._h, self.id)

    def clear(self) -> None:
        """Drop the samples held; recording goes on (``eprop_recorder_clear``)."""
        _capi.recorder_clear(self.network._h, self.id)


class SpikeRecorder(_Recorder):
    """Spikes of every neuron of a population (``eprop_record_spikes``)."""

    def __init__(self, network, recorder_id: int, population):
        super().__init__(network, recorder_id)
        self.population = population

    def get(self) -> tuple:
        """``(times, senders)``: spike times in ms (float64) and 0-based sender ids (int64)."""
        return _capi.recorder_get_spikes(self.network._h, self.id)

    @property
    def times(self) -> np.ndarray:
        """Spike times in ms, (n_spikes,) float64; a spike of step t at (t + 1)·dt."""
        return self.get()[0]

    @property
    def senders(self) -> np.ndarray:
        """Sender neuron ids within the population, (n_spikes,) int64."""
        return self.get()[1]

    def __repr__(self) -> str:
        return f"<SpikeRecorder {self.id} of population {self.population.id} ({self.population.model})>"


class StateRecorder(_Recorder):
    """Recordables of chosen neurons after every step (``eprop_record_state``)."""

    def __init__(self, network, recorder_id: int, population, recordables, neurons):
        super().__init__(network, recorder_id)
        self.population = population
        #: Names recorded, in the order of ``data``'s second axis.
        self.recordables = list(recordables)
        #: Neuron ids recorded, in the order of ``data``'s third axis.
        self.neurons = np.array(neurons, dtype=np.int64)

    def get(self) -> tuple:
        """``(times, data)``: (n_samples,) times in ms and (n_samples, n_recordables, n_neurons) values."""
        times, values = _capi.recorder_get_samples(self.network._h, self.id)
        return times, values.reshape(len(times), len(self.recordables), len(self.neurons))

    @property
    def times(self) -> np.ndarray:
        """Sample times in ms, (n_samples,); the sample after step t at (t + 1)·dt."""
        return self.get()[0]

    @property
    def data(self) -> np.ndarray:
        """All values, (n_samples, n_recordables, n_neurons)."""
        return self.get()[1]

    def __getitem__(self, name: str) -> np.ndarray:
        """Values of one recordable, (n_samples, n_neurons)."""
        try:
            k = self.recordables.index(name)
        except ValueError:
            raise KeyError(f"{name!r} is not recorded here; recorded: {', '.join(self.recordables)}") from None
        return np.ascontiguousarray(self.get()[1][:, k, :])

    def __repr__(self) -> str:
        return (
            f"<StateRecorder {self.id}: {','.join(self.recordables)} of {len(self.neurons)} neurons of "
            f"population {self.population.id} ({self.population.model})>"
        )


class WeightRecorder(_Recorder):
    """Weights of chosen synapses after every step (``eprop_record_weights``)."""

    def __init__(self, network, recorder_id: int, projection, pre, post):
        super().__init__(network, recorder_id)
        self.projection = projection
        #: Presynaptic ids of the recorded synapses (order of ``weights``' columns).
        self.pre = np.array(pre, dtype=np.int64)
        #: Postsynaptic ids of the recorded synapses.
        self.post = np.array(post, dtype=np.int64)

    def get(self) -> tuple:
        """``(times, weights)``: (n_samples,) times in ms and (n_samples, n_synapses) weights."""
        return _capi.recorder_get_samples(self.network._h, self.id)

    @property
    def times(self) -> np.ndarray:
        """Sample times in ms, (n_samples,); the sample after step t at (t + 1)·dt."""
        return self.get()[0]

    @property
    def weights(self) -> np.ndarray:
        """Weights, (n_samples, n_synapses); column i is synapse (pre[i], post[i])."""
        return self.get()[1]

    def __repr__(self) -> str:
        return f"<WeightRecorder {self.id}: {len(self.pre)} synapses of projection {self.projection.id}>"
