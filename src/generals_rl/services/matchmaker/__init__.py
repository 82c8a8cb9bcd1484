"""Matchmaker Service (port 50052): queue pairing by rating, tournaments, opponent sampling."""
