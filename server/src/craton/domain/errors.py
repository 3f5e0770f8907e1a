"""Typed domain errors; the HTTP layer maps each class to one status code."""

from __future__ import annotations


class CratonError(Exception):
    """Base class: ``message`` is shown to the caller as is."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(CratonError):
    status = 400


class NotAuthenticated(CratonError):
    status = 401


class Forbidden(CratonError):
    status = 403


class NotFound(CratonError):
    status = 404

    def __init__(self, message: str = "Not Found") -> None:
        super().__init__(message)


class Conflict(CratonError):
    status = 409


class PreconditionFailed(CratonError):
    status = 412
