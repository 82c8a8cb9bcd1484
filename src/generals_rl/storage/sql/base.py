"""What the SQL stores share: transactions with retry on races, error translation, row -> record helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from generals_rl.storage.errors import ConflictError, UnavailableError

T = TypeVar("T")

_RETRIES = 4
# PostgreSQL: serialization failure, deadlock. Retried like unique-key races.
_RETRY_SQLSTATES = {"40001", "40P01"}


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


class SqlStoreBase:
    """Runs each operation in its own transaction. Operations check for duplicates and missing references
    themselves, so a unique or foreign-key violation only means a concurrent writer won a race: the
    operation is retried and its own checks then raise the clear error."""

    def __init__(self, sessions: sessionmaker[Session], where: str = "the database") -> None:
        self._sessions = sessions
        self._where = where

    def _write(self, operation: Callable[[Session], T]) -> T:
        for attempt in range(_RETRIES):
            try:
                with self._sessions.begin() as session:
                    return operation(session)
            except IntegrityError as error:
                if attempt == _RETRIES - 1:
                    raise ConflictError(f"the write conflicts with stored data: {error.orig}") from None
            except OperationalError as error:
                if _sqlstate(error) not in _RETRY_SQLSTATES or attempt == _RETRIES - 1:
                    raise UnavailableError(f"{self._where} failed: {error.orig}") from None
        raise AssertionError("unreachable")

    def _read(self, operation: Callable[[Session], T]) -> T:
        try:
            with self._sessions() as session:
                return operation(session)
        except OperationalError as error:
            raise UnavailableError(f"{self._where} failed: {error.orig}") from None


def check_limit(limit: int, offset: int = 0) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got limit={limit}, offset={offset}")


def check_text(what: str, value: str, max_length: int) -> None:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValueError(
            f"{what} must be a non-empty string of at most {max_length} characters, got {value!r}"
        )
    if "\x00" in value:
        raise ValueError(f"{what} must not contain NUL characters, got {value!r}")


def check_time(what: str, value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


def check_choice(what: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
