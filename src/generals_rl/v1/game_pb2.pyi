import datetime

from generals_rl.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MoveOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MOVE_ORDER_UNSPECIFIED: _ClassVar[MoveOrder]
    MOVE_ORDER_ALTERNATING: _ClassVar[MoveOrder]
    MOVE_ORDER_GENERALS_BOTS: _ClassVar[MoveOrder]

class Clock(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLOCK_UNSPECIFIED: _ClassVar[Clock]
    CLOCK_REAL_TIME: _ClassVar[Clock]
    CLOCK_LOCK_STEP: _ClassVar[Clock]

class GameStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GAME_STATUS_UNSPECIFIED: _ClassVar[GameStatus]
    GAME_STATUS_PENDING: _ClassVar[GameStatus]
    GAME_STATUS_RUNNING: _ClassVar[GameStatus]
    GAME_STATUS_FINISHED: _ClassVar[GameStatus]
    GAME_STATUS_ABORTED: _ClassVar[GameStatus]
MOVE_ORDER_UNSPECIFIED: MoveOrder
MOVE_ORDER_ALTERNATING: MoveOrder
MOVE_ORDER_GENERALS_BOTS: MoveOrder
CLOCK_UNSPECIFIED: Clock
CLOCK_REAL_TIME: Clock
CLOCK_LOCK_STEP: Clock
GAME_STATUS_UNSPECIFIED: GameStatus
GAME_STATUS_PENDING: GameStatus
GAME_STATUS_RUNNING: GameStatus
GAME_STATUS_FINISHED: GameStatus
GAME_STATUS_ABORTED: GameStatus

class IntRange(_message.Message):
    __slots__ = ("low", "high")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    low: int
    high: int
    def __init__(self, low: _Optional[int] = ..., high: _Optional[int] = ...) -> None: ...

class FloatRange(_message.Message):
    __slots__ = ("low", "high")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    low: float
    high: float
    def __init__(self, low: _Optional[float] = ..., high: _Optional[float] = ...) -> None: ...

class MapConfig(_message.Message):
    __slots__ = ("side", "mountain_density", "cities", "city_army", "min_distance", "fair_radius", "fair_tolerance", "min_room")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    MOUNTAIN_DENSITY_FIELD_NUMBER: _ClassVar[int]
    CITIES_FIELD_NUMBER: _ClassVar[int]
    CITY_ARMY_FIELD_NUMBER: _ClassVar[int]
    MIN_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    FAIR_RADIUS_FIELD_NUMBER: _ClassVar[int]
    FAIR_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    MIN_ROOM_FIELD_NUMBER: _ClassVar[int]
    side: IntRange
    mountain_density: FloatRange
    cities: IntRange
    city_army: IntRange
    min_distance: IntRange
    fair_radius: int
    fair_tolerance: float
    min_room: int
    def __init__(self, side: _Optional[_Union[IntRange, _Mapping]] = ..., mountain_density: _Optional[_Union[FloatRange, _Mapping]] = ..., cities: _Optional[_Union[IntRange, _Mapping]] = ..., city_army: _Optional[_Union[IntRange, _Mapping]] = ..., min_distance: _Optional[_Union[IntRange, _Mapping]] = ..., fair_radius: _Optional[int] = ..., fair_tolerance: _Optional[float] = ..., min_room: _Optional[int] = ...) -> None: ...

class EngineOptions(_message.Message):
    __slots__ = ("move_order", "max_ticks", "city_regeneration")
    MOVE_ORDER_FIELD_NUMBER: _ClassVar[int]
    MAX_TICKS_FIELD_NUMBER: _ClassVar[int]
    CITY_REGENERATION_FIELD_NUMBER: _ClassVar[int]
    move_order: MoveOrder
    max_ticks: int
    city_regeneration: bool
    def __init__(self, move_order: _Optional[_Union[MoveOrder, str]] = ..., max_ticks: _Optional[int] = ..., city_regeneration: _Optional[bool] = ...) -> None: ...

class SeatSpec(_message.Message):
    __slots__ = ("player", "hosted")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    player: _common_pb2.PlayerRef
    hosted: bool
    def __init__(self, player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., hosted: _Optional[bool] = ...) -> None: ...

class ReplaySource(_message.Message):
    __slots__ = ("data", "start_tick")
    DATA_FIELD_NUMBER: _ClassVar[int]
    START_TICK_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    start_tick: int
    def __init__(self, data: _Optional[bytes] = ..., start_tick: _Optional[int] = ...) -> None: ...

class CreateGameRequest(_message.Message):
    __slots__ = ("mode", "num_players", "generator", "map_text", "replay", "seed", "speed", "clock", "engine", "seats", "afk_ticks", "unrated", "request_id")
    MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    MAP_TEXT_FIELD_NUMBER: _ClassVar[int]
    REPLAY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    CLOCK_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    AFK_TICKS_FIELD_NUMBER: _ClassVar[int]
    UNRATED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    mode: _common_pb2.GameMode
    num_players: int
    generator: MapConfig
    map_text: str
    replay: ReplaySource
    seed: int
    speed: float
    clock: Clock
    engine: EngineOptions
    seats: _containers.RepeatedCompositeFieldContainer[SeatSpec]
    afk_ticks: int
    unrated: bool
    request_id: str
    def __init__(self, mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., num_players: _Optional[int] = ..., generator: _Optional[_Union[MapConfig, _Mapping]] = ..., map_text: _Optional[str] = ..., replay: _Optional[_Union[ReplaySource, _Mapping]] = ..., seed: _Optional[int] = ..., speed: _Optional[float] = ..., clock: _Optional[_Union[Clock, str]] = ..., engine: _Optional[_Union[EngineOptions, _Mapping]] = ..., seats: _Optional[_Iterable[_Union[SeatSpec, _Mapping]]] = ..., afk_ticks: _Optional[int] = ..., unrated: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class Seat(_message.Message):
    __slots__ = ("index", "player", "display_name", "hosted", "joined", "connected", "alive")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    JOINED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    index: int
    player: _common_pb2.PlayerRef
    display_name: str
    hosted: bool
    joined: bool
    connected: bool
    alive: bool
    def __init__(self, index: _Optional[int] = ..., player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., display_name: _Optional[str] = ..., hosted: _Optional[bool] = ..., joined: _Optional[bool] = ..., connected: _Optional[bool] = ..., alive: _Optional[bool] = ...) -> None: ...

class Game(_message.Message):
    __slots__ = ("game_id", "mode", "status", "clock", "speed", "tick", "seats", "spec", "engine", "seed", "afk_ticks", "unrated", "created_at", "started_at", "ended_at", "result")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLOCK_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    AFK_TICKS_FIELD_NUMBER: _ClassVar[int]
    UNRATED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    mode: _common_pb2.GameMode
    status: GameStatus
    clock: Clock
    speed: float
    tick: int
    seats: _containers.RepeatedCompositeFieldContainer[Seat]
    spec: _common_pb2.ObservationSpec
    engine: EngineOptions
    seed: int
    afk_ticks: int
    unrated: bool
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    result: _common_pb2.GameResult
    def __init__(self, game_id: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., status: _Optional[_Union[GameStatus, str]] = ..., clock: _Optional[_Union[Clock, str]] = ..., speed: _Optional[float] = ..., tick: _Optional[int] = ..., seats: _Optional[_Iterable[_Union[Seat, _Mapping]]] = ..., spec: _Optional[_Union[_common_pb2.ObservationSpec, _Mapping]] = ..., engine: _Optional[_Union[EngineOptions, _Mapping]] = ..., seed: _Optional[int] = ..., afk_ticks: _Optional[int] = ..., unrated: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result: _Optional[_Union[_common_pb2.GameResult, _Mapping]] = ...) -> None: ...

class JoinGameRequest(_message.Message):
    __slots__ = ("game_id", "session_token", "bot", "model_version", "hosted", "seat", "display_name")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BOT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    session_token: str
    bot: str
    model_version: int
    hosted: bool
    seat: int
    display_name: str
    def __init__(self, game_id: _Optional[str] = ..., session_token: _Optional[str] = ..., bot: _Optional[str] = ..., model_version: _Optional[int] = ..., hosted: _Optional[bool] = ..., seat: _Optional[int] = ..., display_name: _Optional[str] = ...) -> None: ...

class JoinGameResponse(_message.Message):
    __slots__ = ("player_token", "seat", "game")
    PLAYER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    GAME_FIELD_NUMBER: _ClassVar[int]
    player_token: str
    seat: int
    game: Game
    def __init__(self, player_token: _Optional[str] = ..., seat: _Optional[int] = ..., game: _Optional[_Union[Game, _Mapping]] = ...) -> None: ...

class StreamViewRequest(_message.Message):
    __slots__ = ("game_id", "player_token")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    player_token: str
    def __init__(self, game_id: _Optional[str] = ..., player_token: _Optional[str] = ...) -> None: ...

class GameView(_message.Message):
    __slots__ = ("game_id", "tick", "seat", "observation", "queued_actions", "alive", "status", "done", "winner", "outcome", "next_tick_at")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    QUEUED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NEXT_TICK_AT_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    tick: int
    seat: int
    observation: _common_pb2.Observation
    queued_actions: _containers.RepeatedScalarFieldContainer[int]
    alive: bool
    status: GameStatus
    done: bool
    winner: int
    outcome: _common_pb2.Outcome
    next_tick_at: _timestamp_pb2.Timestamp
    def __init__(self, game_id: _Optional[str] = ..., tick: _Optional[int] = ..., seat: _Optional[int] = ..., observation: _Optional[_Union[_common_pb2.Observation, _Mapping]] = ..., queued_actions: _Optional[_Iterable[int]] = ..., alive: _Optional[bool] = ..., status: _Optional[_Union[GameStatus, str]] = ..., done: _Optional[bool] = ..., winner: _Optional[int] = ..., outcome: _Optional[_Union[_common_pb2.Outcome, str]] = ..., next_tick_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchGameRequest(_message.Message):
    __slots__ = ("game_id", "fog_of")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    FOG_OF_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    fog_of: int
    def __init__(self, game_id: _Optional[str] = ..., fog_of: _Optional[int] = ...) -> None: ...

class FullBoard(_message.Message):
    __slots__ = ("armies", "owners", "terrain", "scalars")
    ARMIES_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    TERRAIN_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    armies: _common_pb2.Tensor
    owners: _common_pb2.Tensor
    terrain: _common_pb2.Tensor
    scalars: _common_pb2.Tensor
    def __init__(self, armies: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., owners: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., terrain: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., scalars: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ...) -> None: ...

class SpectatorView(_message.Message):
    __slots__ = ("game_id", "tick", "fog_of", "seat_view", "full_board", "alive", "status", "done", "result", "next_tick_at", "skipped")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    FOG_OF_FIELD_NUMBER: _ClassVar[int]
    SEAT_VIEW_FIELD_NUMBER: _ClassVar[int]
    FULL_BOARD_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    NEXT_TICK_AT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    tick: int
    fog_of: int
    seat_view: GameView
    full_board: FullBoard
    alive: _containers.RepeatedScalarFieldContainer[bool]
    status: GameStatus
    done: bool
    result: _common_pb2.GameResult
    next_tick_at: _timestamp_pb2.Timestamp
    skipped: int
    def __init__(self, game_id: _Optional[str] = ..., tick: _Optional[int] = ..., fog_of: _Optional[int] = ..., seat_view: _Optional[_Union[GameView, _Mapping]] = ..., full_board: _Optional[_Union[FullBoard, _Mapping]] = ..., alive: _Optional[_Iterable[bool]] = ..., status: _Optional[_Union[GameStatus, str]] = ..., done: _Optional[bool] = ..., result: _Optional[_Union[_common_pb2.GameResult, _Mapping]] = ..., next_tick_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., skipped: _Optional[int] = ...) -> None: ...

class SubmitMovesRequest(_message.Message):
    __slots__ = ("game_id", "player_token", "actions")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    player_token: str
    actions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, game_id: _Optional[str] = ..., player_token: _Optional[str] = ..., actions: _Optional[_Iterable[int]] = ...) -> None: ...

class SubmitMovesResponse(_message.Message):
    __slots__ = ("queue_length", "tick")
    QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    queue_length: int
    tick: int
    def __init__(self, queue_length: _Optional[int] = ..., tick: _Optional[int] = ...) -> None: ...

class ClearMovesRequest(_message.Message):
    __slots__ = ("game_id", "player_token")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    player_token: str
    def __init__(self, game_id: _Optional[str] = ..., player_token: _Optional[str] = ...) -> None: ...

class ClearMovesResponse(_message.Message):
    __slots__ = ("cleared",)
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    cleared: int
    def __init__(self, cleared: _Optional[int] = ...) -> None: ...

class SurrenderRequest(_message.Message):
    __slots__ = ("game_id", "player_token")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    player_token: str
    def __init__(self, game_id: _Optional[str] = ..., player_token: _Optional[str] = ...) -> None: ...

class SurrenderResponse(_message.Message):
    __slots__ = ("effective_tick",)
    EFFECTIVE_TICK_FIELD_NUMBER: _ClassVar[int]
    effective_tick: int
    def __init__(self, effective_tick: _Optional[int] = ...) -> None: ...

class GetGameRequest(_message.Message):
    __slots__ = ("game_id",)
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    def __init__(self, game_id: _Optional[str] = ...) -> None: ...

class ListGamesRequest(_message.Message):
    __slots__ = ("page", "status", "mode", "player")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    status: GameStatus
    mode: _common_pb2.GameMode
    player: _common_pb2.PlayerRef
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., status: _Optional[_Union[GameStatus, str]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ...) -> None: ...

class ListGamesResponse(_message.Message):
    __slots__ = ("games", "page")
    GAMES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    games: _containers.RepeatedCompositeFieldContainer[Game]
    page: _common_pb2.PageResponse
    def __init__(self, games: _Optional[_Iterable[_Union[Game, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class MapList(_message.Message):
    __slots__ = ("map_texts",)
    MAP_TEXTS_FIELD_NUMBER: _ClassVar[int]
    map_texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, map_texts: _Optional[_Iterable[str]] = ...) -> None: ...

class RewardOptions(_message.Message):
    __slots__ = ("land", "army", "city", "gamma", "guard", "guard_radius")
    LAND_FIELD_NUMBER: _ClassVar[int]
    ARMY_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    GUARD_FIELD_NUMBER: _ClassVar[int]
    GUARD_RADIUS_FIELD_NUMBER: _ClassVar[int]
    land: float
    army: float
    city: float
    gamma: float
    guard: float
    guard_radius: int
    def __init__(self, land: _Optional[float] = ..., army: _Optional[float] = ..., city: _Optional[float] = ..., gamma: _Optional[float] = ..., guard: _Optional[float] = ..., guard_radius: _Optional[int] = ...) -> None: ...

class BatchSpec(_message.Message):
    __slots__ = ("mode", "num_games", "num_players", "generator", "fixed", "seed", "engine", "hosted_bots", "reward", "autoreset", "record", "players", "unrated")
    MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_GAMES_FIELD_NUMBER: _ClassVar[int]
    NUM_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    FIXED_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    HOSTED_BOTS_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    AUTORESET_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    UNRATED_FIELD_NUMBER: _ClassVar[int]
    mode: _common_pb2.GameMode
    num_games: int
    num_players: int
    generator: MapConfig
    fixed: MapList
    seed: int
    engine: EngineOptions
    hosted_bots: _containers.RepeatedScalarFieldContainer[str]
    reward: RewardOptions
    autoreset: bool
    record: bool
    players: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    unrated: bool
    def __init__(self, mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., num_games: _Optional[int] = ..., num_players: _Optional[int] = ..., generator: _Optional[_Union[MapConfig, _Mapping]] = ..., fixed: _Optional[_Union[MapList, _Mapping]] = ..., seed: _Optional[int] = ..., engine: _Optional[_Union[EngineOptions, _Mapping]] = ..., hosted_bots: _Optional[_Iterable[str]] = ..., reward: _Optional[_Union[RewardOptions, _Mapping]] = ..., autoreset: _Optional[bool] = ..., record: _Optional[bool] = ..., players: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ..., unrated: _Optional[bool] = ...) -> None: ...

class BatchActions(_message.Message):
    __slots__ = ("step", "actions")
    STEP_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    step: int
    actions: _common_pb2.Tensor
    def __init__(self, step: _Optional[int] = ..., actions: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ...) -> None: ...

class StepBatchRequest(_message.Message):
    __slots__ = ("create", "actions")
    CREATE_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    create: BatchSpec
    actions: BatchActions
    def __init__(self, create: _Optional[_Union[BatchSpec, _Mapping]] = ..., actions: _Optional[_Union[BatchActions, _Mapping]] = ...) -> None: ...

class StepBatchResponse(_message.Message):
    __slots__ = ("step", "spec", "controlled_seats", "observation", "rewards", "dones", "truncated", "winners", "alive", "final_observation", "finished_game_ids")
    STEP_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    CONTROLLED_SEATS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    DONES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    WINNERS_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    FINAL_OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    FINISHED_GAME_IDS_FIELD_NUMBER: _ClassVar[int]
    step: int
    spec: _common_pb2.ObservationSpec
    controlled_seats: _containers.RepeatedScalarFieldContainer[int]
    observation: _common_pb2.Observation
    rewards: _common_pb2.Tensor
    dones: _common_pb2.Tensor
    truncated: _common_pb2.Tensor
    winners: _common_pb2.Tensor
    alive: _common_pb2.Tensor
    final_observation: _common_pb2.Observation
    finished_game_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, step: _Optional[int] = ..., spec: _Optional[_Union[_common_pb2.ObservationSpec, _Mapping]] = ..., controlled_seats: _Optional[_Iterable[int]] = ..., observation: _Optional[_Union[_common_pb2.Observation, _Mapping]] = ..., rewards: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., dones: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., truncated: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., winners: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., alive: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., final_observation: _Optional[_Union[_common_pb2.Observation, _Mapping]] = ..., finished_game_ids: _Optional[_Iterable[str]] = ...) -> None: ...
