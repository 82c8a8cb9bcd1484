"""The Model Service's domain (``ModelCore``, validation, the transfer framing) on every storage backend:
SQLite and PostgreSQL x a blob folder and S3.

What a caller would notice: a published version is validated and becomes ``latest`` only if it passes;
a rejected one (NaN weights, wrong shapes or dtypes, logits that overflow) is kept with its reason and
never served; promote, rollback and retire move aliases as asked and every change is logged with who
and why; lineage follows parents; bad uploads (oversized or truncated, a corrupt checksum, an unknown
architecture, ...) are refused with a clear error and store nothing, whatever the stream (fuzzed).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generals_rl.services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from generals_rl.services.model import (
    Actor,
    Check,
    LocalModelRegistry,
    ModelCore,
    ModelServiceConfig,
    NotModified,
    PolicyMetadata,
    Selector,
    ValidationConfig,
    ValidationReport,
    VersionInfo,
    convert,
    validate,
    weights,
)
from generals_rl.services.model.domain import CHUNK_BYTES, MAX_WEIGHTS_BYTES, Checksum, UploadPart
from generals_rl.services.model.lru import SizedLru
from generals_rl.services.model.records import BUCKET, weights_key
from generals_rl.services.model.transfer import CompletedUpload, Upload, receive_download, upload_parts
from generals_rl.storage import BlobStore, open_blobs, open_sql
from generals_rl.training.networks import PolicyNetwork, build
from generals_rl.v1 import model_pb2

TINY = '{"channels": 8, "blocks": 1}'
QUICK = ValidationConfig(
    board_sides=(6, 8), ffa_players=3, boards_per_size=1, play_ticks=8, sanity_games=2, sanity_side=6,
    sanity_max_ticks=40,
)  # fmt: skip
ALICE = Actor("alice", "stronger in evaluation")
one_backend = pytest.mark.parametrize(("sql_uri", "blob_uri"), [("sqlite", "file")], indirect=True)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def tiny(seed: int) -> PolicyNetwork:
    torch.manual_seed(seed)
    return build("resnet-v1", TINY)


def parts_of(network: PolicyNetwork | dict[str, torch.Tensor], **metadata: Any) -> list[UploadPart]:
    fields = {"architecture": "resnet-v1", "config_json": TINY, **metadata}
    return list(upload_parts(PolicyMetadata(**fields), weights.encode(network)))


def assemble(parts: Sequence[UploadPart], core: ModelCore) -> CompletedUpload:
    upload = Upload(core.architectures)
    for part in parts:
        upload.feed(part)
    return upload.finish()


def publish(
    core: ModelCore, network: PolicyNetwork | dict[str, torch.Tensor], **metadata: Any
) -> VersionInfo:
    return core.publish(assemble(parts_of(network, **metadata), core))


def snapshot(core: ModelCore) -> tuple[Any, ...]:
    """Everything stored: versions, aliases, the log, the weight blobs."""
    store = core.store
    return (
        store.list_versions(limit=1000),
        store.list_aliases(),
        store.events(limit=1000),
        core.blobs.list(BUCKET),
    )


@pytest.fixture
def core(sql_uri: str, blob_uri: str) -> Iterator[ModelCore]:
    database, blobs = open_sql(sql_uri), open_blobs(blob_uri)
    try:
        yield ModelCore(database, blobs, ModelServiceConfig(validation=QUICK))
    finally:
        database.close()
        blobs.close()


def download(
    core: ModelCore, target: int | str, if_newer_than: int = 0
) -> tuple[VersionInfo, bytes] | NotModified:
    selector = Selector(version=target) if isinstance(target, int) else Selector(alias=target)
    return core.download(selector, if_newer_than)


# publication and validation


def test_an_accepted_version_is_stored_validated_and_served_as_latest(core: ModelCore) -> None:
    network = tiny(1)
    data = weights.encode(network)
    v1 = publish(
        core, network, training_step=100, metrics={"loss": 0.5}, run_id="run-a", publisher="learner-0"
    )
    assert (v1.version, v1.state, v1.aliases) == (1, "accepted", ("latest",))
    assert [c.name for c in v1.checks] == ["loads", "shapes", "finite", "legal_actions", "sanity_match"]
    assert all(c.passed for c in v1.checks)
    assert "vs random" in v1.checks[-1].detail and "3-player" in v1.checks[3].detail
    assert v1.sha256 == hashlib.sha256(data).hexdigest() and v1.metadata.size_bytes == len(data)
    assert (v1.metadata.training_step, dict(v1.metadata.metrics), v1.metadata.run_id) == (
        100,
        {"loss": 0.5},
        "run-a",
    )
    assert core.blobs.get(BUCKET, weights_key(v1.sha256)) == data
    stored = core.store.get_version(1)
    assert stored.metrics["sanity"]["games"] == 2 and stored.metrics["checks"][0]["name"] == "loads"

    for target in (1, "latest"):
        got = download(core, target)
        assert not isinstance(got, NotModified) and got[1] == data and got[0].version == 1
    assert download(core, "latest", if_newer_than=1) == NotModified(1)
    fetched = weights.load_network("resnet-v1", v1.metadata.config_json, data)
    assert all(
        torch.equal(a, b)
        for a, b in zip(fetched.state_dict().values(), network.state_dict().values(), strict=True)
    )

    events = core.list_events().events
    assert [(e.kind, e.version, e.alias, e.state, e.actor.name) for e in reversed(events)] == [
        ("created", 1, "", "pending", "learner-0"),
        ("state_changed", 1, "", "accepted", "model-service"),
        ("alias_set", 1, "latest", None, "model-service"),
    ]
    assert all(e.at is not None for e in events)


def test_rejected_versions_are_kept_with_their_reason_and_never_served(core: ModelCore) -> None:
    good = publish(core, tiny(1))
    nan = tiny(2)
    with torch.no_grad():
        nan.tower[0].conv1.weight[0, 0, 0, 0] = math.nan
    wide = build("resnet-v1", '{"channels": 16, "blocks": 1}')  # weights of another shape
    doubles = {k: v.double() for k, v in tiny(3).state_dict().items()}
    missing = {k: v for k, v in tiny(4).state_dict().items() if not k.startswith("value.")}
    rejected = {
        "finite": publish(core, nan),
        "shapes": publish(core, wide),
        "dtype": publish(core, doubles),
        "missing": publish(core, missing),
    }
    reasons = {name: v.status_reason for name, v in rejected.items()}
    assert reasons["finite"] == "finite: NaN in tower.0.conv1.weight"
    assert reasons["shapes"].startswith(
        "shapes: stem.0.weight has shape (16, 21, 3, 3), expected (8, 21, 3, 3)"
    )
    assert reasons["dtype"].startswith("shapes: ") and "is float64, expected float32" in reasons["dtype"]
    assert reasons["missing"].startswith("shapes: missing value.weight")
    for version in rejected.values():
        assert version.state == "rejected" and not version.aliases
        assert version.checks[-1].passed is False
        with pytest.raises(FailedPrecondition, match="REJECTED"):
            download(core, version.version)
        with pytest.raises(FailedPrecondition, match="only accepted versions can be promoted"):
            core.promote(version.version, "champion", ALICE)
    latest = download(core, "latest")
    assert not isinstance(latest, NotModified) and latest[0].version == good.version
    assert [v.version for v in core.list_versions(state="rejected").versions] == [5, 4, 3, 2]
    assert core.store.get_alias("latest").version == good.version


def test_a_version_whose_logits_overflow_fails_legal_actions() -> None:
    network = tiny(5)
    with torch.no_grad():
        network.moves.weight.fill_(3e38)
        network.moves.bias.fill_(3e38)
    report = validate("resnet-v1", TINY, weights.encode(network), QUICK)
    assert not report.passed
    assert report.checks[-1].name == "legal_actions" and "NaN or Inf" in report.reason


def test_validation_is_bounded_in_time_and_rejects_garbage() -> None:
    data = weights.encode(tiny(6))
    slow = validate("resnet-v1", TINY, data, replace(QUICK, timeout_s=1e-6))
    assert not slow.passed and "ran over its 1e-06 s bound" in slow.reason
    assert validate("resnet-v1", TINY, b"not a safetensors file", QUICK).reason.startswith(
        "loads: not a safetensors"
    )
    assert validate("no-such-net", TINY, data, QUICK).reason.startswith("loads: unknown architecture")
    no_match = validate("resnet-v1", TINY, data, replace(QUICK, sanity_games=0))
    assert no_match.passed and [c.name for c in no_match.checks][-1] == "legal_actions"


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        ({"architecture": "transformer-v9"}, InvalidArgument, "unknown architecture 'transformer-v9'"),
        ({"config_json": "[8, 1]"}, InvalidArgument, "config_json must be a JSON object"),
        ({"config_json": "{channels: 8"}, InvalidArgument, "config_json is not JSON"),
        ({"config_json": '{"channels": 0}'}, InvalidArgument, "bad config for resnet-v1"),
        ({"config_json": '{"chanels": 8}'}, InvalidArgument, "unexpected keyword argument 'chanels'"),
        ({"metrics": {"loss": math.nan}}, InvalidArgument, "metric 'loss' must be a finite number"),
        ({"training_step": -1}, InvalidArgument, "training_step must be >= 0"),
        ({"run_id": "r" * 129}, InvalidArgument, "run_id is at most 128 characters"),
        ({"size_bytes": MAX_WEIGHTS_BYTES + 1}, ResourceExhausted, "over the 1073741824 bytes"),
    ],
)
@one_backend
def test_bad_metadata_is_refused_before_any_byte(
    core: ModelCore, metadata: dict[str, Any], error: type[ServiceError], message: str
) -> None:
    before = snapshot(core)
    fields = {"architecture": "resnet-v1", "config_json": TINY, "size_bytes": 10, **metadata}
    upload = Upload(core.architectures)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        upload.feed(PolicyMetadata(**fields))
    assert snapshot(core) == before


def bad_streams(good: list[UploadPart]) -> dict[str, tuple[list[UploadPart], str]]:
    """Broken variants of a good upload, and what the error says."""
    meta, chunk, checksum = good[0], good[1], good[-1]
    assert isinstance(meta, PolicyMetadata) and isinstance(chunk, bytes) and isinstance(checksum, Checksum)
    size = meta.size_bytes
    big = b"x" * (CHUNK_BYTES + 1)
    return {
        "no metadata first": ([chunk, checksum], "first message of an upload must be its metadata"),
        "metadata twice": ([meta, meta, chunk, checksum], "metadata was sent twice"),
        "oversized chunk": (
            [replace(meta, size_bytes=len(big)), big, checksum],
            "chunks carry 1..1048576 bytes",
        ),
        "empty chunk": ([meta, b"", chunk, checksum], "chunk 0 has 0 bytes"),
        "truncated": ([meta, chunk[: size // 2], checksum], f"ended after {size // 2} of the {size} bytes"),
        "more than declared": ([meta, chunk, b"extra", checksum], f"more than the {size} bytes"),
        "no checksum": ([meta, chunk], "ended without its sha256 message"),
        "stream ends at once": ([], "the upload was empty"),
        "corrupt checksum": ([meta, chunk, Checksum("0" * 64)], "checksum mismatch"),
        "malformed checksum": ([meta, chunk, Checksum("abc")], "64 lowercase hex characters"),
        "bytes after checksum": ([meta, chunk, checksum, chunk], "must be the last one"),
        "corrupt byte": ([meta, bytes([chunk[0] ^ 1]) + chunk[1:], checksum], "checksum mismatch"),
    }


def test_bad_uploads_get_a_clear_error_and_change_nothing(core: ModelCore) -> None:
    publish(core, tiny(1))
    good = parts_of(tiny(2))
    assert len(good) == 3  # the tiny network fits one chunk
    before = snapshot(core)
    registry = LocalModelRegistry(core)

    async def stream(parts: list[UploadPart]) -> Any:
        for part in parts:
            yield part

    for name, (parts, message) in bad_streams(good).items():
        with pytest.raises(InvalidArgument, match=message) as caught:
            asyncio.run(registry.publish_parts(stream(parts)))
        assert caught.value.message, name
        assert snapshot(core) == before, name
    with pytest.raises(NotFound, match="parent version 42 does not exist"):
        publish(core, tiny(2), parent_version=42)
    assert snapshot(core) == before


@st.composite
def upload_streams(draw: st.DrawFn, good: list[UploadPart]) -> list[UploadPart]:
    """Streams near a good upload: parts dropped, repeated, reordered, cut, corrupted or invented."""
    meta, data = good[0], b"".join(p for p in good if isinstance(p, bytes))
    assert isinstance(meta, PolicyMetadata)
    cuts = sorted(set(draw(st.lists(st.integers(1, len(data) - 1), max_size=6))))
    bounds = [0, *cuts, len(data)]
    pieces: list[UploadPart] = [data[a:b] for a, b in itertools.pairwise(bounds)]  # random sizes
    parts: list[UploadPart] = [meta, *pieces, good[-1]]
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["drop", "repeat", "swap", "flip", "meta", "checksum", "cut"]))
        i = draw(st.integers(0, len(parts) - 1))
        if edit == "drop" and parts:
            del parts[i]
        elif edit == "repeat":
            parts.insert(i, parts[i])
        elif edit == "swap" and len(parts) > 1:
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
        elif edit == "flip" and isinstance(parts[i], bytes) and parts[i]:
            piece = parts[i]
            assert isinstance(piece, bytes)
            k = draw(st.integers(0, len(piece) - 1))
            parts[i] = piece[:k] + bytes([piece[k] ^ draw(st.integers(1, 255))]) + piece[k + 1 :]
        elif edit == "meta":
            parts[i] = replace(meta, size_bytes=draw(st.integers(0, 2 * len(data))), architecture=draw(
                st.sampled_from(["resnet-v1", "resnet-v1", "", "mlp"])
            ))  # fmt: skip
        elif edit == "checksum":
            parts[i] = Checksum(draw(st.sampled_from(["", "f" * 64, hashlib.sha256(data).hexdigest()])))
        elif edit == "cut":
            parts = parts[:i]
        if not parts:
            break
    return parts


_FUZZ_NETWORK = tiny(7)
_FUZZ_GOOD = parts_of(_FUZZ_NETWORK, request_id="")


@one_backend
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=upload_streams(_FUZZ_GOOD))
def test_fuzzed_upload_streams_store_a_whole_version_or_nothing(
    core: ModelCore, parts: list[UploadPart]
) -> None:
    core.validator = lambda arch, config, data: ValidationReport((Check("loads", True),))  # framing only
    before = snapshot(core)
    try:
        upload = assemble(parts, core)
    except (InvalidArgument, ResourceExhausted) as error:
        event(f"refused: {error.message.split(':')[0][:40]}")
        assert snapshot(core) == before
        return
    event("stored")
    # A stream that passes the framing is exactly the good file.
    good_data = b"".join(p for p in _FUZZ_GOOD if isinstance(p, bytes))
    assert upload.data == good_data and upload.sha256 == hashlib.sha256(good_data).hexdigest()
    version = core.publish(upload)
    got = download(core, version.version)
    assert not isinstance(got, NotModified) and got[1] == good_data


def test_a_publication_with_a_known_request_id_returns_the_first_version(core: ModelCore) -> None:
    first = publish(core, tiny(1), request_id="run-a:100", run_id="run-a")
    before = snapshot(core)
    again = publish(core, tiny(2), request_id="run-a:100", run_id="run-a")
    assert again.version == first.version and again.sha256 == first.sha256
    assert snapshot(core) == before
    assert publish(core, tiny(2), request_id="run-a:200").version == first.version + 1


# aliases, rollback, retire, lineage, events


def test_promote_and_rollback_move_champion_and_serve_the_earlier_version(core: ModelCore) -> None:
    v1, v2 = publish(core, tiny(1)), publish(core, tiny(2))
    bad = tiny(3)
    with torch.no_grad():
        bad.value.weight.fill_(math.inf)
    v3 = publish(core, bad)
    assert v3.state == "rejected"
    with pytest.raises(NotFound, match="no alias 'champion'"):
        download(core, "champion")
    with pytest.raises(NotFound, match="points at nothing"):
        core.rollback("champion", 0, ALICE)

    first = core.promote(v1.version, "", Actor("alice", "first champion"))
    assert (first.name, first.version, first.previous_version) == ("champion", 1, 0)
    with pytest.raises(NotFound, match="no earlier version"):
        core.rollback("champion", 0, ALICE)
    moved = core.promote(v2.version, "champion", Actor("alice", "beat v1 by 60 Elo"))
    assert (moved.version, moved.previous_version, moved.updated_by) == (
        2,
        1,
        Actor("alice", "beat v1 by 60 Elo"),
    )
    assert core.promote(v2.version, "champion", Actor("bob")) == moved  # no-op, not logged again
    got = download(core, "champion")
    assert not isinstance(got, NotModified) and got[0].version == 2

    back = core.rollback("", 0, Actor("bob", "regression vs gatherer"))
    assert (back.name, back.version, back.previous_version) == ("champion", 1, 2)
    got = download(core, "champion")
    assert not isinstance(got, NotModified) and got[0].version == 1 and got[1] == weights.encode(tiny(1))
    assert core.get_version(Selector(alias="champion")).aliases == ("champion",)
    assert core.rollback("champion", 0, Actor("carol", "undo")).version == 2  # a rollback rolls back too
    assert core.rollback("champion", 1, Actor("carol", "explicit")).version == 1
    with pytest.raises(FailedPrecondition, match="it is REJECTED, not ACCEPTED"):
        core.rollback("champion", v3.version, ALICE)
    with pytest.raises(NotFound, match="there is no version 99"):
        core.rollback("champion", 99, ALICE)

    log = core.list_events(alias="champion").events
    assert [(e.version, e.previous_version, e.actor.name, e.actor.reason) for e in log] == [
        (1, 2, "carol", "explicit"),
        (2, 1, "carol", "undo"),
        (1, 2, "bob", "regression vs gatherer"),
        (2, 1, "alice", "beat v1 by 60 Elo"),
        (1, 0, "alice", "first champion"),
    ]
    assert [a.name for a in core.list_aliases()] == ["champion", "latest"]


@one_backend
def test_alias_and_actor_checks(core: ModelCore) -> None:
    publish(core, tiny(1))
    before = snapshot(core)
    for call, message in [
        (lambda: core.promote(1, "latest", ALICE), "'latest' is kept by the server"),
        (lambda: core.promote(1, "Champion!", ALICE), "an alias is a lowercase letter"),
        (lambda: core.promote(1, "champion", Actor("")), "the actor name is required"),
        (lambda: core.rollback("latest", 0, ALICE), "'latest' is kept by the server"),
        (lambda: core.retire(1, Actor("", "why")), "the actor name is required"),
        (lambda: core.get_version(Selector(version=0)), "a version number is >= 1"),
        (lambda: core.download(Selector(alias="latest"), -1), "if_newer_than must be >= 0"),
        (lambda: core.list_versions(page_token="garbage!"), "cannot be read"),
    ]:
        with pytest.raises(InvalidArgument, match=message):
            call()
    with pytest.raises(NotFound, match="there is no version 7"):
        core.promote(7, "champion", ALICE)
    with pytest.raises(NotFound, match="there is no alias 'nope'"):
        core.get_version(Selector(alias="nope"))
    assert snapshot(core) == before


def test_retire_withdraws_a_version_from_every_alias(core: ModelCore) -> None:
    v1, v2, v3 = (publish(core, tiny(seed)) for seed in (1, 2, 3))
    core.promote(v2.version, "champion", ALICE)
    with pytest.raises(FailedPrecondition, match="alias 'champion' points at version 2"):
        core.retire(v2.version, Actor("bob", "old"))
    retired = core.retire(v3.version, Actor("bob", "superseded"))
    assert (retired.state, retired.status_reason, retired.aliases) == ("retired", "superseded", ())
    assert core.retire(v3.version, Actor("bob")) == retired  # a no-op
    latest = download(core, "latest")  # latest moved to the newest accepted version
    assert not isinstance(latest, NotModified) and latest[0].version == 2
    by_number = download(core, 3)  # still downloadable by number
    assert not isinstance(by_number, NotModified) and by_number[0].state == "retired"
    with pytest.raises(FailedPrecondition, match="only accepted versions can be promoted"):
        core.promote(3, "candidate", ALICE)
    with pytest.raises(FailedPrecondition, match="it is RETIRED, not ACCEPTED"):
        core.rollback("champion", 3, ALICE)
    core.retire(v1.version, Actor("bob", "weak"))
    assert core.store.get_alias("latest").version == 2
    assert publish(core, tiny(4)).aliases == ("latest",)
    changes = core.list_events(kind="state_changed").events
    assert [(e.version, e.state, e.actor.name, e.actor.reason) for e in changes[:2]] == [
        (
            4,
            "accepted",
            "model-service",
            "passed validation: loads, shapes, finite, legal_actions, sanity_match",
        ),
        (1, "retired", "bob", "weak"),
    ]


def test_retiring_the_last_accepted_version_removes_latest(core: ModelCore) -> None:
    only = publish(core, tiny(1))
    core.retire(only.version, Actor("bob", "withdrawn"))
    with pytest.raises(NotFound, match="'latest' names nothing yet"):
        download(core, "latest")
    deleted = core.list_events(kind="alias_deleted").events
    assert [(e.alias, e.previous_version, e.actor.reason) for e in deleted] == [
        ("latest", 1, "version 1 was retired")
    ]
    with pytest.raises(FailedPrecondition, match="RETIRED"):
        core.promote(only.version, "champion", ALICE)


def test_lineage_follows_parents_and_lists_children(core: ModelCore) -> None:
    v1 = publish(core, tiny(1))
    v2 = publish(core, tiny(2), parent_version=v1.version)
    v3 = publish(core, tiny(3), parent_version=v2.version)
    v4 = publish(core, tiny(4), parent_version=v1.version)
    lineage = core.lineage(v3.version)
    assert [a.version for a in lineage.ancestors] == [2, 1] and lineage.children == ()
    assert [a.version for a in core.lineage(v3.version, max_depth=1).ancestors] == [2]
    assert [c.version for c in core.lineage(v1.version).children] == [v2.version, v4.version]
    with pytest.raises(NotFound, match="there is no version 9"):
        core.lineage(9)


@one_backend
def test_lists_page_and_filter(core: ModelCore) -> None:
    for seed in range(5):
        publish(core, tiny(seed), run_id="run-a" if seed % 2 else "run-b")
    page = core.list_versions(page_size=2)
    assert [v.version for v in page.versions] == [5, 4] and page.next_page_token
    page = core.list_versions(page_size=2, page_token=page.next_page_token)
    assert [v.version for v in page.versions] == [3, 2]
    page = core.list_versions(page_size=2, page_token=page.next_page_token)
    assert [v.version for v in page.versions] == [1] and not page.next_page_token
    runs = core.list_versions(run_id="run-a", page_size=1)
    assert [v.version for v in runs.versions] == [4] and runs.total_size == 2
    assert [
        v.version for v in core.list_versions(run_id="run-a", page_token=runs.next_page_token).versions
    ] == [2]
    with pytest.raises(InvalidArgument, match="another query"):
        core.list_versions(run_id="run-b", page_token=runs.next_page_token)
    assert core.list_versions(architecture="other").versions == ()

    events = core.list_events(page_size=4)
    assert len(events.events) == 4 and events.next_page_token
    rest = core.list_events(page_size=1000, page_token=events.next_page_token)
    ids = [e.id for e in events.events + rest.events]
    assert ids == sorted(ids, reverse=True) and len(ids) == 5 * 3 - 4 + 4  # created, accepted; latest moves
    assert {e.kind for e in core.list_events(kind="state_changed").events} == {"state_changed"}
    assert {e.version for e in core.list_events(version=3).events} == {3}


def test_a_version_left_pending_by_a_stopped_server_is_rejected_on_start(core: ModelCore) -> None:
    version, new = core.admit(assemble(parts_of(tiny(1)), core))
    assert new and version.state == "pending"
    assert core.recover_pending(older_than_s=3600) == []
    assert core.recover_pending(older_than_s=0) == [version.version]
    stored = core.get_version(Selector(version=version.version))
    assert stored.state == "rejected" and "interrupted" in stored.status_reason


@one_backend
def test_corrupt_stored_weights_are_never_served(core: ModelCore, sql_uri: str, blobs: BlobStore) -> None:
    version = publish(core, tiny(1))
    key = weights_key(version.sha256)
    blobs.put(BUCKET, key, blobs.get(BUCKET, key)[:-1] + b"!")
    database = open_sql(sql_uri)
    try:
        cold = ModelCore(database, blobs, ModelServiceConfig(cache_bytes=0))  # reads the blob store
        with pytest.raises(FailedPrecondition, match="do not match their SHA-256"):
            cold.download(Selector(version=version.version))
    finally:
        database.close()


# the in-process registry


@one_backend
def test_a_publication_whose_caller_goes_away_still_finishes(core: ModelCore) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(arch: str, config: str, data: bytes) -> ValidationReport:
        started.set()
        release.wait(10)
        return ValidationReport((Check("loads", True),))

    core.validator = slow
    registry = LocalModelRegistry(core)

    async def scenario() -> None:
        async def stream() -> Any:
            for part in parts_of(tiny(1)):
                yield part

        task = asyncio.create_task(registry.publish_parts(stream()))
        await asyncio.to_thread(started.wait, 10)
        task.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await registry.close()

    asyncio.run(scenario())
    assert core.get_version(Selector(version=1)).state == "accepted"


@one_backend
def test_fetch_through_the_local_registry(core: ModelCore) -> None:
    registry = LocalModelRegistry(core)
    network = tiny(1)

    async def scenario() -> None:
        version = await registry.publish(network, training_step=5)
        assert version.state == "accepted"
        got = await registry.fetch("latest")
        assert got is not None and got[0].version == version.version
        assert all(
            torch.equal(a, b)
            for a, b in zip(got[1].state_dict().values(), network.state_dict().values(), strict=True)
        )
        assert await registry.fetch("latest", if_newer_than=version.version) is None

    asyncio.run(scenario())


# pieces: the hot cache, the wire encoding, the download check


def test_sized_lru_drops_the_least_recently_used_first() -> None:
    lru: SizedLru[bytes] = SizedLru(10, len)
    lru.put("a", b"1234")
    lru.put("b", b"1234")
    assert lru.get("a") == b"1234"  # a is now the most recent
    lru.put("c", b"1234")
    assert "b" not in lru and "a" in lru and "c" in lru and lru.size == 8
    lru.put("huge", b"x" * 11)
    assert "huge" not in lru and len(lru) == 2


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 16384, CHUNK_BYTES])
def test_chunk_messages_are_encoded_and_parsed_as_protobuf_does(size: int) -> None:
    piece = bytes(range(256)) * (size // 256) + bytes(size % 256)
    encoded = convert.encode_chunk(memoryview(piece))
    assert encoded == model_pb2.GetPolicyResponse(chunk=piece).SerializeToString()
    parsed = convert.parse_download(encoded)
    assert bytes(parsed) == piece if isinstance(parsed, memoryview) else parsed.chunk == piece
    other = model_pb2.GetPolicyResponse(sha256="ab" * 32).SerializeToString()
    assert convert.parse_download(other) == model_pb2.GetPolicyResponse(sha256="ab" * 32)
    trailing = encoded + model_pb2.GetPolicyResponse(sha256="cd" * 32).SerializeToString()
    assert convert.parse_download(trailing).sha256 == "cd" * 32  # type: ignore[union-attr]


def test_a_broken_download_is_unavailable() -> None:
    data = weights.encode(tiny(1))
    info = VersionInfo(
        1,
        PolicyMetadata("resnet-v1", TINY, size_bytes=len(data)),
        "accepted",
        sha256=hashlib.sha256(data).hexdigest(),
    )

    async def receive(parts: list[Any]) -> Any:
        async def stream() -> Any:
            for part in parts:
                yield part

        return await receive_download(stream())

    assert asyncio.run(receive([info, data, Checksum(info.sha256)])) == (info, data)
    assert asyncio.run(receive([NotModified(3)])) == NotModified(3)
    for parts, message in [
        ([info, data[:-1], Checksum(info.sha256)], "ended early"),
        ([info, data, b"x", Checksum(info.sha256)], "more than the"),
        ([info, data[:-1] + b"?", Checksum(info.sha256)], "checksum mismatch"),
        ([info, data], "ended early"),
        ([data, Checksum(info.sha256)], "must start with the version"),
    ]:
        with pytest.raises(Unavailable, match=message):
            asyncio.run(receive(parts))


@pytest.mark.parametrize("text", ["¹", "٣", "1²"])
def test_a_selector_of_non_ascii_digits_is_a_bad_alias_not_a_crash(text: str) -> None:
    from generals_rl.services.common.errors import InvalidArgument
    from generals_rl.services.model.domain import Selector, select

    assert select("17") == Selector(version=17) and select("champion") == Selector(alias="champion")
    with pytest.raises(InvalidArgument):
        select(text)
