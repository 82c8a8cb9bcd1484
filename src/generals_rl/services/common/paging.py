"""Page tokens of the Elo Service's lists: an offset bound to the filter it was issued for.

Tokens are opaque to clients (URL-safe base64 of a small JSON object); one issued for other filter
fields, or one that cannot be read, is ``InvalidArgument``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from generals_rl.services.common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def clamp_page_size(requested: int) -> int:
    """0 means the default (50); larger than 1000 is clamped to 1000."""
    if requested < 0:
        raise InvalidArgument(f"the page size must be >= 0, got {requested}")
    return DEFAULT_PAGE_SIZE if requested == 0 else min(requested, MAX_PAGE_SIZE)


def _fingerprint(query: object) -> str:
    return hashlib.sha256(repr(query).encode("utf-8", "backslashreplace")).hexdigest()[:12]


def encode_token(offset: int, query: object) -> str:
    """The token of the page starting at ``offset`` of the list ``query`` describes."""
    text = json.dumps({"o": offset, "q": _fingerprint(query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, query: object) -> int:
    """The offset a token stands for (0 for ``""``); ``InvalidArgument`` if it is not one of ours for
    this query."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, fingerprint = data["o"], data["q"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument(f"the page token {token[:40]!r} cannot be read: pass next_page_token") from None
    if (
        not isinstance(offset, int)
        or isinstance(offset, bool)
        or offset < 0
        or fingerprint != _fingerprint(query)
    ):
        raise InvalidArgument(
            "the page token belongs to another query: keep the filter fields of the first page"
        )
    return offset


def page_of(total: int, offset: int, size: int, query: object) -> tuple[slice, str]:
    """The slice of the page and the next page's token (``""`` on the last page)."""
    end = offset + size
    return slice(offset, end), (encode_token(end, query) if end < total else "")
