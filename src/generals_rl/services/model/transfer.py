"""Moving weights in 1 MiB chunks: the upload's framing rules (``Upload``), the download's
(``receive``), and the parts a sender yields (``upload_parts``, ``download_parts``).

An upload is ``PolicyMetadata``, then chunks of 1 byte .. 1 MiB adding up to ``size_bytes``, then
the ``Checksum`` of the whole file; a download is the ``VersionInfo``, the chunks, the ``Checksum``
(or ``NotModified`` alone). Anything else is ``InvalidArgument`` on the server and ``Unavailable``
(a broken transfer: retry) on the client, and nothing is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace

from generals_rl.services.common.errors import InvalidArgument, Unavailable
from generals_rl.services.model import weights
from generals_rl.services.model.domain import (
    CHUNK_BYTES,
    Checksum,
    DownloadPart,
    NotModified,
    PolicyMetadata,
    UploadPart,
    VersionInfo,
    check_metadata,
    check_sha256,
)


def chunks(data: bytes, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``data`` in pieces of at most ``size`` bytes (views copied out one at a time)."""
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


def upload_parts(metadata: PolicyMetadata, data: bytes) -> Iterator[UploadPart]:
    """The parts of a well-formed upload of ``data`` (``size_bytes`` filled in)."""
    yield replace(metadata, size_bytes=len(data))
    yield from chunks(data)
    yield Checksum(hashlib.sha256(data).hexdigest())


def download_parts(version: VersionInfo, data: bytes) -> Iterator[DownloadPart]:
    """The parts of a download of a version's weights (chunks are views of ``data``: no copies)."""
    yield version
    view = memoryview(data)
    for start in range(0, len(data), CHUNK_BYTES):
        yield view[start : start + CHUNK_BYTES]
    yield Checksum(version.sha256)


@dataclass(frozen=True)
class CompletedUpload:
    """An upload whose framing and checksum were right: what the registry may store."""

    metadata: PolicyMetadata
    config: dict[str, object]
    data: bytes
    sha256: str


class Upload:
    """The server's side of an upload: feed it the parts in order; ``finish`` gives the completed
    upload or raises ``InvalidArgument`` (``ResourceExhausted`` for an oversized file) saying what was
    wrong. It holds the bytes in memory (at most ``size_bytes``, checked on every chunk)."""

    def __init__(self, architectures: Mapping[str, object]) -> None:
        self.architectures = architectures
        self.metadata: PolicyMetadata | None = None
        self.config: dict[str, object] = {}
        self.buffer = bytearray()
        self.hasher = hashlib.sha256()
        self.sha256: str | None = None
        self.chunks = 0

    def feed(self, part: UploadPart) -> None:
        if self.sha256 is not None:
            raise InvalidArgument("the sha256 message must be the last one of an upload")
        if isinstance(part, PolicyMetadata):
            if self.metadata is not None:
                raise InvalidArgument("metadata was sent twice: only the first message carries it")
            self.config = check_metadata(part, self.architectures)
            try:  # the config must build its architecture (on the meta device: nothing allocated)
                weights.expected_tensors(part.architecture, self.config)
            except ValueError as error:
                raise InvalidArgument(str(error)) from None
            self.metadata = part
            return
        if self.metadata is None:
            raise InvalidArgument("the first message of an upload must be its metadata")
        if isinstance(part, Checksum):
            check_sha256(part.sha256)
            if len(self.buffer) != self.metadata.size_bytes:
                raise InvalidArgument(
                    f"the upload ended after {len(self.buffer)} of the {self.metadata.size_bytes} bytes "
                    "its metadata announced"
                )
            self.sha256 = part.sha256
            return
        if not isinstance(part, bytes | bytearray | memoryview):
            what = type(part).__name__
            raise InvalidArgument(f"an upload part is metadata, a chunk or a sha256, not {what}")
        if not 1 <= len(part) <= CHUNK_BYTES:
            raise InvalidArgument(
                f"chunk {self.chunks} has {len(part)} bytes: chunks carry 1..{CHUNK_BYTES} bytes (1 MiB)"
            )
        if len(self.buffer) + len(part) > self.metadata.size_bytes:
            raise InvalidArgument(
                f"the upload sent more than the {self.metadata.size_bytes} bytes its metadata announced"
            )
        self.buffer += part
        self.hasher.update(part)
        self.chunks += 1

    def finish(self) -> CompletedUpload:
        if self.metadata is None:
            raise InvalidArgument("the upload was empty: send metadata, chunks and a sha256")
        if self.sha256 is None:
            raise InvalidArgument(
                f"the upload ended without its sha256 message (after {len(self.buffer)} of "
                f"{self.metadata.size_bytes} bytes)"
            )
        actual = self.hasher.hexdigest()
        if actual != self.sha256:
            raise InvalidArgument(
                f"checksum mismatch: the bytes received hash to {actual}, not {self.sha256}"
            )
        return CompletedUpload(self.metadata, self.config, bytes(self.buffer), actual)


async def receive_upload(
    parts: AsyncIterable[UploadPart], architectures: Mapping[str, object]
) -> CompletedUpload:
    """Read a whole upload stream; ``InvalidArgument`` at the first part that breaks the framing."""
    upload = Upload(architectures)
    async for part in parts:
        upload.feed(part)
    return upload.finish()


async def receive_download(parts: AsyncIterator[DownloadPart]) -> tuple[VersionInfo, bytes] | NotModified:
    """Read a whole download and check it (size, order, SHA-256): the version and its bytes, or
    ``NotModified``. A broken download is ``Unavailable`` (retry)."""
    first = await anext(parts, None)
    if isinstance(first, NotModified):
        if await anext(parts, None) is not None:
            raise Unavailable("a not_modified answer must be the only message of a download")
        return first
    if not isinstance(first, VersionInfo):
        raise Unavailable("a download must start with the version's metadata")
    pieces: list[bytes | memoryview] = []
    hasher = hashlib.sha256()
    received, expected = 0, first.metadata.size_bytes
    checksum: Checksum | None = None
    async for part in parts:
        if checksum is not None:
            raise Unavailable("the download went on after its sha256 message")
        if isinstance(part, Checksum):
            checksum = part
        elif isinstance(part, bytes | memoryview):
            received += len(part)
            if received > expected:
                raise Unavailable(
                    f"the download sent more than the {expected} bytes of version {first.version}"
                )
            hasher.update(part)
            pieces.append(part)
        else:
            raise Unavailable(f"unexpected {type(part).__name__} in the middle of a download")
    if checksum is None or received != expected:
        raise Unavailable(
            f"the download of version {first.version} ended early ({received} of {expected} bytes)"
        )
    actual = hasher.hexdigest()
    if actual != checksum.sha256 or actual != first.sha256:
        raise Unavailable(
            f"checksum mismatch downloading version {first.version}: the bytes hash to {actual}, "
            f"the server announced {checksum.sha256}"
        )
    return first, b"".join(pieces)
