"""The Elo Service: ratings per player and model version, leaderboard, rating history, head-to-head."""
