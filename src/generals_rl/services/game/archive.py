"""Where finished games go: the replay to the blob store, the game and its results to SQL, the
result to the pending-results hash until the Elo Service has it, and the active-games listing.

Every write is idempotent, so a store that failed half-way is simply done again:

- ``replays/<game id>.gioreplay`` in the blob store (rewritten whole);
- the game row (created if missing, then moved to finished or aborted; a row that is finished
  already is left alone) and one result per seat (``record_results`` is idempotent by game);
- ``game:results:pending`` (a cache hash, no expiry): game id -> result JSON, removed once the
  Elo Service acknowledged it; results it refuses for good move to ``game:results:rejected``;
- ``game:active`` (a cache hash with a ttl that the live server keeps refreshing): game id ->
  a JSON summary of every pending or running game, for other services and instances.

Games in which one player holds two seats (``bot:random`` against itself) keep their replay but
get no SQL rows and no rating: the schema and the Elo Service count each player once per game.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from generals_rl.services.game.domain import GameInfo, GameResult
from generals_rl.services.game.rooms import EndedGame
from generals_rl.storage import BlobStore, Cache, ConflictError, Database, NotFoundError
from generals_rl.storage.records import GameStatus, MatchResult, NewGame

log = logging.getLogger(__name__)

REPLAYS = "replays"
ACTIVE_KEY = "game:active"
PENDING_KEY = "game:results:pending"
REJECTED_KEY = "game:results:rejected"


def replay_key(game_id: str) -> str:
    return f"{game_id}.gioreplay"


def blob_uri(blobs: BlobStore, bucket: str, key: str) -> str:
    """A blob's location as a URI (``file:///dir/<bucket>/<key>`` or ``s3://<bucket name>/<key>``)."""
    root = getattr(blobs, "root", None)
    if root is not None:
        return f"file://{root}/{bucket}/{key}"
    bucket_name = getattr(blobs, "bucket_name", None)
    object_key = getattr(blobs, "_object", None)
    if bucket_name is not None and object_key is not None:
        return f"s3://{bucket_name(bucket)}/{object_key(key)}"
    return f"{blobs.uri}#{bucket}/{key}"


def rateable(result: GameResult) -> bool:
    """A result the SQL schema and the Elo Service can take: a finished game, each player once."""
    players = [p.player.key for p in result.players]
    return bool(players) and result.reason != "aborted" and len(set(players)) == len(players)


@dataclass(frozen=True)
class ActiveEntry:
    """One line of ``game:active``."""

    game_id: str
    mode: str
    status: str
    clock: str | None
    tick: int
    players: tuple[str | None, ...]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(info: GameInfo, now: datetime) -> ActiveEntry:
        return ActiveEntry(
            game_id=info.game_id,
            mode=info.mode,
            status=info.status,
            clock=info.clock,
            tick=info.tick,
            players=tuple(None if s.player is None else s.player.key for s in info.seats),
            created_at=info.created_at,
            updated_at=now,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "game_id": self.game_id,
                "mode": self.mode,
                "status": self.status,
                "clock": self.clock,
                "tick": self.tick,
                "players": list(self.players),
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
            }
        )


class GameArchive:
    """Stores finished games and keeps the result and active-game hashes (module docstring).
    Blocking: call it from a worker thread in async code."""

    def __init__(self, database: Database, cache: Cache, blobs: BlobStore) -> None:
        self.database = database
        self.cache = cache
        self.blobs = blobs

    def store(self, ended: EndedGame) -> GameResult:
        """Store a finished or aborted game (idempotent); returns its result with the replay's URI."""
        result = ended.result
        info = ended.info
        game_id = info.game_id
        location = ""
        if ended.replay is not None:
            key = replay_key(game_id)
            self.blobs.put(REPLAYS, key, ended.replay.to_gioreplay().encode("utf-8"))
            location = blob_uri(self.blobs, REPLAYS, key)
        result = GameResult(
            game_id=result.game_id,
            mode=result.mode,
            players=result.players,
            ticks=result.ticks,
            reason=result.reason,
            started_at=result.started_at,
            ended_at=result.ended_at,
            replay_uri=location,
        )
        refs = [s.player for s in info.seats]
        keys = [None if r is None else r.key for r in refs]
        if any(r is None for r in refs) or len(set(keys)) != len(keys):
            log.info("game %s not stored in SQL: a seat is empty or one player holds two seats", game_id)
            return result
        player_ids = [self._player_id(r.kind, r.id) for r in refs if r is not None]
        games = self.database.games
        try:
            games.get(game_id)
        except NotFoundError:
            games.create(
                NewGame(
                    mode=info.mode,
                    map=ended.map_text,
                    width=info.board.width,
                    height=info.board.height,
                    player_ids=tuple(player_ids),
                    speed=info.speed,
                    id=game_id,
                    status="running",
                    started_at=info.started_at,
                )
            )
        winner = result.winner
        status: GameStatus = "aborted" if result.reason == "aborted" else "finished"
        try:
            games.update(
                game_id,
                status=status,
                ended_at=result.ended_at,
                ticks=result.ticks,
                winner_id=None if winner is None else player_ids[winner],
                replay_location=location or None,
            )
        except ConflictError:
            if games.get(game_id).status != status:
                raise
        if status == "finished":
            games.record_results(
                game_id,
                [
                    MatchResult(game_id, player_ids[p.seat], p.seat, p.outcome, p.place)
                    for p in result.players
                ],
            )
        return result

    def _player_id(self, kind: str, name: str) -> str:
        players = self.database.players
        if kind == "model":
            try:
                return players.ensure("model", name, model_version=int(name)).id
            except NotFoundError:
                pass  # not in the model registry: a player without a version link
            except ConflictError:
                pass
        return players.ensure(kind, name).id  # type: ignore[arg-type]

    # -- results waiting for the Elo Service ----------------------------------------------------

    def queue_result(self, result: GameResult) -> None:
        self.cache.hset(PENDING_KEY, {result.game_id: result.to_json()})

    def pending(self) -> list[GameResult]:
        return [GameResult.from_json(text) for _, text in sorted(self.cache.hgetall(PENDING_KEY).items())]

    def delivered(self, game_id: str) -> None:
        self.cache.hdel(PENDING_KEY, game_id)

    def reject(self, result: GameResult, reason: str) -> None:
        """The Elo Service refuses this result for good: keep it aside, with why."""
        entry = json.dumps({"result": json.loads(result.to_json()), "reason": reason})
        self.cache.hset(REJECTED_KEY, {result.game_id: entry})
        self.cache.hdel(PENDING_KEY, result.game_id)

    # -- the active-games listing ---------------------------------------------------------------

    def publish_active(self, infos: list[GameInfo], gone: list[str], now: datetime, ttl: float) -> None:
        """Write the live games' entries (refreshing the hash's expiry) and drop ended ones."""
        if gone:
            self.cache.hdel(ACTIVE_KEY, *gone)
        if infos:
            entries = {info.game_id: ActiveEntry.of(info, now).to_json() for info in infos}
            self.cache.hset(ACTIVE_KEY, entries, ttl=ttl)

    def active(self) -> dict[str, dict[str, object]]:
        """The active-games listing as stored."""
        return {k: json.loads(v) for k, v in self.cache.hgetall(ACTIVE_KEY).items()}
