"""The storage seams as ``typing.Protocol``s: what services depend on, never a backend.

Three seams, each opened by URI in ``generals_rl.storage``:

- ``Database`` (SQL): ``players``, ``games``, ``ratings`` and ``models`` stores over SQLite or
  PostgreSQL (``SqlDatabase``).
- ``Cache``: key/value, sorted sets, hashes and FIFO queues with expiry, in memory or in Redis
  (``MemoryCache``, ``RedisCache``). Values go in as ``bytes`` or ``str`` (``str`` is encoded as UTF-8)
  and always come back as ``bytes``; sorted-set members, hash fields and queue items are ``str``.
- ``BlobStore``: the four buckets (``BUCKETS``) in a folder or in S3 (``FileBlobStore``,
  ``S3BlobStore``). Keys are relative ``/``-separated paths, validated by ``blobs.keys``.

Errors are the ones in ``generals_rl.storage.errors``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from generals_rl.storage.records import (
    AppliedRatings,
    Game,
    GameMode,
    GameStatus,
    HeadToHead,
    MatchResult,
    ModelAlias,
    ModelEvent,
    ModelStatus,
    ModelVersion,
    NewGame,
    NewModelVersion,
    Player,
    PlayerKind,
    Rating,
    RatingChange,
)

BUCKETS: tuple[str, ...] = ("models", "replays", "experiences", "checkpoints")

Value = bytes | str
"""What the cache stores: ``str`` is encoded as UTF-8; reads return ``bytes``."""

RatingUpdate = Callable[[Mapping[str, Rating | None]], Mapping[str, Rating]]
"""Given the current ratings of a game's players (``None``: never rated), the new ratings."""


class PlayerStore(Protocol):
    """Humans, bots and model versions; ``(kind, name)`` is unique."""

    def create(
        self, kind: PlayerKind, name: str, *, id: str | None = None, model_version: int | None = None
    ) -> Player:
        """A new player (id generated unless given); ``AlreadyExistsError`` if the id or name is taken."""
        ...

    def get(self, player_id: str) -> Player:
        """The player; ``NotFoundError`` if there is none."""
        ...

    def find(self, kind: PlayerKind, name: str) -> Player | None:
        """The player of that kind and name, if any."""
        ...

    def ensure(self, kind: PlayerKind, name: str, *, model_version: int | None = None) -> Player:
        """The player of that kind and name, created if missing (safe under concurrent calls)."""
        ...

    def list(
        self, *, kind: PlayerKind | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[Player]:
        """Players, oldest first."""
        ...


class GameStore(Protocol):
    """Games, their seats and their results."""

    def create(self, game: NewGame) -> Game:
        """Store a new game; its players must exist. ``AlreadyExistsError`` if the id is taken."""
        ...

    def get(self, game_id: str) -> Game:
        """The game; ``NotFoundError`` if there is none."""
        ...

    def list(
        self,
        *,
        status: GameStatus | None = None,
        player_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Game]:
        """Games, newest first, optionally only those with a status or a player."""
        ...

    def update(
        self,
        game_id: str,
        *,
        status: GameStatus | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        ticks: int | None = None,
        winner_id: str | None = None,
        replay_location: str | None = None,
    ) -> Game:
        """Change the given fields (``None`` leaves one as it is). Status only moves forward; a finished or
        aborted game cannot change (``ConflictError``)."""
        ...

    def record_results(self, game_id: str, results: Sequence[MatchResult]) -> bool:
        """Record a game's results, one per seat. True when stored now; False when exactly these results were
        stored before (idempotent); ``ConflictError`` when different ones were."""
        ...

    def results(self, game_id: str) -> builtins.list[MatchResult]:
        """The game's results in seat order (empty before they are recorded)."""
        ...

    def player_results(self, player_id: str, *, limit: int = 100) -> builtins.list[MatchResult]:
        """A player's results, newest game first."""
        ...

    def head_to_head(self, a: str, b: str) -> HeadToHead:
        """How ``a`` and ``b`` placed against each other over the games they both have results in."""
        ...


class RatingStore(Protocol):
    """Current ratings, one per player and mode (1v1 and FFA are separate pools), and their history."""

    def get(self, player_id: str, mode: GameMode = "1v1") -> Rating:
        """The player's rating in ``mode``; ``NotFoundError`` if never rated there."""
        ...

    def get_many(self, player_ids: Iterable[str], mode: GameMode = "1v1") -> dict[str, Rating]:
        """Ratings in ``mode`` of those players that have one."""
        ...

    def put(self, ratings: Iterable[Rating]) -> None:
        """Insert or replace ratings (each in its ``mode``) without history (seeding, a refit over the whole
        history)."""
        ...

    def apply_game(
        self, game_id: str, player_ids: Sequence[str], update: RatingUpdate, *, at: datetime | None = None
    ) -> AppliedRatings:
        """Atomically read the players' ratings in the game's mode, call ``update`` and store what it returns
        (ratings of that mode) with one history row per player. Idempotent by game: a second call returns the
        first call's changes, applied=False."""
        ...

    def leaderboard(
        self, *, limit: int = 100, offset: int = 0, by: str = "elo", mode: GameMode = "1v1"
    ) -> builtins.list[Rating]:
        """Ratings in ``mode``, best first, by ``elo`` or ``mu`` (ties by player id)."""
        ...

    def history(
        self, player_id: str, *, limit: int = 100, mode: GameMode | None = None
    ) -> builtins.list[RatingChange]:
        """The player's rating changes (only from games of ``mode`` when given), newest first."""
        ...

    def game_changes(self, game_id: str) -> builtins.list[RatingChange]:
        """The rating changes one game caused, by player id."""
        ...


class ModelStore(Protocol):
    """Model versions, aliases (``champion``, ``latest``) and the log of every change to them."""

    def create_version(
        self, new: NewModelVersion, *, actor: str = "system", reason: str | None = None
    ) -> ModelVersion:
        """Store a version with the next number; its parent must exist."""
        ...

    def get_version(self, version: int) -> ModelVersion:
        """The version; ``NotFoundError`` if there is none."""
        ...

    def list_versions(
        self, *, status: ModelStatus | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[ModelVersion]:
        """Versions, newest first."""
        ...

    def latest_version(self, *, status: ModelStatus | None = None) -> ModelVersion | None:
        """The highest version (with that status), if any."""
        ...

    def update_version(
        self,
        version: int,
        *,
        weights_location: str | None = None,
        checksum: str | None = None,
        metrics: Mapping[str, object] | None = None,
        training_step: int | None = None,
    ) -> ModelVersion:
        """Fill in what was not known at creation (``None`` leaves a field as it is)."""
        ...

    def set_status(
        self, version: int, status: ModelStatus, *, actor: str, reason: str | None = None
    ) -> ModelVersion:
        """Change a version's status, logged as an event."""
        ...

    def set_alias(self, alias: str, version: int, *, actor: str, reason: str | None = None) -> ModelAlias:
        """Point an alias at a version (creating or moving it), logged with the version it pointed at."""
        ...

    def get_alias(self, alias: str) -> ModelAlias:
        """The alias; ``NotFoundError`` if there is none."""
        ...

    def list_aliases(self) -> builtins.list[ModelAlias]:
        """All aliases by name."""
        ...

    def delete_alias(self, alias: str, *, actor: str, reason: str | None = None) -> None:
        """Remove an alias, logged; ``NotFoundError`` if there is none."""
        ...

    def events(
        self, *, alias: str | None = None, version: int | None = None, limit: int = 100
    ) -> builtins.list[ModelEvent]:
        """Registry events, newest first, optionally about one alias or one version."""
        ...


class Database(Protocol):
    """The SQL seam: one database, four stores."""

    @property
    def uri(self) -> str:
        """The database URI, password hidden."""
        ...

    @property
    def players(self) -> PlayerStore: ...

    @property
    def games(self) -> GameStore: ...

    @property
    def ratings(self) -> RatingStore: ...

    @property
    def models(self) -> ModelStore: ...

    def close(self) -> None:
        """Release the connections."""
        ...


class Cache(Protocol):
    """Fast shared state with expiry: key/value, sorted sets, hashes, FIFO queues.

    A key holds one kind of value; using it as another kind raises ``WrongKindError``. ``ttl`` is in
    seconds (> 0) and applies to the whole key, whatever its kind; a write with ``ttl=None`` keeps the
    key's current expiry, except ``set``, which replaces the value and so clears it.
    """

    @property
    def uri(self) -> str: ...

    # key/value
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: Value, *, ttl: float | None = None) -> None: ...
    def delete(self, *keys: str) -> int:
        """Delete keys of any kind; how many existed."""
        ...

    def exists(self, key: str) -> bool: ...
    def expire(self, key: str, ttl: float) -> bool:
        """Set a key's expiry; False if the key does not exist."""
        ...

    def ttl(self, key: str) -> float | None:
        """Seconds left; ``None`` if the key has no expiry or does not exist."""
        ...

    # sorted sets (leaderboards): highest score first
    def zadd(self, key: str, scores: Mapping[str, float], *, ttl: float | None = None) -> int:
        """Add or update members' scores; how many were new."""
        ...

    def zscore(self, key: str, member: str) -> float | None: ...
    def ztop(self, key: str, n: int, *, offset: int = 0) -> builtins.list[tuple[str, float]]:
        """Up to ``n`` members from rank ``offset``, highest score first (equal scores: member descending)."""
        ...

    def zrank(self, key: str, member: str) -> int | None:
        """0 for the highest score; ``None`` if not a member."""
        ...

    def zrem(self, key: str, *members: str) -> int: ...
    def zcard(self, key: str) -> int: ...

    # hashes (active games, sessions)
    def hset(self, key: str, fields: Mapping[str, Value], *, ttl: float | None = None) -> None: ...
    def hget(self, key: str, field: str) -> bytes | None: ...
    def hgetall(self, key: str) -> dict[str, bytes]: ...
    def hdel(self, key: str, *fields: str) -> int: ...

    # FIFO queues (matchmaking)
    def qpush(self, key: str, *items: str, ttl: float | None = None) -> int:
        """Append items at the back; the queue's new length."""
        ...

    def qpop(self, key: str) -> str | None:
        """Take the front item, if any."""
        ...

    def qpop_many(self, key: str, n: int) -> builtins.list[str]:
        """Take up to ``n`` items from the front, atomically."""
        ...

    def qremove(self, key: str, item: str) -> int:
        """Remove every occurrence of an item; how many."""
        ...

    def qlen(self, key: str) -> int: ...
    def qlist(self, key: str) -> builtins.list[str]: ...

    def close(self) -> None: ...


class BlobStore(Protocol):
    """Immutable-ish blobs in four buckets (``BUCKETS``): model weights, replays, experiences, checkpoints."""

    @property
    def uri(self) -> str: ...

    def ensure_buckets(self) -> None:
        """Create the four buckets (folders) if missing."""
        ...

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write a blob whole (readers see the old or the new content, never a part)."""
        ...

    def get(self, bucket: str, key: str) -> bytes:
        """The blob; ``NotFoundError`` if there is none."""
        ...

    def exists(self, bucket: str, key: str) -> bool: ...
    def delete(self, bucket: str, key: str) -> bool:
        """Remove a blob; False if there was none."""
        ...

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        """Keys starting with ``prefix`` (a plain string prefix), sorted."""
        ...

    def size(self, bucket: str, key: str) -> int:
        """The blob's size in bytes; ``NotFoundError`` if there is none."""
        ...

    def close(self) -> None: ...
