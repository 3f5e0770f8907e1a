"""The one HTTP seam of cratonclient: authentication, retries, errors and pagination.

Every manager talks to Craton through :class:`Session`, so behaviour that must be the same
everywhere (timeouts, connection reuse, retry policy, status-to-exception mapping, following
``next`` links) is written once, here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.util.retry import Retry

import cratonclient
from cratonclient import exceptions as exc
from cratonclient.auth import AuthPlugin, CratonAuth, KeystoneAuth

#: Seconds to wait for a connection and then for each read; Craton answers in milliseconds,
#: so a request stuck this long is better reported than waited on forever.
DEFAULT_TIMEOUT = 30.0
#: Extra attempts after a connection error or a 502/503/504 (idempotent methods only).
DEFAULT_RETRIES = 3
#: Backoff base in seconds: waits grow as factor * 2**(attempt - 1).
DEFAULT_BACKOFF_FACTOR = 0.5

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
#: Methods that change something; only these carry the change reason.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The header whose text the server stores as the ``reason`` of every change a request makes.
REASON_HEADER = "X-Craton-Change-Reason"

Page = tuple[requests.Response, list[dict[str, Any]]]


class _RetryPolicy(Retry):
    """urllib3's retry with two guards that suit an inventory API."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        # A server too slow to answer once stays slow; retrying would only multiply the wait.
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_retry_after(self, response: Any) -> float | None:
        # Honour Retry-After, but never let one header stall the caller for long, and treat
        # a malformed one as absent rather than as a failure of the request.
        try:
            after = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if after is None else min(after, self.backoff_max)


def _build_transport(retries: int, backoff_factor: float, verify: bool | str) -> requests.Session:
    """A pooled requests session whose adapters retry the safe cases."""
    policy = _RetryPolicy(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    transport = requests.Session()
    adapter = HTTPAdapter(max_retries=policy)
    transport.mount("http://", adapter)
    transport.mount("https://", adapter)
    transport.verify = verify
    return transport


class Session:
    """An authenticated HTTP session to one Craton deployment.

    Build it with :func:`cratonclient.auth.craton_auth` or ``keystone_auth``. The positional
    form ``Session(session=None, username=None, token=None, project_id=None)`` of the original
    client still works: ``session`` may be a keystoneauth1 session (its token is used) or a
    ``requests.Session`` to send requests through as it is configured.
    """

    def __init__(
        self,
        session: Any = None,
        username: str | None = None,
        token: str | None = None,
        project_id: Any = None,
        *,
        auth: AuthPlugin | None = None,
        verify: bool | str = True,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff_factor: float = DEFAULT_BACKOFF_FACTOR,
        user_agent: str | None = None,
        change_reason: str | None = None,
    ) -> None:
        if auth is None and session is not None and hasattr(session, "get_auth_headers"):
            auth = KeystoneAuth(session)
            verify = getattr(session, "verify", verify)
        self.auth: AuthPlugin = auth or CratonAuth(username=username, project_id=project_id, token=token)
        self.timeout = timeout
        self.user_agent = user_agent or f"python-cratonclient/{cratonclient.__version__}"
        self.change_reason = change_reason
        self._local = threading.local()
        if isinstance(session, requests.Session):
            self._http = session
        else:
            self._http = _build_transport(retries, backoff_factor, verify)

    def __repr__(self) -> str:
        return f"Session(auth={self.auth!r})"

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def change_reason(self) -> str | None:
        """Why changes are made: sent with every write unless :meth:`reason` says otherwise.

        The server stores it as the ``reason`` of each change record the request causes.
        """
        return self._change_reason

    @change_reason.setter
    def change_reason(self, text: str | None) -> None:
        self._change_reason = check_reason(text)

    @contextlib.contextmanager
    def reason(self, text: str | None) -> Iterator[None]:
        """Within the block, writes made in this thread carry ``text`` as their change reason.

        Blocks nest, the innermost winning; ``reason(None)`` sends no reason at all. Other
        threads sharing the session keep theirs.
        """
        stack: list[str | None] = self._local.__dict__.setdefault("reasons", [])
        stack.append(check_reason(text))
        try:
            yield
        finally:
            stack.pop()

    def current_reason(self) -> str | None:
        """The change reason the next write from this thread will carry, if any."""
        stack = self._local.__dict__.get("reasons")
        return stack[-1] if stack else self._change_reason

    def close(self) -> None:
        """Close pooled connections; the session stays usable and reconnects on demand."""
        self._http.close()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request; any status of 400 or more raises the matching exception.

        Keyword arguments are those of ``requests`` (``params``, ``json``, ``headers``,
        ``timeout``...). A 401 is retried once when the auth plugin can refresh its token.
        """
        response = self._send(method, url, **kwargs)
        if response.status_code == 401 and self.auth.invalidate():
            response = self._send(method, url, **kwargs)
        if response.status_code >= 400:
            raise exc.error_from(response)
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)

    def paginate(
        self,
        url: str,
        items_key: str,
        autopaginate: bool = True,
        nested: bool = False,
        **kwargs: Any,
    ) -> Iterator[Page]:
        """Yield ``(response, items)`` for each page, following the server's ``next`` links.

        Stops at the first page when ``autopaginate`` is false, and otherwise at a page
        without a ``next`` link or at an empty page, whichever comes first. The ``next``
        href carries the whole query, so the original ``params`` are sent only once.
        With ``nested``, ``body[items_key]`` maps kinds to lists, which are joined.
        """
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            seen.add(next_url)
            response = self.get(next_url, **kwargs)
            body = json_body(response)
            items = _page_items(body, items_key, nested)
            yield response, items
            if not autopaginate or not items:
                return
            next_url = next_link(body, base=next_url)
            if next_url in seen:
                raise exc.InvalidResponse(f"The server's next link loops back to {next_url}")
            kwargs.pop("params", None)

    def _send(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        merged: dict[str, str | bytes] = {"Accept": "application/json", "User-Agent": self.user_agent}
        reason = self.current_reason() if method.upper() in WRITE_METHODS else None
        if reason:
            # UTF-8 on the wire, as curl sends it; http.client would refuse non-Latin-1 text.
            merged[REASON_HEADER] = reason.encode("utf-8")
        merged.update(self.auth.get_headers())
        merged.update(headers or {})
        timeout = kwargs.pop("timeout", self.timeout)
        try:
            return self._http.request(method, url, headers=merged, timeout=timeout, **kwargs)
        except requests.exceptions.Timeout as error:
            raise exc.Timeout(
                f"No answer from {url} within {timeout} seconds",
                original_exception=error,
                url=url,
            ) from error
        except requests.exceptions.ConnectionError as error:
            raise exc.ConnectionFailed(
                f"Unable to establish connection to {url}: {error}", original_exception=error, url=url
            ) from error
        except requests.exceptions.RequestException as error:
            raise exc.ClientException(
                f"Could not send {method} {url}: {error}", original_exception=error, url=url
            ) from error


def check_reason(text: str | None) -> str | None:
    """A change reason as it can travel in a header: one line of text; empty means none."""
    if text is None or not text.strip():
        return None
    if any(char in text for char in "\r\n\0"):
        raise ValueError("a change reason must be a single line of text")
    return text.strip()


def json_body(response: requests.Response) -> Any:
    """The decoded JSON body of a successful response, or ``InvalidResponse``."""
    try:
        return response.json()
    except ValueError as error:
        raise exc.InvalidResponse(
            f"Expected JSON from {response.request.method} {response.url}, "
            f"got {response.headers.get('Content-Type', 'no content type')}",
            response=response,
            original_exception=error,
        ) from error


def next_link(body: Mapping[str, Any], base: str = "") -> str | None:
    """The absolute ``next`` href of a list response, or None on the last page.

    ``links`` is a list of ``{"rel", "href"}`` (Craton v1), or ``{"next": href}`` (webhooks).
    """
    links = body.get("links") or ()
    if isinstance(links, Mapping):
        return urljoin(base, str(links["next"])) if links.get("next") else None
    for link in links:
        if isinstance(link, Mapping) and link.get("rel") == "next" and link.get("href"):
            return urljoin(base, str(link["href"]))
    return None


def _page_items(body: Any, items_key: str, nested: bool) -> list[dict[str, Any]]:
    if not isinstance(body, Mapping) or items_key not in body:
        raise exc.InvalidResponse(f"The list response has no {items_key!r} key")
    items = body[items_key]
    if nested:
        return [item for group in items.values() for item in group]
    return list(items)


__all__ = [
    "DEFAULT_BACKOFF_FACTOR",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "REASON_HEADER",
    "RETRY_STATUSES",
    "WRITE_METHODS",
    "Session",
    "check_reason",
    "json_body",
    "next_link",
]
