"""generals_rl.v1 Model Service messages <-> the domain types of ``domain.py``, both ways (the servicer
uses one direction, the client the other)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.model.domain import (
    Actor,
    AliasInfo,
    Check,
    Checksum,
    DownloadPart,
    Event,
    EventKind,
    EventPage,
    Lineage,
    NotModified,
    PolicyMetadata,
    Selector,
    UploadPart,
    VersionInfo,
    VersionPage,
    VersionState,
)
from generals_rl.v1 import common_pb2, model_pb2

STATES: dict[int, VersionState | None] = {
    model_pb2.VERSION_STATE_UNSPECIFIED: None,
    model_pb2.VERSION_STATE_PENDING: "pending",
    model_pb2.VERSION_STATE_ACCEPTED: "accepted",
    model_pb2.VERSION_STATE_REJECTED: "rejected",
    model_pb2.VERSION_STATE_RETIRED: "retired",
}
STATE_NUMBERS = {name: number for number, name in STATES.items()}
KINDS: dict[int, EventKind | None] = {
    model_pb2.EVENT_KIND_UNSPECIFIED: None,
    model_pb2.EVENT_KIND_CREATED: "created",
    model_pb2.EVENT_KIND_STATE_CHANGED: "state_changed",
    model_pb2.EVENT_KIND_ALIAS_SET: "alias_set",
    model_pb2.EVENT_KIND_ALIAS_DELETED: "alias_deleted",
}
KIND_NUMBERS = {name: number for number, name in KINDS.items()}


def state_from(number: int) -> VersionState | None:
    if number not in STATES:
        raise InvalidArgument(f"unknown version state {number}")
    return STATES[number]


def kind_from(number: int) -> EventKind | None:
    if number not in KINDS:
        raise InvalidArgument(f"unknown event kind {number}")
    return KINDS[number]


def _time(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def _time_from(message: Timestamp, is_set: bool) -> datetime | None:
    return message.ToDatetime(tzinfo=UTC) if is_set else None


# metadata and versions


def metadata_to(m: PolicyMetadata) -> model_pb2.PolicyMetadata:
    return model_pb2.PolicyMetadata(
        architecture=m.architecture,
        config_json=m.config_json,
        parent_version=m.parent_version,
        training_step=m.training_step,
        metrics=dict(m.metrics),
        run_id=m.run_id,
        publisher=m.publisher,
        size_bytes=m.size_bytes,
        request_id=m.request_id,
        description=m.description,
    )


def metadata_from(m: model_pb2.PolicyMetadata) -> PolicyMetadata:
    return PolicyMetadata(
        architecture=m.architecture,
        config_json=m.config_json or "{}",
        parent_version=m.parent_version,
        training_step=m.training_step,
        metrics=dict(m.metrics),
        run_id=m.run_id,
        publisher=m.publisher,
        size_bytes=m.size_bytes,
        request_id=m.request_id,
        description=m.description,
    )


def version_to(v: VersionInfo) -> model_pb2.PolicyVersion:
    return model_pb2.PolicyVersion(
        version=v.version,
        metadata=metadata_to(v.metadata),
        state=STATE_NUMBERS[v.state],  # type: ignore[arg-type]
        status_reason=v.status_reason,
        checks=[model_pb2.ValidationCheck(name=c.name, passed=c.passed, detail=c.detail) for c in v.checks],
        aliases=list(v.aliases),
        sha256=v.sha256,
        created_at=_time(v.created_at),
        updated_at=_time(v.updated_at),
    )


def version_from(v: model_pb2.PolicyVersion) -> VersionInfo:
    return VersionInfo(
        version=v.version,
        metadata=metadata_from(v.metadata),
        state=STATES.get(v.state) or "pending",
        status_reason=v.status_reason,
        checks=tuple(Check(c.name, c.passed, c.detail) for c in v.checks),
        aliases=tuple(v.aliases),
        sha256=v.sha256,
        created_at=_time_from(v.created_at, v.HasField("created_at")),
        updated_at=_time_from(v.updated_at, v.HasField("updated_at")),
    )


# upload and download parts


def upload_part_from(request: model_pb2.PublishPolicyRequest) -> UploadPart:
    which = request.WhichOneof("part")
    if which == "metadata":
        return metadata_from(request.metadata)
    if which == "chunk":
        return request.chunk
    if which == "sha256":
        return Checksum(request.sha256)
    raise InvalidArgument("an upload message must set metadata, chunk or sha256")


def upload_part_to(part: UploadPart) -> model_pb2.PublishPolicyRequest:
    if isinstance(part, PolicyMetadata):
        return model_pb2.PublishPolicyRequest(metadata=metadata_to(part))
    if isinstance(part, Checksum):
        return model_pb2.PublishPolicyRequest(sha256=part.sha256)
    return model_pb2.PublishPolicyRequest(chunk=part)


# GetPolicy moves megabytes: its chunk messages skip protobuf's copies on both sides. A message that
# sets only `chunk` is, on the wire, the field's tag, the length as a varint, then the bytes.
_CHUNK_TAG = bytes([(model_pb2.GetPolicyResponse.CHUNK_FIELD_NUMBER << 3) | 2])


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_chunk(piece: bytes | memoryview) -> bytes:
    """The serialized ``GetPolicyResponse(chunk=piece)``, built with one copy of ``piece``."""
    return b"".join((_CHUNK_TAG, _varint(len(piece)), piece))


def serialize_download(message: model_pb2.GetPolicyResponse | bytes) -> bytes:
    """GetPolicy's response serializer: messages, or chunks already encoded by ``encode_chunk``."""
    return message if isinstance(message, bytes) else message.SerializeToString()


def parse_download(data: bytes) -> model_pb2.GetPolicyResponse | memoryview:
    """GetPolicy's response deserializer: a message that is exactly one chunk comes back as a view of
    its bytes (no copy); anything else is parsed as a ``GetPolicyResponse``."""
    if data[:1] == _CHUNK_TAG:
        length, shift, at = 0, 0, 1
        while at < len(data) and at <= 10:
            byte = data[at]
            length |= (byte & 0x7F) << shift
            at, shift = at + 1, shift + 7
            if not byte & 0x80:
                if at + length == len(data):
                    return memoryview(data)[at:]
                break
    return model_pb2.GetPolicyResponse.FromString(data)


def download_message(part: DownloadPart) -> model_pb2.GetPolicyResponse | bytes:
    """What GetPolicy yields for a part (``serialize_download`` writes it)."""
    if isinstance(part, bytes | memoryview):
        return encode_chunk(part)
    return download_part_to(part)


def download_part_to(part: DownloadPart) -> model_pb2.GetPolicyResponse:
    if isinstance(part, bytes | memoryview):
        return model_pb2.GetPolicyResponse(chunk=bytes(part))
    if isinstance(part, VersionInfo):
        return model_pb2.GetPolicyResponse(version=version_to(part))
    if isinstance(part, Checksum):
        return model_pb2.GetPolicyResponse(sha256=part.sha256)
    return model_pb2.GetPolicyResponse(not_modified=model_pb2.NotModified(version=part.version))


def download_part_from(response: model_pb2.GetPolicyResponse | memoryview) -> DownloadPart:
    if isinstance(response, memoryview):
        return response
    which = response.WhichOneof("part")
    if which == "chunk":
        return response.chunk
    if which == "version":
        return version_from(response.version)
    if which == "sha256":
        return Checksum(response.sha256)
    if which == "not_modified":
        return NotModified(response.not_modified.version)
    raise InvalidArgument("a download message set none of version, chunk, sha256, not_modified")


# selectors, actors, aliases, events, pages


def selector_from(request: model_pb2.GetPolicyRequest | model_pb2.GetVersionRequest) -> Selector:
    which = request.WhichOneof("selector")
    if which == "version":
        if request.version < 1:
            raise InvalidArgument(f"a version number is >= 1, got {request.version}")
        return Selector(version=request.version)
    if which == "alias":
        return Selector(alias=request.alias)
    raise InvalidArgument("select a version by number or by alias")


def get_policy_request(selector: Selector, if_newer_than: int = 0) -> model_pb2.GetPolicyRequest:
    if selector.version:
        return model_pb2.GetPolicyRequest(version=selector.version, if_newer_than=if_newer_than)
    return model_pb2.GetPolicyRequest(alias=selector.alias, if_newer_than=if_newer_than)


def get_version_request(selector: Selector) -> model_pb2.GetVersionRequest:
    if selector.version:
        return model_pb2.GetVersionRequest(version=selector.version)
    return model_pb2.GetVersionRequest(alias=selector.alias)


def actor_from(actor: common_pb2.Actor) -> Actor:
    return Actor(actor.name, actor.reason)


def actor_to(actor: Actor) -> common_pb2.Actor:
    return common_pb2.Actor(name=actor.name, reason=actor.reason)


def alias_to(a: AliasInfo) -> model_pb2.Alias:
    return model_pb2.Alias(
        name=a.name,
        version=a.version,
        previous_version=a.previous_version,
        updated_at=_time(a.updated_at),
        updated_by=actor_to(a.updated_by),
    )


def alias_from(a: model_pb2.Alias) -> AliasInfo:
    return AliasInfo(
        name=a.name,
        version=a.version,
        previous_version=a.previous_version,
        updated_at=_time_from(a.updated_at, a.HasField("updated_at")),
        updated_by=actor_from(a.updated_by),
    )


def event_to(e: Event) -> model_pb2.LifecycleEvent:
    return model_pb2.LifecycleEvent(
        id=e.id,
        kind=KIND_NUMBERS[e.kind],  # type: ignore[arg-type]
        at=_time(e.at),
        actor=actor_to(e.actor),
        version=e.version,
        alias=e.alias,
        state=STATE_NUMBERS[e.state],  # type: ignore[arg-type]
        previous_version=e.previous_version,
    )


def event_from(e: model_pb2.LifecycleEvent) -> Event:
    return Event(
        id=e.id,
        kind=KINDS.get(e.kind) or "created",
        at=_time_from(e.at, e.HasField("at")),
        actor=actor_from(e.actor),
        version=e.version,
        alias=e.alias,
        state=STATES.get(e.state),
        previous_version=e.previous_version,
    )


def page(size: int, token: str) -> common_pb2.PageRequest:
    if size < 0:
        raise InvalidArgument(f"the page size must be >= 0, got {size}")
    return common_pb2.PageRequest(page_size=size, page_token=token)


def version_page_to(p: VersionPage) -> model_pb2.ListVersionsResponse:
    return model_pb2.ListVersionsResponse(
        versions=[version_to(v) for v in p.versions],
        page=common_pb2.PageResponse(next_page_token=p.next_page_token, total_size=p.total_size),
    )


def version_page_from(r: model_pb2.ListVersionsResponse) -> VersionPage:
    return VersionPage(tuple(version_from(v) for v in r.versions), r.page.next_page_token, r.page.total_size)


def event_page_to(p: EventPage) -> model_pb2.ListEventsResponse:
    return model_pb2.ListEventsResponse(
        events=[event_to(e) for e in p.events],
        page=common_pb2.PageResponse(next_page_token=p.next_page_token),
    )


def event_page_from(r: model_pb2.ListEventsResponse) -> EventPage:
    return EventPage(tuple(event_from(e) for e in r.events), r.page.next_page_token)


def lineage_to(lineage: Lineage) -> model_pb2.GetLineageResponse:
    return model_pb2.GetLineageResponse(
        version=version_to(lineage.version),
        ancestors=[version_to(v) for v in lineage.ancestors],
        children=[version_to(v) for v in lineage.children],
    )


def lineage_from(r: model_pb2.GetLineageResponse) -> Lineage:
    return Lineage(
        version_from(r.version),
        tuple(version_from(v) for v in r.ancestors),
        tuple(version_from(v) for v in r.children),
    )
