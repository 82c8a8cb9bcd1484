"""generals-rl: train, rate and serve generals.io agents by self-play reinforcement learning."""

__version__ = "0.1.0"
