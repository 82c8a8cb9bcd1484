"""Blob keys and buckets: which names are allowed, so no key can reach outside its bucket.

A key is a relative path of ``/``-separated segments. A segment is 1-255 UTF-8 bytes, not ``.`` or
``..``, without control characters or backslashes; a key is at most 1024 UTF-8 bytes. The same rules
hold on every backend, so a key that works on S3 works in a folder and the other way round.
"""

from __future__ import annotations

import unicodedata

from generals_rl.storage.errors import InvalidKeyError
from generals_rl.storage.interfaces import BUCKETS

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255


def check_bucket(bucket: str) -> str:
    if bucket not in BUCKETS:
        raise InvalidKeyError(f"unknown bucket {bucket!r}; the buckets are {', '.join(BUCKETS)}")
    return bucket


def _utf8(what: str, text: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidKeyError(f"a blob {what} must be a str, got {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError(f"blob {what} {text!r} is not valid UTF-8 text") from None


def _check_segments(what: str, text: str, segments: list[str]) -> None:
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidKeyError(
                f"blob {what} {text!r}: empty, '.' and '..' segments are not allowed "
                "(no absolute paths, no '//')"
            )
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKeyError(f"blob {what} {text!r}: a segment is longer than {MAX_SEGMENT_BYTES} bytes")
        bad = next((c for c in segment if c == "\\" or unicodedata.category(c) in ("Cc", "Cs")), None)
        if bad is not None:
            raise InvalidKeyError(f"blob {what} {text!r}: the character {bad!r} is not allowed")


def check_key(key: str) -> str:
    """The key itself when valid; ``InvalidKeyError`` (a ``ValueError``) saying why not."""
    encoded = _utf8("key", key)
    if not key or len(encoded) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"blob key {key!r}: it must be 1 to {MAX_KEY_BYTES} bytes of UTF-8")
    _check_segments("key", key, key.split("/"))
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix, the start of a key: whole segments follow the key rules, the last may be partial."""
    encoded = _utf8("prefix", prefix)
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"blob prefix {prefix!r}: longer than {MAX_KEY_BYTES} bytes")
    if prefix:
        segments = prefix.split("/")
        _check_segments("prefix", prefix, segments[:-1])
        if segments[-1]:
            _check_segments("prefix", prefix, segments[-1:])
    return prefix
