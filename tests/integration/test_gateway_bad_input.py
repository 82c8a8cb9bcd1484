"""Bad input to the gateway, against the real services in process: malformed WebSocket messages,
moves from tiles the player does not own, forged and expired tokens, malformed bodies and
oversized or broken replay uploads. Each gets a clear 4xx answer or WebSocket error and changes
nothing, and the gateway keeps serving the players of other games meanwhile."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from generals_rl.services.common import sessions
from generals_rl.services.game import GameClient
from generals_rl.services.game.domain import EngineOptions, GameSpec, MapText, PlayerRef, SeatSpec
from generals_rl.services.gateway.testing import ThreadedGateway, gateway_in_thread
from generals_rl.services.gateway.views import TILE_MINE
from generals_rl.settings import Settings

pytestmark = pytest.mark.timeout(300)

SIDE = 8
MAP = "\n".join(["A" + "." * (SIDE - 1), *["." * SIDE] * (SIDE - 2), "." * (SIDE - 1) + "B"])
PORTS = {name: 0 for name in ("game", "matchmaker", "model", "elo", "replay", "gateway")}
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class Player:
    """A human seated in a running game vs random, connected to /ws/play."""

    token: str
    game_id: str
    ws: ClientConnection


@dataclass
class World:
    gw: ThreadedGateway
    http: httpx.Client
    alice: Player  # receives the bad messages
    bob: Player  # plays another game meanwhile


def receive(ws: ClientConnection, kind: str, timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


def seat(gw: ThreadedGateway, http: httpx.Client, name: str, stack: contextlib.ExitStack) -> Player:
    token = http.post("/api/session", json={"name": name}).json()["token"]
    user = http.get("/api/session", headers={"Authorization": f"Bearer {token}"}).json()["user_id"]

    async def create() -> str:
        async with GameClient.connect(gw.services.address("game")) as games:
            seats = (SeatSpec(PlayerRef("human", user)), SeatSpec(PlayerRef("bot", "random"), hosted=True))
            engine = EngineOptions(max_ticks=100_000)
            spec = GameSpec(map=MapText(MAP), seats=seats, clock="real_time", speed=8, engine=engine)
            return (await games.create_game(spec)).game_id

    game_id = gw.call(create())
    ws = stack.enter_context(connect(f"{gw.ws_url}/ws/play/{game_id}", max_queue=None))  # views pile up
    ws.send(json.dumps({"type": "auth", "token": token}))
    receive(ws, "joined")
    receive(ws, "view")
    return Player(token, game_id, ws)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("gateway")
    with (
        gateway_in_thread(Settings(data_dir=data, ports=PORTS)) as gw,
        httpx.Client(base_url=gw.url) as http,
        contextlib.ExitStack() as stack,
    ):
        yield World(gw, http, seat(gw, http, "alice", stack), seat(gw, http, "bob", stack))


def settle(player: Player) -> dict[str, Any]:
    """Ping, then the view after the pong: every reply to what was sent before has come back."""
    player.ws.send(json.dumps({"type": "ping"}))
    receive(player.ws, "pong")
    return receive(player.ws, "view")


def only_the_general(view: dict[str, Any]) -> bool:
    mine = [i for i, code in enumerate(view["tiles"]) if code & 7 == TILE_MINE]
    return mine == [0] and view["queue"] == [] and view["alive"]


# -- WebSocket messages ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
COORD = st.integers(-3, SIDE + 2) | st.text(max_size=3) | st.none() | st.booleans() | st.floats()
BAD_MOVES = st.fixed_dictionaries(
    {"type": st.just("move"), "row": COORD, "col": COORD},
    optional={
        "direction": st.text(max_size=6) | st.sampled_from(["up", "down", "left", "right"]),
        "half": JSON,
    },
).filter(  # a legal first step from our general (row 0, col 0) would be queued: leave those out
    lambda m: (
        not (
            m["row"] == 0
            and m["col"] == 0
            and m.get("direction") in ("down", "right")
            and m.get("half", False) in (True, False)
        )
    )
)
BAD_MESSAGES = (
    st.text(max_size=40).filter(lambda t: not t.strip().startswith("{"))
    | JSON.filter(lambda v: not isinstance(v, dict)).map(json.dumps)
    | st.dictionaries(st.text(max_size=8), JSON, max_size=3)
    .filter(lambda d: not isinstance(d.get("type"), str))
    .map(json.dumps)
    | st.text(max_size=12)
    .filter(lambda t: t not in ("move", "clear", "surrender", "ping"))
    .map(lambda t: json.dumps({"type": t}))
    | BAD_MOVES.map(json.dumps)
    | st.just(json.dumps({"type": "move", "row": 7, "col": 7, "direction": "up"}))  # the enemy general
    | st.just(json.dumps({"type": "ping", "pad": "x" * 20_000}))  # over the 16 KiB message limit
    | st.binary(min_size=1, max_size=20)
)


@FUZZ
@given(messages=st.lists(BAD_MESSAGES, min_size=1, max_size=6))
def test_bad_websocket_messages_are_answered_and_change_nothing(
    world: World, messages: list[str | bytes]
) -> None:
    ws = world.alice.ws
    for message in messages:
        ws.send(message)
    errors = []
    ws.send(json.dumps({"type": "ping"}))
    while (reply := json.loads(ws.recv(timeout=20)))["type"] != "pong":
        if reply["type"] == "error":
            errors.append(reply["message"])
        else:
            assert reply["type"] == "view", reply
    assert len(errors) == len(messages), (messages, errors)
    assert all(isinstance(e, str) and e for e in errors)
    assert only_the_general(receive(ws, "view"))
    bob = world.bob.ws  # the other game goes on
    tick = receive(bob, "view")["tick"]
    assert receive(bob, "view")["tick"] > tick


# -- tokens ---------------------------------------------------------------------------------------


@FUZZ
@given(token=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60))
def test_forged_tokens_are_refused(world: World, token: str) -> None:
    http = world.http
    before = http.get("/api/games").json()["total_size"]
    auth = {"Authorization": f"Bearer {token}"}
    assert http.get("/api/session", headers=auth).status_code == 401
    created = http.post("/api/games", json={"opponent": "bot:random"}, headers=auth)
    assert created.status_code == 401 and "session token" in created.json()["detail"]
    assert http.get("/api/games").json()["total_size"] == before
    with connect(f"{world.gw.ws_url}/ws/play/{world.alice.game_id}") as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(ws.recv(timeout=10))["type"] == "error"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_expired_tokens_and_missing_auth(world: World) -> None:
    gw, http = world.gw, world.http
    token = sessions.create_session(gw.stores.cache, "dora", ttl=0.3, user_id="dora#0001")
    assert http.get("/api/session", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    time.sleep(0.6)
    expired = http.get("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert http.post("/api/games", json={"opponent": "bot:random"}).status_code == 401
    with connect(f"{gw.ws_url}/ws/queue") as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert "expired" in json.loads(ws.recv(timeout=10))["message"]
    with connect(f"{gw.ws_url}/ws/play/{world.alice.game_id}") as ws:
        ws.send(json.dumps({"type": "move", "row": 0, "col": 0, "direction": "down"}))  # no auth first
        assert "auth" in json.loads(ws.recv(timeout=10))["message"]
    assert only_the_general(settle(world.alice))
    # Another player's token opens that player's seat only: bob's token on alice's game is refused.
    with connect(f"{gw.ws_url}/ws/play/{world.alice.game_id}") as ws:
        ws.send(json.dumps({"type": "auth", "token": world.bob.token}))
        assert json.loads(ws.recv(timeout=10))["type"] == "error"


# -- REST bodies and uploads ---------------------------------------------------------------------------


@FUZZ
@given(body=JSON)
def test_malformed_bodies_get_4xx_and_create_nothing(world: World, body: Any) -> None:
    http = world.http
    auth = {"Authorization": f"Bearer {world.alice.token}"}
    before = http.get("/api/games").json()["total_size"]
    for path in ("/api/games", "/api/session", "/api/aliases/champion/promote", "/api/tournaments"):
        reply = http.post(path, json=body, headers={**auth, "X-Admin-Token": world.gw.admin_token})
        assert reply.status_code < 500, (path, reply.text)
        if reply.status_code >= 400:
            assert reply.json()["detail"]
    if http.get("/api/games").json()["total_size"] != before:  # only a valid game request creates one
        assert isinstance(body, dict) and isinstance(body.get("opponent"), str)
    assert http.get("/api/aliases").json() == []


@FUZZ
@given(text=st.text(min_size=1, max_size=30))
@example(text="/")  # once a 307: the id decodes to a trailing slash
@example(text="a/b")
def test_odd_ids_in_paths_get_4xx(world: World, text: str) -> None:
    http = world.http
    name = quote(text, safe="")
    for path in (
        f"/api/games/{name}",
        f"/api/replays/{name}/frames",
        f"/api/players/{name}",
        f"/api/models/{name}",
    ):
        reply = http.get(path)
        assert 400 <= reply.status_code < 500, (path, reply.status_code, reply.text)


@FUZZ
@given(data=st.binary(min_size=1, max_size=2000))
def test_broken_replay_uploads_are_refused(world: World, data: bytes) -> None:
    http = world.http
    before = http.get("/api/replays").json()["replays"]
    reply = http.post("/api/replays", content=data)
    assert reply.status_code == 400 and reply.json()["detail"]
    assert http.get("/api/replays").json()["replays"] == before


def test_oversized_uploads_are_refused(world: World) -> None:
    http = world.http
    limit = 4 * 1024 * 1024
    big = b"{" + b" " * limit
    declared = http.post("/api/replays", content=big)
    assert declared.status_code == 413 and str(limit) in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(5):
            yield b" " * (1024 * 1024)

    streamed = http.post("/api/replays", content=chunks())
    assert streamed.status_code == 413
    assert http.post("/api/replays", content=b"").status_code == 400
    replay = (Path(__file__).parents[1] / "golden" / "data" / "example.gioreplay").read_bytes()
    assert http.post("/api/replays", content=replay).status_code == 201  # still serving
    assert http.get("/healthz").status_code == 200
    assert only_the_general(settle(world.alice))
