import datetime

from generals_rl.v1 import common_pb2 as _common_pb2
from generals_rl.v1 import game_pb2 as _game_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TicketStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TICKET_STATUS_UNSPECIFIED: _ClassVar[TicketStatus]
    TICKET_STATUS_QUEUED: _ClassVar[TicketStatus]
    TICKET_STATUS_MATCHED: _ClassVar[TicketStatus]
    TICKET_STATUS_CANCELLED: _ClassVar[TicketStatus]
    TICKET_STATUS_EXPIRED: _ClassVar[TicketStatus]

class TournamentFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOURNAMENT_FORMAT_UNSPECIFIED: _ClassVar[TournamentFormat]
    TOURNAMENT_FORMAT_ROUND_ROBIN: _ClassVar[TournamentFormat]
    TOURNAMENT_FORMAT_SWISS: _ClassVar[TournamentFormat]
    TOURNAMENT_FORMAT_SINGLE_ELIMINATION: _ClassVar[TournamentFormat]

class TournamentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOURNAMENT_STATUS_UNSPECIFIED: _ClassVar[TournamentStatus]
    TOURNAMENT_STATUS_RUNNING: _ClassVar[TournamentStatus]
    TOURNAMENT_STATUS_FINISHED: _ClassVar[TournamentStatus]
    TOURNAMENT_STATUS_FAILED: _ClassVar[TournamentStatus]

class SamplingStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAMPLING_STRATEGY_UNSPECIFIED: _ClassVar[SamplingStrategy]
    SAMPLING_STRATEGY_LATEST: _ClassVar[SamplingStrategy]
    SAMPLING_STRATEGY_UNIFORM: _ClassVar[SamplingStrategy]
    SAMPLING_STRATEGY_PFSP: _ClassVar[SamplingStrategy]

class PfspWeighting(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PFSP_WEIGHTING_UNSPECIFIED: _ClassVar[PfspWeighting]
    PFSP_WEIGHTING_HARD: _ClassVar[PfspWeighting]
    PFSP_WEIGHTING_VARIANCE: _ClassVar[PfspWeighting]
TICKET_STATUS_UNSPECIFIED: TicketStatus
TICKET_STATUS_QUEUED: TicketStatus
TICKET_STATUS_MATCHED: TicketStatus
TICKET_STATUS_CANCELLED: TicketStatus
TICKET_STATUS_EXPIRED: TicketStatus
TOURNAMENT_FORMAT_UNSPECIFIED: TournamentFormat
TOURNAMENT_FORMAT_ROUND_ROBIN: TournamentFormat
TOURNAMENT_FORMAT_SWISS: TournamentFormat
TOURNAMENT_FORMAT_SINGLE_ELIMINATION: TournamentFormat
TOURNAMENT_STATUS_UNSPECIFIED: TournamentStatus
TOURNAMENT_STATUS_RUNNING: TournamentStatus
TOURNAMENT_STATUS_FINISHED: TournamentStatus
TOURNAMENT_STATUS_FAILED: TournamentStatus
SAMPLING_STRATEGY_UNSPECIFIED: SamplingStrategy
SAMPLING_STRATEGY_LATEST: SamplingStrategy
SAMPLING_STRATEGY_UNIFORM: SamplingStrategy
SAMPLING_STRATEGY_PFSP: SamplingStrategy
PFSP_WEIGHTING_UNSPECIFIED: PfspWeighting
PFSP_WEIGHTING_HARD: PfspWeighting
PFSP_WEIGHTING_VARIANCE: PfspWeighting

class FindMatchRequest(_message.Message):
    __slots__ = ("session_token", "bot", "model_version", "hosted", "mode", "num_players", "opponent_kinds", "max_wait_s", "request_id")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BOT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    OPPONENT_KINDS_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_S_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    bot: str
    model_version: int
    hosted: bool
    mode: _common_pb2.GameMode
    num_players: int
    opponent_kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.PlayerKind]
    max_wait_s: int
    request_id: str
    def __init__(self, session_token: _Optional[str] = ..., bot: _Optional[str] = ..., model_version: _Optional[int] = ..., hosted: _Optional[bool] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., num_players: _Optional[int] = ..., opponent_kinds: _Optional[_Iterable[_Union[_common_pb2.PlayerKind, str]]] = ..., max_wait_s: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class Match(_message.Message):
    __slots__ = ("game_id", "game_address", "seat", "player_token", "players")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    game_address: str
    seat: int
    player_token: str
    players: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    def __init__(self, game_id: _Optional[str] = ..., game_address: _Optional[str] = ..., seat: _Optional[int] = ..., player_token: _Optional[str] = ..., players: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_id", "player", "mode", "num_players", "status", "rating", "window", "waited_s", "created_at", "match", "reason")
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    WAITED_S_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    player: _common_pb2.PlayerRef
    mode: _common_pb2.GameMode
    num_players: int
    status: TicketStatus
    rating: float
    window: float
    waited_s: float
    created_at: _timestamp_pb2.Timestamp
    match: Match
    reason: str
    def __init__(self, ticket_id: _Optional[str] = ..., player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., num_players: _Optional[int] = ..., status: _Optional[_Union[TicketStatus, str]] = ..., rating: _Optional[float] = ..., window: _Optional[float] = ..., waited_s: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., match: _Optional[_Union[Match, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("ticket_id",)
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    def __init__(self, ticket_id: _Optional[str] = ...) -> None: ...

class WatchTicketRequest(_message.Message):
    __slots__ = ("ticket_id",)
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    def __init__(self, ticket_id: _Optional[str] = ...) -> None: ...

class ListQueuesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueueInfo(_message.Message):
    __slots__ = ("name", "mode", "num_players", "waiting", "longest_wait_s", "median_wait_s")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    LONGEST_WAIT_S_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_WAIT_S_FIELD_NUMBER: _ClassVar[int]
    name: str
    mode: _common_pb2.GameMode
    num_players: int
    waiting: int
    longest_wait_s: float
    median_wait_s: float
    def __init__(self, name: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., num_players: _Optional[int] = ..., waiting: _Optional[int] = ..., longest_wait_s: _Optional[float] = ..., median_wait_s: _Optional[float] = ...) -> None: ...

class ListQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[QueueInfo]
    def __init__(self, queues: _Optional[_Iterable[_Union[QueueInfo, _Mapping]]] = ...) -> None: ...

class CreateTournamentRequest(_message.Message):
    __slots__ = ("name", "format", "participants", "games_per_pairing", "rounds", "generator", "seed", "engine", "unrated", "max_parallel_games", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    GAMES_PER_PAIRING_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    UNRATED_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_GAMES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: TournamentFormat
    participants: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    games_per_pairing: int
    rounds: int
    generator: _game_pb2.MapConfig
    seed: int
    engine: _game_pb2.EngineOptions
    unrated: bool
    max_parallel_games: int
    request_id: str
    def __init__(self, name: _Optional[str] = ..., format: _Optional[_Union[TournamentFormat, str]] = ..., participants: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ..., games_per_pairing: _Optional[int] = ..., rounds: _Optional[int] = ..., generator: _Optional[_Union[_game_pb2.MapConfig, _Mapping]] = ..., seed: _Optional[int] = ..., engine: _Optional[_Union[_game_pb2.EngineOptions, _Mapping]] = ..., unrated: _Optional[bool] = ..., max_parallel_games: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class Standing(_message.Message):
    __slots__ = ("rank", "player", "points", "games", "wins", "losses", "draws", "tiebreak", "eliminated")
    RANK_FIELD_NUMBER: _ClassVar[int]
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    GAMES_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    DRAWS_FIELD_NUMBER: _ClassVar[int]
    TIEBREAK_FIELD_NUMBER: _ClassVar[int]
    ELIMINATED_FIELD_NUMBER: _ClassVar[int]
    rank: int
    player: _common_pb2.PlayerRef
    points: float
    games: int
    wins: int
    losses: int
    draws: int
    tiebreak: float
    eliminated: bool
    def __init__(self, rank: _Optional[int] = ..., player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., points: _Optional[float] = ..., games: _Optional[int] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., draws: _Optional[int] = ..., tiebreak: _Optional[float] = ..., eliminated: _Optional[bool] = ...) -> None: ...

class Pairing(_message.Message):
    __slots__ = ("a", "b", "game_ids", "a_points", "b_points", "finished", "winner")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    GAME_IDS_FIELD_NUMBER: _ClassVar[int]
    A_POINTS_FIELD_NUMBER: _ClassVar[int]
    B_POINTS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    a: _common_pb2.PlayerRef
    b: _common_pb2.PlayerRef
    game_ids: _containers.RepeatedScalarFieldContainer[str]
    a_points: float
    b_points: float
    finished: bool
    winner: _common_pb2.PlayerRef
    def __init__(self, a: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., b: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., game_ids: _Optional[_Iterable[str]] = ..., a_points: _Optional[float] = ..., b_points: _Optional[float] = ..., finished: _Optional[bool] = ..., winner: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("number", "pairings", "finished")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAIRINGS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    number: int
    pairings: _containers.RepeatedCompositeFieldContainer[Pairing]
    finished: bool
    def __init__(self, number: _Optional[int] = ..., pairings: _Optional[_Iterable[_Union[Pairing, _Mapping]]] = ..., finished: _Optional[bool] = ...) -> None: ...

class Tournament(_message.Message):
    __slots__ = ("tournament_id", "name", "format", "status", "participants", "games_per_pairing", "total_rounds", "rounds", "standings", "winner", "seed", "unrated", "created_at", "ended_at", "error")
    TOURNAMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    GAMES_PER_PAIRING_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    STANDINGS_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    UNRATED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    tournament_id: str
    name: str
    format: TournamentFormat
    status: TournamentStatus
    participants: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    games_per_pairing: int
    total_rounds: int
    rounds: _containers.RepeatedCompositeFieldContainer[Round]
    standings: _containers.RepeatedCompositeFieldContainer[Standing]
    winner: _common_pb2.PlayerRef
    seed: int
    unrated: bool
    created_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, tournament_id: _Optional[str] = ..., name: _Optional[str] = ..., format: _Optional[_Union[TournamentFormat, str]] = ..., status: _Optional[_Union[TournamentStatus, str]] = ..., participants: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ..., games_per_pairing: _Optional[int] = ..., total_rounds: _Optional[int] = ..., rounds: _Optional[_Iterable[_Union[Round, _Mapping]]] = ..., standings: _Optional[_Iterable[_Union[Standing, _Mapping]]] = ..., winner: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., seed: _Optional[int] = ..., unrated: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class GetTournamentRequest(_message.Message):
    __slots__ = ("tournament_id",)
    TOURNAMENT_ID_FIELD_NUMBER: _ClassVar[int]
    tournament_id: str
    def __init__(self, tournament_id: _Optional[str] = ...) -> None: ...

class ListTournamentsRequest(_message.Message):
    __slots__ = ("page", "status")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    status: TournamentStatus
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., status: _Optional[_Union[TournamentStatus, str]] = ...) -> None: ...

class ListTournamentsResponse(_message.Message):
    __slots__ = ("tournaments", "page")
    TOURNAMENTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    tournaments: _containers.RepeatedCompositeFieldContainer[Tournament]
    page: _common_pb2.PageResponse
    def __init__(self, tournaments: _Optional[_Iterable[_Union[Tournament, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class SampleOpponentsRequest(_message.Message):
    __slots__ = ("learner", "strategy", "count", "window", "include_bots", "architecture", "weighting", "exponent", "mode", "seed")
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_BOTS_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTING_FIELD_NUMBER: _ClassVar[int]
    EXPONENT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    learner: _common_pb2.PlayerRef
    strategy: SamplingStrategy
    count: int
    window: int
    include_bots: bool
    architecture: str
    weighting: PfspWeighting
    exponent: float
    mode: _common_pb2.GameMode
    seed: int
    def __init__(self, learner: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., strategy: _Optional[_Union[SamplingStrategy, str]] = ..., count: _Optional[int] = ..., window: _Optional[int] = ..., include_bots: _Optional[bool] = ..., architecture: _Optional[str] = ..., weighting: _Optional[_Union[PfspWeighting, str]] = ..., exponent: _Optional[float] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., seed: _Optional[int] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("player", "probability", "learner_win_rate", "games")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    LEARNER_WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    GAMES_FIELD_NUMBER: _ClassVar[int]
    player: _common_pb2.PlayerRef
    probability: float
    learner_win_rate: float
    games: int
    def __init__(self, player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., probability: _Optional[float] = ..., learner_win_rate: _Optional[float] = ..., games: _Optional[int] = ...) -> None: ...

class SampleOpponentsResponse(_message.Message):
    __slots__ = ("opponents", "candidates")
    OPPONENTS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    opponents: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    def __init__(self, opponents: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ...) -> None: ...
