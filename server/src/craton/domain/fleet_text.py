"""The fleet document (:mod:`craton.domain.fleet`) written as JSON or YAML, a piece at a time.

The writers walk the document in order and read each :class:`~craton.domain.fleet.Items`
list a batch at a time, so the text of 100,000 devices is never in memory at once.
The JSON is byte for byte what ``orjson.dumps`` of the whole document gives.

The YAML reads as the same document. Containers (clouds, regions, cells) are dumped by
PyYAML and indented to their place in the nesting. Networks and devices, the bulk, are
written here, a line per field: PyYAML represents every scalar in Python and costs ten
times the rest of the export. A string is written plain when PyYAML's own resolver reads
it back as that string, else as a JSON string (a YAML double-quoted scalar); lists and
mappings (labels, masks, variables: the database's JSON text) as JSON, which is YAML flow
style. What JSON and YAML 1.1 read differently (``1e5`` is a float in JSON, a string for
PyYAML), and characters YAML treats as line breaks or refuses, go through PyYAML instead.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from typing import Any

import orjson
import yaml

from craton.domain.fleet import Items, RawJSON, json_default

#: Pieces are joined until they are at least this long before they are handed on.
CHUNK_BYTES = 256 * 1024
#: Networks or devices written per piece. After each piece the writer lets other threads
#: take the GIL (``time.sleep(0)``): the thread reading the next batch ahead
#: (:class:`~craton.domain.fleet.ReadAhead`) needs it for a moment after every wait for
#: the database, and otherwise waits up to Python's switch interval (5 ms) each time, dozens
#: of times a batch, while the writer goes through a batch in one piece.
SLICE = 64
MEDIA_TYPES = {"json": "application/json", "yaml": "application/yaml"}


def chunks(document: dict[str, Any], format: str) -> Iterator[bytes]:
    """The document's text in the given format (``json`` or ``yaml``), in chunks of about CHUNK_BYTES."""
    if format == "yaml":
        return _joined(piece.encode() for piece in _yaml_mapping(document, ""))
    return _joined(_json(document))


def _joined(pieces: Iterator[bytes]) -> Iterator[bytes]:
    waiting: list[bytes] = []
    size = 0
    for piece in pieces:
        waiting.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield b"".join(waiting)
            waiting, size = [], 0
    if waiting:
        yield b"".join(waiting)


def _json(value: Any) -> Iterator[bytes]:
    if isinstance(value, Items):
        yield b"["
        first = True
        for batch in value.batches():
            if not batch:
                continue
            if value.flat:
                for start in range(0, len(batch), SLICE):
                    piece = orjson.dumps(batch[start : start + SLICE], default=json_default)[1:-1]
                    time.sleep(0)  # see SLICE
                    yield (b"" if first else b",") + piece
                    first = False
                continue
            for item in batch:
                if not first:
                    yield b","
                first = False
                yield from _json(item)
        yield b"]"
    elif isinstance(value, dict) and any(isinstance(item, Items) for item in value.values()):
        separator = b"{"
        for key, item in value.items():
            yield separator + orjson.dumps(key) + b":"
            separator = b","
            yield from _json(item)
        yield b"}"
    else:
        yield orjson.dumps(value)


# libyaml's emitter when PyYAML was built with it: several times faster on large fleets.
_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BASE_DUMPER):
    """Never anchors and aliases: batches are dumped apart, so a shared object must be written out each time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_raw(dumper: Any, value: RawJSON) -> Any:
    return dumper.represent_dict(orjson.loads(value.text))


_Dumper.add_representer(RawJSON, _represent_raw)


def _dump(value: Any) -> str:
    return str(yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000))


def _indented(text: str, indent: str) -> str:
    """Every line of ``text`` moved right by ``indent`` (blank lines stay blank)."""
    if not indent:
        return text
    moved = indent + text[:-1].replace("\n", "\n" + indent) + "\n"
    blank = "\n" + indent + "\n"
    while blank in moved:  # a blank line inside a quoted scalar
        moved = moved.replace(blank, "\n\n")
    return moved


def _yaml_mapping(mapping: dict[str, Any], indent: str) -> Iterator[str]:
    """The mapping's entries as block YAML at ``indent``; lists that are Items follow their key."""
    plain: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(value, Items):
            plain[key] = value
            continue
        if plain:
            yield _indented(_dump(plain), indent)
            plain = {}
        yield f"{indent}{key}:\n"  # the document's own keys: plain words, never quoted
        yield from _yaml_sequence(value, indent)
    if plain:
        yield _indented(_dump(plain), indent)


def _yaml_sequence(items: Items, indent: str) -> Iterator[str]:
    """A list under a mapping's key, its dashes at the key's indentation (as PyYAML writes it)."""
    written = False
    for batch in items.batches():
        if not batch:
            continue
        written = True
        if items.flat:
            for start in range(0, len(batch), SLICE):
                piece = "".join([_flat_item(item, indent) for item in batch[start : start + SLICE]])
                time.sleep(0)  # see SLICE
                yield piece
            continue
        for item in batch:
            if not item:
                yield f"{indent}- {{}}\n"
                continue
            # The item's entries two columns right, the first one on the dash's line.
            entries = _yaml_mapping(item, indent + "  ")
            first = next(entries)
            yield f"{indent}- {first[len(indent) + 2 :]}"
            yield from entries
    if not written:
        yield f"{indent}  []\n"  # never reached: empty lists are left out of the document


# Text YAML 1.1 reads as JSON does: printable, no line breaks or tabs (a flow value stays on
# its line), no exponent without a dot and a sign (``1e5``: a string in YAML 1.1).
_NOT_AS_JSON = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[0-9][eE]")
# The same test for ASCII text without the regular expression, which costs tens of µs on an
# object's variables (a third of the YAML writer's time): digits become 0, control characters
# are dropped, then two substring searches and a length compare, in C.
_DIGITS_AS_0 = bytes.maketrans(b"123456789", b"000000000")
_CONTROL = bytes(range(0x20)) + b"\x7f"


def _reads_as_json(text: str) -> bool:
    """True unless ``text`` (JSON) holds what :data:`_NOT_AS_JSON` finds."""
    if not text.isascii():
        return _NOT_AS_JSON.search(text) is None
    raw = text.encode("ascii")
    marked = raw.translate(_DIGITS_AS_0, _CONTROL)
    return len(marked) == len(raw) and b"0e" not in marked and b"0E" not in marked


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*\Z")
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


@functools.lru_cache(maxsize=65536)
def _string(text: str) -> str:
    if _PLAIN.match(text) and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG:
        return text
    return _quoted(text)


def _quoted(text: str) -> str:
    quoted = orjson.dumps(text).decode()  # a JSON string is a YAML double-quoted scalar
    return quoted if _reads_as_json(quoted) else _flow(text)


def _value(value: Any) -> str:
    """One value as YAML on one line: JSON where YAML reads it the same, else PyYAML's flow style."""
    if type(value) is str:  # the most common first: names, types, addresses
        return _string(value) if len(value) < 256 else _quoted(value)
    if isinstance(value, RawJSON):
        if _reads_as_json(value.text):
            return value.text
        value = orjson.loads(value.text)
    elif isinstance(value, str):
        return _string(value) if len(value) < 256 else _quoted(value)
    elif value is True:
        return "true"
    elif value is False:
        return "false"
    elif isinstance(value, int):
        return str(value)
    text = orjson.dumps(value).decode()
    return text if _reads_as_json(text) else _flow(value)


class _FlowDumper(_Dumper):
    """Flow style on one line: strings double-quoted, their line breaks escaped."""


def _represent_quoted(dumper: Any, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


_FlowDumper.add_representer(str, _represent_quoted)


def _flow(value: Any) -> str:
    dumped = yaml.dump(
        value, Dumper=_FlowDumper, default_flow_style=True, allow_unicode=False, width=2**30, sort_keys=False
    )
    return str(dumped).removesuffix("\n...\n").removesuffix("\n")


def _flat_item(item: dict[str, Any], indent: str) -> str:
    """A network or device (or interface) as an item of a block sequence whose dash is at ``indent``."""
    lines = []
    prefix = indent + "- "
    rest = indent + "  "
    for key, value in item.items():
        if key == "interfaces" and value:
            lines.append(f"{prefix}interfaces:\n")
            lines.extend(_flat_item(interface, rest) for interface in value)
        else:
            lines.append(f"{prefix}{key}: {_value(value)}\n")
        prefix = rest
    return "".join(lines) if lines else f"{indent}- {{}}\n"
