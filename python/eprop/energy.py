"""Work counters and the energy estimate: the catalogue of the loaded library.

A network counts the work its simulate calls do (:meth:`eprop.Network.counters`) and
estimates the energy of that work (:meth:`eprop.Network.energy`): every counter maps to a
fixed number of elementary operations per count (:func:`energy_operations`), and every
operation has an energy in pJ (:func:`default_energy_table`, replaceable per network).
docs/energy.md defines every counter and every row of the mapping.

Default table: M. Horowitz, "Computing's energy problem (and what we can do about it)",
ISSCC 2014, 45 nm CMOS at 0.9 V (SRAM 10 pJ per 64-bit access of an 8 KB array, DRAM
1.3 nJ); the 64-bit float add and multiply are extrapolated from his 16- and 32-bit values.

Everything here comes from the C catalogue (``eprop_counter_*``, ``eprop_energy_*``), so
names, meanings and numbers are never restated in Python.
"""

from __future__ import annotations

import functools
from collections import namedtuple

from . import _capi

__all__ = ["CounterInfo", "EnergyEntry", "work_counters", "counter_names", "energy_entries",
           "default_energy_table", "energy_operations"]

#: One work counter: its ``index`` (its position in the C ABI), ``name`` and ``doc``.
CounterInfo = namedtuple("CounterInfo", "index name doc")

#: One energy-table entry: ``name``, ``default_pj`` (pJ per operation) and ``doc`` (its source).
EnergyEntry = namedtuple("EnergyEntry", "name default_pj doc")


@functools.lru_cache(maxsize=None)
def _counters() -> tuple:
    return tuple(CounterInfo(i, *_capi.counter_info(i)) for i in range(_capi.counter_count()))


def work_counters() -> list:
    """Every work counter as :class:`CounterInfo`, in index order (``eprop_counter_info``)."""
    return list(_counters())


def counter_names() -> list:
    """Counter names in index order."""
    return [c.name for c in _counters()]


@functools.lru_cache(maxsize=None)
def _entries() -> tuple:
    return tuple(EnergyEntry(*_capi.energy_entry_info(i)) for i in range(_capi.energy_entry_count()))


def energy_entries() -> list:
    """The energy-table entries as :class:`EnergyEntry` (``eprop_energy_entry_info``)."""
    return list(_entries())


def default_energy_table() -> dict:
    """The default energy table: ``{entry name: pJ}`` (a fresh dict; also ``eprop.DEFAULT_ENERGY_TABLE``)."""
    return {e.name: e.default_pj for e in _entries()}


def energy_operations() -> dict:
    """The counter → operation mapping (``eprop_energy_operations``): ``{counter: {entry:
    operations per count}}``; the energy of a counter is count × Σ operations × pJ × 1e-12 J."""
    names = [e.name for e in _entries()]
    return {c.name: dict(zip(names, (float(x) for x in _capi.energy_operations(c.index)))) for c in _counters()}
