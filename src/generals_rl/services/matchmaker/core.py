"""The Matchmaker's domain vocabulary: players, tickets, the ports to its peers, and its settings.

No gRPC here. The domain modules build on it: ``queues`` (FindMatch, Cancel, WatchTicket and the
pairing step) over ``tickets`` (tickets in the cache seam, claimed without locks),
``tournaments_runner`` (tournaments played on the Game Service) over ``tournament_records`` (what
is stored as JSON blobs, and the standings), and ``opponents`` (opponent sampling for self-play
actors). The peers are reached through the ports below — ``Games``, ``Ratings``, ``Models``,
``Sessions`` — whose gRPC implementations live in ``peers`` and whose fakes live in
``generals_rl.services.testing.fakes``.

A player is named ``<kind>:<id>`` (``human:alice``, ``bot:expander``, ``model:17``), the key the
Elo Service rates.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.elo.ratings import HeadToHead
from generals_rl.services.matchmaker.pairing import MAX_FFA_PLAYERS, Kind, PairingPolicy

BOT_NAMES: tuple[str, ...] = ("random", "expander", "gatherer")
"""The fixed opponents among the scripted bots (``generals_rl.agents.BOTS``, mirrored here so the
matchmaker does not import the engine and torch; a unit test keeps them among the agents). The
``raider``, a kickstarting teacher, is not offered here."""

MAX_ID_LENGTH = 128
KINDS: frozenset[Kind] = frozenset(Kind)
_MODEL_ID = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True, order=True)
class PlayerRef:
    """A human (user id), a scripted bot (name) or a model version (decimal number)."""

    kind: Kind
    id: str

    @property
    def key(self) -> str:
        """``<kind>:<id>``: the key the Elo Service rates."""
        return f"{self.kind}:{self.id}"

    def __str__(self) -> str:
        return self.key

    @staticmethod
    def parse(text: str) -> PlayerRef:
        """``bot:expander``, ``model:17``, ``human:alice``; a bare bot name or ``model:N`` for short.

        Raises ``InvalidArgument`` for anything else (see ``check_player``)."""
        text = text.strip()
        if text in BOT_NAMES:
            return PlayerRef(Kind.BOT, text)
        kind, sep, ident = text.partition(":")
        if not sep or kind not in {k.value for k in Kind}:
            raise InvalidArgument(
                f"player {text!r}: expected a bot name ({', '.join(BOT_NAMES)}), model:<version> "
                "or human:<user id>"
            )
        return check_player(PlayerRef(Kind(kind), ident))

    @staticmethod
    def model(version: int) -> PlayerRef:
        return PlayerRef(Kind.MODEL, str(version))


def check_player(player: PlayerRef, what: str = "player") -> PlayerRef:
    """``player`` if well formed: an id of 1..128 characters, a known bot name, a model version
    >= 1 written in decimal; else ``InvalidArgument`` naming ``what``."""
    if not 1 <= len(player.id) <= MAX_ID_LENGTH:
        raise InvalidArgument(f"{what}: the id must have 1..{MAX_ID_LENGTH} characters, got {len(player.id)}")
    if player.kind is Kind.BOT and player.id not in BOT_NAMES:
        raise InvalidArgument(f"{what}: unknown bot {player.id!r}: choose one of {', '.join(BOT_NAMES)}")
    if player.kind is Kind.MODEL and not _MODEL_ID.fullmatch(player.id):
        raise InvalidArgument(f"{what}: a model version is a number >= 1, got {player.id!r}")
    return player


def queue_name(mode: str, num_players: int) -> str:
    """The queue of a game mode (``1v1`` or ``ffa``) and player count: ``1v1`` or ``ffa-N``.

    ``num_players`` 0 means 2 for 1v1 and 8 for FFA."""
    if mode == "1v1":
        if num_players not in (0, 2):
            raise InvalidArgument(f"num_players: a 1v1 game has 2 players, got {num_players}")
        return "1v1"
    if mode == "ffa":
        players = num_players or MAX_FFA_PLAYERS
        if not 2 <= players <= MAX_FFA_PLAYERS:
            raise InvalidArgument(f"num_players: an FFA game has 2..{MAX_FFA_PLAYERS} players, got {players}")
        return f"ffa-{players}"
    raise InvalidArgument(f"mode: expected 1v1 or FFA, got {mode!r}")


def game_mode(queue: str) -> str:
    """``1v1`` or ``ffa``: the game mode (and rating pool) of a queue."""
    return "1v1" if queue == "1v1" else "ffa"


class TicketStatus(StrEnum):
    """Where a ticket is in its life; every status but QUEUED is final."""

    QUEUED = "queued"
    MATCHED = "matched"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True)
class MatchInfo:
    """The game a ticket was matched into; ``player_token`` is empty for a hosted seat."""

    game_id: str
    game_address: str
    seat: int
    player_token: str
    players: tuple[PlayerRef, ...]


@dataclass(frozen=True)
class TicketState:
    """A ticket as stored in the cache. Times are seconds on the matchmaker's clock (epoch).

    ``session_token`` (humans) is kept so that the matchmaker can join the seat for its holder;
    it never leaves the service."""

    id: str
    player: PlayerRef
    queue: str
    rating: float
    created_at: float
    max_wait_s: float
    hosted: bool = False
    opponent_kinds: frozenset[Kind] = frozenset()
    status: TicketStatus = TicketStatus.QUEUED
    ended_at: float | None = None
    match: MatchInfo | None = None
    reason: str = ""
    session_token: str = ""

    @property
    def num_players(self) -> int:
        return 2 if self.queue == "1v1" else int(self.queue.removeprefix("ffa-"))

    @property
    def accepts(self) -> frozenset[Kind]:
        """Kinds this ticket may meet (every kind when it named none)."""
        return self.opponent_kinds or KINDS

    @property
    def final(self) -> bool:
        return self.status is not TicketStatus.QUEUED

    def waited(self, now: float) -> float:
        """Seconds waited: until ``now`` while queued, until the end once final."""
        end = self.ended_at if self.ended_at is not None else now
        return max(0.0, end - self.created_at)

    def window(self, policy: PairingPolicy, now: float) -> float:
        """Half-width of the rating window after the time waited."""
        return policy.window(self.queue).width(self.waited(now))

    def deadline(self) -> float:
        return self.created_at + self.max_wait_s

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["player"] = self.player.key
        data["opponent_kinds"] = sorted(self.opponent_kinds)
        if self.match is not None:
            data["match"]["players"] = [p.key for p in self.match.players]
        return json.dumps(data, separators=(",", ":"))

    @staticmethod
    def from_json(text: str | bytes) -> TicketState:
        data: dict[str, Any] = json.loads(text)
        data["player"] = _ref(data["player"])
        data["opponent_kinds"] = frozenset(Kind(k) for k in data["opponent_kinds"])
        data["status"] = TicketStatus(data["status"])
        if data["match"] is not None:
            match = data["match"]
            data["match"] = MatchInfo(**{**match, "players": tuple(_ref(p) for p in match["players"])})
        return TicketState(**data)


def _ref(key: str) -> PlayerRef:
    kind, _, ident = key.partition(":")
    return PlayerRef(Kind(kind), ident)


# -- ports: what the matchmaker needs from its peers ----------------------------------------------


@dataclass(frozen=True)
class SeatRequest:
    """One seat of a game to create: who sits there, whether the Game Service plays it, and the
    human's session token (to join for the ticket's holder)."""

    player: PlayerRef
    hosted: bool = False
    session_token: str = ""


@dataclass(frozen=True)
class GameRequest:
    """A game to create on the Game Service. ``generator`` and ``engine`` are the MapConfig and
    EngineOptions messages as JSON objects (proto field names); ``None`` takes the presets."""

    mode: str
    seats: tuple[SeatRequest, ...]
    lock_step: bool = False
    generator: Mapping[str, Any] | None = None
    engine: Mapping[str, Any] | None = None
    seed: int = 0
    unrated: bool = False
    request_id: str = ""


class GameEndStatus(StrEnum):
    FINISHED = "finished"
    ABORTED = "aborted"


@dataclass(frozen=True)
class GameEnd:
    """How a game ended: per seat ``win``, ``loss`` or ``draw`` (empty when aborted)."""

    status: GameEndStatus
    outcomes: tuple[str, ...] = ()
    reason: str = ""


class Games(Protocol):
    """The Game Service, as the matchmaker uses it."""

    @property
    def address(self) -> str:
        """``host:port`` where players reach the Game Service."""
        ...

    async def create(self, request: GameRequest) -> str:
        """Create the game (hosted seats are joined at once); its id."""
        ...

    async def join(self, game_id: str, seat: int, request: SeatRequest) -> str:
        """Join a seat that is not hosted for its player; the seat's player token."""
        ...

    async def result(self, game_id: str) -> GameEnd:
        """Wait until the game is over."""
        ...


class Ratings(Protocol):
    """The Elo Service: ratings for pairing, head-to-head records for opponent sampling."""

    async def ratings(self, players: Sequence[PlayerRef], mode: str) -> list[float]:
        """Each player's rating in ``mode`` (``1v1``/``ffa``), in order; the starting rating for a
        player without games."""
        ...

    async def head_to_head(self, a: PlayerRef, b: PlayerRef, mode: str) -> HeadToHead:
        """``a``'s record against ``b`` in ``mode``."""
        ...


class Models(Protocol):
    """The Model Service's registry."""

    async def accepted(self, architecture: str = "") -> list[int]:
        """Accepted (not retired) versions, newest first; only ``architecture``'s when given."""
        ...

    async def check(self, version: int) -> None:
        """Return if ``version`` can play; ``NotFound`` if unknown, ``FailedPrecondition`` if it
        is not accepted."""
        ...


class Sessions(Protocol):
    """Human logins (issued by the HTTP gateway)."""

    async def user(self, session_token: str) -> str | None:
        """The user id of a live session, or None."""
        ...


@dataclass(frozen=True)
class MatchmakerConfig:
    """Settings of the matchmaker's queues and tournaments.

    Attributes:
        policy: pairing windows per queue (``pairing.PairingPolicy``).
        interval_s: period of the pairing loop; a FindMatch wakes it at once.
        max_waiting: tickets a queue holds before FindMatch answers RESOURCE_EXHAUSTED.
        retention_s: how long a final ticket stays readable (WatchTicket, Cancel).
        watch_poll_s: how often a WatchTicket stream re-reads its ticket from the cache (other
            replicas may change it); changes made by this replica wake it at once.
        heartbeat_s: a queued ticket's stream sends its state at least this often.
        cancel_wait_s: how long Cancel waits for a ticket that a pairing step holds right now.
        bot_fill_after_s: a ticket that lists bots among several opponent kinds is filled with
            hosted bots after this wait; one that asks for bots only, at once.
        bots: the bots that may fill seats.
        max_parallel_creates: games a pairing step creates at the same time.
        max_parallel_games: default for tournaments.
        seed: seed of the seat shuffles (None: a random one).
    """

    policy: PairingPolicy = dataclasses.field(default_factory=PairingPolicy)
    interval_s: float = 0.5
    max_waiting: int = 100_000
    retention_s: float = 3600.0
    watch_poll_s: float = 0.2
    heartbeat_s: float = 5.0
    cancel_wait_s: float = 5.0
    bot_fill_after_s: float = 30.0
    bots: tuple[str, ...] = BOT_NAMES
    max_parallel_creates: int = 16
    max_parallel_games: int = 16
    seed: int | None = None

    def __post_init__(self) -> None:
        if min(self.interval_s, self.watch_poll_s, self.heartbeat_s, self.retention_s) <= 0:
            raise ValueError("interval_s, watch_poll_s, heartbeat_s and retention_s must be > 0")
        if self.max_waiting < 1 or self.max_parallel_creates < 1 or self.max_parallel_games < 1:
            raise ValueError("max_waiting, max_parallel_creates and max_parallel_games must be >= 1")
        unknown = set(self.bots) - set(BOT_NAMES)
        if unknown:
            raise ValueError(f"unknown bots {sorted(unknown)}: choose from {', '.join(BOT_NAMES)}")


def check_request_id(request_id: str) -> str:
    if len(request_id) > MAX_ID_LENGTH:
        raise InvalidArgument(f"request_id: at most {MAX_ID_LENGTH} characters, got {len(request_id)}")
    return request_id
