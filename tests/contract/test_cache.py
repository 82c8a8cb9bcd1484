"""Universal cache contract: every test runs on ``MemoryCache`` and on ``RedisCache`` (``cache``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.storage import Cache, WrongKindError

FIXTURE_REUSE = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
VALUES = st.one_of(st.binary(max_size=300), st.text(st.characters(exclude_categories=["Cs"]), max_size=100))


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``check`` holds (expiry is checked lazily in memory and by sampling in Redis)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.05)


def test_values_are_bytes_out_whatever_went_in(cache: Cache) -> None:
    cache.set("bytes", b"\x00\xff")
    cache.set("text", "héllo ✓")
    cache.set("empty", b"")
    assert cache.get("empty") == b"" and cache.exists("empty")  # an empty value still exists
    assert cache.get("bytes") == b"\x00\xff"
    assert cache.get("text") == "héllo ✓".encode()
    assert cache.get("missing") is None
    assert cache.exists("text") and not cache.exists("missing")
    assert cache.delete("text", "missing", "bytes") == 2
    assert cache.get("text") is None


@FIXTURE_REUSE
@given(key=NAMES, value=VALUES)
def test_any_key_and_value_round_trip(cache: Cache, key: str, value: bytes | str) -> None:
    cache.set(key, value)
    assert cache.get(key) == (value.encode() if isinstance(value, str) else value)
    cache.delete(key)


def test_set_with_a_ttl_expires_and_set_again_clears_it(cache: Cache) -> None:
    cache.set("session", "token", ttl=0.3)
    left = cache.ttl("session")
    assert left is not None and 0 < left <= 0.3
    cache.set("kept", "v", ttl=0.3)
    cache.set("kept", "v2")  # a new value, no expiry
    assert cache.ttl("kept") is None
    eventually(lambda: cache.get("session") is None)
    assert not cache.exists("session") and cache.ttl("session") is None
    assert cache.get("kept") == b"v2"


def test_expire_applies_to_every_kind(cache: Cache) -> None:
    cache.set("value", "v")
    cache.zadd("board", {"a": 1})
    cache.hset("game:1", {"status": "running"})
    cache.qpush("queue", "p1")
    for key in ("value", "board", "game:1", "queue"):
        assert cache.expire(key, 0.3)
        assert cache.ttl(key) is not None
    assert not cache.expire("missing", 1)
    eventually(lambda: not any(cache.exists(k) for k in ("value", "board", "game:1", "queue")))
    assert cache.zcard("board") == 0 and cache.hgetall("game:1") == {} and cache.qlen("queue") == 0


def test_writes_with_a_ttl_set_it_and_writes_without_keep_it(cache: Cache) -> None:
    cache.hset("session:alice", {"token": "t"}, ttl=30)
    cache.zadd("board", {"a": 1}, ttl=30)
    cache.qpush("queue", "p1", ttl=30)
    cache.hset("session:alice", {"game": "g1"})
    cache.zadd("board", {"b": 2})
    cache.qpush("queue", "p2")
    for key in ("session:alice", "board", "queue"):
        left = cache.ttl(key)
        assert left is not None and 25 < left <= 30
    cache.hset("session:bob", {"token": "t"}, ttl=0.3)
    eventually(lambda: cache.hgetall("session:bob") == {})
    assert cache.hgetall("session:alice") == {"token": b"t", "game": b"g1"}


def test_a_leaderboard_ranks_highest_first(cache: Cache) -> None:
    assert cache.zadd("elo", {"alice": 1500, "bob": 1400, "carol": 1600}) == 3
    assert cache.zadd("elo", {"bob": 1700.5, "dave": 1000}) == 1
    assert cache.ztop("elo", 3) == [("bob", 1700.5), ("carol", 1600.0), ("alice", 1500.0)]
    assert cache.ztop("elo", 10, offset=3) == [("dave", 1000.0)]
    assert cache.ztop("elo", 0) == [] and cache.ztop("missing", 5) == []
    assert cache.zrank("elo", "bob") == 0 and cache.zrank("elo", "dave") == 3
    assert cache.zrank("elo", "nobody") is None and cache.zscore("elo", "nobody") is None
    assert cache.zscore("elo", "alice") == 1500.0
    assert cache.zrem("elo", "alice", "nobody") == 1
    assert cache.zcard("elo") == 3
    assert cache.zrem("elo", "bob", "carol", "dave") == 3
    assert not cache.exists("elo")


def test_equal_scores_rank_by_member_descending_as_redis_does(cache: Cache) -> None:
    cache.zadd("elo", {"a": 1, "c": 1, "b": 1, "z": 2, "inf": float("inf")})
    assert [m for m, _ in cache.ztop("elo", 10)] == ["inf", "z", "c", "b", "a"]
    assert cache.zrank("elo", "b") == 3


@FIXTURE_REUSE
@given(scores=st.dictionaries(NAMES, st.floats(allow_nan=False, width=64), min_size=1, max_size=20))
def test_any_scores_rank_the_same_on_every_backend(cache: Cache, scores: dict[str, float]) -> None:
    cache.delete("board")
    cache.zadd("board", scores)
    expected = sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)
    assert cache.ztop("board", len(scores)) == expected
    member = expected[-1][0]
    assert cache.zrank("board", member) == len(scores) - 1 and cache.zscore("board", member) == scores[member]


def test_hashes_hold_active_games(cache: Cache) -> None:
    cache.hset("games:active", {"g1": "running", "g2": b"\x01"})
    cache.hset("games:active", {"g1": "finished"})
    assert cache.hgetall("games:active") == {"g1": b"finished", "g2": b"\x01"}
    assert cache.hget("games:active", "g2") == b"\x01" and cache.hget("games:active", "g3") is None
    assert cache.hdel("games:active", "g1", "g3") == 1
    assert cache.hdel("games:active") == 0
    assert cache.hdel("games:active", "g2") == 1
    assert not cache.exists("games:active") and cache.hgetall("games:active") == {}


def test_queues_are_fifo_with_remove_and_pop_many(cache: Cache) -> None:
    assert cache.qpush("mm:1v1", "p1", "p2") == 2
    assert cache.qpush("mm:1v1", "p3", "p2", "p4") == 5
    assert cache.qlist("mm:1v1") == ["p1", "p2", "p3", "p2", "p4"]
    assert cache.qremove("mm:1v1", "p2") == 2 and cache.qremove("mm:1v1", "nobody") == 0
    assert cache.qpop("mm:1v1") == "p1"
    assert cache.qlen("mm:1v1") == 2
    assert cache.qpop_many("mm:1v1", 5) == ["p3", "p4"]
    assert cache.qpop("mm:1v1") is None and cache.qpop_many("mm:1v1", 3) == [] and cache.qlist("mm:1v1") == []
    assert not cache.exists("mm:1v1")


def test_pop_many_hands_each_item_to_exactly_one_caller(
    cache: Cache, concurrently: Callable[..., list[Any]]
) -> None:
    items = [f"p{i}" for i in range(200)]
    cache.qpush("mm", *items)
    batches = concurrently(*[lambda: [x for _ in range(10) for x in cache.qpop_many("mm", 3)]] * 6)
    taken = [item for batch in batches for item in batch]
    assert len(taken) == len(set(taken)) == 180
    for batch in batches:  # each caller got its items in queue order
        assert batch == sorted(batch, key=items.index)
    assert cache.qlen("mm") == 20


OPERATIONS: dict[str, Callable[[Cache, str], object]] = {
    "get": lambda c, k: c.get(k),
    "zadd": lambda c, k: c.zadd(k, {"m": 1}),
    "ztop": lambda c, k: c.ztop(k, 3),
    "zcard": lambda c, k: c.zcard(k),
    "hset": lambda c, k: c.hset(k, {"f": "v"}, ttl=5),
    "hgetall": lambda c, k: c.hgetall(k),
    "qpush": lambda c, k: c.qpush(k, "x", ttl=5),
    "qpop": lambda c, k: c.qpop(k),
    "qlist": lambda c, k: c.qlist(k),
}
KIND_OF = {"get": "value", "zadd": "zset", "ztop": "zset", "zcard": "zset", "hset": "hash", "hgetall": "hash"}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_key_used_as_another_kind_is_refused_and_left_as_it_was(cache: Cache, operation: str) -> None:
    cache.set("value", "v")
    cache.zadd("zset", {"a": 1.0})
    cache.hset("hash", {"f": "v"})
    cache.qpush("queue", "item")
    before = (cache.get("value"), cache.ztop("zset", 5), cache.hgetall("hash"), cache.qlist("queue"))
    mine = KIND_OF.get(operation, "queue")
    for key in ("value", "zset", "hash", "queue"):
        if key != mine:
            with pytest.raises(WrongKindError, match=key):
                OPERATIONS[operation](cache, key)
    assert (cache.get("value"), cache.ztop("zset", 5), cache.hgetall("hash"), cache.qlist("queue")) == before
    assert all(cache.ttl(key) is None for key in ("value", "zset", "hash", "queue"))


BAD_CALLS: list[tuple[str, Callable[[Cache], object]]] = [
    ("empty key", lambda c: c.set("", "v")),
    ("non-str key", lambda c: c.get(b"k")),  # type: ignore[arg-type]
    ("int value", lambda c: c.set("k", 5)),  # type: ignore[arg-type]
    ("surrogate value", lambda c: c.set("k", "\udc80")),
    ("zero ttl", lambda c: c.set("k", "v", ttl=0)),
    ("negative ttl", lambda c: c.expire("k", -1)),
    ("nan ttl", lambda c: c.hset("k", {"f": "v"}, ttl=float("nan"))),
    ("nan score", lambda c: c.zadd("k", {"m": float("nan")})),
    ("no members", lambda c: c.zadd("k", {})),
    ("str score", lambda c: c.zadd("k", {"m": "1"})),  # type: ignore[dict-item]
    ("no fields", lambda c: c.hset("k", {})),
    ("bytes field", lambda c: c.hset("k", {b"f": "v"})),  # type: ignore[dict-item]
    ("no items", lambda c: c.qpush("k")),
    ("bytes item", lambda c: c.qpush("k", b"x")),  # type: ignore[arg-type]
    ("negative count", lambda c: c.qpop_many("k", -1)),
    ("negative top", lambda c: c.ztop("k", -1)),
]


@pytest.mark.parametrize("call", [call for _, call in BAD_CALLS], ids=[name for name, _ in BAD_CALLS])
def test_bad_arguments_are_refused_and_change_nothing(cache: Cache, call: Callable[[Cache], object]) -> None:
    cache.set("k", "before")
    with pytest.raises(ValueError):
        call(cache)
    assert cache.get("k") == b"before" and cache.ttl("k") is None
