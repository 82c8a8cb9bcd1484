"""The rating mathematics of the Elo Service, pure (no gRPC, no storage): the one import point for it.

- Results (`rating/results.py`): `PairResult`, and `placement_pairs` to decompose any game by placement.
- Incremental Elo (`rating/elo.py`): logistic, 400-point scale, start 1500, K by games played;
  order-dependent by nature.
- Glicko-2 (`rating/glicko2.py`): rating, deviation, volatility over rating periods.
- Bradley-Terry (`rating/bradley_terry.py`): order-independent fit of the whole history on the Elo
  scale with a weak Gaussian prior and Laplace 95% intervals; mean 1500 or a reference player fixed.
- Head-to-head (`rating/head_to_head.py`): records per pair and Wilson intervals of score rates.
- SPRT (`rating/sprt.py`): promotion test, trinomial GSPRT as fishtest runs it.
- PFSP (`rating/pfsp.py`): AlphaStar's prioritized fictitious self-play weights and an opponent sampler.
"""

from __future__ import annotations

from generals_rl.services.elo.rating.bradley_terry import BradleyTerryFit, fit_bradley_terry
from generals_rl.services.elo.rating.elo import (
    ELO_PER_NAT,
    ELO_SCALE,
    INITIAL_RATING,
    EloConfig,
    EloRating,
    elo_update,
    elo_update_1v1,
    expected_score,
    replay_elo,
)
from generals_rl.services.elo.rating.glicko2 import (
    Glicko2Config,
    Glicko2Rating,
    glicko2_period,
    glicko2_update,
)
from generals_rl.services.elo.rating.head_to_head import HeadToHead, head_to_head, records_of
from generals_rl.services.elo.rating.pfsp import OpponentMix, OpponentSampler, Scheme, pfsp_weights
from generals_rl.services.elo.rating.results import DRAW, LOSS, WIN, PairResult, placement_pairs
from generals_rl.services.elo.rating.sprt import (
    Decision,
    SprtConfig,
    SprtResult,
    llr_trinomial,
    sprt,
)

__all__ = [
    "DRAW",
    "ELO_PER_NAT",
    "ELO_SCALE",
    "INITIAL_RATING",
    "LOSS",
    "WIN",
    "BradleyTerryFit",
    "Decision",
    "EloConfig",
    "EloRating",
    "Glicko2Config",
    "Glicko2Rating",
    "HeadToHead",
    "OpponentMix",
    "OpponentSampler",
    "PairResult",
    "Scheme",
    "SprtConfig",
    "SprtResult",
    "elo_update",
    "elo_update_1v1",
    "expected_score",
    "fit_bradley_terry",
    "glicko2_period",
    "glicko2_update",
    "head_to_head",
    "llr_trinomial",
    "pfsp_weights",
    "placement_pairs",
    "records_of",
    "replay_elo",
    "sprt",
]
