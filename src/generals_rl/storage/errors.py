"""The storage error hierarchy: what every backend raises, so callers never see a driver's exception.

Services map these to gRPC status codes (``NotFoundError`` -> NOT_FOUND, ``AlreadyExistsError`` ->
ALREADY_EXISTS, ``ConflictError`` -> FAILED_PRECONDITION, ``ValueError`` subclasses ->
INVALID_ARGUMENT). Every message names what was wrong.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the storage layer raises on purpose."""


class NotFoundError(StorageError, KeyError):
    """A record, cache entry or blob that does not exist (a ``KeyError``, so ``except KeyError`` works)."""

    def __str__(self) -> str:
        # KeyError.__str__ quotes its argument; we want the message as written.
        return str(self.args[0]) if self.args else ""


class AlreadyExistsError(StorageError):
    """Creating something whose identity is taken (a player name, a game id)."""


class ConflictError(StorageError):
    """A write that contradicts what is stored: a different result for a recorded game, a finished game
    updated, a cache key of another kind."""


class InvalidKeyError(StorageError, ValueError):
    """A blob key or bucket that is not allowed (absolute, ``..``, empty segments, control characters)."""


class WrongKindError(ConflictError, TypeError):
    """A cache key used as another kind of value than the one stored (a hash read as a queue)."""


class UnavailableError(StorageError):
    """The backend could not be reached (server down, connection refused, timeout)."""
