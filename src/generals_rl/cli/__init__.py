"""The ``grl`` command."""
