"""The cache seam's backends: ``MemoryCache`` (in process) and ``RedisCache``."""
