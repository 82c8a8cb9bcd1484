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

class LeaderboardOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEADERBOARD_ORDER_UNSPECIFIED: _ClassVar[LeaderboardOrder]
    LEADERBOARD_ORDER_RATING: _ClassVar[LeaderboardOrder]
    LEADERBOARD_ORDER_LOWER: _ClassVar[LeaderboardOrder]
    LEADERBOARD_ORDER_ELO: _ClassVar[LeaderboardOrder]
LEADERBOARD_ORDER_UNSPECIFIED: LeaderboardOrder
LEADERBOARD_ORDER_RATING: LeaderboardOrder
LEADERBOARD_ORDER_LOWER: LeaderboardOrder
LEADERBOARD_ORDER_ELO: LeaderboardOrder

class Rating(_message.Message):
    __slots__ = ("player", "mode", "elo", "rating", "deviation", "lower", "upper", "method", "games", "wins", "losses", "draws", "updated_at", "rank")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ELO_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    DEVIATION_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    GAMES_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    DRAWS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    player: _common_pb2.PlayerRef
    mode: _common_pb2.GameMode
    elo: float
    rating: float
    deviation: float
    lower: float
    upper: float
    method: str
    games: int
    wins: int
    losses: int
    draws: int
    updated_at: _timestamp_pb2.Timestamp
    rank: int
    def __init__(self, player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., elo: _Optional[float] = ..., rating: _Optional[float] = ..., deviation: _Optional[float] = ..., lower: _Optional[float] = ..., upper: _Optional[float] = ..., method: _Optional[str] = ..., games: _Optional[int] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., draws: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rank: _Optional[int] = ...) -> None: ...

class RatingChange(_message.Message):
    __slots__ = ("player", "elo_before", "elo_after", "rating_before", "rating_after", "deviation_before", "deviation_after")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    ELO_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ELO_AFTER_FIELD_NUMBER: _ClassVar[int]
    RATING_BEFORE_FIELD_NUMBER: _ClassVar[int]
    RATING_AFTER_FIELD_NUMBER: _ClassVar[int]
    DEVIATION_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DEVIATION_AFTER_FIELD_NUMBER: _ClassVar[int]
    player: _common_pb2.PlayerRef
    elo_before: float
    elo_after: float
    rating_before: float
    rating_after: float
    deviation_before: float
    deviation_after: float
    def __init__(self, player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., elo_before: _Optional[float] = ..., elo_after: _Optional[float] = ..., rating_before: _Optional[float] = ..., rating_after: _Optional[float] = ..., deviation_before: _Optional[float] = ..., deviation_after: _Optional[float] = ...) -> None: ...

class ReportResultRequest(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _common_pb2.GameResult
    def __init__(self, result: _Optional[_Union[_common_pb2.GameResult, _Mapping]] = ...) -> None: ...

class ReportResultResponse(_message.Message):
    __slots__ = ("duplicate", "changes")
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    changes: _containers.RepeatedCompositeFieldContainer[RatingChange]
    def __init__(self, duplicate: _Optional[bool] = ..., changes: _Optional[_Iterable[_Union[RatingChange, _Mapping]]] = ...) -> None: ...

class GetRatingRequest(_message.Message):
    __slots__ = ("player", "mode")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    player: _common_pb2.PlayerRef
    mode: _common_pb2.GameMode
    def __init__(self, player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ...) -> None: ...

class GetRatingsRequest(_message.Message):
    __slots__ = ("players", "mode")
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    players: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    mode: _common_pb2.GameMode
    def __init__(self, players: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ...) -> None: ...

class GetRatingsResponse(_message.Message):
    __slots__ = ("ratings",)
    RATINGS_FIELD_NUMBER: _ClassVar[int]
    ratings: _containers.RepeatedCompositeFieldContainer[Rating]
    def __init__(self, ratings: _Optional[_Iterable[_Union[Rating, _Mapping]]] = ...) -> None: ...

class LeaderboardRequest(_message.Message):
    __slots__ = ("mode", "kind", "min_games", "order", "page")
    MODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MIN_GAMES_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    mode: _common_pb2.GameMode
    kind: _common_pb2.PlayerKind
    min_games: int
    order: LeaderboardOrder
    page: _common_pb2.PageRequest
    def __init__(self, mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., kind: _Optional[_Union[_common_pb2.PlayerKind, str]] = ..., min_games: _Optional[int] = ..., order: _Optional[_Union[LeaderboardOrder, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class LeaderboardResponse(_message.Message):
    __slots__ = ("entries", "page", "as_of")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[Rating]
    page: _common_pb2.PageResponse
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, entries: _Optional[_Iterable[_Union[Rating, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RatingHistoryRequest(_message.Message):
    __slots__ = ("player", "mode", "since", "page")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    player: _common_pb2.PlayerRef
    mode: _common_pb2.GameMode
    since: _timestamp_pb2.Timestamp
    page: _common_pb2.PageRequest
    def __init__(self, player: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class RatingPoint(_message.Message):
    __slots__ = ("game_id", "at", "outcome", "place", "opponents", "elo", "rating", "deviation")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PLACE_FIELD_NUMBER: _ClassVar[int]
    OPPONENTS_FIELD_NUMBER: _ClassVar[int]
    ELO_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    DEVIATION_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    at: _timestamp_pb2.Timestamp
    outcome: _common_pb2.Outcome
    place: int
    opponents: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlayerRef]
    elo: float
    rating: float
    deviation: float
    def __init__(self, game_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[_common_pb2.Outcome, str]] = ..., place: _Optional[int] = ..., opponents: _Optional[_Iterable[_Union[_common_pb2.PlayerRef, _Mapping]]] = ..., elo: _Optional[float] = ..., rating: _Optional[float] = ..., deviation: _Optional[float] = ...) -> None: ...

class RatingHistoryResponse(_message.Message):
    __slots__ = ("points", "page")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[RatingPoint]
    page: _common_pb2.PageResponse
    def __init__(self, points: _Optional[_Iterable[_Union[RatingPoint, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class HeadToHeadRequest(_message.Message):
    __slots__ = ("a", "b", "mode", "recent")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    RECENT_FIELD_NUMBER: _ClassVar[int]
    a: _common_pb2.PlayerRef
    b: _common_pb2.PlayerRef
    mode: _common_pb2.GameMode
    recent: int
    def __init__(self, a: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., b: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., mode: _Optional[_Union[_common_pb2.GameMode, str]] = ..., recent: _Optional[int] = ...) -> None: ...

class HeadToHeadResponse(_message.Message):
    __slots__ = ("a", "b", "games", "a_wins", "b_wins", "draws", "a_score", "a_expected", "recent_game_ids")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    GAMES_FIELD_NUMBER: _ClassVar[int]
    A_WINS_FIELD_NUMBER: _ClassVar[int]
    B_WINS_FIELD_NUMBER: _ClassVar[int]
    DRAWS_FIELD_NUMBER: _ClassVar[int]
    A_SCORE_FIELD_NUMBER: _ClassVar[int]
    A_EXPECTED_FIELD_NUMBER: _ClassVar[int]
    RECENT_GAME_IDS_FIELD_NUMBER: _ClassVar[int]
    a: _common_pb2.PlayerRef
    b: _common_pb2.PlayerRef
    games: int
    a_wins: int
    b_wins: int
    draws: int
    a_score: float
    a_expected: float
    recent_game_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, a: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., b: _Optional[_Union[_common_pb2.PlayerRef, _Mapping]] = ..., games: _Optional[int] = ..., a_wins: _Optional[int] = ..., b_wins: _Optional[int] = ..., draws: _Optional[int] = ..., a_score: _Optional[float] = ..., a_expected: _Optional[float] = ..., recent_game_ids: _Optional[_Iterable[str]] = ...) -> None: ...
