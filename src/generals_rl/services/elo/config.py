"""How the Elo Service rates: Elo's K, Glicko-2's settings, how long the cached leaderboard lives.

Parsed at the edge: ``EloServiceConfig.from_env()`` reads the ``GRL_ELO_*`` variables (``open_service``
does when given no config).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from generals_rl.services.elo.ratings import EloConfig, Glicko2Config


@dataclass(frozen=True)
class EloServiceConfig:
    """How the Elo Service rates: Elo's K, Glicko-2's settings, how long the cached leaderboard lives."""

    elo: EloConfig = field(default_factory=EloConfig)
    glicko: Glicko2Config = field(default_factory=Glicko2Config)
    leaderboard_ttl_s: float = 3600.0

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> EloServiceConfig:
        """From ``GRL_ELO_K`` (20), ``GRL_ELO_PROVISIONAL_K`` (40), ``GRL_ELO_PROVISIONAL_GAMES`` (30),
        ``GRL_ELO_TAU`` (Glicko-2's tau, 0.5) and ``GRL_ELO_LEADERBOARD_TTL_S`` (3600)."""
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            text = env.get(name, "")
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"{name} must be a number, got {text!r}") from None

        base = EloConfig()
        elo = EloConfig(
            k=number("GRL_ELO_K", base.k),
            provisional_k=number("GRL_ELO_PROVISIONAL_K", base.provisional_k),
            provisional_games=int(number("GRL_ELO_PROVISIONAL_GAMES", base.provisional_games)),
        )
        glicko = Glicko2Config(tau=number("GRL_ELO_TAU", Glicko2Config().tau))
        return EloServiceConfig(elo, glicko, number("GRL_ELO_LEADERBOARD_TTL_S", 3600.0))
