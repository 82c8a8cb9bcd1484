"""Tickets in the cache seam: where each lives, and how a ticket is claimed without locks.

Everything a ticket is lives in the cache (``memory://`` in one process, ``redis://`` shared by
matchmaker replicas), under these keys:

=============================  ===================================================================
``mm:ticket:<id>``             the ticket as JSON; expires ``retention_s`` after its deadline or end
``mm:waiting:<queue>``         hash ticket id -> ticket JSON of every QUEUED ticket of a queue
``mm:queues``                  hash of the queue names that ever had a ticket
``mm:waits:<queue>``           FIFO of the last 100 waits (s) from FindMatch to MATCHED
``mm:request:<sha256>``        FIFO whose first item is the ticket of a FindMatch ``request_id``
=============================  ===================================================================

**Claims.** A ticket leaves QUEUED only through whoever removes it from its ``mm:waiting`` hash:
``HDEL`` is atomic and tells one caller that it removed the field. A pairing step claims every
ticket of a match before creating the game (and puts them back when one is gone, or when the
game cannot be created); Cancel and expiry claim the one ticket. So a cancelled ticket is never
matched and two replicas never match the same ticket, without locks. Idempotent FindMatch uses
the same trick with ``RPUSH``: the request whose push made the list one long created the ticket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from generals_rl.services.matchmaker.core import TicketState
from generals_rl.storage import Cache

RECENT_WAITS = 100
REQUEST_TTL_S = 24 * 3600.0


class TicketStore:
    """The cache keys of the module docstring; blocking calls (run them in a thread)."""

    def __init__(self, cache: Cache, retention_s: float) -> None:
        self.cache = cache
        self.retention_s = retention_s

    @staticmethod
    def request_key(player: str, request_id: str) -> str:
        digest = hashlib.sha256(f"{player}\0{request_id}".encode()).hexdigest()
        return f"mm:request:{digest}"

    def get(self, ticket_id: str) -> TicketState | None:
        raw = self.cache.get(f"mm:ticket:{ticket_id}")
        return None if raw is None else TicketState.from_json(raw)

    def requested(self, request_key: str) -> TicketState | None:
        """The ticket an earlier FindMatch with this idempotency key created, if any."""
        first = self.cache.qlist(request_key)[:1]
        return self.get(first[0]) if first else None

    def add(self, ticket: TicketState, request_key: str | None) -> TicketState:
        """Queue a new ticket, or return the one an earlier request with the same key created."""
        if request_key is not None:
            ttl = max(REQUEST_TTL_S, ticket.max_wait_s + self.retention_s)
            if self.cache.qpush(request_key, ticket.id, ttl=ttl) > 1:
                winner = self.cache.qlist(request_key)[0]
                existing = self.get(winner)
                if existing is not None:
                    return existing
        self._write(ticket)
        self.cache.hset("mm:queues", {ticket.queue: "1"})
        self.cache.hset(f"mm:waiting:{ticket.queue}", {ticket.id: ticket.to_json()})
        return ticket

    def _write(self, ticket: TicketState) -> None:
        end = ticket.ended_at if ticket.ended_at is not None else ticket.deadline()
        ttl = max(1.0, end - ticket.created_at) + self.retention_s
        self.cache.set(f"mm:ticket:{ticket.id}", ticket.to_json(), ttl=ttl)

    def queues(self) -> list[str]:
        return sorted(self.cache.hgetall("mm:queues"))

    def waiting(self, queue: str) -> list[TicketState]:
        """Every QUEUED ticket of ``queue``, oldest first."""
        tickets = [TicketState.from_json(raw) for raw in self.cache.hgetall(f"mm:waiting:{queue}").values()]
        return sorted(tickets, key=lambda t: (t.created_at, t.id))

    def claim(self, queue: str, ticket_ids: Iterable[str]) -> list[str]:
        """Take tickets out of the queue; the ids this caller removed (the others are gone)."""
        key = f"mm:waiting:{queue}"
        return [tid for tid in ticket_ids if self.cache.hdel(key, tid) == 1]

    def release(self, tickets: Sequence[TicketState]) -> None:
        """Put claimed tickets back in their queue, unchanged."""
        for ticket in tickets:
            self.cache.hset(f"mm:waiting:{ticket.queue}", {ticket.id: ticket.to_json()})

    def finish(self, ticket: TicketState) -> None:
        """Store a claimed ticket's final state."""
        self._write(ticket)

    def record_wait(self, queue: str, seconds: float) -> None:
        key = f"mm:waits:{queue}"
        if self.cache.qpush(key, f"{seconds:.6f}") > RECENT_WAITS:
            excess = self.cache.qlen(key) - RECENT_WAITS  # others may have trimmed it meanwhile
            if excess > 0:
                self.cache.qpop_many(key, excess)

    def recent_waits(self, queue: str) -> list[float]:
        return [float(x) for x in self.cache.qlist(f"mm:waits:{queue}")]
