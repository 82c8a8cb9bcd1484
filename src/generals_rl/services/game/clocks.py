"""Time sources of the Game Service, injected so that real-time logic is tested without sleeping.

The game core never reads the system time itself: it asks its ``Clock`` for ``monotonic()``
seconds (scheduling: tick deadlines, AFK and idle timers) and ``now()`` (timestamps shown to
users: created, started, ended, next tick). ``SystemClock`` is the real one; ``ManualClock``
moves only when told to, which is what the unit tests drive real-time games with.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

TICK_S = 0.5
"""Seconds between two ticks of a real-time game at speed 1 (RULES 1)."""


def tick_interval(speed: float) -> float:
    """Seconds between two real-time ticks at ``speed``."""
    return TICK_S / speed


class Clock(Protocol):
    """Where the time comes from."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines)."""
        ...

    def now(self) -> datetime:
        """The current UTC time, timezone-aware (timestamps)."""
        ...


class SystemClock:
    """The real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only by ``advance``; both readings move together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._seconds = 1000.0
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._origin = self._seconds

    def monotonic(self) -> float:
        return self._seconds

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._seconds - self._origin)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self._seconds += seconds
