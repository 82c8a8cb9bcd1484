"""Universal blob contract: every test runs on ``FileBlobStore`` and on ``S3BlobStore`` (``blobs``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.storage import BUCKETS, BlobStore, ConflictError, InvalidKeyError, NotFoundError, open_blobs
from generals_rl.storage.blobs.file import FileBlobStore
from generals_rl.storage.blobs.keys import check_key

FIXTURE_REUSE = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SEGMENT = st.text(
    st.characters(exclude_categories=["Cc", "Cs"], exclude_characters="/\\"), min_size=1, max_size=30
).filter(lambda s: s not in (".", ".."))
KEYS = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)


def test_put_get_exists_size_delete(blobs: BlobStore) -> None:
    blobs.put("replays", "2026/01/g1.gioreplay", b"{}")
    assert blobs.get("replays", "2026/01/g1.gioreplay") == b"{}"
    assert blobs.exists("replays", "2026/01/g1.gioreplay")
    assert blobs.size("replays", "2026/01/g1.gioreplay") == 2
    assert not blobs.exists("models", "2026/01/g1.gioreplay")  # buckets are separate
    blobs.put("replays", "2026/01/g1.gioreplay", b'{"v": 2}')
    assert blobs.get("replays", "2026/01/g1.gioreplay") == b'{"v": 2}'
    assert blobs.delete("replays", "2026/01/g1.gioreplay") is True
    assert blobs.delete("replays", "2026/01/g1.gioreplay") is False
    assert not blobs.exists("replays", "2026/01/g1.gioreplay")
    assert blobs.list("replays") == []


def test_a_missing_blob_is_a_clear_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFoundError, match=r"no blob 'v9\.safetensors' in bucket 'models'") as raised:
        blobs.get("models", "v9.safetensors")
    assert isinstance(raised.value, KeyError)
    with pytest.raises(NotFoundError, match="v9"):
        blobs.size("models", "v9.safetensors")


def test_every_bucket_holds_blobs_and_an_empty_blob_is_a_blob(blobs: BlobStore) -> None:
    for bucket in BUCKETS:
        blobs.put(bucket, "k", bucket.encode())
        blobs.put(bucket, "empty", b"")
    assert [blobs.get(bucket, "k") for bucket in BUCKETS] == [b.encode() for b in BUCKETS]
    assert blobs.size("checkpoints", "empty") == 0 and blobs.get("checkpoints", "empty") == b""


def test_list_by_prefix_is_sorted_and_a_plain_string_prefix(blobs: BlobStore) -> None:
    keys = ["v1/weights", "v10/weights", "v2/weights", "v2/meta.json", "readme", "v1a"]
    for key in keys:
        blobs.put("models", key, b"x")
    assert blobs.list("models") == sorted(keys)
    assert blobs.list("models", "v1") == ["v1/weights", "v10/weights", "v1a"]
    assert blobs.list("models", "v1/") == ["v1/weights"]
    assert blobs.list("models", "v2/m") == ["v2/meta.json"]
    assert blobs.list("models", "zzz") == [] and blobs.list("models", "nothing/here/") == []
    assert blobs.list("replays") == []


def test_large_blobs_round_trip(blobs: BlobStore) -> None:
    data = os.urandom(9 * 1024 * 1024 + 7)  # a policy's weights
    blobs.put("checkpoints", "run/step-100.pt", data)
    assert blobs.size("checkpoints", "run/step-100.pt") == len(data)
    assert blobs.get("checkpoints", "run/step-100.pt") == data


@FIXTURE_REUSE
@given(key=KEYS, data=st.binary(max_size=200))
def test_any_valid_key_and_data_round_trip(blobs: BlobStore, key: str, data: bytes) -> None:
    blobs.put("experiences", key, data)
    assert blobs.get("experiences", key) == data and key in blobs.list("experiences")
    blobs.delete("experiences", key)


BAD_KEYS = [
    "",
    "/abs",
    "a//b",
    "a/",
    "..",
    "../x",
    "a/../../x",
    "./a",
    "a/.",
    "a\\..\\b",
    "nul\x00",
    "tab\t",
    "x" * 256,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_before_anything_is_touched(blobs: BlobStore, key: str) -> None:
    blobs.put("models", "kept", b"1")
    for call in (
        lambda: blobs.put("models", key, b"x"),
        lambda: blobs.get("models", key),
        lambda: blobs.exists("models", key),
        lambda: blobs.delete("models", key),
        lambda: blobs.size("models", key),
    ):
        with pytest.raises(InvalidKeyError):
            call()
    assert blobs.list("models") == ["kept"] and blobs.get("models", "kept") == b"1"


def test_bad_buckets_prefixes_and_data_are_refused(blobs: BlobStore) -> None:
    with pytest.raises(InvalidKeyError, match="unknown bucket 'weights'; the buckets are models, replays"):
        blobs.put("weights", "k", b"x")
    with pytest.raises(InvalidKeyError):
        blobs.list("models", "../")
    with pytest.raises(InvalidKeyError):
        blobs.list("models", "/etc")
    with pytest.raises(ValueError, match="bytes"):
        blobs.put("models", "k", "text")  # type: ignore[arg-type]
    assert not blobs.exists("models", "k")


def test_a_key_under_another_key_works_or_is_refused_without_harm(blobs: BlobStore) -> None:
    """S3 holds both ``a`` and ``a/b``; a folder cannot, and says so. Neither loses data."""
    blobs.put("replays", "a", b"file")
    try:
        blobs.put("replays", "a/b", b"nested")
    except ConflictError as error:
        assert "a/b" in str(error)
    else:
        assert blobs.get("replays", "a/b") == b"nested"
    assert blobs.get("replays", "a") == b"file"


def test_ensure_buckets_is_idempotent(blob_uri: str) -> None:
    store = open_blobs(blob_uri)
    store.ensure_buckets()
    store.ensure_buckets()
    store.put("models", "k", b"v")
    store.ensure_buckets()
    assert store.get("models", "k") == b"v"


def test_concurrent_writers_leave_one_whole_blob(
    blobs: BlobStore, concurrently: Callable[..., list[Any]]
) -> None:
    versions = [bytes([i]) * 200_000 for i in range(6)]
    concurrently(*[lambda v=v: blobs.put("models", "champion.safetensors", v) for v in versions])
    assert blobs.get("models", "champion.safetensors") in versions


# the folder backend: no path escapes it


@settings(max_examples=300, deadline=None)
@given(
    key=st.text(max_size=40) | st.lists(st.sampled_from(["..", ".", "", "a", "/", "\\", "b"])).map("".join)
)
def test_no_key_reaches_outside_its_bucket_folder(tmp_path_factory: pytest.TempPathFactory, key: str) -> None:
    root = tmp_path_factory.mktemp("blobs")
    store = FileBlobStore(f"file://{root}")
    bucket = (root / "models").resolve()
    try:
        path = store._path("models", key)
    except InvalidKeyError:
        return
    assert check_key(key) == key
    assert path.is_relative_to(bucket) and path != bucket


def test_a_symlink_out_of_the_bucket_is_not_followed(tmp_path: Path) -> None:
    store = FileBlobStore(f"file://{tmp_path / 'blobs'}")
    store.ensure_buckets()
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "blobs" / "models" / "link").symlink_to(outside)
    with pytest.raises(InvalidKeyError, match="outside"):
        store.put("models", "link/secret", b"x")
    assert list(outside.iterdir()) == []


def test_file_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = FileBlobStore(f"file://{tmp_path}")
    store.ensure_buckets()
    store.put("replays", "g.gioreplay", b"old")

    # A write that fails half-way leaves the old blob and no temporary file behind.
    original = os.fsync

    def failing_fsync(fd: int) -> None:
        raise OSError("disk full")

    os.fsync = failing_fsync  # type: ignore[assignment]
    try:
        with pytest.raises(OSError, match="disk full"):
            store.put("replays", "g.gioreplay", b"new")
    finally:
        os.fsync = original
    assert store.get("replays", "g.gioreplay") == b"old"
    assert list((tmp_path / ".tmp").iterdir()) == []
    assert store.list("replays") == ["g.gioreplay"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*BUCKETS, ".tmp"])
