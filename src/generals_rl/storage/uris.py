"""The URI forms each seam accepts, in one place, so every error message lists the same ones."""

from __future__ import annotations

from urllib.parse import urlsplit

SQL_ACCEPTED = "accepted: sqlite:///path/to/file.db, sqlite:// (in memory), postgresql://user@host:port/db"
CACHE_ACCEPTED = "accepted: memory://, redis://[user:password@]host[:port][/db], rediss://… (TLS)"
BLOBS_ACCEPTED = (
    "accepted: file:///absolute/dir, "
    "s3://<bucket-prefix>[/<key-prefix>][?endpoint_url=…&region=…&addressing_style=…]"
)


def scheme_of(uri: str, seam: str, schemes: tuple[str, ...], accepted: str) -> str:
    """The URI's scheme (without a ``+driver``) when it is one of ``schemes``; else a ValueError naming the
    URI and the accepted forms."""
    if not isinstance(uri, str):
        raise ValueError(f"a {seam} URI must be a string, got {uri!r}; {accepted}")
    try:
        scheme = urlsplit(uri).scheme.split("+", 1)[0]
    except ValueError as error:
        raise ValueError(f"malformed {seam} URI {uri!r}: {error}; {accepted}") from None
    if scheme not in schemes or "://" not in uri:
        raise ValueError(
            f"unsupported {seam} URI {uri!r}: the scheme must be one of {', '.join(schemes)}; {accepted}"
        )
    return scheme
