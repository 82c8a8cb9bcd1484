"""Who is calling: guest sessions (``Authorization: Bearer <session token>``) and the admin token
(``X-Admin-Token``), as FastAPI dependencies; and the backend of the app a request reached."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.requests import HTTPConnection

from generals_rl.services.common import sessions
from generals_rl.services.common.errors import PermissionDenied, Unauthenticated
from generals_rl.services.gateway.backend import Backend


def backend_of(connection: HTTPConnection) -> Backend:
    backend: Backend = connection.app.state.backend
    return backend


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; ``Unauthenticated`` without one."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("log in first: send the session token as 'Authorization: Bearer <token>'")
    return token.strip()


async def lookup_session(backend: Backend, token: str) -> sessions.Session:
    """The live session of ``token``; ``Unauthenticated`` when it is unknown, expired or forged."""
    return await asyncio.to_thread(sessions.lookup, backend.stores.cache, token)


async def current_session(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> sessions.Session:
    return await lookup_session(backend_of(request), bearer(authorization))


async def session_token(authorization: Annotated[str | None, Header()] = None) -> str:
    return bearer(authorization)


async def require_admin(request: Request, x_admin_token: Annotated[str | None, Header()] = None) -> str:
    """Checks ``X-Admin-Token``; returns the actor name recorded with the change."""
    expected = backend_of(request).admin_token
    if not x_admin_token:
        raise Unauthenticated("this needs the admin token in the X-Admin-Token header")
    if not hmac.compare_digest(x_admin_token.encode(), expected.encode()):
        raise PermissionDenied("wrong admin token")
    return "gateway-admin"


Session = Annotated[sessions.Session, Depends(current_session)]
SessionToken = Annotated[str, Depends(session_token)]
Admin = Annotated[str, Depends(require_admin)]
BackendDep = Annotated[Backend, Depends(backend_of)]
