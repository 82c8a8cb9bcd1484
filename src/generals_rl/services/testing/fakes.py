"""Small in-process fakes of the Matchmaker's peers (Game, Elo and Model services, sessions).

They implement the ports of ``generals_rl.services.matchmaker.core`` with dictionaries, record
what they were asked, and fail on demand, so tests of the matchmaker (and of code that drives it)
need no server:

    games = FakeGames()                         # every game is won by the stronger seat
    ratings = FakeRatings({"bot:expander": 1700})
    models = FakeModels(accepted=[1, 2, 3])
    queues = Queues(MemoryCache(), games, ratings, models, FakeSessions({"tok": "alice"}))
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from generals_rl.services.common.errors import FailedPrecondition, NotFound, ServiceError, Unavailable
from generals_rl.services.elo.ratings import INITIAL_RATING, HeadToHead
from generals_rl.services.matchmaker.core import GameEnd, GameEndStatus, GameRequest, PlayerRef, SeatRequest

STRENGTH = {"bot:random": 0, "bot:expander": 1, "bot:gatherer": 2}
"""How ``by_strength`` orders players: bots as listed, model versions above them by number."""


def strength(player: PlayerRef) -> float:
    if player.kind == "model":
        return 10 + int(player.id)
    return STRENGTH.get(player.key, -1)


def by_strength(players: Sequence[PlayerRef]) -> int | None:
    """The seat of the strongest player (None, a draw, when the two strongest are equal)."""
    ranked = sorted(range(len(players)), key=lambda s: -strength(players[s]))
    if len(ranked) > 1 and strength(players[ranked[0]]) == strength(players[ranked[1]]):
        return None
    return ranked[0]


@dataclass
class FakeGame:
    """A game the fake created: its request, joined seats and how it ends."""

    id: str
    request: GameRequest
    tokens: dict[int, str] = field(default_factory=dict)
    end: GameEnd | None = None


class FakeGames:
    """``Games``: creates games instantly; ``result`` ends them by ``winner(players)`` (a seat or
    None for a draw) after ``delay_s``. ``fail_create`` / ``fail_join`` (by player key) /
    ``abort`` (by game number, from 1) inject failures."""

    def __init__(
        self,
        winner: Callable[[Sequence[PlayerRef]], int | None] = by_strength,
        *,
        address: str = "127.0.0.1:50051",
        delay_s: float = 0.0,
    ) -> None:
        self.winner = winner
        self._address = address
        self.delay_s = delay_s
        self.games: dict[str, FakeGame] = {}
        self.fail_create: ServiceError | None = None
        self.fail_join: dict[str, ServiceError] = {}
        self.abort: set[int] = set()
        self._ids = itertools.count(1)
        self.running = 0
        self.most_running = 0

    @property
    def address(self) -> str:
        return self._address

    async def create(self, request: GameRequest) -> str:
        if self.fail_create is not None:
            raise self.fail_create
        for game in self.games.values():
            if request.request_id and game.request.request_id == request.request_id:
                return game.id
        game_id = f"g{next(self._ids)}"
        self.games[game_id] = FakeGame(game_id, request)
        return game_id

    async def join(self, game_id: str, seat: int, request: SeatRequest) -> str:
        game = self._game(game_id)
        error = self.fail_join.get(request.player.key)
        if error is not None:
            raise error
        if game.request.seats[seat].player != request.player:
            raise FailedPrecondition(f"seat {seat} of {game_id} is not reserved for {request.player}")
        game.tokens[seat] = f"token-{game_id}-{seat}"
        return game.tokens[seat]

    async def result(self, game_id: str) -> GameEnd:
        game = self._game(game_id)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        finally:
            self.running -= 1
        if game.end is None:
            if int(game_id[1:]) in self.abort:
                game.end = GameEnd(GameEndStatus.ABORTED, (), "END_REASON_ABORTED")
            else:
                players = [s.player for s in game.request.seats]
                won = self.winner(players)
                outcomes = tuple(
                    "draw" if won is None else ("win" if seat == won else "loss")
                    for seat in range(len(players))
                )
                game.end = GameEnd(GameEndStatus.FINISHED, outcomes)
        return game.end

    def _game(self, game_id: str) -> FakeGame:
        if game_id not in self.games:
            raise NotFound(f"unknown game {game_id!r}")
        return self.games[game_id]


class FakeRatings:
    """``Ratings``: ratings by player key (the starting rating otherwise) and head-to-head records
    by ``(a, b)`` keys (mirrored for ``(b, a)``). ``unavailable`` makes every call fail."""

    def __init__(
        self,
        ratings: Mapping[str, float] | None = None,
        records: Mapping[tuple[str, str], HeadToHead] | None = None,
    ) -> None:
        self.values = dict(ratings or {})
        self.records = dict(records or {})
        self.unavailable = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.unavailable:
            raise Unavailable("the Elo Service cannot be reached (fake)")

    async def ratings(self, players: Sequence[PlayerRef], mode: str) -> list[float]:
        self._check()
        return [self.values.get(p.key, INITIAL_RATING) for p in players]

    async def head_to_head(self, a: PlayerRef, b: PlayerRef, mode: str) -> HeadToHead:
        self._check()
        if (a.key, b.key) in self.records:
            return self.records[(a.key, b.key)]
        if (b.key, a.key) in self.records:
            return self.records[(b.key, a.key)].mirrored()
        return HeadToHead()


class FakeModels:
    """``Models``: accepted versions (optionally with an architecture each) and others by state."""

    def __init__(
        self,
        accepted: Iterable[int] = (),
        *,
        architectures: Mapping[int, str] | None = None,
        other: Mapping[int, str] | None = None,
    ) -> None:
        self.accepted_versions = set(accepted)
        self.architectures = dict(architectures or {})
        self.other = dict(other or {})  # version -> state name (REJECTED, RETIRED, ...)
        self.unavailable = False

    async def accepted(self, architecture: str = "") -> list[int]:
        if self.unavailable:
            raise Unavailable("the Model Service cannot be reached (fake)")
        versions = [
            v for v in self.accepted_versions if not architecture or self.architectures.get(v) == architecture
        ]
        return sorted(versions, reverse=True)

    async def check(self, version: int) -> None:
        if self.unavailable:
            raise Unavailable("the Model Service cannot be reached (fake)")
        if version in self.accepted_versions:
            return
        if version in self.other:
            raise FailedPrecondition(f"model version {version} is {self.other[version]}, not ACCEPTED")
        raise NotFound(f"unknown model version {version}")


class FakeSessions:
    """``Sessions``: user ids by session token."""

    def __init__(self, users: Mapping[str, str] | None = None) -> None:
        self.users = dict(users or {})

    async def user(self, session_token: str) -> str | None:
        return self.users.get(session_token)
