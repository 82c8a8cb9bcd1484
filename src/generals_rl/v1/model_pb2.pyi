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

class VersionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERSION_STATE_UNSPECIFIED: _ClassVar[VersionState]
    VERSION_STATE_PENDING: _ClassVar[VersionState]
    VERSION_STATE_ACCEPTED: _ClassVar[VersionState]
    VERSION_STATE_REJECTED: _ClassVar[VersionState]
    VERSION_STATE_RETIRED: _ClassVar[VersionState]

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_CREATED: _ClassVar[EventKind]
    EVENT_KIND_STATE_CHANGED: _ClassVar[EventKind]
    EVENT_KIND_ALIAS_SET: _ClassVar[EventKind]
    EVENT_KIND_ALIAS_DELETED: _ClassVar[EventKind]
VERSION_STATE_UNSPECIFIED: VersionState
VERSION_STATE_PENDING: VersionState
VERSION_STATE_ACCEPTED: VersionState
VERSION_STATE_REJECTED: VersionState
VERSION_STATE_RETIRED: VersionState
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_CREATED: EventKind
EVENT_KIND_STATE_CHANGED: EventKind
EVENT_KIND_ALIAS_SET: EventKind
EVENT_KIND_ALIAS_DELETED: EventKind

class PolicyMetadata(_message.Message):
    __slots__ = ("architecture", "config_json", "parent_version", "training_step", "metrics", "run_id", "publisher", "size_bytes", "request_id", "description")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINING_STEP_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    architecture: str
    config_json: str
    parent_version: int
    training_step: int
    metrics: _containers.ScalarMap[str, float]
    run_id: str
    publisher: str
    size_bytes: int
    request_id: str
    description: str
    def __init__(self, architecture: _Optional[str] = ..., config_json: _Optional[str] = ..., parent_version: _Optional[int] = ..., training_step: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ..., run_id: _Optional[str] = ..., publisher: _Optional[str] = ..., size_bytes: _Optional[int] = ..., request_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class PublishPolicyRequest(_message.Message):
    __slots__ = ("metadata", "chunk", "sha256")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    metadata: PolicyMetadata
    chunk: bytes
    sha256: str
    def __init__(self, metadata: _Optional[_Union[PolicyMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ..., sha256: _Optional[str] = ...) -> None: ...

class ValidationCheck(_message.Message):
    __slots__ = ("name", "passed", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    passed: bool
    detail: str
    def __init__(self, name: _Optional[str] = ..., passed: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class PolicyVersion(_message.Message):
    __slots__ = ("version", "metadata", "state", "status_reason", "checks", "aliases", "sha256", "created_at", "updated_at")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    version: int
    metadata: PolicyMetadata
    state: VersionState
    status_reason: str
    checks: _containers.RepeatedCompositeFieldContainer[ValidationCheck]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    sha256: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[int] = ..., metadata: _Optional[_Union[PolicyMetadata, _Mapping]] = ..., state: _Optional[_Union[VersionState, str]] = ..., status_reason: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[ValidationCheck, _Mapping]]] = ..., aliases: _Optional[_Iterable[str]] = ..., sha256: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("version", "alias", "if_newer_than")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    IF_NEWER_THAN_FIELD_NUMBER: _ClassVar[int]
    version: int
    alias: str
    if_newer_than: int
    def __init__(self, version: _Optional[int] = ..., alias: _Optional[str] = ..., if_newer_than: _Optional[int] = ...) -> None: ...

class NotModified(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("version", "chunk", "sha256", "not_modified")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    NOT_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    version: PolicyVersion
    chunk: bytes
    sha256: str
    not_modified: NotModified
    def __init__(self, version: _Optional[_Union[PolicyVersion, _Mapping]] = ..., chunk: _Optional[bytes] = ..., sha256: _Optional[str] = ..., not_modified: _Optional[_Union[NotModified, _Mapping]] = ...) -> None: ...

class GetVersionRequest(_message.Message):
    __slots__ = ("version", "alias")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    version: int
    alias: str
    def __init__(self, version: _Optional[int] = ..., alias: _Optional[str] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("page", "state", "architecture", "run_id")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    state: VersionState
    architecture: str
    run_id: str
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., state: _Optional[_Union[VersionState, str]] = ..., architecture: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions", "page")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[PolicyVersion]
    page: _common_pb2.PageResponse
    def __init__(self, versions: _Optional[_Iterable[_Union[PolicyVersion, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class GetLineageRequest(_message.Message):
    __slots__ = ("version", "max_depth")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    version: int
    max_depth: int
    def __init__(self, version: _Optional[int] = ..., max_depth: _Optional[int] = ...) -> None: ...

class GetLineageResponse(_message.Message):
    __slots__ = ("version", "ancestors", "children")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ANCESTORS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    version: PolicyVersion
    ancestors: _containers.RepeatedCompositeFieldContainer[PolicyVersion]
    children: _containers.RepeatedCompositeFieldContainer[PolicyVersion]
    def __init__(self, version: _Optional[_Union[PolicyVersion, _Mapping]] = ..., ancestors: _Optional[_Iterable[_Union[PolicyVersion, _Mapping]]] = ..., children: _Optional[_Iterable[_Union[PolicyVersion, _Mapping]]] = ...) -> None: ...

class Alias(_message.Message):
    __slots__ = ("name", "version", "previous_version", "updated_at", "updated_by")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    previous_version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: _common_pb2.Actor
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., previous_version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ListAliasesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAliasesResponse(_message.Message):
    __slots__ = ("aliases",)
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedCompositeFieldContainer[Alias]
    def __init__(self, aliases: _Optional[_Iterable[_Union[Alias, _Mapping]]] = ...) -> None: ...

class PromoteRequest(_message.Message):
    __slots__ = ("version", "alias", "actor")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    version: int
    alias: str
    actor: _common_pb2.Actor
    def __init__(self, version: _Optional[int] = ..., alias: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("alias", "to_version", "actor")
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    alias: str
    to_version: int
    actor: _common_pb2.Actor
    def __init__(self, alias: _Optional[str] = ..., to_version: _Optional[int] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RetireRequest(_message.Message):
    __slots__ = ("version", "actor")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    version: int
    actor: _common_pb2.Actor
    def __init__(self, version: _Optional[int] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class LifecycleEvent(_message.Message):
    __slots__ = ("id", "kind", "at", "actor", "version", "alias", "state", "previous_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: EventKind
    at: _timestamp_pb2.Timestamp
    actor: _common_pb2.Actor
    version: int
    alias: str
    state: VersionState
    previous_version: int
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[_Union[EventKind, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., version: _Optional[int] = ..., alias: _Optional[str] = ..., state: _Optional[_Union[VersionState, str]] = ..., previous_version: _Optional[int] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("page", "version", "alias", "kind")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    version: int
    alias: str
    kind: EventKind
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., version: _Optional[int] = ..., alias: _Optional[str] = ..., kind: _Optional[_Union[EventKind, str]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "page")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[LifecycleEvent]
    page: _common_pb2.PageResponse
    def __init__(self, events: _Optional[_Iterable[_Union[LifecycleEvent, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...
