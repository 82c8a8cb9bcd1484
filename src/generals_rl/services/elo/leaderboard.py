"""The leaderboards in the cache seam: per mode, three sorted sets and one hash, with expiry.

Keys (``<prefix>`` is ``elo``), members and fields are canonical player keys (``bot:expander``):

- ``<prefix>:<mode>:by:rating``, ``…:by:lower``, ``…:by:elo``: sorted sets scored by Glicko-2 rating,
  the interval's lower end, and classic Elo;
- ``<prefix>:<mode>:entries``: a hash of each player's numbers (JSON);
- ``<prefix>:<mode>:as_of``: when the leaderboard was last written; its presence says it is built.

SQL is the record; the cache is a copy. Every result refreshes its players' entries; a leaderboard
whose ``as_of`` key is gone (flushed, expired, never built) is rebuilt from SQL on the next read. The
data keys expire a minute after ``as_of``, so an expired leaderboard is never read half gone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from generals_rl.services.elo.domain import METHOD, ORDERS, PlayerRating, PlayerRef
from generals_rl.storage import Cache

_MARGIN_S = 60.0


def _encode(entry: PlayerRating) -> str:
    return json.dumps(
        {
            "elo": entry.elo,
            "rating": entry.rating,
            "deviation": entry.deviation,
            "games": entry.games,
            "wins": entry.wins,
            "losses": entry.losses,
            "draws": entry.draws,
            "updated_at": None if entry.updated_at is None else entry.updated_at.isoformat(),
        },
        separators=(",", ":"),
    )


def _decode(member: str, mode: str, data: bytes) -> PlayerRating:
    kind, _, name = member.partition(":")
    d = json.loads(data)
    return PlayerRating(
        player=PlayerRef(kind, name),
        mode=mode,
        elo=float(d["elo"]),
        rating=float(d["rating"]),
        deviation=float(d["deviation"]),
        method=METHOD,
        games=int(d["games"]),
        wins=int(d["wins"]),
        losses=int(d["losses"]),
        draws=int(d["draws"]),
        updated_at=None if d["updated_at"] is None else datetime.fromisoformat(d["updated_at"]),
    )


def _score(entry: PlayerRating, order: str) -> float:
    return {"rating": entry.rating, "lower": entry.lower, "elo": entry.elo}[order]


class LeaderboardCache:
    """Reads and writes one service's leaderboards in a ``Cache`` (module docstring). Not locked:
    the caller orders its writes."""

    def __init__(self, cache: Cache, ttl_s: float = 3600.0, prefix: str = "elo") -> None:
        if not ttl_s > 0:
            raise ValueError(f"the leaderboard ttl must be > 0 seconds, got {ttl_s!r}")
        self.cache = cache
        self.ttl_s = ttl_s
        self.prefix = prefix

    def key(self, mode: str, what: str) -> str:
        return f"{self.prefix}:{mode}:{what}"

    def keys(self, mode: str) -> tuple[str, ...]:
        """Every key of ``mode``'s leaderboard."""
        return (
            *(self.key(mode, f"by:{o}") for o in ORDERS),
            self.key(mode, "entries"),
            self.key(mode, "as_of"),
        )

    def as_of(self, mode: str) -> datetime | None:
        """When the leaderboard was last written; ``None`` when it is not built."""
        stamp = self.cache.get(self.key(mode, "as_of"))
        return None if stamp is None else datetime.fromisoformat(stamp.decode())

    def write(self, mode: str, entries: Sequence[PlayerRating], *, rebuild: bool = False) -> datetime:
        """Add or update ``entries`` (with ``rebuild``: replace the whole leaderboard by them) and mark
        the leaderboard written now; returns that time."""
        data_ttl = self.ttl_s + _MARGIN_S
        if rebuild:
            self.cache.delete(*self.keys(mode))
        if entries:
            members = {str(e.player): e for e in entries}
            for order in ORDERS:
                scores = {m: _score(e, order) for m, e in members.items()}
                self.cache.zadd(self.key(mode, f"by:{order}"), scores, ttl=data_ttl)
            fields = {m: _encode(e) for m, e in members.items()}
            self.cache.hset(self.key(mode, "entries"), fields, ttl=data_ttl)
        else:
            for key in self.keys(mode)[:-1]:
                self.cache.expire(key, data_ttl)
        now = datetime.now(UTC)
        self.cache.set(self.key(mode, "as_of"), now.isoformat(), ttl=self.ttl_s)
        return now

    def entry(self, mode: str, player: PlayerRef) -> PlayerRating | None:
        data = self.cache.hget(self.key(mode, "entries"), str(player))
        return None if data is None else _decode(str(player), mode, data)

    def entries(self, mode: str) -> dict[str, PlayerRating]:
        """Every entry, by player key."""
        return {m: _decode(m, mode, d) for m, d in self.cache.hgetall(self.key(mode, "entries")).items()}

    def ordered(self, mode: str, order: str) -> list[str]:
        """Every player key, best first by ``order`` (equal scores: key descending)."""
        key = self.key(mode, f"by:{order}")
        return [member for member, _ in self.cache.ztop(key, self.cache.zcard(key))]

    def rank(self, mode: str, player: PlayerRef) -> int:
        """Place by rating, 1 = best; 0 when not on the leaderboard."""
        at = self.cache.zrank(self.key(mode, "by:rating"), str(player))
        return 0 if at is None else at + 1
