"""From a browser request to one domain call in one transaction, as the signed-in user.

The UI shares the API's machinery: the same transaction runner (with its retries of
transient conflicts), the same body size limit, the same domain functions and so the
same roles and tenancy. What differs is the credential (a session cookie instead of
the X-Auth headers), CSRF protection on every form, and answers as HTML pages.
"""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from craton.domain import sessions
from craton.domain.errors import CratonError, NotAuthenticated
from craton.domain.sessions import Session
from craton.http.auth import REASON_HEADER
from craton.http.endpoint import answer_busy, read_body
from craton.ui.catalog import BROWSABLE, OWNER_PAGES, RESOURCE_PAGES

log = logging.getLogger("craton.ui")

COOKIE = "craton_session"
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals.update(owner_pages=OWNER_PAGES, resource_pages=RESOURCE_PAGES, browsable_kinds=BROWSABLE)


class CsrfFailed(CratonError):
    status = 403


class Refused(CratonError):
    """A refused form: the page to show again (with what was typed), under the refusal's status.

    Raised rather than returned, so that the transaction rolls back whatever the attempt wrote.
    """

    def __init__(self, page: Response, status: int) -> None:
        super().__init__("refused")
        self.page = page
        self.page.status_code = status


@dataclass
class PageCall:
    """What a page handler may use: the caller, the open transaction, the submitted form."""

    request: Request
    session: Session
    conn: sa.Connection
    form: dict[str, str]

    @property
    def principal(self) -> Any:
        return self.session.principal

    def render(self, template: str, status_code: int = 200, **context: Any) -> Response:
        return render(self.request, template, status_code, session=self.session, **context)


PageHandler = Callable[[PageCall], Response]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    return response


async def read_form(request: Request) -> dict[str, str]:
    """A url-encoded form, bounded by the API's body size limit; a repeated field keeps its last value."""
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def page(handler: PageHandler, writes: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint running ``handler`` for the signed-in user; strangers go to the sign-in page."""

    async def endpoint(request: Request) -> Response:
        form = await read_form(request) if request.method == "POST" else {}
        token = request.cookies.get(COOKIE)
        reason = form.get("reason") or request.headers.get(REASON_HEADER)

        def work(conn: sa.Connection) -> Response:
            session = sessions.resume(conn, token)
            if request.method == "POST" and not sessions.csrf_matches(session, form.get("csrf_token")):
                raise CsrfFailed("The form has expired or did not come from this site; reload the page and retry.")
            principal = dataclasses.replace(
                session.principal,
                request_id=request.scope.get("state", {}).get("request_id"),
                reason=reason or None,
                record_history=request.app.state.settings.history_enabled,
                queue_events=request.app.state.settings.events_queue,
            )
            request.scope.setdefault("state", {})["principal"] = principal
            session = dataclasses.replace(session, principal=principal)
            return handler(PageCall(request, session, conn, form))

        try:
            return await request.app.state.offload(answer_busy, request.app.state.engine, writes, work)
        except Refused as refused:
            return refused.page
        except NotAuthenticated:
            target = urllib.parse.quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"/ui/login?next={target}", status_code=303)
        except CratonError as error:
            return render(request, "error.html", error.status, status=error.status, message=str(error))

    return endpoint
