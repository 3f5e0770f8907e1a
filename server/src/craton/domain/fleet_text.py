"""The fleet document (:mod:`craton.domain.fleet`) written as JSON or YAML, a piece at a time.

The writers walk the document in order and read each :class:`~craton.domain.fleet.Items`
list a batch at a time, so the text of 100,000 devices is never in memory at once.
The JSON is byte for byte what ``orjson.dumps`` of the whole document gives; the YAML
reads as the same document (each batch is dumped by PyYAML and indented to its place
in the nesting, which keeps what every line means).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import yaml

from craton.domain.fleet import Items, RawJSON, json_default

#: Pieces are joined until they are at least this long before they are handed on.
CHUNK_BYTES = 256 * 1024
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
                yield (b"" if first else b",") + orjson.dumps(batch, default=json_default)[1:-1]
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
            yield _indented(_dump(batch), indent)
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
