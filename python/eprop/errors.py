"""Exceptions raised by eprop: one class per status code of ``eprop.h``.

Every failing C call returns a status code and leaves a message in ``eprop_last_error()``
that names the argument or parameter and the allowed range. :func:`eprop._capi.check`
turns the pair into an instance of the class below that matches the status, so callers can
catch either the specific class, the common base :class:`EpropError`, or the matching
built-in exception (``ValueError``, ``KeyError``, ``MemoryError``, ``RuntimeError``).

==========================  =====================================  ======================
status (eprop.h)            class                                  also a
==========================  =====================================  ======================
EPROP_ERR_NULL_ARGUMENT     :class:`NullArgumentError`             ``ValueError``
EPROP_ERR_INVALID_ARGUMENT  :class:`InvalidArgumentError`          ``ValueError``
EPROP_ERR_UNKNOWN_NAME      :class:`UnknownNameError`              ``KeyError``
EPROP_ERR_BAD_PROPERTY      :class:`BadPropertyError`              ``ValueError``
EPROP_ERR_ILLEGAL_CONNECTION :class:`IllegalConnectionError`       ``ValueError``
EPROP_ERR_INVALID_STATE     :class:`InvalidStateError`             ``RuntimeError``
EPROP_ERR_BUFFER_TOO_SMALL  :class:`BufferTooSmallError`           ``ValueError``
EPROP_ERR_OUT_OF_MEMORY     :class:`OutOfMemoryError`              ``MemoryError``
EPROP_ERR_INTERRUPTED       :class:`SimulationInterrupted`         --
EPROP_ERR_INTERNAL          :class:`InternalError`                 ``RuntimeError``
==========================  =====================================  ======================
"""

from __future__ import annotations

__all__ = [
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
    "error_for_status",
]

# Status codes, one to one with eprop.h.
OK = 0
ERR_NULL_ARGUMENT = 1
ERR_INVALID_ARGUMENT = 2
ERR_UNKNOWN_NAME = 3
ERR_BAD_PROPERTY = 4
ERR_ILLEGAL_CONNECTION = 5
ERR_INVALID_STATE = 6
ERR_BUFFER_TOO_SMALL = 7
ERR_OUT_OF_MEMORY = 8
ERR_INTERRUPTED = 9
ERR_INTERNAL = 10


class EpropError(Exception):
    """A failed eprop call.

    Attributes:
        status: the ``EPROP_ERR_*`` code returned by the C function (``None`` for errors
            raised by the Python layer before any C call).
        message: the message of ``eprop_last_error()`` (or of the Python check).
    """

    #: Status code this class stands for (``None`` for the base class).
    code: int | None = None

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = self.code if status is None else status

    def __str__(self) -> str:  # KeyError would otherwise print repr(message)
        return self.message

    def __reduce__(self):
        return (type(self), (self.message, self.status))


class NullArgumentError(EpropError, ValueError):
    """EPROP_ERR_NULL_ARGUMENT: a required pointer or handle was NULL (e.g. a closed network)."""

    code = ERR_NULL_ARGUMENT


class InvalidArgumentError(EpropError, ValueError):
    """EPROP_ERR_INVALID_ARGUMENT: an argument is out of range, NaN, or of the wrong length."""

    code = ERR_INVALID_ARGUMENT


class UnknownNameError(EpropError, KeyError):
    """EPROP_ERR_UNKNOWN_NAME: unknown model, parameter, recordable or synapse name."""

    code = ERR_UNKNOWN_NAME


class BadPropertyError(EpropError, ValueError):
    """EPROP_ERR_BAD_PROPERTY: a parameter value violates the model's validity rules."""

    code = ERR_BAD_PROPERTY


class IllegalConnectionError(EpropError, ValueError):
    """EPROP_ERR_ILLEGAL_CONNECTION: the connection is not allowed between these models."""

    code = ERR_ILLEGAL_CONNECTION


class InvalidStateError(EpropError, RuntimeError):
    """EPROP_ERR_INVALID_STATE: the call is not allowed in the network's current state."""

    code = ERR_INVALID_STATE


class BufferTooSmallError(EpropError, ValueError):
    """EPROP_ERR_BUFFER_TOO_SMALL: an output buffer's capacity is too small."""

    code = ERR_BUFFER_TOO_SMALL


class OutOfMemoryError(EpropError, MemoryError):
    """EPROP_ERR_OUT_OF_MEMORY: the request would not fit in memory."""

    code = ERR_OUT_OF_MEMORY


class SimulationInterrupted(EpropError):
    """EPROP_ERR_INTERRUPTED: the progress callback asked to stop.

    The network stays consistent: ``Network.time`` tells where it stopped and a further
    ``simulate`` call continues from there.
    """

    code = ERR_INTERRUPTED


class InternalError(EpropError, RuntimeError):
    """EPROP_ERR_INTERNAL: a bug in eprop; please report it."""

    code = ERR_INTERNAL


class LibraryNotFoundError(OSError):
    """libeprop.so could not be loaded, or it is not the ABI this package was written for."""


_BY_STATUS = {
    cls.code: cls
    for cls in (
        NullArgumentError,
        InvalidArgumentError,
        UnknownNameError,
        BadPropertyError,
        IllegalConnectionError,
        InvalidStateError,
        BufferTooSmallError,
        OutOfMemoryError,
        SimulationInterrupted,
        InternalError,
    )
}


def error_for_status(status: int, message: str) -> EpropError:
    """The exception instance for a non-zero status code and its message."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        return EpropError(f"unknown eprop status {status}: {message}", status)
    return cls(message, status)
