"""Logging set-up: every line carries the request id; optional JSON lines for log shippers."""

from __future__ import annotations

import contextvars
import json
import logging
import re

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("craton_request_id", default="-")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


# C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and lone
# surrogates: none of them may reach a log line as they are.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``, ``\\u2028``), so that a value
    taken from a request (a path with ``%0a``, a user name) can neither start a forged log line
    nor send escape sequences to a terminal."""
    return _UNPRINTABLE.sub(_escape, text)


class TextFormatter(logging.Formatter):
    """The text format, one record per line: control characters in messages are escaped.

    Tracebacks (added after the message) keep their line breaks.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)


class RequestIdFilter(logging.Filter):
    """Stamp the current request id (a context variable, copied into worker threads) on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str, fmt: str = "text") -> None:
    """Configure the root logger once; later calls in the same process change nothing."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        return
    logging.Formatter.converter = __import__("time").gmtime
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    root.handlers = [handler]
    root.setLevel(level.upper())
