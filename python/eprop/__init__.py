"""eprop: event-driven e-prop for sparse recurrent spiking networks, exact to NEST 3.10.

The library is ``libeprop`` (Swift, C ABI ``eprop.h``); this package mirrors its header in
:mod:`eprop._capi` and offers a NEST-flavoured API on top:

* :class:`Network`, :class:`Population`, :class:`Projection` and the recorders
  (:mod:`eprop.network`, :mod:`eprop.recording`);
* the model catalogue: :func:`models`, :func:`model_parameters`, :func:`model_recordables`,
  :func:`version`;
* work counters and the energy estimate: :meth:`Network.counters`, :meth:`Network.energy`,
  :func:`work_counters`, :func:`energy_operations`, :func:`default_energy_table`
  (also ``eprop.DEFAULT_ENERGY_TABLE``) (:mod:`eprop.energy`, docs/energy.md);
* exceptions, one per status code (:mod:`eprop.errors`);
* NEST's sine-wave regression task (:mod:`eprop.tasks`, NumPy only) and a ready network
  for it (:mod:`eprop.sine_waves`);
* losses from recorded readout signals, e.g. the cross-entropy of readouts with
  ``loss="cross_entropy"`` (:mod:`eprop.losses`, NumPy only);
* Bellec et al.'s evidence-accumulation task with the exact draws of NEST's bsshslm_2020
  example (:mod:`eprop.evidence_accumulation`, NumPy only);
* N-MNIST: the reader and dataset layout (:mod:`eprop.nmnist`), the synthetic
  saccade-MNIST converter (:mod:`eprop.saccade_mnist`) and NEST's tutorial classification
  pipeline (:mod:`eprop.classification`).

The library is loaded on first use, so ``import eprop.tasks`` works without it.
"""

from .errors import (
    BadPropertyError,
    BufferTooSmallError,
    EpropError,
    IllegalConnectionError,
    InternalError,
    InvalidArgumentError,
    InvalidStateError,
    LibraryNotFoundError,
    NullArgumentError,
    OutOfMemoryError,
    SimulationInterrupted,
    UnknownNameError,
)
from . import losses
from .energy import (
    CounterInfo,
    EnergyEntry,
    counter_names,
    default_energy_table,
    energy_entries,
    energy_operations,
    work_counters,
)
from .models import ParameterInfo, model_parameters, model_recordables, models, version
from .network import Network, Population, Projection, estimate_memory
from .recording import SpikeRecorder, StateRecorder, WeightRecorder

__version__ = "0.1.0"

__all__ = [
    "Network",
    "estimate_memory",
    "Population",
    "Projection",
    "SpikeRecorder",
    "StateRecorder",
    "WeightRecorder",
    "ParameterInfo",
    "models",
    "model_parameters",
    "model_recordables",
    "version",
    "losses",
    "CounterInfo",
    "EnergyEntry",
    "work_counters",
    "counter_names",
    "energy_entries",
    "energy_operations",
    "default_energy_table",
    "EpropError",
    "NullArgumentError",
    "InvalidArgumentError",
    "UnknownNameError",
    "BadPropertyError",
    "IllegalConnectionError",
    "InvalidStateError",
    "BufferTooSmallError",
    "OutOfMemoryError",
    "SimulationInterrupted",
    "InternalError",
    "LibraryNotFoundError",
]


def __getattr__(name):
    # DEFAULT_ENERGY_TABLE comes from the library, which loads on first use: resolved lazily,
    # a fresh dict each time (mutating it changes nothing).
    if name == "DEFAULT_ENERGY_TABLE":
        return default_energy_table()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
