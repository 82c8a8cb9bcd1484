import datetime

from generals_rl.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UniformSampler(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FifoSampler(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PrioritizedSampler(_message.Message):
    __slots__ = ("alpha", "beta", "default_priority")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    beta: float
    default_priority: float
    def __init__(self, alpha: _Optional[float] = ..., beta: _Optional[float] = ..., default_priority: _Optional[float] = ...) -> None: ...

class Sampler(_message.Message):
    __slots__ = ("uniform", "fifo", "prioritized")
    UNIFORM_FIELD_NUMBER: _ClassVar[int]
    FIFO_FIELD_NUMBER: _ClassVar[int]
    PRIORITIZED_FIELD_NUMBER: _ClassVar[int]
    uniform: UniformSampler
    fifo: FifoSampler
    prioritized: PrioritizedSampler
    def __init__(self, uniform: _Optional[_Union[UniformSampler, _Mapping]] = ..., fifo: _Optional[_Union[FifoSampler, _Mapping]] = ..., prioritized: _Optional[_Union[PrioritizedSampler, _Mapping]] = ...) -> None: ...

class FifoRemover(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MaxTimesSampledRemover(_message.Message):
    __slots__ = ("max_times",)
    MAX_TIMES_FIELD_NUMBER: _ClassVar[int]
    max_times: int
    def __init__(self, max_times: _Optional[int] = ...) -> None: ...

class Remover(_message.Message):
    __slots__ = ("fifo", "max_times_sampled")
    FIFO_FIELD_NUMBER: _ClassVar[int]
    MAX_TIMES_SAMPLED_FIELD_NUMBER: _ClassVar[int]
    fifo: FifoRemover
    max_times_sampled: MaxTimesSampledRemover
    def __init__(self, fifo: _Optional[_Union[FifoRemover, _Mapping]] = ..., max_times_sampled: _Optional[_Union[MaxTimesSampledRemover, _Mapping]] = ...) -> None: ...

class RateLimiter(_message.Message):
    __slots__ = ("min_size_to_sample", "samples_per_insert", "error_buffer")
    MIN_SIZE_TO_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_INSERT_FIELD_NUMBER: _ClassVar[int]
    ERROR_BUFFER_FIELD_NUMBER: _ClassVar[int]
    min_size_to_sample: int
    samples_per_insert: float
    error_buffer: float
    def __init__(self, min_size_to_sample: _Optional[int] = ..., samples_per_insert: _Optional[float] = ..., error_buffer: _Optional[float] = ...) -> None: ...

class TableConfig(_message.Message):
    __slots__ = ("name", "sampler", "remover", "max_items", "max_bytes", "rate_limiter", "unroll_length", "archive")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLER_FIELD_NUMBER: _ClassVar[int]
    REMOVER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITER_FIELD_NUMBER: _ClassVar[int]
    UNROLL_LENGTH_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    name: str
    sampler: Sampler
    remover: Remover
    max_items: int
    max_bytes: int
    rate_limiter: RateLimiter
    unroll_length: int
    archive: bool
    def __init__(self, name: _Optional[str] = ..., sampler: _Optional[_Union[Sampler, _Mapping]] = ..., remover: _Optional[_Union[Remover, _Mapping]] = ..., max_items: _Optional[int] = ..., max_bytes: _Optional[int] = ..., rate_limiter: _Optional[_Union[RateLimiter, _Mapping]] = ..., unroll_length: _Optional[int] = ..., archive: _Optional[bool] = ...) -> None: ...

class CreateTableRequest(_message.Message):
    __slots__ = ("config",)
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: TableConfig
    def __init__(self, config: _Optional[_Union[TableConfig, _Mapping]] = ...) -> None: ...

class ListTablesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTablesResponse(_message.Message):
    __slots__ = ("tables",)
    TABLES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[TableInfo]
    def __init__(self, tables: _Optional[_Iterable[_Union[TableInfo, _Mapping]]] = ...) -> None: ...

class TableInfo(_message.Message):
    __slots__ = ("config", "stats", "created_at")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    config: TableConfig
    stats: TableStats
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, config: _Optional[_Union[TableConfig, _Mapping]] = ..., stats: _Optional[_Union[TableStats, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Trajectories(_message.Message):
    __slots__ = ("observations", "actions", "behaviour_log_probs", "rewards", "dones", "truncated", "extras")
    class ExtrasEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Tensor
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ...) -> None: ...
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    BEHAVIOUR_LOG_PROBS_FIELD_NUMBER: _ClassVar[int]
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    DONES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    EXTRAS_FIELD_NUMBER: _ClassVar[int]
    observations: _common_pb2.Observation
    actions: _common_pb2.Tensor
    behaviour_log_probs: _common_pb2.Tensor
    rewards: _common_pb2.Tensor
    dones: _common_pb2.Tensor
    truncated: _common_pb2.Tensor
    extras: _containers.MessageMap[str, _common_pb2.Tensor]
    def __init__(self, observations: _Optional[_Union[_common_pb2.Observation, _Mapping]] = ..., actions: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., behaviour_log_probs: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., rewards: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., dones: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., truncated: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., extras: _Optional[_Mapping[str, _common_pb2.Tensor]] = ...) -> None: ...

class RecordExperienceRequest(_message.Message):
    __slots__ = ("table", "policy_version", "trajectories", "priorities", "writer_id", "sequence")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORIES_FIELD_NUMBER: _ClassVar[int]
    PRIORITIES_FIELD_NUMBER: _ClassVar[int]
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    table: str
    policy_version: int
    trajectories: Trajectories
    priorities: _common_pb2.Tensor
    writer_id: str
    sequence: int
    def __init__(self, table: _Optional[str] = ..., policy_version: _Optional[int] = ..., trajectories: _Optional[_Union[Trajectories, _Mapping]] = ..., priorities: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., writer_id: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class RecordExperienceResponse(_message.Message):
    __slots__ = ("items", "bytes", "wait_s", "duplicates")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    WAIT_S_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    items: int
    bytes: int
    wait_s: float
    duplicates: int
    def __init__(self, items: _Optional[int] = ..., bytes: _Optional[int] = ..., wait_s: _Optional[float] = ..., duplicates: _Optional[int] = ...) -> None: ...

class GetExperienceBatchRequest(_message.Message):
    __slots__ = ("table", "batch_size", "num_batches", "timeout_ms", "beta", "learner_version")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    NUM_BATCHES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    LEARNER_VERSION_FIELD_NUMBER: _ClassVar[int]
    table: str
    batch_size: int
    num_batches: int
    timeout_ms: int
    beta: float
    learner_version: int
    def __init__(self, table: _Optional[str] = ..., batch_size: _Optional[int] = ..., num_batches: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., beta: _Optional[float] = ..., learner_version: _Optional[int] = ...) -> None: ...

class ExperienceBatch(_message.Message):
    __slots__ = ("keys", "trajectories", "policy_versions", "probabilities", "importance_weights", "times_sampled", "table_size")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORIES_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    TIMES_SAMPLED_FIELD_NUMBER: _ClassVar[int]
    TABLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[int]
    trajectories: Trajectories
    policy_versions: _common_pb2.Tensor
    probabilities: _common_pb2.Tensor
    importance_weights: _common_pb2.Tensor
    times_sampled: _common_pb2.Tensor
    table_size: int
    def __init__(self, keys: _Optional[_Iterable[int]] = ..., trajectories: _Optional[_Union[Trajectories, _Mapping]] = ..., policy_versions: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., probabilities: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., importance_weights: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., times_sampled: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., table_size: _Optional[int] = ...) -> None: ...

class UpdatePrioritiesRequest(_message.Message):
    __slots__ = ("table", "keys", "priorities")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PRIORITIES_FIELD_NUMBER: _ClassVar[int]
    table: str
    keys: _containers.RepeatedScalarFieldContainer[int]
    priorities: _common_pb2.Tensor
    def __init__(self, table: _Optional[str] = ..., keys: _Optional[_Iterable[int]] = ..., priorities: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ...) -> None: ...

class UpdatePrioritiesResponse(_message.Message):
    __slots__ = ("updated", "missing")
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    updated: int
    missing: int
    def __init__(self, updated: _Optional[int] = ..., missing: _Optional[int] = ...) -> None: ...

class GetTableStatsRequest(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: str
    def __init__(self, table: _Optional[str] = ...) -> None: ...

class TableStats(_message.Message):
    __slots__ = ("name", "size", "bytes", "inserts", "samples", "removed", "archived", "insert_waits", "insert_wait_s", "sample_waits", "sample_wait_s", "newest_version", "oldest_version", "mean_age_versions", "sampled_lag_versions", "rate_limiter_diff")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    INSERTS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    INSERT_WAITS_FIELD_NUMBER: _ClassVar[int]
    INSERT_WAIT_S_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_WAITS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_WAIT_S_FIELD_NUMBER: _ClassVar[int]
    NEWEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    OLDEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    MEAN_AGE_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_LAG_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITER_DIFF_FIELD_NUMBER: _ClassVar[int]
    name: str
    size: int
    bytes: int
    inserts: int
    samples: int
    removed: int
    archived: int
    insert_waits: int
    insert_wait_s: float
    sample_waits: int
    sample_wait_s: float
    newest_version: int
    oldest_version: int
    mean_age_versions: float
    sampled_lag_versions: float
    rate_limiter_diff: float
    def __init__(self, name: _Optional[str] = ..., size: _Optional[int] = ..., bytes: _Optional[int] = ..., inserts: _Optional[int] = ..., samples: _Optional[int] = ..., removed: _Optional[int] = ..., archived: _Optional[int] = ..., insert_waits: _Optional[int] = ..., insert_wait_s: _Optional[float] = ..., sample_waits: _Optional[int] = ..., sample_wait_s: _Optional[float] = ..., newest_version: _Optional[int] = ..., oldest_version: _Optional[int] = ..., mean_age_versions: _Optional[float] = ..., sampled_lag_versions: _Optional[float] = ..., rate_limiter_diff: _Optional[float] = ...) -> None: ...

class CheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckpointResponse(_message.Message):
    __slots__ = ("uri", "items", "bytes", "at")
    URI_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    uri: str
    items: int
    bytes: int
    at: _timestamp_pb2.Timestamp
    def __init__(self, uri: _Optional[str] = ..., items: _Optional[int] = ..., bytes: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LoadArchiveRequest(_message.Message):
    __slots__ = ("table", "source_table", "since", "until", "max_items")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TABLE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    table: str
    source_table: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    max_items: int
    def __init__(self, table: _Optional[str] = ..., source_table: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_items: _Optional[int] = ...) -> None: ...

class LoadArchiveResponse(_message.Message):
    __slots__ = ("items", "bytes")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    items: int
    bytes: int
    def __init__(self, items: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...
