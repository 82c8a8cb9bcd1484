"""A finished game's result: outcome, place and elimination tick of every seat, and why it ended.

Places (common.proto ``PlayerResult.place``): the winning team is 1; the others are placed by
how long they lasted (the last one eliminated is next); seats eliminated on the same tick share
a place. A draw (the tick limit, or everyone gone on the same tick) is a draw for the seats that
lasted longest and a loss for those eliminated before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from generals_rl.game.state import GameState
from generals_rl.services.game.domain import EndReason, GameResult, Mode, Outcome, PlayerRef, PlayerResult


def end_reason(
    final: GameState, eliminated_tick: Sequence[int], left: Sequence[bool], max_ticks: int
) -> EndReason:
    """Why the (single) game of ``final`` ended: the seats out in the last tick were captured or left."""
    tick = int(final.tick[0])
    last_out = [p for p, t in enumerate(eliminated_tick) if t == tick]
    if int(final.winner[0]) >= 0:
        if last_out and all(left[p] for p in last_out):
            return "eliminated"
        return "general_captured"
    if tick >= max_ticks and bool(final.alive[0].any()):
        return "tick_limit"
    return "eliminated"


def build_result(
    game_id: str,
    mode: Mode,
    players: Sequence[PlayerRef],
    final: GameState,
    eliminated_tick: Sequence[int],
    reason: EndReason,
    started_at: datetime | None,
    ended_at: datetime | None,
) -> GameResult:
    """The result of the (single) game of ``final``; ``eliminated_tick[p]`` is 0 for seats alive at
    the end."""
    ticks = int(final.tick[0])
    winner = int(final.winner[0])
    teams = final.teams[0].tolist()
    lasted = [t if t > 0 else ticks + 1 for t in eliminated_tick]
    if winner >= 0:
        lasted = [ticks + 2 if teams[p] == winner else value for p, value in enumerate(lasted)]
    best = max(lasted)
    results = []
    for p, player in enumerate(players):
        outcome: Outcome
        if winner >= 0:
            outcome = "win" if teams[p] == winner else "loss"
        else:
            outcome = "draw" if lasted[p] == best else "loss"
        place = 1 + sum(1 for other in lasted if other > lasted[p])
        results.append(
            PlayerResult(
                player=player, seat=p, outcome=outcome, place=place, eliminated_tick=eliminated_tick[p]
            )
        )
    return GameResult(
        game_id=game_id,
        mode=mode,
        players=tuple(results),
        ticks=ticks,
        reason=reason,
        started_at=started_at,
        ended_at=ended_at,
    )
