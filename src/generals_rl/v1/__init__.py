"""The service contracts, package ``generals_rl.v1``: code generated from ``proto/generals_rl/v1``.

``<name>_pb2`` holds the messages and enums of ``<name>.proto`` (with ``.pyi`` stubs) and
``<name>_pb2_grpc`` its service stubs and servicer base classes: common (shared messages),
game, matchmaker, model, elo and replay. Regenerate with ``python scripts/gen_protos.py`` after
changing a ``.proto`` file; ``tests/unit/test_protos.py`` fails while the two disagree. Never edit
the generated modules by hand.
"""
