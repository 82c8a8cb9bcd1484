"""``FileBlobStore``: the ``BlobStore`` seam in a folder (``file:///dir``), one sub-folder per bucket.

Writes go to a temporary file in ``<dir>/.tmp`` (same file system) and are renamed into place, so a
reader sees the old or the new blob, never a part. Keys are checked by ``blobs.keys`` and every path is
checked again, resolved, to lie inside its bucket folder.
"""

from __future__ import annotations

import builtins
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from generals_rl.storage.blobs.keys import check_bucket, check_key, check_prefix
from generals_rl.storage.errors import ConflictError, InvalidKeyError, NotFoundError
from generals_rl.storage.interfaces import BUCKETS
from generals_rl.storage.uris import BLOBS_ACCEPTED

_TMP = ".tmp"


def parse_file_uri(uri: str) -> Path:
    """The folder of a ``file:`` URI; ``ValueError`` naming the URI when it is malformed."""
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise ValueError(f"malformed blob URI {uri!r}: use file:///absolute/dir; {BLOBS_ACCEPTED}")
    path = unquote(parts.path)
    if not path.startswith("/") or "\x00" in path:
        raise ValueError(f"malformed blob URI {uri!r}: the folder must be an absolute path; {BLOBS_ACCEPTED}")
    return Path(path)


class FileBlobStore:
    """The ``BlobStore`` seam in a local folder."""

    def __init__(self, uri: str) -> None:
        self._uri = uri
        self._root = parse_file_uri(uri)

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def root(self) -> Path:
        return self._root

    def ensure_buckets(self) -> None:
        for bucket in (*BUCKETS, _TMP):
            (self._root / bucket).mkdir(parents=True, exist_ok=True)

    def _path(self, bucket: str, key: str) -> Path:
        base = (self._root / check_bucket(bucket)).resolve()
        path = (base / check_key(key)).resolve()
        if not path.is_relative_to(base) or path == base:
            raise InvalidKeyError(f"blob key {key!r} leads outside bucket {bucket!r}")
        return path

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError(f"blob data must be bytes, got {type(data).__name__}")
        path = self._path(bucket, key)
        tmp_dir = self._root / _TMP
        tmp_dir.mkdir(parents=True, exist_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ConflictError(f"blob {bucket}/{key}: a blob exists at one of its parent paths") from None
        if path.is_dir():
            raise ConflictError(f"blob {bucket}/{key}: other blobs exist under it as a folder")
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, bucket: str, key: str) -> bytes:
        path = self._path(bucket, key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError(f"no blob {key!r} in bucket {bucket!r}") from None

    def exists(self, bucket: str, key: str) -> bool:
        return self._path(bucket, key).is_file()

    def delete(self, bucket: str, key: str) -> bool:
        path = self._path(bucket, key)
        if not path.is_file():
            return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        base = (self._root / bucket).resolve()
        for parent in path.parents:  # drop folders the delete emptied, so listings stay clean
            if parent == base:
                break
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        check_prefix(prefix)
        base = (self._root / check_bucket(bucket)).resolve()
        start = base / prefix.rpartition("/")[0] if "/" in prefix else base
        if not start.is_dir():
            return []
        keys = []
        for folder, _, files in os.walk(start):
            relative = Path(folder).relative_to(base).as_posix()
            for name in files:
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def size(self, bucket: str, key: str) -> int:
        path = self._path(bucket, key)
        try:
            if path.is_file():
                return path.stat().st_size
        except FileNotFoundError:
            pass
        raise NotFoundError(f"no blob {key!r} in bucket {bucket!r}")

    def close(self) -> None:
        pass
