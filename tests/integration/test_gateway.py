"""The HTTP gateway as a browser uses it, against the real Game, Matchmaker, Model and Elo services
started in process on free ports: guest login, a game against a bot played over the WebSocket
(moves, a clear, a spectator), two humans paired by the Matchmaker, the stored replay downloaded
and simulated, official replays uploaded, the leaderboard with intervals and rating history,
promote/rollback behind the admin token, the training status, and /openapi.json listing exactly
the routes served. Once on embedded storage, once on PostgreSQL + Redis + S3."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from websockets.sync.client import ClientConnection, connect

from generals_rl.game.replay_format import Replay
from generals_rl.services.game import GameClient
from generals_rl.services.game.domain import EngineOptions, GameSpec, MapText, PlayerRef, SeatSpec
from generals_rl.services.gateway.app import ROUTERS, create_app
from generals_rl.services.gateway.testing import ThreadedGateway, gateway_in_thread
from generals_rl.services.gateway.views import GENERAL_BIT, TILE_MINE, TILE_MOUNTAIN
from generals_rl.settings import Settings

pytestmark = pytest.mark.timeout(240)

GOLDEN = Path(__file__).parents[1] / "golden" / "data"
SMALL = "\n".join(
    ["A.......", "........", "..#.....", "........", "........", "........", "........", ".......B"]
)
PORTS = {name: 0 for name in ("game", "matchmaker", "model", "elo", "replay", "gateway")}


@pytest.fixture
def gateway(sql_uri: str, cache_uri: str, blob_uri: str, tmp_path: Path) -> Iterator[ThreadedGateway]:
    settings = Settings(
        data_dir=tmp_path, ports=PORTS, sql_uri=sql_uri, cache_uri=cache_uri, blob_uri=blob_uri
    )
    with gateway_in_thread(settings) as gw:
        yield gw


def login(http: httpx.Client, name: str) -> tuple[str, str]:
    reply = http.post("/api/session", json={"name": name})
    assert reply.status_code == 201, reply.text
    return reply.json()["token"], reply.json()["user_id"]


def receive(ws: ClientConnection, kind: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The next message of type ``kind`` (others are skipped)."""
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


def legal_move(view: dict[str, Any]) -> dict[str, Any] | None:
    """A move from one of the viewer's tiles with 2+ army onto a tile that is not a mountain."""
    h, w = view["height"], view["width"]
    for i, code in enumerate(view["tiles"]):
        if code & 7 == TILE_MINE and view["armies"][i] >= 2:
            r, c = divmod(i, w)
            for direction, (dr, dc) in {
                "down": (1, 0),
                "right": (0, 1),
                "up": (-1, 0),
                "left": (0, -1),
            }.items():
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and view["tiles"][rr * w + cc] & 7 != TILE_MOUNTAIN:
                    return {"type": "move", "row": r, "col": c, "direction": direction}
    return None


def test_openapi_lists_exactly_the_routes_served() -> None:
    app = create_app(backend=None)  # type: ignore[arg-type]  # routes only, nothing is called
    routes = [*app.routes, *(route for router in ROUTERS for route in router.routes)]
    served = {
        (route.path, method.lower())
        for route in routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }
    documented = {(path, method) for path, item in app.openapi()["paths"].items() for method in item}
    assert served == documented
    assert ("/api/games", "post") in documented and (
        "/api/replays/{replay_id}.gioreplay",
        "get",
    ) in documented


def play_against_a_bot(gw: ThreadedGateway, http: httpx.Client) -> str:
    """A real-time game on a known map, vs random; the caller plays seat 0 over the WebSocket."""
    token, user = login(http, "alice")
    assert http.get("/api/session", headers={"Authorization": f"Bearer {token}"}).json()["user_id"] == user

    async def create() -> str:
        async with GameClient.connect(gw.services.address("game")) as games:
            seats = (SeatSpec(PlayerRef("human", user)), SeatSpec(PlayerRef("bot", "random"), hosted=True))
            spec = GameSpec(
                map=MapText(SMALL),
                seats=seats,
                clock="real_time",
                speed=8,
                engine=EngineOptions(max_ticks=60),
            )
            return (await games.create_game(spec)).game_id

    game_id = gw.call(create())
    with (
        connect(f"{gw.ws_url}/ws/play/{game_id}") as ws,
        connect(f"{gw.ws_url}/ws/watch/{game_id}?fog=0") as spectator,
    ):
        ws.send(json.dumps({"type": "auth", "token": token}))
        joined = receive(ws, "joined")
        assert joined["seat"] == 0 and joined["game"]["seats"][1]["player"] == "bot:random"
        first = receive(ws, "view")
        assert first["tiles"][0] & 7 == TILE_MINE and first["tiles"][0] & GENERAL_BIT  # our general, top left
        assert receive(spectator, "game")["game"]["game_id"] == game_id
        # The enemy general's tile (bottom right) is not ours: refused, nothing queued.
        ws.send(json.dumps({"type": "move", "row": 7, "col": 7, "direction": "up"}))
        assert "is not yours" in receive(ws, "error")["message"]
        view = receive(ws, "view")
        while (move := legal_move(view)) is None:
            view = receive(ws, "view")
        before = view
        ws.send(json.dumps(move))
        assert receive(ws, "queued")["queue_length"] >= 1
        changed = receive(ws, "view")
        while changed["tiles"] == before["tiles"]:
            changed = receive(ws, "view")
        mine = sum(1 for code in changed["tiles"] if code & 7 == TILE_MINE)
        assert mine >= 2  # the move took a second tile
        seen = receive(spectator, "view")  # what seat 0 sees, without its queue
        assert seen["seat"] == 0 and seen["game_id"] == game_id and seen["queue"] == []
        ws.send(json.dumps({"type": "move", "row": 0, "col": 0, "direction": "down", "half": True}))
        ws.send(json.dumps({"type": "clear"}))
        assert receive(ws, "cleared")["cleared"] >= 0
        over = receive(ws, "over", timeout_s=60)
        assert over["game"]["status"] == "finished"
        assert receive(spectator, "over")["game"]["status"] == "finished"
    return game_id


def replays(gw: ThreadedGateway, http: httpx.Client, game_id: str) -> None:
    deadline = time.monotonic() + 30
    while (download := http.get(f"/api/replays/{game_id}.gioreplay")).status_code == 404:
        assert time.monotonic() < deadline, "the replay was never stored"
        time.sleep(0.2)
    assert download.status_code == 200
    replay = Replay.from_bytes(download.content)
    assert replay.usernames == ("alice", "random")
    frames = http.get(f"/api/replays/{game_id}/frames").json()
    assert frames["ticks"] == 60 and len(frames["deltas"]) == 60 and frames["names"] == ["alice", "random"]
    assert frames["initial"]["terrain"][2 * 8 + 2] == 1  # the mountain of the map text
    listed = http.get("/api/replays").json()["replays"]
    assert any(r["id"] == game_id and r["players"][1] == "bot:random" for r in listed)
    uploaded = []
    for name in ("example.gioreplay", "input.gior"):
        reply = http.post("/api/replays", content=(GOLDEN / name).read_bytes())
        assert reply.status_code == 201, reply.text
        uploaded.append(reply.json()["id"])
        frames = http.get(f"/api/replays/{uploaded[-1]}/frames").json()
        assert frames["ticks"] > 600 and len(frames["names"]) == 8
    again = http.post("/api/replays", content=(GOLDEN / "input.gior").read_bytes()).json()
    assert again["id"] == uploaded[1]  # the same file is one replay
    assert http.get("/api/replays/no-such-game.gioreplay").status_code == 404


def matchmaker_humans(gw: ThreadedGateway, http: httpx.Client) -> None:
    """Two humans queue, are paired, and each may move only its own tiles."""
    (t1, _), (t2, _) = login(http, "bob"), login(http, "carol")
    with connect(f"{gw.ws_url}/ws/queue") as q1, connect(f"{gw.ws_url}/ws/queue") as q2:
        for ws, token in ((q1, t1), (q2, t2)):
            ws.send(json.dumps({"type": "auth", "token": token}))
            ws.send(json.dumps({"type": "find", "mode": "1v1"}))
        m1, m2 = receive(q1, "matched"), receive(q2, "matched")
    assert m1["game_id"] == m2["game_id"] and {m1["seat"], m2["seat"]} == {0, 1}
    game_id = m1["game_id"]
    with connect(f"{gw.ws_url}/ws/play/{game_id}") as p1, connect(f"{gw.ws_url}/ws/play/{game_id}") as p2:
        for ws, token in ((p1, t1), (p2, t2)):
            ws.send(json.dumps({"type": "auth", "token": token}))
        v1, v2 = receive(p1, "view"), receive(p2, "view")
        w = v1["width"]
        general2 = next(
            i for i, code in enumerate(v2["tiles"]) if code & 7 == TILE_MINE and code & GENERAL_BIT
        )
        r, c = divmod(general2, w)
        direction = "up" if r > 0 else "down"
        p1.send(json.dumps({"type": "move", "row": r, "col": c, "direction": direction}))  # carol's general
        assert "is not yours" in receive(p1, "error")["message"]
        p2.send(json.dumps({"type": "surrender"}))
        assert receive(p2, "surrendered")["tick"] >= 1
        assert receive(p1, "over", timeout_s=60)["game"]["result"]["winner"] == m1["seat"]


def ratings_models_training(gw: ThreadedGateway, http: httpx.Client) -> None:
    board = http.get("/api/leaderboard", params={"mode": "1v1"}).json()
    keys = [e["player"] for e in board["entries"]]
    assert "bot:random" in keys and any(k.startswith("human:alice#") for k in keys)
    for entry in board["entries"]:
        assert entry["lower"] < entry["rating"] < entry["upper"]
    history = http.get("/api/players/bot:random/history", params={"mode": "1v1"}).json()
    assert len(history["points"]) >= 1
    assert http.get("/api/players/bot:random").json()["ratings"]["1v1"]["games"] >= 1
    assert http.get("/api/players/nonsense").status_code == 400
    # Promote and rollback need the admin token; with it, the Model Service answers (no version 7).
    body = {"version": 7, "reason": "stronger"}
    assert http.post("/api/aliases/champion/promote", json=body).status_code == 401
    wrong = http.post("/api/aliases/champion/promote", json=body, headers={"X-Admin-Token": "wrong"})
    assert wrong.status_code == 403
    right = http.post("/api/aliases/champion/promote", json=body, headers={"X-Admin-Token": gw.admin_token})
    assert right.status_code == 404 and "7" in right.json()["detail"]
    assert http.get("/api/aliases").json() == []  # nothing changed
    auth = {"Authorization": f"Bearer {login(http, 'fred')[0]}"}
    for opponent, status in (
        ("model:champion", 404),
        ("model:3", 404),
        ("bot:nobody", 400),
        ("human:x", 400),
    ):
        reply = http.post("/api/games", json={"opponent": opponent}, headers=auth)
        assert reply.status_code == status and reply.json()["detail"], (opponent, reply.text)
    assert http.get("/api/models").json()["versions"] == []
    # The training page reads the status grl train leaves in the cache.
    status = {"updated_at": time.time() - 3, "env_steps_per_s": 31000.0, "policy_lag": {"mean": 1.5}}
    gw.stores.cache.set("training:status", json.dumps(status))
    training = http.get("/api/training").json()
    assert training["status"]["env_steps_per_s"] == 31000.0 and 2 < training["status_age_s"] < 60


@pytest.mark.parametrize(
    ("sql_uri", "cache_uri", "blob_uri"),
    [("sqlite", "memory", "file"), ("postgresql", "redis", "s3")],
    indirect=True,
    ids=["embedded", "postgresql+redis+s3"],
)
def test_gateway(gateway: ThreadedGateway) -> None:
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        assert "<title>generals-rl</title>" in http.get("/").text
        assert http.get("/static/app.js").status_code == 200
        game_id = play_against_a_bot(gateway, http)
        replays(gateway, http, game_id)
        matchmaker_humans(gateway, http)
        ratings_models_training(gateway, http)
        metrics = http.get("/metrics").text
        assert 'grl_gateway_requests_total{method="GET",route="/api/leaderboard",status="200"}' in metrics
