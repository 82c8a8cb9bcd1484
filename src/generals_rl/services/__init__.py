"""The platform's services, one folder each: core.py (domain), servicer.py (proto <-> domain), client.py."""
