"""Self-play training: networks, losses, actors, learners, evaluation."""
