"""Structured logs for the services: one JSON object a line, or a readable console line.

``configure_logging("game", "json")`` installs one handler on the root logger. Every record
carries the process's service name; fields passed with ``extra=`` (the RPC interceptor passes
``rpc``, ``code``, ``duration_ms``) become keys of the JSON object, or ``key=value`` pairs on the
console. Exceptions logged with ``logger.exception`` carry their traceback (``exc`` in JSON).

    {"ts": "2025-01-01T12:00:00.123Z", "level": "INFO", "logger": "generals_rl.rpc",
     "service": "game", "msg": "rpc", "rpc": "GameService/CreateGame", "code": "OK",
     "duration_ms": 1.9}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["json", "console"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "service",
}
_MARKER = "_generals_rl_handler"


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record was given with ``extra=``, in the order they were set."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, service, msg, the extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "service": getattr(record, "service", ""),
            "msg": record.getMessage(),
        }
        entry.update(record_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 INFO  game generals_rl.rpc: rpc rpc=GameService/CreateGame code=OK ...``"""

    def format(self, record: logging.LogRecord) -> str:
        clock = _timestamp(record)[11:23]
        fields = " ".join(f"{k}={v}" for k, v in record_fields(record).items())
        line = f"{clock} {record.levelname:<5} {getattr(record, 'service', '')} {record.name}: "
        line += record.getMessage() + (f" {fields}" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class ServiceFilter(logging.Filter):
    """Stamps every record with the process's service name (unless it has one)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "service"):
            record.service = self.service
        return True


def configure_logging(
    service: str,
    fmt: LogFormat = "console",
    level: int | str = logging.INFO,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr by default) in ``fmt``, stamped with ``service``.

    Calling it again replaces the handler it installed before (other handlers are left alone).
    Returns the handler.
    """
    if fmt not in ("json", "console"):
        raise ValueError(f"log format must be 'json' or 'console', not {fmt!r}")
    root = logging.getLogger()
    while (old := installed_log_handler()) is not None:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(ServiceFilter(service))
    setattr(handler, _MARKER, True)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def installed_log_handler() -> logging.Handler | None:
    """The root logger's handler that ``configure_logging`` installed, if any."""
    return next((h for h in logging.getLogger().handlers if getattr(h, _MARKER, False)), None)
