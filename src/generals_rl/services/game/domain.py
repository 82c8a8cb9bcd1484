"""The Game Service's domain types: what its operations take and return, in one process or remotely.

``GameManager`` (core) and ``GameHost`` take and return these; ``GameClient`` returns the same
types decoded from the wire, so code written against one works against the other. They mirror
``proto/generals_rl/v1/game.proto`` without its wire details: enums are short strings, times are
timezone-aware ``datetime``s, observations are ``generals_rl.game.Observation`` tensors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from torch import Tensor

from generals_rl.game.engine import RULES_VERSION, num_actions
from generals_rl.game.observations import PLANES, Observation, scalar_names

Mode = Literal["1v1", "ffa"]
ClockKind = Literal["real_time", "lock_step"]
Status = Literal["pending", "running", "finished", "aborted"]
Outcome = Literal["win", "loss", "draw"]
EndReason = Literal["general_captured", "eliminated", "tick_limit", "aborted"]
PlayerKind = Literal["human", "bot", "model"]
MoveOrderName = Literal["alternating", "generals-bots"]

MODES: tuple[Mode, ...] = ("1v1", "ffa")
STATUSES: tuple[Status, ...] = ("pending", "running", "finished", "aborted")


@dataclass(frozen=True)
class PlayerRef:
    """One participant: ``kind`` and its id within the kind (user id, bot name, model version)."""

    kind: PlayerKind
    id: str

    @property
    def key(self) -> str:
        """The canonical ``<kind>:<id>`` form the Elo Service rates."""
        return f"{self.kind}:{self.id}"

    def __str__(self) -> str:
        return self.key


# -- creating games ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorSpec:
    """Generator settings; ``None`` takes the mode's preset (``MapConfig.generalsio_1v1`` or ``ffa``)."""

    side: tuple[int, int] | None = None
    mountain_density: tuple[float, float] | None = None
    cities: tuple[int, int] | None = None
    city_army: tuple[int, int] | None = None
    min_distance: tuple[int, int] | None = None
    fair_radius: int | None = None
    fair_tolerance: float | None = None
    min_room: int | None = None


@dataclass(frozen=True)
class MapText:
    """A map in the text format of ``generals_rl.game.maps``."""

    text: str


@dataclass(frozen=True)
class ReplayStart:
    """The map of a replay (``.gioreplay`` or ``.gior`` bytes), from its start or a later tick."""

    data: bytes
    start_tick: int = 0


MapSpec = GeneratorSpec | MapText | ReplayStart


@dataclass(frozen=True)
class EngineOptions:
    """Rule options as requested; ``max_ticks`` 0 means the default (2000)."""

    move_order: MoveOrderName = "alternating"
    max_ticks: int = 0
    city_regeneration: bool = False


@dataclass(frozen=True)
class SeatSpec:
    """A seat reservation: for ``player`` (None: open to anyone), ``hosted`` by the server."""

    player: PlayerRef | None = None
    hosted: bool = False


@dataclass(frozen=True)
class GameSpec:
    """A CreateGame request. Zero values mean the documented defaults (game.proto)."""

    mode: Mode = "1v1"
    num_players: int = 0
    map: MapSpec | None = None
    seed: int = 0
    speed: float = 0.0
    clock: ClockKind | None = None
    engine: EngineOptions = field(default_factory=EngineOptions)
    seats: tuple[SeatSpec, ...] = ()
    afk_ticks: int = 0
    unrated: bool = False
    request_id: str = ""


@dataclass(frozen=True)
class Joiner:
    """Who joins a seat: exactly one of a human's session token, a bot name or a model version."""

    session_token: str | None = None
    bot: str | None = None
    model_version: int | None = None


# -- what games look like ---------------------------------------------------------------------


@dataclass(frozen=True)
class BoardSpec:
    """Board shape and player count of a game: everything ``ObservationSpec`` derives from."""

    height: int
    width: int
    num_players: int

    @property
    def num_actions(self) -> int:
        return num_actions(self.height, self.width)

    @property
    def plane_names(self) -> tuple[str, ...]:
        return PLANES

    @property
    def scalar_names(self) -> tuple[str, ...]:
        return scalar_names(self.num_players)

    @property
    def rules_version(self) -> int:
        return RULES_VERSION


@dataclass(frozen=True)
class SeatInfo:
    """One seat as reported (never its token)."""

    index: int
    player: PlayerRef | None
    display_name: str
    hosted: bool
    joined: bool
    connected: bool
    alive: bool


@dataclass(frozen=True)
class PlayerResult:
    """One seat's part of a result."""

    player: PlayerRef
    seat: int
    outcome: Outcome
    place: int
    eliminated_tick: int = 0


@dataclass(frozen=True)
class GameResult:
    """How a game ended; what the Elo Service receives. ``players`` is empty for aborted games."""

    game_id: str
    mode: Mode
    players: tuple[PlayerResult, ...]
    ticks: int
    reason: EndReason
    started_at: datetime | None = None
    ended_at: datetime | None = None
    replay_uri: str = ""

    @property
    def winner(self) -> int | None:
        """Seat of the first winner, if anyone won."""
        return next((p.seat for p in self.players if p.outcome == "win"), None)

    def to_json(self) -> str:
        """JSON text (for the pending-results store)."""
        obj: dict[str, Any] = {
            "game_id": self.game_id,
            "mode": self.mode,
            "players": [
                {
                    "kind": p.player.kind,
                    "id": p.player.id,
                    "seat": p.seat,
                    "outcome": p.outcome,
                    "place": p.place,
                    "eliminated_tick": p.eliminated_tick,
                }
                for p in self.players
            ],
            "ticks": self.ticks,
            "reason": self.reason,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "replay_uri": self.replay_uri,
        }
        return json.dumps(obj, sort_keys=True)

    @staticmethod
    def from_json(text: str | bytes) -> GameResult:
        obj = json.loads(text)

        def when(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        return GameResult(
            game_id=obj["game_id"],
            mode=obj["mode"],
            players=tuple(
                PlayerResult(
                    player=PlayerRef(p["kind"], p["id"]),
                    seat=p["seat"],
                    outcome=p["outcome"],
                    place=p["place"],
                    eliminated_tick=p["eliminated_tick"],
                )
                for p in obj["players"]
            ),
            ticks=obj["ticks"],
            reason=obj["reason"],
            started_at=when(obj["started_at"]),
            ended_at=when(obj["ended_at"]),
            replay_uri=obj["replay_uri"],
        )


@dataclass(frozen=True)
class GameInfo:
    """A game as GetGame reports it: seats, status, clock, tick and, once over, its result."""

    game_id: str
    mode: Mode
    status: Status
    clock: ClockKind | None
    speed: float
    tick: int
    seats: tuple[SeatInfo, ...]
    board: BoardSpec
    engine: EngineOptions
    seed: int
    afk_ticks: int
    unrated: bool
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    result: GameResult | None = None


@dataclass(frozen=True)
class JoinResult:
    """A seat taken: the secret token for later calls, the seat index, the game after the join."""

    player_token: str
    seat: int
    game: GameInfo


@dataclass(frozen=True)
class SeatView:
    """What one seat sees after one tick: its fogged observation (no leading dimensions)."""

    game_id: str
    tick: int
    seat: int
    observation: Observation
    queued_actions: tuple[int, ...]
    alive: bool
    status: Status
    done: bool
    winner: int | None = None
    outcome: Outcome | None = None
    next_tick_at: datetime | None = None


@dataclass(frozen=True)
class FullBoard:
    """The whole board without fog (game.proto ``FullBoard``): int32 ``armies``, int8 ``owners``
    (-1 nobody) and uint8 ``terrain`` (0 plain, 1 mountain, 2 city, 3 general), all (H, W); int32
    ``scalars`` (1 + 2P): the tick, then land and army of every seat in seat order."""

    armies: Tensor
    owners: Tensor
    terrain: Tensor
    scalars: Tensor


@dataclass(frozen=True)
class SpectatorFrame:
    """What a spectator sees after one tick: one seat's view (``fog_of``, its queue left out) or
    the whole board (``fog_of`` None); ``skipped`` frames were lost just before this one."""

    game_id: str
    tick: int
    fog_of: int | None
    view: SeatView | None
    board: FullBoard | None
    alive: tuple[bool, ...]
    status: Status
    done: bool
    result: GameResult | None = None
    next_tick_at: datetime | None = None
    skipped: int = 0


@dataclass(frozen=True)
class MovesQueued:
    """SubmitMoves' answer: the queue length now and the ticks played when the moves were queued."""

    queue_length: int
    tick: int


@dataclass(frozen=True)
class GameFilter:
    """ListGames' filters; ``None`` matches everything."""

    status: Status | None = None
    mode: Mode | None = None
    player: PlayerRef | None = None


@dataclass(frozen=True)
class GamePage:
    """One page of ListGames."""

    games: tuple[GameInfo, ...]
    next_page_token: str
    total_size: int


# -- batched lock-step games (StepBatch) ------------------------------------------------------


@dataclass(frozen=True)
class RewardOptions:
    """Potential-based shaping weights (``generals_rl.game.rewards.RewardConfig``); gamma 0 means
    0.99 and guard_radius 0 means 8."""

    land: float = 0.0
    army: float = 0.0
    city: float = 0.0
    gamma: float = 0.0
    guard: float = 0.0
    guard_radius: int = 0


@dataclass(frozen=True)
class MapList:
    """Fixed maps in the text format, played in turn."""

    texts: tuple[str, ...]


@dataclass(frozen=True)
class BatchSpec:
    """The games of one StepBatch stream (game.proto ``BatchSpec``)."""

    num_games: int
    mode: Mode = "1v1"
    num_players: int = 0
    maps: GeneratorSpec | MapList | None = None
    seed: int = 0
    engine: EngineOptions = field(default_factory=EngineOptions)
    hosted_bots: tuple[str, ...] = ()
    reward: RewardOptions = field(default_factory=RewardOptions)
    autoreset: bool = False
    record: bool = False
    players: tuple[PlayerRef, ...] = ()
    unrated: bool = False


@dataclass(frozen=True)
class BatchStep:
    """The state of a StepBatch's games after one step (shapes in game.proto ``StepBatchResponse``).

    ``observation`` tensors are (B, S, ...) for the S controlled seats; ``final_observation`` is
    (D, S, ...) for the D games that ended in this step, with autoreset only.
    """

    step: int
    observation: Observation
    rewards: Tensor
    dones: Tensor
    truncated: Tensor
    winners: Tensor
    alive: Tensor
    final_observation: Observation | None = None
    finished_game_ids: tuple[str, ...] = ()
    board: BoardSpec | None = None
    controlled_seats: tuple[int, ...] = ()
