"""Argument checks and encoding shared by the cache backends, so both reject the same input the same way."""

from __future__ import annotations

import math
from collections.abc import Mapping

from generals_rl.storage.errors import WrongKindError

MAX_KEY_LENGTH = 1024
KIND_NAMES = {"string": "a value", "hash": "a hash", "zset": "a sorted set", "queue": "a queue"}


def check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(
            f"a cache key is a non-empty str of at most {MAX_KEY_LENGTH} characters, got {key!r}"
        )
    check_name("a cache key", key)


def check_name(what: str, name: str) -> str:
    """Keys, sorted-set members, hash fields and queue items are ``str`` that UTF-8 can encode."""
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a str, got {type(name).__name__}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"{what} must be encodable as UTF-8: {error}") from None
    return name


def check_ttl(ttl: float | None) -> None:
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) or ttl <= 0
    ):
        raise ValueError(f"a ttl is a number of seconds > 0, got {ttl!r}")


def check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


def encode(value: bytes | str) -> bytes:
    """Values are stored as bytes; ``str`` is encoded as UTF-8 (strict: lone surrogates are refused)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"a str value must be encodable as UTF-8: {error}") from None
    raise ValueError(f"cache values are bytes or str, got {type(value).__name__}")


def kind_error(key: str, stored: str, wanted: str) -> WrongKindError:
    return WrongKindError(
        f"cache key {key!r} holds {KIND_NAMES.get(stored, stored)}, not {KIND_NAMES.get(wanted, wanted)}"
    )


def check_scores(key: str, scores: Mapping[str, float]) -> None:
    if not scores:
        raise ValueError(f"zadd {key!r}: no members given")
    for member, score in scores.items():
        check_name(f"a member of sorted set {key!r}", member)
        if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
            raise ValueError(
                f"zadd {key!r}: the score of {member!r} must be a number, not NaN; got {score!r}"
            )


def encode_fields(key: str, fields: Mapping[str, bytes | str]) -> dict[str, bytes]:
    if not fields:
        raise ValueError(f"hset {key!r}: no fields given")
    return {check_name(f"a field of hash {key!r}", name): encode(value) for name, value in fields.items()}


def check_items(key: str, items: tuple[str, ...]) -> None:
    if not items:
        raise ValueError(f"qpush {key!r}: no items given")
    for item in items:
        check_name(f"an item of queue {key!r}", item)
