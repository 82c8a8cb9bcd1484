"""Pure rating mathematics, one module per method; import them through `generals_rl.services.elo.ratings`."""
