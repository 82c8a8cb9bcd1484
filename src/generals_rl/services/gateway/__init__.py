"""The HTTP gateway (port 8080): REST and WebSockets in front of the gRPC services, and the
browser UI. ``grl serve gateway`` runs it alone; ``grl up`` beside every service.

Modules: ``config`` (``GatewayConfig``), ``backend`` (the service clients and stores),
``auth`` (sessions, admin token), ``api_players`` / ``api_games`` / ``api_replays`` /
``api_models`` (REST), ``live`` (WebSockets: play, queue, spectate), ``views`` (game views and
spectator frames as JSON), ``frames`` (replays for the viewer), ``schemas`` (bodies), ``app`` (the
FastAPI app), ``server`` (``serve_gateway``: uvicorn in this process), ``static/`` (the UI).
docs/gateway.md documents the routes and messages.
"""

from __future__ import annotations

from generals_rl.services.gateway.config import TRAINING_STATUS_KEY, GatewayConfig
from generals_rl.services.gateway.server import RunningGateway, serve_gateway

__all__ = ["TRAINING_STATUS_KEY", "GatewayConfig", "RunningGateway", "serve_gateway"]
