"""generals-rl: train, rate and serve generals.io agents by self-play reinforcement learning."""

import os

# PyTorch's CPU threads spin while they wait for work. When anything else runs on the machine (a
# service, an actor, another learner) spinning threads starve each other: a batch-256 engine tick
# measured 20x slower with a second busy process on a 2-core machine, and the same as before with
# passive waiting. It must be set before torch loads its OpenMP runtime; users may override it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
