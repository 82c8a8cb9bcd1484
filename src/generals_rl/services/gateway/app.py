"""The gateway's FastAPI application: the REST routers, the WebSockets, the browser UI (package
static files, no CDN), ``/healthz``, ``/metrics`` and ``/openapi.json``.

Domain errors from the services become HTTP statuses with the service's message as ``detail``
(``STATUS``); FastAPI's own validation answers 422 naming the field. Every request is counted and
timed in Prometheus (by route template, never by raw path) and logged as one structured line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from generals_rl import __version__
from generals_rl.services.common.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from generals_rl.services.gateway import api_games, api_models, api_players, api_replays, live
from generals_rl.services.gateway.backend import Backend

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("generals_rl.http")

STATUS: dict[type[ServiceError], int] = {
    InvalidArgument: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    AlreadyExists: 409,
    FailedPrecondition: 409,
    ResourceExhausted: 429,
    Unavailable: 503,
    DeadlineExceeded: 504,
}
"""HTTP status of each domain error; any other (a service's INTERNAL) is 502."""

REQUESTS = Counter(
    "grl_gateway_requests", "HTTP requests handled by the gateway", ["method", "route", "status"]
)
LATENCY = Histogram("grl_gateway_request_seconds", "HTTP request latency of the gateway", ["method", "route"])


ROUTERS = (api_players.router, api_games.router, api_replays.router, api_models.router, live.router)
"""The routers of the REST API and the WebSockets, in the order they are mounted."""


def create_app(backend: Backend) -> FastAPI:
    """The application on ``backend`` (the server in ``server.py`` runs it)."""
    app = FastAPI(
        title="generals-rl gateway",
        version=__version__,
        description="Play, watch and rate generals.io agents. WebSockets and the UI: docs/gateway.md.",
        redirect_slashes=False,  # an id that decodes to "/" is a 404, not a 307 to another route
    )
    app.state.backend = backend

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ServiceError)
        status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 502)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": error.message}, status_code=status, headers=headers)

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - start
            # The route template the request matched (never the raw path: bounded label values).
            route = str(getattr(request.scope.get("route"), "path", "unmatched"))
            REQUESTS.labels(request.method, route, str(status)).inc()
            LATENCY.labels(request.method, route).observe(elapsed)
            quiet = route in ("/healthz", "/metrics") or route.startswith("/static")
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "http",
                extra={
                    "method": request.method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """200 while the gateway serves (load balancers probe it)."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    for router in ROUTERS:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
