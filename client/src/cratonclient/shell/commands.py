"""The model every ``craton`` subcommand is built from.

A :class:`Command` is data: a name, its arguments and a handler. Handlers receive a
:class:`Context` (the client, stdin, progress reporting) and return a result object; they never
print. ``main`` owns parsing, output and error reporting, so all of that behaves the same for
every command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

T = TypeVar("T")

# Marks an option whose value must be sent as JSON null (e.g. ``--no-parent``); ``None`` already
# means "option not given".
NULL: Any = type("NullType", (), {"__repr__": lambda self: "NULL"})()


@dataclass(frozen=True)
class Arg:
    """One argparse argument, plus how its value reaches the server.

    ``flags`` and ``options`` go to ``add_argument`` unchanged. ``convert`` turns the parsed
    value into what is sent, e.g. joining ``--vars`` groups into one query string. ``ref``
    names the kind of object the value refers to (``cloud``, ``cell``, ``device``...): such
    a value may be an id or a name, resolved to an id before the command runs
    (see :mod:`cratonclient.shell.names`).
    """

    flags: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    convert: Callable[[Any], Any] | None = None
    ref: str | None = None

    @property
    def dest(self) -> str:
        """The namespace attribute argparse stores the value in (also the wire key)."""
        if "dest" in self.options:
            return str(self.options["dest"])
        longest = max(self.flags, key=len)
        return longest.lstrip("-").replace("-", "_")

    def value(self, args: argparse.Namespace) -> Any:
        """The parsed value, converted for the wire; ``None`` when the option was not given."""
        raw = getattr(args, self.dest, None)
        if raw is None or self.convert is None:
            return raw
        return self.convert(raw)


def arg(*flags: str, convert: Callable[[Any], Any] | None = None, ref: str | None = None, **options: Any) -> Arg:
    """Declare an argument with ``add_argument``'s own signature."""
    return Arg(tuple(flags), options, convert, ref)


def collect(arguments: Iterable[Arg], args: argparse.Namespace) -> dict[str, Any]:
    """Every given argument as ``{wire key: value}``, with :data:`NULL` turned into ``None``."""
    values: dict[str, Any] = {}
    for argument in arguments:
        value = argument.value(args)
        if value is not None:
            values[argument.dest] = None if value is NULL else value
    return values


# --- results: what a handler returns and a formatter renders -------------------------------


@dataclass
class ObjectResult:
    """A single resource; ``message`` is printed before it (to stderr for machine formats)."""

    data: Mapping[str, Any]
    message: str | None = None


#: How a table shows one row, when plain cell rendering would not do (e.g. typed values).
Display = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass
class ListResult:
    """Several resources and the columns a table should show for them.

    ``display`` rewrites each row for tables only (machine formats get the data as is);
    ``message`` is printed before the list, like :class:`ObjectResult`'s.
    """

    items: Sequence[Mapping[str, Any]]
    fields: Sequence[str]
    display: Display | None = None
    message: str | None = None


@dataclass
class StreamResult:
    """Rows that keep arriving (``changes --follow``): each batch is printed as it comes."""

    batches: Iterable[Sequence[Mapping[str, Any]]]
    fields: Sequence[str]
    display: Display | None = None


@dataclass
class VariablesResult:
    """A variables mapping; ``message`` is printed before it, like :class:`ObjectResult`'s."""

    variables: Mapping[str, Any]
    message: str | None = None


@dataclass
class ValuesResult:
    """A plain list of strings, such as a device's labels; ``name`` heads the table column."""

    name: str
    values: Sequence[str]


@dataclass
class DocumentResult:
    """A free-form document such as the Ansible inventory."""

    data: Any


@dataclass
class TextResult:
    """Text written to stdout verbatim whatever the format (help, completion scripts)."""

    text: str


@dataclass
class PreviewResult:
    """What a write would do (``--preview``, see :mod:`cratonclient.shell.preview`): a table of
    devices and a ``summary`` line after it; machine formats print ``document``, the server's
    whole answer, instead (CSV, which cannot nest, the table's rows)."""

    items: Sequence[Mapping[str, Any]]
    fields: Sequence[str]
    summary: str
    document: Mapping[str, Any]
    display: Display | None = None


@dataclass
class BytesResult:
    """Text the server wrote (an exported document), copied to stdout a chunk at a time as
    it arrives, whatever the format: the whole of it is never held."""

    chunks: Iterable[bytes]


@dataclass
class MessageResult:
    """Only a confirmation, e.g. after a delete."""

    text: str


Result = (
    ObjectResult
    | ListResult
    | StreamResult
    | VariablesResult
    | ValuesResult
    | DocumentResult
    | MessageResult
    | TextResult
    | PreviewResult
    | BytesResult
)


class Context:
    """What a handler may use: the API client (built on first use), stdin and progress output.

    The client is built lazily so commands that never talk to the server (``help``,
    ``completion``) work without a URL or credentials.
    """

    def __init__(
        self,
        client_factory: Callable[[], Any],
        stdin: IO[str],
        stderr: IO[str],
        options: argparse.Namespace,
        stdout: IO[str] | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self.stdin = stdin
        self.stderr = stderr
        self.stdout = stdout
        self.options = options
        #: Said on stderr after the output (``warn``), e.g. that a list was cut by paging.
        self.afterwords: list[str] = []
        #: What resolved the names of this command line (a ``names.Resolver``), if any.
        self.resolver: Any = None

    @property
    def client(self) -> Any:
        """The ``cratonclient.v1.client.Client`` for this invocation."""
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def stdin_is_tty(self) -> bool:
        """Whether a person is typing: piped input is read as JSON by the vars commands."""
        try:
            return bool(self.stdin.isatty())
        except (AttributeError, ValueError):
            return False

    def stderr_is_tty(self) -> bool:
        """Progress and hints only make sense when a person watches stderr."""
        try:
            return bool(self.stderr.isatty())
        except (AttributeError, ValueError):
            return False

    def ask(self, question: str) -> str:
        """Ask the person at the terminal (on stderr) and return the line typed on stdin."""
        self.stderr.write(question)
        self.stderr.flush()
        return self.stdin.readline()

    def stdout_is_tty(self) -> bool:
        """Whether a person reads the output (lists then show one page at a time)."""
        try:
            return bool(self.stdout is not None and self.stdout.isatty())
        except (AttributeError, ValueError):
            return False

    def note(self, text: str) -> None:
        """A hint for the person at the terminal, after the output; silent when stderr is
        redirected."""
        if self.stderr_is_tty():
            self.afterwords.append(text)

    def warn(self, text: str) -> None:
        """Something the reader must know about the output (it is incomplete...): printed on
        stderr after the output, whether or not stderr is a terminal."""
        self.afterwords.append(text)

    def track(self, items: Iterable[T], what: str, enabled: bool = True) -> Iterator[T]:
        """Yield ``items`` while counting them on stderr, for long ``--all`` fetches."""
        if not (enabled and self.stderr_is_tty()):
            yield from items
            return
        count = 0
        try:
            for item in items:
                count += 1
                if count % 50 == 0:
                    self.stderr.write(f"\rFetching {what}... {count}")
                    self.stderr.flush()
                yield item
        finally:
            if count >= 50:
                # Clear the progress line so it never mixes with the table that follows.
                self.stderr.write("\r\033[K")
                self.stderr.flush()


Handler = Callable[[Context, argparse.Namespace], Result]


@dataclass(frozen=True)
class Command:
    """A subcommand: ``craton <name> <arguments>`` runs ``handler``."""

    name: str
    summary: str
    handler: Handler
    arguments: tuple[Arg, ...] = ()
    description: str | None = None
    epilog: str | None = None


def by_name(commands: Iterable[Command]) -> dict[str, Command]:
    """Index commands by name, refusing duplicates so two modules cannot shadow each other."""
    index: dict[str, Command] = {}
    for command in commands:
        if command.name in index:
            raise ValueError(f"duplicate command {command.name!r}")
        index[command.name] = command
    return index
