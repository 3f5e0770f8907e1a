"""Typed domain errors; the HTTP layer maps each class to one status code.

Every error carries ``message``, the sentence the original Craton v1 server used for the
same situation where there was one (clients compare it), and an optional ``detail`` that
says what exactly went wrong (which object, which position, which header).
"""

from __future__ import annotations

#: The original Craton's sentence for every missing or out-of-scope object.
NOT_FOUND = "Not Found"


class CratonError(Exception):
    """Base class: ``message`` is shown to the caller as is, ``detail`` beside it."""

    status = 500

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(f"{message}: {detail}" if detail else message)
        self.message = message
        self.detail = detail


class InvalidInput(CratonError):
    status = 400


class NotAuthenticated(CratonError):
    status = 401


class Forbidden(CratonError):
    status = 403


class NotFound(CratonError):
    status = 404

    def __init__(self, message: str = NOT_FOUND, detail: str | None = None) -> None:
        super().__init__(message, detail)

    @classmethod
    def of(cls, what: str, row_id: object) -> NotFound:
        """The original ``Not Found``, with the missing object named: ``Host 9999 not found``."""
        shown = str(row_id)
        if len(shown) > 80:
            shown = shown[:80] + "..."
        return cls(detail=f"{what} {shown} not found")


class Conflict(CratonError):
    status = 409


class PreconditionFailed(CratonError):
    status = 412
