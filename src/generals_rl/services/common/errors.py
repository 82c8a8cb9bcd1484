"""Domain errors that map to gRPC status codes.

Domain code (a service's ``core.py``) raises these; the server interceptor
(``interceptors.ErrorInterceptor``) turns them into the matching status with the exception's
message, and clients turn a failed call back into the same exception with ``from_rpc_error``, so
code written against a service's interface sees the same errors in one process and over the
network. Messages say what was wrong in words a caller can act on ("unknown game 'abc'", not
"KeyError"). Any other exception is a bug: the client sees INTERNAL with a generic message.
"""

from __future__ import annotations

from typing import ClassVar

import grpc


class ServiceError(Exception):
    """Base of the domain errors; ``code`` is the gRPC status code it maps to."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(ServiceError):
    """The request is malformed or out of range; nothing was changed."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    """An id names nothing the service knows."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    """Something with this id exists already (and differs from what was asked)."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    """The request is valid but the current state does not allow it (a finished game, ...)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(ServiceError):
    """The caller is known but may not do this (a player token of another seat)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(ServiceError):
    """The caller's credentials are missing, unknown or expired (a session token)."""

    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(ServiceError):
    """A limit was hit: a queue is full, a message or upload is too large."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(ServiceError):
    """A documented wait ran out (a rate limiter, an idle batch of games)."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unavailable(ServiceError):
    """A backend or peer service cannot be reached right now; retrying later may work."""

    code = grpc.StatusCode.UNAVAILABLE


ERRORS: tuple[type[ServiceError], ...] = (
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    PermissionDenied,
    Unauthenticated,
    ResourceExhausted,
    DeadlineExceeded,
    Unavailable,
)
"""Every concrete domain error, one per status code."""

BY_CODE: dict[grpc.StatusCode, type[ServiceError]] = {error.code: error for error in ERRORS}
"""The domain error of each status code that has one."""


class RemoteError(ServiceError):
    """A failed call whose status has no domain error (INTERNAL, CANCELLED, ...);
    ``code`` is set per instance."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]  # the one error whose code varies per instance


def error_for(code: grpc.StatusCode, message: str) -> ServiceError:
    """The domain error for a status code and message (``RemoteError`` for codes without one)."""
    error = BY_CODE.get(code)
    return error(message) if error is not None else RemoteError(code, message)


def from_rpc_error(error: grpc.RpcError) -> ServiceError:
    """The domain error a failed call stands for, so clients raise what domain code raises:
    ``raise from_rpc_error(e) from e``."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else None
    return error_for(code, details or code.name)
