"""/v1/import: a fleet document (JSON, YAML) or a CSV host list read into the caller's project.

The body is read here, up to its own limit (``[api] max_import_bytes``), and parsed on a
worker thread before the transaction; everything else (checks, modes, writes, roles) is
the domain's (domain/fleet_import.py, domain/fleet_csv.py; docs/import-export.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml
from starlette.responses import Response

from craton.domain import fleet_csv, fleet_import
from craton.domain.errors import InvalidInput
from craton.http.endpoint import Call, Operation, RawBody, build_route
from craton.http.jsonio import (
    JSONResponse,
    UnsupportedMediaType,
    check_structure,
    is_json,
    parse_body,
    printable,
)
from craton.http.validation import Param
from craton.settings import Settings

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
CSV_TYPE = "text/csv"
# A document nests objects eleven levels deep before a device's variables: those may nest
# as deeply inside it as through PUT .../variables.
_DOCUMENT_LEVELS = 11
_MAX_INT = 2**64 - 1


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML whose dates stay text: a fleet document holds JSON values only."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Upload:
    """What the handler gets: the document, with the problems and row numbers of a CSV file."""

    document: Any
    problems: list[fleet_import.Problem] = field(default_factory=list)
    locate: fleet_import.Locate | None = None


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse(raw: bytes, content_type: str, settings: Settings) -> Upload:
    if not raw:
        raise InvalidInput("The request has no body: send the fleet document (see docs/import-export.md).")
    media = _media(content_type)
    depth = settings.max_json_depth + _DOCUMENT_LEVELS
    if is_json(content_type):
        return Upload(_json(raw, content_type, depth))
    if media in YAML_TYPES:
        return Upload(_yaml(_text(raw), depth))
    if media == CSV_TYPE:
        sheet = fleet_csv.read(_text(raw))
        return Upload(sheet.document, sheet.problems, sheet.locate)
    shown = printable(content_type)[:100] if content_type else "missing"
    raise UnsupportedMediaType(
        "The fleet document must be sent as application/json, application/yaml (or application/x-yaml, "
        f"text/yaml) or text/csv; the Content-Type was {shown}."
    )


# A run of 20 digits may be an integer beyond 64 bits, which orjson would turn into a float.
_LONG_NUMBER = re.compile(rb"[0-9]{20}")


def _json(raw: bytes, content_type: str, depth: int) -> Any:
    """The JSON document: orjson when it reads the body exactly as the API's parser does, else that parser.

    orjson refuses what the API's parser refuses (invalid UTF-8, lone surrogates, NaN, a byte
    order mark, numbers beyond a double) except integers beyond 64 bits, which it reads as
    floats: a body with a 20-digit run, and one nested too deeply, goes the careful way, which
    also says exactly what is wrong. For a fleet of 10,000 hosts that is 0.05 s instead of 2 s.
    """
    if not _LONG_NUMBER.search(raw):
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if _within(document, depth):
                return document
    return parse_body(raw, content_type, depth)


def _within(value: Any, limit: int) -> bool:
    """Whether no list or object nests deeper than ``limit`` levels (the document itself is level 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return False
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return True


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"The body is not UTF-8 text (byte {exc.start}).") from None


def _yaml(text: str, depth: int) -> Any:
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InvalidInput("The body is not valid YAML.", printable(str(exc))[:500]) from None
    except RecursionError:
        raise InvalidInput(f"The body nests deeper than {depth} levels.") from None
    _json_only(document, depth)
    check_structure(document, depth)
    return document


def _json_only(value: Any, limit: int) -> None:
    """Refuse what JSON cannot hold (keys that are not text, dates, NaN) and aliases of lists or maps.

    An alias makes YAML share one node; expanded, a few of them nest into billions of
    nodes, so any shared list or mapping is refused before anything walks the document.
    """
    seen: set[int] = set()
    stack: list[tuple[Any, int, str]] = [(value, 1, "the document")]
    while stack:
        node, level, where = stack.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                raise InvalidInput(f"{where}: YAML anchors and aliases (&, *) of lists and mappings are not accepted.")
            seen.add(id(node))
            if level > limit:
                raise InvalidInput(f"The body nests deeper than {limit} levels.")
            if isinstance(node, dict):
                for key, child in node.items():
                    if not isinstance(key, str):
                        raise InvalidInput(f"{where}: the key {printable(repr(key))[:60]} is not text.")
                    stack.append((child, level + 1, f"{where} > {printable(key)[:60]}"))
            else:
                stack.extend((child, level + 1, f"{where} > [{index}]") for index, child in enumerate(node))
        elif isinstance(node, bool) or node is None or isinstance(node, str):
            continue
        elif isinstance(node, int):
            if not -(2**63) <= node <= _MAX_INT:
                raise InvalidInput(f"{where}: the integer {str(node)[:30]} does not fit in 64 bits.")
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise InvalidInput(f"{where}: {node} is not a JSON number.")
        else:
            raise InvalidInput(f"{where}: a {type(node).__name__} is not a JSON value; quote it.")


def _problems_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The document was refused: every problem, with its place (a JSON Pointer into the "
        "document, or `row N, column C` of a CSV file, row 1 being the header).",
        "properties": {
            "message": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"where": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["where", "message"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["message", "status"],
        "additionalProperties": False,
    }


_COUNTS = {
    "type": "object",
    "properties": {key: {"type": "integer"} for key in fleet_import.COUNT_KEYS},
    "required": list(fleet_import.COUNT_KEYS),
}
RESPONSE = {
    "type": "object",
    "properties": {
        "import": {
            "type": "object",
            "properties": {
                "mode": {"type": "string", "enum": list(fleet_import.MODES)},
                "dry_run": {"type": "boolean"},
                **{name: _COUNTS for name in ("created", "updated", "deleted", "unchanged")},
            },
            "required": ["mode", "dry_run", "created", "updated", "deleted", "unchanged"],
        }
    },
    "required": ["import"],
}
_DOCUMENT = {"type": "object", "description": "A fleet document, version 1: its JSON Schema is /export-schema.json."}
_CSV_SCHEMA = {
    "type": "string",
    "description": "A header row naming the columns ("
    + ", ".join(fleet_csv.COLUMNS)
    + ", variables.<key>[.<key>...]), then one device per row.",
}
BODY = RawBody(
    parse=parse,
    limit=lambda settings: settings.max_import_bytes,
    content={
        "application/json": {"schema": _DOCUMENT},
        "application/yaml": {"schema": _DOCUMENT},
        CSV_TYPE: {"schema": _CSV_SCHEMA},
    },
    invalid=_problems_schema(),
)
PARAMS = {
    "mode": Param(
        "string",
        "upsert",
        schema={"enum": list(fleet_import.MODES)},
        description="create: only new objects; upsert (default): create or update what the document names; "
        "sync: also delete what it does not name (needs confirm=true).",
    ),
    "dry_run": Param("boolean", False, description="Check and count, write nothing."),
    "confirm": Param("boolean", False, description="Required with mode=sync."),
}


def import_(call: Call) -> Response:
    upload: Upload = call.body
    query = call.query
    options = fleet_import.Options(mode=query["mode"], dry_run=query["dry_run"], confirm=query["confirm"])
    result = fleet_import.run(call.conn, call.principal, upload.document, options, upload.problems, upload.locate)
    return JSONResponse({"import": result})


ROUTES = [
    build_route(
        "/v1/import",
        [
            Operation(
                "POST",
                import_,
                query=PARAMS,
                raw_body=BODY,
                summary="Import a fleet document or a CSV host list",
                response=RESPONSE,
            )
        ],
    )
]
