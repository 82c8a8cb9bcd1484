"""The web UI in a real browser: Playwright drives Debian's Chromium (headless) against `grl up`
started as a user starts it (every service and the gateway, on free ports). A guest logs in,
starts a game against `random`, moves with the keyboard (a queue shown, Q clears it, the board
grows) while a spectator watches in a second tab (the whole board, then the player's fog),
surrenders, opens the replay and scrubs it with a player's fog, uploads an official `.gior` and
watches it, and finds the game rated on the leaderboard.

Screenshots of each step are kept: in $GRL_ARTIFACTS_DIR when set, else in a pytest temporary
folder whose path the test prints. Without /usr/bin/chromium the test is skipped (failed under
GRL_REQUIRE_SERVERS=1); Playwright's own browser builds are never downloaded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
GOLDEN = Path(__file__).parents[1] / "golden" / "data"
SERVICES = ("game", "matchmaker", "model", "elo", "replay", "gateway")

pytestmark = pytest.mark.timeout(300)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def grl_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`grl up` in a child process; the gateway's URL."""
    ports = {name: free_port() for name in SERVICES}
    env = {**os.environ, "GRL_DATA_DIR": str(tmp_path_factory.mktemp("grl-data")), "PYTHONUNBUFFERED": "1"}
    env |= {f"GRL_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env |= {f"GRL_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()}
    env["GRL_ADMIN_TOKEN"] = "e2e-admin-token"
    log = tmp_path_factory.mktemp("grl-up") / "grl-up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "generals_rl.cli.main", "up"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{ports['gateway']}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert up.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "grl up did not serve the gateway:\n" + log.read_text()
            time.sleep(0.3)
        yield url
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
    assert up.returncode == 0, log.read_text()


def path_keys(classes: list[str], side: int, start: tuple[int, int], steps: int) -> tuple[list[str], int]:
    """Keys that walk ``steps`` tiles from ``start`` over neutral land, plain fog (no city) or our
    own land, arrows and WASD alternating, and how many tiles the walk takes: of all such walks
    (found by depth-first search on the tiles' classes), the one that takes the most."""
    moves = {"ArrowUp": (-1, 0), "s": (1, 0), "ArrowLeft": (0, -1), "d": (0, 1)}

    def kind(r: int, c: int) -> str:
        tile = set(classes[r * side + c].split()) - {"tile", "selected"}
        if tile in ({"empty"}, {"fog"}):
            return "new"
        if "mine" in tile and not tile & {"city", "general"}:
            return "ours"
        return "blocked"

    best: tuple[list[str], int] | None = None

    def walk(at: tuple[int, int], keys: list[str], seen: set[tuple[int, int]], taken: int) -> None:
        nonlocal best
        if len(keys) == steps:
            if best is None or taken > best[1]:
                best = (keys, taken)
            return
        for key, (dr, dc) in moves.items():
            r, c = at[0] + dr, at[1] + dc
            if 0 <= r < side and 0 <= c < side and (r, c) not in seen and kind(r, c) != "blocked":
                walk((r, c), [*keys, key], seen | {(r, c)}, taken + (kind(r, c) == "new"))

    walk(start, [], {start}, 0)
    if best is None or best[1] == 0:
        raise AssertionError(f"no walk of {steps} tiles from the general takes a tile: {classes}")
    return best


def board_classes(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#play-board .tile", "tiles => tiles.map(t => t.className)"))


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GRL_ARTIFACTS_DIR", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


def test_play_replay_and_upload_in_chromium(grl_up: str, artifacts: Path) -> None:
    if not CHROMIUM.exists():
        message = "Chromium is missing (/usr/bin/chromium: apt-get install chromium)"
        if os.environ.get("GRL_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{message} (GRL_REQUIRE_SERVERS=1 makes this a failure)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(grl_up + "/#/play")
            page.fill("#login-name", "eve")
            page.click("#login button")
            expect(page.locator("#lobby")).to_be_visible()
            page.select_option("#opponent", "bot:random")
            page.select_option("#map-side", "8")
            page.select_option("#speed", "2")
            page.click("#start-game")
            expect(page.locator("#play-board .tile")).to_have_count(64, timeout=30_000)
            general = page.locator("#play-board .tile.mine.general")
            expect(general).to_have_count(1)
            expect(general).to_have_class(re.compile(r"\bselected\b"))  # the general starts selected
            page.screenshot(path=artifacts / "1-game-started.png")

            # With 4+ army on the general, every step of a back-and-forth path stays playable (a
            # move without 2 army on its tile would be dropped): queue one, then clear it with Q.
            expect(general).to_have_text(re.compile(r"^([4-9]|\d{2,})$"), timeout=20_000)
            row, col = (
                int(general.get_attribute("data-row") or 0),
                int(general.get_attribute("data-col") or 0),
            )
            ahead = path_keys(board_classes(page), 8, (row, col), steps=1)[0][0]
            back = {"ArrowUp": "s", "s": "ArrowUp", "ArrowLeft": "d", "d": "ArrowLeft"}[ahead]
            for key in (ahead, back) * 5:
                page.keyboard.press(key)
            expect(page.locator("#play-queue li").first).to_be_visible()
            page.screenshot(path=artifacts / "2-queue.png")
            page.keyboard.press("q")
            expect(page.locator("#play-queue li")).to_have_count(0, timeout=5_000)

            # Walk three tiles from the general, with arrows and WASD, once it holds enough army for
            # every step (a move leaves 1 army behind); the walk takes every neutral tile on it (a
            # move of the queue above may have run before Q cleared it: that tile is ours already).
            expect(general).to_have_text(re.compile(r"^([89]|\d{2,})$"), timeout=20_000)
            page.click(f'#play-board .tile[data-row="{7 - row}"][data-col="{7 - col}"]')  # select elsewhere,
            page.click(f'#play-board .tile[data-row="{row}"][data-col="{col}"]')  # then the general again
            classes = board_classes(page)
            keys, taken = path_keys(classes, 8, (row, col), steps=3)
            owned = sum("mine" in c.split() for c in classes)
            for key in keys:
                page.keyboard.press(key)
            page.wait_for_function(
                f"document.querySelectorAll('#play-board .tile.mine').length >= {owned + taken}"
            )
            page.screenshot(path=artifacts / "3-expanded.png")

            # A spectator in a second tab finds the game among the live ones, sees the whole board,
            # then eve's view through the fog selector.
            spectator = browser.new_page(viewport={"width": 1280, "height": 900})
            spectator.goto(grl_up + "/#/live")
            spectator.click("#live-games a")
            expect(spectator.locator("#watch-board .tile")).to_have_count(64, timeout=15_000)
            expect(spectator.locator("#watch-state")).to_have_text("the whole board")
            expect(spectator.locator("#watch-scores")).to_contain_text("eve")
            assert spectator.locator("#watch-board .tile.general").count() == 2  # no fog: both generals
            spectator.screenshot(path=artifacts / "3a-spectator-board.png")
            spectator.select_option("#watch-fog", "0")
            expect(spectator.locator("#watch-state")).to_have_text("seat 0's view")
            expect(spectator.locator("#watch-board .tile.fog").first).to_be_visible()
            spectator.screenshot(path=artifacts / "3b-spectator.png")
            page.click("#surrender")
            expect(page.locator("#game-state")).to_contain_text("game over: loss", timeout=30_000)
            expect(spectator.locator("#watch-state")).to_contain_text("over: finished")
            spectator.close()

            # The replay: scrub the timeline, show one player's fog.
            page.click("#game-replay")
            expect(page.locator("#replay-board .tile")).to_have_count(64, timeout=30_000)
            timeline = page.locator("#replay-timeline")
            last = int(timeline.get_attribute("max") or 0)
            assert last > 10
            timeline.fill(str(last))
            expect(page.locator("#replay-tick")).to_have_text(f"tick {last} / {last}")
            assert page.locator("#replay-board .tile.p0").count() == 0  # surrendered: land turns neutral
            timeline.fill(str(last - 1))
            expect(page.locator("#replay-tick")).to_have_text(f"tick {last - 1} / {last}")
            assert page.locator("#replay-board .tile.p0").count() >= owned + taken
            timeline.fill("0")
            expect(page.locator("#replay-tick")).to_have_text(f"tick 0 / {last}")
            assert page.locator("#replay-board .tile.p0").count() == 1
            page.select_option("#replay-fog", "0")
            assert page.locator("#replay-board .tile.fog").count() > 40
            page.screenshot(path=artifacts / "4-replay-fog.png")
            page.click("#replay-play")
            expect(page.locator("#replay-tick")).not_to_have_text(f"tick 0 / {last}")

            # An official replay (8 players, 24 x 24), uploaded from a file.
            page.goto(grl_up + "/#/replays")
            expect(page.locator("#replay-list")).to_contain_text("bot:random")
            page.set_input_files("#replay-file", GOLDEN / "input.gior")
            expect(page.locator("#replay-board .tile")).to_have_count(24 * 24, timeout=60_000)
            expect(page.locator("#replay-scores tr")).to_have_count(9)
            page.locator("#replay-timeline").fill("300")
            expect(page.locator("#replay-tick")).to_contain_text("tick 300 /")
            page.screenshot(path=artifacts / "5-official-replay.png")

            # The game was rated: both players are on the leaderboard with intervals.
            page.goto(grl_up + "/#/leaderboard")
            expect(page.locator("#leaderboard")).to_contain_text("bot:random")
            expect(page.locator("#leaderboard")).to_contain_text("human:eve#")
            page.screenshot(path=artifacts / "6-leaderboard.png")
            page.goto(grl_up + "/#/training")
            expect(page.locator("#training-status")).to_contain_text("No training run")
            page.fill("#admin-token", "not-the-token")
            page.fill("#admin-version", "1")
            page.click("#promote")
            expect(page.locator("#notice")).to_have_text("wrong admin token")
            page.fill("#admin-token", "e2e-admin-token")
            page.click("#promote")
            expect(page.locator("#notice")).to_contain_text("version 1")  # the Model Service has none
            page.goto(grl_up + "/#/tournaments")
            expect(page.locator("#tournaments")).to_have_text("No tournaments yet.")
        finally:
            page.screenshot(path=artifacts / "last.png")
            browser.close()
    assert errors == [], errors
