"""Checking what callers ask for: players, CreateGame requests (built into a ``Room``), page tokens.

Every check raises ``InvalidArgument`` naming the field (``Unavailable`` for a hosted model
version whose network was not loaded, ``Unauthenticated`` for a session token that resolves to
nobody); nothing is changed before all checks pass.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
from collections.abc import Callable, Mapping

from generals_rl.agents import BOTS
from generals_rl.game.engine import MAX_TICKS_LIMIT, EngineConfig
from generals_rl.services.common.errors import InvalidArgument, Unauthenticated, Unavailable
from generals_rl.services.game.boards import resolve_board
from generals_rl.services.game.clocks import Clock
from generals_rl.services.game.domain import MODES, EngineOptions, GameSpec, Joiner, PlayerRef
from generals_rl.services.game.rooms import Room
from generals_rl.training.networks import PolicyNetwork

MAX_ID = 128
"""Longest player id, request id and game id accepted."""

MAX_DISPLAY_NAME = 64
DEFAULT_MAX_TICKS = 2000
DEFAULT_AFK_TICKS = 100
MAX_AFK_TICKS = 1_000_000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def check_player(player: PlayerRef, field: str) -> PlayerRef:
    """``player`` when its kind and id are valid; ``InvalidArgument`` naming ``field`` otherwise."""
    if player.kind not in ("human", "bot", "model"):
        raise InvalidArgument(f"{field}: the player kind must be human, bot or model, got {player.kind!r}")
    if not isinstance(player.id, str) or not 1 <= len(player.id) <= MAX_ID or not player.id.isprintable():
        raise InvalidArgument(f"{field}: a player id is 1..{MAX_ID} printable characters, got {player.id!r}")
    if player.kind == "bot" and player.id not in BOTS:
        raise InvalidArgument(f"{field}: unknown bot {player.id!r}; the bots are {', '.join(sorted(BOTS))}")
    if player.kind == "model" and (
        not (player.id.isascii() and player.id.isdigit())
        or player.id.startswith("0")
        or int(player.id) >= 2**63
    ):
        raise InvalidArgument(
            f"{field}: a model player's id is its version number (1..2^63-1), got {player.id!r}"
        )
    return player


def joiner_player(joiner: Joiner, resolve_session: Callable[[str], str] | None = None) -> PlayerRef:
    """The player a JoinGame request names; a session token is resolved to its user id."""
    given = [v is not None for v in (joiner.session_token, joiner.bot, joiner.model_version)]
    if sum(given) != 1:
        raise InvalidArgument("player: give exactly one of session_token, bot and model_version")
    if joiner.session_token is not None:
        if not joiner.session_token:
            raise Unauthenticated("unknown or expired session token")
        resolve = resolve_session or _no_sessions
        return check_player(PlayerRef("human", resolve(joiner.session_token)), "session")
    if joiner.bot is not None:
        return check_player(PlayerRef("bot", joiner.bot), "bot")
    assert joiner.model_version is not None
    if joiner.model_version < 1:
        raise InvalidArgument(f"model_version: versions start at 1, got {joiner.model_version}")
    return PlayerRef("model", str(joiner.model_version))


def _no_sessions(token: str) -> str:
    raise Unauthenticated("unknown or expired session token")


def hosted_models(spec: GameSpec) -> list[int]:
    """The model versions a CreateGame request asks the server to play (checked players only)."""
    return [
        int(s.player.id)
        for i, s in enumerate(spec.seats)
        if s.hosted and s.player is not None and check_player(s.player, f"seats[{i}].player").kind == "model"
    ]


def build_room(spec: GameSpec, clock: Clock, networks: Mapping[int, PolicyNetwork] | None = None) -> Room:
    """Check a request and build its game without registering it (safe in a worker thread:
    drawing or replaying a map can take a while). Hosted model seats play with ``networks``
    (by version; ``HostedModels`` loads them)."""
    networks = networks or {}
    if len(spec.request_id) > MAX_ID:
        raise InvalidArgument(f"request_id: at most {MAX_ID} characters, got {len(spec.request_id)}")
    if spec.mode not in MODES:
        raise InvalidArgument(f"mode: must be 1v1 or ffa, got {spec.mode!r}")
    speed = spec.speed or 1.0
    if not (math.isfinite(speed) and 0.25 <= speed <= 16):
        raise InvalidArgument(f"speed: must lie in 0.25..16 (0 means 1), got {spec.speed}")
    if spec.clock not in (None, "real_time", "lock_step"):
        raise InvalidArgument(f"clock: must be real_time or lock_step, got {spec.clock!r}")
    afk_ticks = spec.afk_ticks or DEFAULT_AFK_TICKS
    if not 1 <= afk_ticks <= MAX_AFK_TICKS:
        raise InvalidArgument(f"afk_ticks: must lie in 1..{MAX_AFK_TICKS}, got {spec.afk_ticks}")
    options = spec.engine
    max_ticks = options.max_ticks or DEFAULT_MAX_TICKS
    if not 1 <= max_ticks <= MAX_TICKS_LIMIT:
        raise InvalidArgument(f"engine.max_ticks: at most {MAX_TICKS_LIMIT}, got {options.max_ticks}")
    if options.move_order not in ("alternating", "generals-bots"):
        raise InvalidArgument(f"engine.move_order: unknown order {options.move_order!r}")
    reservations = []
    for i, seat in enumerate(spec.seats):
        if seat.player is not None:
            check_player(seat.player, f"seats[{i}].player")
        if seat.hosted:
            if seat.player is None or seat.player.kind == "human":
                raise InvalidArgument(f"seats[{i}]: only bots and model versions can be hosted")
            if seat.player.kind == "model" and int(seat.player.id) not in networks:
                raise Unavailable(
                    f"seats[{i}]: model version {seat.player.id} is not loaded: this server cannot "
                    "host model versions without a Model Service; let the model join as a remote client"
                )
        reservations.append((seat.player, seat.hosted))
    board, players = resolve_board(spec.mode, spec.num_players, spec.map, spec.seed)
    if len(spec.seats) > players:
        raise InvalidArgument(f"seats: {len(spec.seats)} reservations for {players} seats")
    if options.move_order == "generals-bots" and players != 2:
        raise InvalidArgument("engine.move_order: the generals-bots order is for 2 players only")
    if max_ticks <= board.start_tick:
        raise InvalidArgument(f"engine.max_ticks: {max_ticks} is not after the start tick {board.start_tick}")
    regeneration = options.city_regeneration or board.city_regeneration
    engine = EngineConfig(move_order=options.move_order, max_ticks=max_ticks, city_regeneration=regeneration)
    game_id = secrets.token_urlsafe(12)
    room = Room(
        game_id=game_id,
        mode=spec.mode,
        board=board,
        players=players,
        reservations=reservations,
        clock_kind=spec.clock,
        speed=speed,
        options=EngineOptions(options.move_order, max_ticks, regeneration),
        engine=engine,
        afk_ticks=afk_ticks,
        unrated=spec.unrated,
        clock=clock,
    )
    for place in room.seats:
        if place.hosted and place.reserved is not None:
            network = networks.get(int(place.reserved.id)) if place.reserved.kind == "model" else None
            room.take_seat(place, place.reserved, "", hosted=True, network=network)
    return room


def page_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_page_token(token: str, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        obj = json.loads(raw)
        offset = obj["o"]
        if obj["f"] != fingerprint or not isinstance(offset, int) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument(
            "page_token: not a token of this listing (tokens hold only with the same filter)"
        ) from None
    return offset
