"""An independent, scalar replay of a ``.gioreplay`` object, written from RULES.md alone.

Plain Python lists, no torch and nothing from ``generals_rl``: the golden tests compare the
engine-based simulator with this, tick by tick. Slow and simple on purpose.

RULES used: 5 (growth, version < 6 city regeneration), 6-9 (moves), 13 (general capture),
14 (AFK records), 18 (end: one player or team left), 23 (replaying order).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

NEUTRAL, MOUNTAIN = -1, -2


def reference_trace(replay: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Per tick after growth: ``{"tick", "alive", "owners", "armies"}``; stops when one player or
    team is left, or after the tick of the last record."""
    width, height = replay["mapWidth"], replay["mapHeight"]
    size = width * height
    players = len(replay["generals"])
    teams = replay.get("teams") or list(range(players))
    owner = [NEUTRAL] * size
    army = [0] * size
    mountain = [False] * size
    city = [False] * size
    for tile in replay["mountains"]:
        mountain[tile] = True
    for tile, garrison in zip(replay["cities"], replay["cityArmies"], strict=True):
        city[tile] = True
        army[tile] = garrison
    for tile, garrison in zip(replay.get("neutrals") or [], replay.get("neutralArmies") or [], strict=True):
        army[tile] = garrison
    general = list(replay["generals"])  # -1 once captured or neutralized
    for player, tile in enumerate(general):
        owner[tile] = player
        army[tile] = 1
    alive = [True] * players
    regenerate = replay["version"] < 6
    moves, afks = replay["moves"], replay["afks"]
    last = max([m["turn"] for m in moves] + [a["turn"] for a in afks], default=0)

    def adjacent(a: int, b: int) -> bool:
        return abs(a // width - b // width) + abs(a % width - b % width) == 1

    def move(player: int, start: int, end: int, half: bool) -> None:
        # RULES 6: valid iff owned source with >= 2 army, destination on the board, adjacent,
        # not a mountain.
        if not (0 <= start < size and 0 <= end < size) or not adjacent(start, end) or mountain[end]:
            return
        if owner[start] != player or army[start] < 2:
            return
        sent = army[start] // 2 if half else army[start] - 1  # RULES 7
        army[start] -= sent
        defender = owner[end]
        if defender >= 0 and teams[defender] == teams[player]:
            # RULES 8 (own tile) and 9 (ally: take it unless it is a general).
            army[end] += sent
            if defender != player and end not in general:
                owner[end] = player
            return
        if sent > army[end]:
            army[end] = sent - army[end]
            owner[end] = player
            if defender >= 0 and general[defender] == end:
                # RULES 13: the capturer takes every tile of the victim, armies halved, half up.
                for tile in range(size):
                    if owner[tile] == defender:
                        owner[tile] = player
                        army[tile] = (army[tile] + 1) // 2
                city[end] = True
                general[defender] = -1
                alive[defender] = False
        else:
            army[end] -= sent

    def afk(player: int) -> None:
        # RULES 14: the first record eliminates; a later one neutralizes, if the general stands.
        if alive[player]:
            alive[player] = False
            return
        tile = general[player]
        if tile < 0:
            return
        mates = [q for q in range(players) if q != player and alive[q] and teams[q] == teams[player]]
        heir = mates[0] if mates else NEUTRAL
        for t in range(size):
            if owner[t] == player:
                owner[t] = heir
        city[tile] = True
        general[player] = -1

    tick = 0
    next_move = next_afk = 0
    while True:
        while next_move < len(moves) and moves[next_move]["turn"] <= tick:
            m = moves[next_move]
            next_move += 1
            move(m["index"], m["start"], m["end"], bool(m["is50"]))
        while next_afk < len(afks) and afks[next_afk]["turn"] <= tick:
            afk(afks[next_afk]["index"])
            next_afk += 1
        tick += 1
        # RULES 5: growth.
        for tile in range(size):
            owned = owner[tile] >= 0
            structure = city[tile] or tile in general
            if tick % 2 == 0 and owned and structure:
                army[tile] += 1
            if tick % 2 == 0 and regenerate and city[tile] and not owned and army[tile] < 40:
                army[tile] += 1
            if tick % 50 == 0 and owned:
                army[tile] += 1
        codes = [MOUNTAIN if mountain[t] else owner[t] for t in range(size)]
        yield {"tick": tick, "alive": sum(alive), "owners": codes, "armies": list(army)}
        left = {teams[p] for p in range(players) if alive[p]}
        if len(left) <= 1 or tick > last:
            return
