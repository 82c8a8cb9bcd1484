import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DTYPE_UNSPECIFIED: _ClassVar[DType]
    DTYPE_BOOL: _ClassVar[DType]
    DTYPE_UINT8: _ClassVar[DType]
    DTYPE_INT8: _ClassVar[DType]
    DTYPE_INT16: _ClassVar[DType]
    DTYPE_INT32: _ClassVar[DType]
    DTYPE_INT64: _ClassVar[DType]
    DTYPE_FLOAT16: _ClassVar[DType]
    DTYPE_BFLOAT16: _ClassVar[DType]
    DTYPE_FLOAT32: _ClassVar[DType]
    DTYPE_FLOAT64: _ClassVar[DType]

class PlayerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAYER_KIND_UNSPECIFIED: _ClassVar[PlayerKind]
    PLAYER_KIND_HUMAN: _ClassVar[PlayerKind]
    PLAYER_KIND_BOT: _ClassVar[PlayerKind]
    PLAYER_KIND_MODEL: _ClassVar[PlayerKind]

class GameMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GAME_MODE_UNSPECIFIED: _ClassVar[GameMode]
    GAME_MODE_1V1: _ClassVar[GameMode]
    GAME_MODE_FFA: _ClassVar[GameMode]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_WIN: _ClassVar[Outcome]
    OUTCOME_LOSS: _ClassVar[Outcome]
    OUTCOME_DRAW: _ClassVar[Outcome]

class EndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    END_REASON_UNSPECIFIED: _ClassVar[EndReason]
    END_REASON_GENERAL_CAPTURED: _ClassVar[EndReason]
    END_REASON_ELIMINATED: _ClassVar[EndReason]
    END_REASON_TICK_LIMIT: _ClassVar[EndReason]
    END_REASON_ABORTED: _ClassVar[EndReason]
DTYPE_UNSPECIFIED: DType
DTYPE_BOOL: DType
DTYPE_UINT8: DType
DTYPE_INT8: DType
DTYPE_INT16: DType
DTYPE_INT32: DType
DTYPE_INT64: DType
DTYPE_FLOAT16: DType
DTYPE_BFLOAT16: DType
DTYPE_FLOAT32: DType
DTYPE_FLOAT64: DType
PLAYER_KIND_UNSPECIFIED: PlayerKind
PLAYER_KIND_HUMAN: PlayerKind
PLAYER_KIND_BOT: PlayerKind
PLAYER_KIND_MODEL: PlayerKind
GAME_MODE_UNSPECIFIED: GameMode
GAME_MODE_1V1: GameMode
GAME_MODE_FFA: GameMode
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_WIN: Outcome
OUTCOME_LOSS: Outcome
OUTCOME_DRAW: Outcome
END_REASON_UNSPECIFIED: EndReason
END_REASON_GENERAL_CAPTURED: EndReason
END_REASON_ELIMINATED: EndReason
END_REASON_TICK_LIMIT: EndReason
END_REASON_ABORTED: EndReason

class Tensor(_message.Message):
    __slots__ = ("dtype", "shape", "data")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    dtype: DType
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    def __init__(self, dtype: _Optional[_Union[DType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ...) -> None: ...

class Observation(_message.Message):
    __slots__ = ("armies", "planes", "scalars", "action_mask")
    ARMIES_FIELD_NUMBER: _ClassVar[int]
    PLANES_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    ACTION_MASK_FIELD_NUMBER: _ClassVar[int]
    armies: Tensor
    planes: Tensor
    scalars: Tensor
    action_mask: Tensor
    def __init__(self, armies: _Optional[_Union[Tensor, _Mapping]] = ..., planes: _Optional[_Union[Tensor, _Mapping]] = ..., scalars: _Optional[_Union[Tensor, _Mapping]] = ..., action_mask: _Optional[_Union[Tensor, _Mapping]] = ...) -> None: ...

class ObservationSpec(_message.Message):
    __slots__ = ("height", "width", "num_players", "num_actions", "plane_names", "scalar_names", "rules_version")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    NUM_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    NUM_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    PLANE_NAMES_FIELD_NUMBER: _ClassVar[int]
    SCALAR_NAMES_FIELD_NUMBER: _ClassVar[int]
    RULES_VERSION_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    num_players: int
    num_actions: int
    plane_names: _containers.RepeatedScalarFieldContainer[str]
    scalar_names: _containers.RepeatedScalarFieldContainer[str]
    rules_version: int
    def __init__(self, height: _Optional[int] = ..., width: _Optional[int] = ..., num_players: _Optional[int] = ..., num_actions: _Optional[int] = ..., plane_names: _Optional[_Iterable[str]] = ..., scalar_names: _Optional[_Iterable[str]] = ..., rules_version: _Optional[int] = ...) -> None: ...

class PlayerRef(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: PlayerKind
    id: str
    def __init__(self, kind: _Optional[_Union[PlayerKind, str]] = ..., id: _Optional[str] = ...) -> None: ...

class PlayerResult(_message.Message):
    __slots__ = ("player", "seat", "outcome", "place", "eliminated_tick")
    PLAYER_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PLACE_FIELD_NUMBER: _ClassVar[int]
    ELIMINATED_TICK_FIELD_NUMBER: _ClassVar[int]
    player: PlayerRef
    seat: int
    outcome: Outcome
    place: int
    eliminated_tick: int
    def __init__(self, player: _Optional[_Union[PlayerRef, _Mapping]] = ..., seat: _Optional[int] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., place: _Optional[int] = ..., eliminated_tick: _Optional[int] = ...) -> None: ...

class GameResult(_message.Message):
    __slots__ = ("game_id", "mode", "players", "ticks", "reason", "started_at", "ended_at", "replay_uri")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    TICKS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLAY_URI_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    mode: GameMode
    players: _containers.RepeatedCompositeFieldContainer[PlayerResult]
    ticks: int
    reason: EndReason
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    replay_uri: str
    def __init__(self, game_id: _Optional[str] = ..., mode: _Optional[_Union[GameMode, str]] = ..., players: _Optional[_Iterable[_Union[PlayerResult, _Mapping]]] = ..., ticks: _Optional[int] = ..., reason: _Optional[_Union[EndReason, str]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replay_uri: _Optional[str] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PageResponse(_message.Message):
    __slots__ = ("next_page_token", "total_size")
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    total_size: int
    def __init__(self, next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class Actor(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
