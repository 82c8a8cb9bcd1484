"""How one game changes its players' stored ratings: classic Elo and Glicko-2 side by side, pure.

Both read the game by placement (`placement_pairs`: a 1v1 is one pair; an FFA game of n players is
its n(n-1)/2 pairs weighted 1/(n-1)), against the ratings *before* the game.

- ``elo``: incremental Elo with K by games played in the pool (``EloConfig``: provisional K for the
  first games, then K).
- ``mu``/``sigma``/``volatility``: Glicko-2 rating, deviation (RD) and volatility on the Elo scale;
  each game is its own rating period (as online servers run Glicko-2), so the deviation shrinks with
  every game. It does not grow with idle time: a player that stops playing keeps its interval.

Everyone enters a pool at 1500 (both systems, deviation 350); nothing re-centres the pool, so 1500 is
where a newcomer starts, not the pool's mean. Counts (games, wins, losses, draws) are per pool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from generals_rl.services.elo.ratings import (
    EloConfig,
    EloRating,
    Glicko2Config,
    Glicko2Rating,
    elo_update,
    glicko2_period,
    placement_pairs,
)
from generals_rl.storage.records import GameMode, Rating


@dataclass(frozen=True)
class Seat:
    """One player of a game as the update reads it: its stored id, outcome and place."""

    player_id: str
    outcome: str
    place: int


def new_rating(player_id: str, mode: str, glicko: Glicko2Config) -> Rating:
    """The rating of a player before its first game in ``mode``."""
    start = glicko.new_player()
    return Rating(
        player_id,
        elo=start.rating,
        mu=start.rating,
        sigma=start.rd,
        volatility=start.volatility,
        mode=cast(GameMode, mode),
    )


def rate_game(
    mode: str,
    seats: Sequence[Seat],
    current: Mapping[str, Rating | None],
    elo: EloConfig,
    glicko: Glicko2Config,
) -> dict[str, Rating]:
    """The players' ratings after the game (``current``: before it; ``None`` when never rated in ``mode``)."""
    before = {s.player_id: current.get(s.player_id) or new_rating(s.player_id, mode, glicko) for s in seats}
    places = {s.player_id: s.place for s in seats}
    elos = elo_update({p: EloRating(r.elo, r.games) for p, r in before.items()}, places, elo)
    start = glicko.new_player()
    glickos = glicko2_period(
        {
            p: Glicko2Rating(
                start.rating if r.mu is None else r.mu,
                start.rd if r.sigma is None else r.sigma,
                start.volatility if r.volatility is None else r.volatility,
            )
            for p, r in before.items()
        },
        placement_pairs(places),
        glicko,
    )
    after = {}
    for seat in seats:
        r, g = before[seat.player_id], glickos[seat.player_id]
        after[seat.player_id] = dataclasses.replace(
            r,
            elo=elos[seat.player_id].rating,
            mu=g.rating,
            sigma=g.rd,
            volatility=g.volatility,
            games=r.games + 1,
            wins=r.wins + (seat.outcome == "win"),
            losses=r.losses + (seat.outcome == "loss"),
            draws=r.draws + (seat.outcome == "draw"),
            mode=cast(GameMode, mode),
        )
    return after
