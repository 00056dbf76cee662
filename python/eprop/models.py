"""The model catalogue of the loaded library: model names, parameters and recordables.

Everything here comes from the C catalogue (``eprop_model_*``), the single source of truth
of the Swift parameter tables, so names, units, defaults and rules are never restated in
Python.
"""

from __future__ import annotations

import functools
import re
from collections import namedtuple

from . import _capi

__all__ = ["ParameterInfo", "models", "model_parameters", "model_recordables", "version", "parameter_info"]

#: One row of a model's parameter table.
#:
#: * ``name``: NEST name (e.g. ``"V_th"``);
#: * ``unit``: NEST unit (``""`` for none);
#: * ``kind``: ``"real"``, ``"bool"`` or ``"choice"``;
#: * ``default``: the default as a Python value (float; bool for ``"bool"``; the name for
#:   ``"choice"``);
#: * ``rule``: the validity rule as text (e.g. ``"tau_m > 0"``);
#: * ``doc``: one-line description.
ParameterInfo = namedtuple("ParameterInfo", "name unit kind default rule doc")


def version() -> str:
    """Version of the loaded library (``eprop_version``)."""
    return _capi.version()


def models() -> list:
    """Names of the neuron models of the loaded library (``eprop_model_count``/``_name``)."""
    return list(_models())


@functools.lru_cache(maxsize=None)
def _models() -> tuple:
    return tuple(_capi.model_name(i) for i in range(_capi.model_count()))


def _choice_default(rule: str, index: float) -> str:
    # A choice parameter's rule lists its names in order ('x one of "a", "b"'); the
    # catalogue's default is an index into them.
    names = re.findall(r'"([^"]+)"', rule)
    return names[int(index)]


@functools.lru_cache(maxsize=None)
def _table(model: str) -> tuple:
    rows = []
    for i in range(_capi.model_parameter_count(model)):
        name, unit, kind, default, rule, doc = _capi.model_parameter_info(model, i)
        if kind == "bool":
            value = bool(default)
        elif kind == "choice":
            value = _choice_default(rule, default)
        else:
            value = float(default)
        rows.append(ParameterInfo(name, unit, kind, value, rule, doc))
    return tuple(rows)


def model_parameters(model: str) -> list:
    """Parameters of ``model`` as a list of :class:`ParameterInfo` (``eprop_model_parameter_info``).

    Raises:
        UnknownNameError: ``model`` is not a model of the library.
    """
    return list(_table(model))


def parameter_info(model: str, name: str):
    """The :class:`ParameterInfo` of ``name`` in ``model``, or None if it has no such parameter."""
    for row in _table(model):
        if row.name == name:
            return row
    return None


@functools.lru_cache(maxsize=None)
def _recordables(model: str) -> tuple:
    return tuple(_capi.model_recordables(model))


def model_recordables(model: str) -> list:
    """Recordables of ``model``, e.g. ``["V_m", "surrogate_gradient", "learning_signal", …]``."""
    return list(_recordables(model))
