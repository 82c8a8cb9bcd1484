"""Human sessions in the cache seam: a secret token that stands for a user id until it expires.

The HTTP gateway's login (a guest picking a name, later real accounts) calls ``create_session``
and hands the token to the browser; services that act for humans (the Game Service's JoinGame)
call ``resolve`` to learn who the token belongs to. Sessions live in the cache (``memory://`` on
one machine, Redis when services run apart), one hash per token under ``session:<token>`` with
the user id, the display name and the creation time, expiring ``ttl`` seconds after creation
(``touch`` extends it).

    token = create_session(cache, "alice", ttl=3600)
    resolve(cache, token)  # "alice": the id of the human's PlayerRef (kind human)

An unknown, expired or malformed token raises ``Unauthenticated``.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from generals_rl.services.common.errors import InvalidArgument, Unauthenticated
from generals_rl.storage import Cache

DEFAULT_TTL_S = 24 * 3600.0
"""How long a session lasts unless told otherwise: a day."""

KEY_PREFIX = "session:"
MAX_NAME = 128
"""Longest user id (a PlayerRef id is 1..128 characters)."""

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


@dataclass(frozen=True)
class Session:
    """Who a token stands for."""

    user_id: str
    name: str
    created_at: float


def create_session(cache: Cache, name: str, ttl: float = DEFAULT_TTL_S, *, user_id: str | None = None) -> str:
    """A new session for ``name`` (its user id too unless ``user_id`` is given); returns its token.

    ``InvalidArgument`` for an empty or too long name or a ttl that is not positive.
    """
    user = name if user_id is None else user_id
    for what, text in (("name", name), ("user id", user)):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NAME or not text.isprintable():
            raise InvalidArgument(f"a session {what} is 1..{MAX_NAME} printable characters, got {text!r}")
    if not ttl > 0:
        raise InvalidArgument(f"a session ttl is a number of seconds > 0, got {ttl!r}")
    token = secrets.token_urlsafe(24)
    fields = {"user_id": user, "name": name, "created_at": repr(time.time())}
    cache.hset(KEY_PREFIX + token, fields, ttl=ttl)
    return token


def lookup(cache: Cache, token: str) -> Session:
    """The session of ``token``; ``Unauthenticated`` when it is unknown, expired or malformed."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise Unauthenticated("unknown or expired session token")
    fields = cache.hgetall(KEY_PREFIX + token)
    if "user_id" not in fields:
        raise Unauthenticated("unknown or expired session token")
    return Session(
        user_id=fields["user_id"].decode("utf-8"),
        name=fields.get("name", fields["user_id"]).decode("utf-8"),
        created_at=float(fields.get("created_at", b"0")),
    )


def resolve(cache: Cache, token: str) -> str:
    """The user id ``token`` stands for (the id of a human ``PlayerRef``)."""
    return lookup(cache, token).user_id


def touch(cache: Cache, token: str, ttl: float = DEFAULT_TTL_S) -> None:
    """Extend a live session to expire ``ttl`` seconds from now; ``Unauthenticated`` if it is gone."""
    lookup(cache, token)
    cache.expire(KEY_PREFIX + token, ttl)


def end_session(cache: Cache, token: str) -> bool:
    """Log out: forget the token. False when it was unknown already."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return False
    return cache.delete(KEY_PREFIX + token) > 0
