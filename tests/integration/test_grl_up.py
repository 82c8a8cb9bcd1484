"""`grl up` as a user runs it: every available service in one process on the seed's ports (free
ports here), `grl match --via` and `grl leaderboard --via` against it, then Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

GRL = [sys.executable, "-m", "generals_rl.cli.main"]
SERVICES = ("game", "matchmaker", "elo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_serving(address: str, deadline: float) -> None:
    while True:
        try:
            with grpc.insecure_channel(address) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{address} did not become SERVING")
        time.sleep(0.2)


def test_grl_up_serves_a_match_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: free_port() for name in SERVICES}
    env = {**os.environ, "GRL_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env |= {f"GRL_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env |= {f"GRL_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()}
    up = subprocess.Popen(
        [*GRL, "up", "--only", ",".join(SERVICES)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        for port in ports.values():
            wait_serving(f"127.0.0.1:{port}", deadline)
        via = f"127.0.0.1:{ports['matchmaker']}"
        match = subprocess.run(
            [*GRL, "match", "--p1", "expander", "--p2", "random", "--games", "2", "--via", via],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert match.returncode == 0, match.stdout + match.stderr
        assert "2 games: expander vs random" in match.stdout
        board = subprocess.run(
            [*GRL, "leaderboard", "--via", f"127.0.0.1:{ports['elo']}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert board.returncode == 0, board.stdout + board.stderr
        assert "bot:expander" in board.stdout and "bot:random" in board.stdout
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    assert up.returncode == 0, output
    assert "stopping" in output
    assert (tmp_path / "data" / "grl.db").exists()  # the embedded SQL database
    assert list((tmp_path / "data" / "blobs" / "replays").glob("*.gioreplay"))  # replays stored
