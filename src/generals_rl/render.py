"""Terminal rendering of a game with Rich: the board, the tick and every player's land and army."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from generals_rl.game.observations import visibility
from generals_rl.game.state import GameState

PLAYER_COLORS = ("red", "blue", "green4", "magenta", "dark_orange", "cyan", "purple", "yellow4")


def player_name(names: Sequence[str] | None, p: int) -> str:
    return names[p] if names and p < len(names) else f"player {p}"


def render_board(state: GameState, game: int = 0, fog_of: int | None = None) -> Text:
    """The board of one game, three characters a tile; ``fog_of`` shows only what that player sees.

    Legend: ``###`` mountain, ``[n]`` city, ``*n*`` general, digits an army (k = thousands),
    owners by colour; ``   `` fog, ``?##`` a fogged obstacle (mountain or city).
    """
    h, w = (int(v) for v in state.map_size[game])
    armies = state.armies[game].tolist()
    owner = state.owner[game].tolist()
    mountains = state.mountains[game].tolist()
    cities = state.cities[game].tolist()
    generals = state.general_tiles()[game].tolist()
    seen = visibility(state.select(game))[0, fog_of].tolist() if fog_of is not None else None
    text = Text()
    for r in range(h):
        for c in range(w):
            if seen is not None and not seen[r][c]:
                obstacle = mountains[r][c] or cities[r][c]
                text.append(" ##" if obstacle else " · ", style="grey35 on grey11")
                continue
            if mountains[r][c]:
                text.append("###", style="grey50 on grey23")
                continue
            if generals[r][c]:
                cell = ("*" + _compact(armies[r][c])).ljust(3)[:3]
            elif cities[r][c]:
                cell = ("[" + _compact(armies[r][c])).ljust(3)[:3]
            else:
                cell = _compact(armies[r][c]).rjust(3) if armies[r][c] else "   "
            style = "white on grey15"
            if owner[r][c] >= 0:
                style = f"bold white on {PLAYER_COLORS[owner[r][c] % len(PLAYER_COLORS)]}"
            elif cities[r][c]:
                style = "white on grey30"
            text.append(cell[:3].rjust(3), style=style)
        text.append("\n")
    return text


def _compact(n: int) -> str:
    """An army in at most three characters (k for thousands)."""
    return str(n) if n < 1000 else f"{min(n // 1000, 99)}k"


def render_scores(state: GameState, game: int = 0, names: Sequence[str] | None = None) -> Table:
    """Tick and each player's land, army and status in one game."""
    land = state.land()[game].tolist()
    army = state.army()[game].tolist()
    alive = state.alive[game].tolist()
    table = Table(title=f"tick {int(state.tick[game])} (turn {int(state.tick[game]) // 2})", expand=False)
    table.add_column("player")
    table.add_column("land", justify="right")
    table.add_column("army", justify="right")
    table.add_column("status")
    for p in range(state.num_players):
        status = "alive" if alive[p] else "out"
        if bool(state.done[game]) and int(state.teams[game, p]) == int(state.winner[game]):
            status = "won"
        table.add_row(
            Text(player_name(names, p), style=PLAYER_COLORS[p % len(PLAYER_COLORS)]),
            str(land[p]),
            str(army[p]),
            status,
        )
    return table


def render_game(
    state: GameState, game: int = 0, names: Sequence[str] | None = None, fog_of: int | None = None
) -> RenderableType:
    """Board and scoreboard of one game."""
    return Group(render_board(state, game, fog_of), render_scores(state, game, names))
