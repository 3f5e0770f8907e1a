"""The whole fleet as one document: ``GET /v1/export`` and ``POST /v1/import`` (docs/import-export.md)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from cratonclient import crud
from cratonclient import exceptions as exc
from cratonclient.session import json_body

#: What a document is sent as, by format.
MEDIA_TYPES = {"json": "application/json", "yaml": "application/yaml", "csv": "text/csv"}
#: The format of a file, by its suffix.
SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
#: Seconds to wait for the answer to an import: the server checks and writes the whole
#: document before it answers, which takes a while for 100,000 hosts.
IMPORT_TIMEOUT = 900.0
#: Bytes read from a file and sent at a time (and reported to ``progress``).
UPLOAD_CHUNK = 256 * 1024
#: ``progress(sent, total)``: bytes of the body sent so far, and its size (None: not known).
Progress = Callable[[int, "int | None"], None]
IMPORT_MODES = ("create", "upsert", "sync")


class FleetManager(crud.CRUDClient):
    """``craton.fleet``: export the project (or one cloud, region or cell) keyed by names; import a document."""

    base_path = "/export"

    create = crud.unsupported()
    get = crud.unsupported()
    list = crud.unsupported()
    update = crud.unsupported()
    delete = crud.unsupported()

    def export(
        self, cloud_id: int | None = None, region_id: int | None = None, cell_id: int | None = None
    ) -> dict[str, Any]:
        """The fleet document (``format``, ``version``, ``project``, ``clouds``) as a dict."""
        params = crud.encode_query({"cloud_id": cloud_id, "region_id": region_id, "cell_id": cell_id})
        return dict(json_body(self.session.get(self.build_url(), params=params)))

    def export_yaml(self, cloud_id: int | None = None, region_id: int | None = None, cell_id: int | None = None) -> str:
        """The same document as the server writes it in YAML, for saving to a file."""
        params = crud.encode_query({"format": "yaml", "cloud_id": cloud_id, "region_id": region_id, "cell_id": cell_id})
        return str(self.session.get(self.build_url(), params=params).text)

    def export_stream(
        self,
        format: str = "json",
        cloud_id: int | None = None,
        region_id: int | None = None,
        cell_id: int | None = None,
        chunk_size: int = 64 * 1024,
    ) -> Iterator[bytes]:
        """The document's text (``json`` or ``yaml``) as the server sends it, a chunk at a time.

        Nothing is held beyond one chunk, so a fleet of any size can be written to a file::

            with open("fleet.yaml", "wb") as out:
                for chunk in craton.fleet.export_stream("yaml"):
                    out.write(chunk)

        Errors (a 404 subtree, credentials) are raised by the first ``next()``, before any
        chunk; a connection that breaks half-way raises ``ConnectionFailed``.
        """
        if format not in ("json", "yaml"):
            raise ValueError(f"format must be 'json' or 'yaml', not {format!r}")
        params = crud.encode_query({"format": format, "cloud_id": cloud_id, "region_id": region_id, "cell_id": cell_id})
        response = self.session.get(self.build_url(), params=params, stream=True)
        try:
            yield from response.iter_content(chunk_size)
        except OSError as error:  # requests' ChunkedEncodingError and ConnectionError are OSErrors
            raise exc.ConnectionFailed(
                f"The export from {response.url} broke off: {error}", original_exception=error, url=response.url
            ) from error
        finally:
            response.close()

    def import_(
        self,
        document: Any,
        mode: str = "upsert",
        dry_run: bool = False,
        confirm: bool = False,
        format: str | None = None,
        reason: str | None = None,
        progress: Progress | None = None,
        timeout: float | None = IMPORT_TIMEOUT,
    ) -> dict[str, Any]:
        """Import a fleet document (or a CSV host list) into the project: ``POST /v1/import``.

        ``document`` is a dict (sent as JSON), the text of a document (``str`` or ``bytes``),
        a path (``pathlib.Path``, or a one-line ``str`` naming an existing file) or a binary
        file object. ``format`` (``json``, ``yaml`` or ``csv``) defaults to the file's suffix
        (``.json``, ``.yaml``/``.yml``, ``.csv``), else to JSON for text starting with ``{``
        and YAML for other text. A file is sent as it is read, ``UPLOAD_CHUNK`` bytes at a
        time, and ``progress(sent, total)`` is called after each piece.

        ``mode`` is ``upsert`` (default), ``create`` or ``sync`` (which deletes what the
        document does not mention and needs ``confirm=True``); ``dry_run=True`` checks and
        counts without writing. ``reason`` is the change reason of every change it makes.

        Returns the server's counts: ``{"mode", "dry_run", "created", "updated", "deleted",
        "unchanged"}``, each of the last four mapping kinds (``clouds``, ``hosts``...) to a
        number. A refused document raises ``BadRequest`` whose ``errors`` lists every problem
        as ``{"where": ..., "message": ...}``.
        """
        if mode not in IMPORT_MODES:
            raise ValueError(f"mode must be one of {', '.join(IMPORT_MODES)}, not {mode!r}")
        params = crud.encode_query({"mode": mode, "dry_run": dry_run, "confirm": True if confirm else None})
        url = f"{self.url}/import"
        with contextlib.ExitStack() as stack:
            body, format = _upload(document, format, stack)
            data: Any = _Body(body, progress)
            if data.total is None:
                data = iter(data)  # size unknown (a pipe): sent chunked
            headers = {"Content-Type": MEDIA_TYPES[format]}
            if reason is not None:
                stack.enter_context(self.session.reason(reason))
            response = self.session.post(url, params=params, data=data, headers=headers, timeout=timeout)
        answer = json_body(response)
        if not isinstance(answer, dict) or not isinstance(answer.get("import"), dict):
            raise exc.InvalidResponse("The import answer has no 'import' object", response=response)
        return dict(answer["import"])


def _upload(document: Any, format: str | None, stack: contextlib.ExitStack) -> tuple[IO[bytes], str]:
    """The body to send as a binary file positioned at its start, and its format."""
    if format is not None and format not in MEDIA_TYPES:
        raise ValueError(f"format must be one of {', '.join(MEDIA_TYPES)}, not {format!r}")
    if isinstance(document, (dict, list)):
        if format not in (None, "json"):
            raise ValueError("a dict is sent as JSON: leave format out or give 'json'")
        return io.BytesIO(json.dumps(document).encode()), "json"
    if isinstance(document, str) and "\n" not in document and document.strip() and os.path.isfile(document):
        document = Path(document)
    if isinstance(document, os.PathLike):
        path = Path(document)
        found = format or SUFFIXES.get(path.suffix.lower())
        if found is None:
            raise ValueError(f"cannot tell the format of {path.name}: give format='json', 'yaml' or 'csv'")
        return stack.enter_context(path.open("rb")), found
    if isinstance(document, str):
        document = document.encode()
    if isinstance(document, (bytes, bytearray, memoryview)):
        data = bytes(document)
        return io.BytesIO(data), format or _sniffed(data)
    if hasattr(document, "read"):
        name = getattr(document, "name", None)
        found = format or (SUFFIXES.get(Path(name).suffix.lower()) if isinstance(name, str) else None)
        if found is None:
            raise ValueError("cannot tell the format of a file object without a name: give format=")
        if isinstance(document, io.TextIOBase):
            raise TypeError("open the file in binary mode ('rb'): it is sent as it is")
        return document, found
    raise TypeError(f"cannot import a {type(document).__name__}: give a dict, text, bytes, a path or a file")


def _sniffed(data: bytes) -> str:
    return "json" if data.lstrip()[:1] in (b"{", b"[") else "yaml"


class _Body:
    """A request body read from a file a piece at a time, reporting progress.

    With ``__len__`` requests sends a Content-Length and then iterates; iterating again
    (a request sent a second time) starts from the beginning when the file can seek.
    """

    def __init__(self, source: IO[bytes], progress: Progress | None) -> None:
        self.source = source
        self.progress = progress
        self.start: int | None = None
        self.total: int | None = None
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if source.seekable():
                self.start = source.tell()
                self.total = os.fstat(source.fileno()).st_size - self.start
        if self.total is None and isinstance(source, io.BytesIO):
            self.start = source.tell()
            self.total = len(source.getbuffer()) - self.start

    def __len__(self) -> int:
        return self.total or 0

    def __iter__(self) -> Iterator[bytes]:
        if self.start is not None:
            self.source.seek(self.start)
        sent = 0
        if self.progress is not None:
            self.progress(0, self.total)
        while chunk := self.source.read(UPLOAD_CHUNK):
            yield chunk
            sent += len(chunk)
            if self.progress is not None:
                self.progress(sent, self.total)


__all__ = ["IMPORT_MODES", "IMPORT_TIMEOUT", "MEDIA_TYPES", "SUFFIXES", "FleetManager"]
