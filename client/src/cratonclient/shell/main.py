"""The ``craton`` command: parse the command line, run one command, report the outcome.

Exit status: 0 on success; 1 when the server refuses the request, cannot be reached, or the
credentials are missing (``ERROR: <message>`` on stderr); 2 for a wrong command line (usage
line, error and a hint on stderr); 130 when interrupted. Expected failures never show a
traceback; ``--debug`` shows one for anything else.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, NoReturn

import cratonclient
from cratonclient import exceptions
from cratonclient.auth import KeystoneUnreachable
from cratonclient.formatters import FORMATTERS, UnsupportedOutput, get_formatter
from cratonclient.formatters.base import Formatter
from cratonclient.shell import cliutils, completion, names, v1
from cratonclient.shell.commands import (
    Arg,
    BytesResult,
    Command,
    Context,
    Display,
    DocumentResult,
    ListResult,
    MessageResult,
    ObjectResult,
    PreviewResult,
    Result,
    StreamResult,
    TextResult,
    ValuesResult,
    VariablesResult,
    arg,
    by_name,
)
from cratonclient.shell.errors import UsageError

PROG = "craton"
SUPPORTED_API_VERSIONS = (1,)


def global_arguments(environ: Mapping[str, str]) -> tuple[Arg, ...]:
    """Options accepted before (and, for convenience, after) the subcommand.

    Defaults from the environment stay strings: argparse converts them like typed values, so
    a bad ``CRATON_TIMEOUT`` is a usage error rather than a crash.
    """
    return (
        arg(
            "-f",
            "--format",
            choices=tuple(FORMATTERS),
            default="default",
            help="Output format: tables for people, json/yaml/csv for scripts (default: table).",
        ),
        arg(
            "-c",
            "--column",
            action=ColumnAction,
            metavar="COLUMN",
            help="Show only this column (repeat for several; comma separated also works), as "
            "--fields does for lists; on a command with --cell, '-c N' with a number N is "
            "--cell N, as in the original tool.",
        ),
        arg(
            "--craton-url",
            default=cliutils.env(environ, "CRATON_URL"),
            metavar="URL",
            help="Base URL of the Craton API, e.g. http://craton:7780 (env CRATON_URL).",
        ),
        arg(
            "--craton-version",
            type=int,
            default=cliutils.env(environ, "CRATON_VERSION", default="1"),
            metavar="N",
            help="API version (env CRATON_VERSION; only 1 exists).",
        ),
        arg(
            "--os-username",
            default=cliutils.env(environ, "OS_USERNAME"),
            metavar="NAME",
            help="Craton username, or Keystone username with --os-auth-url (env OS_USERNAME).",
        ),
        arg(
            "--os-password",
            default=cliutils.env(environ, "OS_PASSWORD"),
            metavar="API_KEY",
            help="The user's API key, or Keystone password with --os-auth-url (env OS_PASSWORD).",
        ),
        arg(
            "--os-project-id",
            default=cliutils.env(environ, "OS_PROJECT_ID"),
            metavar="ID_OR_NAME",
            help="Project to work in, by UUID or name (env OS_PROJECT_ID).",
        ),
        arg(
            "--os-auth-url",
            default=cliutils.env(environ, "OS_AUTH_URL"),
            metavar="URL",
            help="Keystone v3 URL, e.g. https://keystone:5000/v3: authenticate with Keystone "
            "instead of an API key (env OS_AUTH_URL).",
        ),
        arg(
            "--os-project-name",
            default=cliutils.env(environ, "OS_PROJECT_NAME"),
            metavar="NAME",
            help="Keystone project, by name instead of --os-project-id (env OS_PROJECT_NAME).",
        ),
        arg(
            "--os-user-domain-name",
            default=cliutils.env(environ, "OS_USER_DOMAIN_NAME"),
            metavar="NAME",
            help="Keystone domain of the user (env OS_USER_DOMAIN_NAME).",
        ),
        arg(
            "--os-user-domain-id",
            default=cliutils.env(environ, "OS_USER_DOMAIN_ID"),
            metavar="ID",
            help="Keystone domain of the user, by id (env OS_USER_DOMAIN_ID; default: the 'default' domain).",
        ),
        arg(
            "--os-project-domain-name",
            default=cliutils.env(environ, "OS_PROJECT_DOMAIN_NAME"),
            metavar="NAME",
            help="Keystone domain of the project (env OS_PROJECT_DOMAIN_NAME).",
        ),
        arg(
            "--os-project-domain-id",
            default=cliutils.env(environ, "OS_PROJECT_DOMAIN_ID"),
            metavar="ID",
            help="Keystone domain of the project, by id (env OS_PROJECT_DOMAIN_ID; default: the 'default' domain).",
        ),
        arg(
            "--os-cacert",
            default=cliutils.env(environ, "OS_CACERT"),
            metavar="FILE",
            help="CA bundle to verify the server's TLS certificate (env OS_CACERT).",
        ),
        arg("--insecure", action="store_true", help="Do not verify the server's TLS certificate."),
        arg(
            "--timeout",
            type=float,
            default=cliutils.env(environ, "CRATON_TIMEOUT", default="30"),
            metavar="SECONDS",
            help="Give up on a request after this long (env CRATON_TIMEOUT, default 30).",
        ),
        arg(
            "--reason",
            type=_reason,
            default=cliutils.env(environ, "CRATON_CHANGE_REASON"),
            metavar="TEXT",
            help="Why you make this change: recorded with every change the "
            "command makes, shown by *-history and changes (env CRATON_CHANGE_REASON).",
        ),
        arg("--debug", action="store_true", help="Show tracebacks and request details on errors."),
    )


class ColumnAction(argparse.Action):
    """``-c/--column``: appends a column; ``-c 7`` keeps meaning ``--cell 7`` where a command
    has ``--cell`` (the original tool's short option, which only ever took a number)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        text = str(values)
        if option_string == "-c" and text.isdigit() and hasattr(namespace, "cell_id"):
            namespace.cell_id = text
            return
        previous = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, [*(previous or []), text])


def _reason(text: str) -> str:
    if any(char in text for char in "\r\n\0"):
        raise ValueError(text)
    return text.strip()


_reason.__name__ = "single-line reason"  # argparse: "invalid single-line reason value"


class CratonArgumentParser(argparse.ArgumentParser):
    """argparse with a hint under every error, and short messages for unknown commands."""

    hint: str = f"Try '{PROG} help' for more information."
    command_names: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        unknown = re.search(r"invalid choice: '([^']*)'", message)
        if unknown and self.command_names:
            message = unknown_command_message(unknown.group(1), self.command_names)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n{self.hint}\n")


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    # Wide enough for the longest command name, so every summary stays on its line.
    return argparse.HelpFormatter(prog, max_help_position=36)


def unknown_command_message(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    suggestion = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"unknown command '{name}'{suggestion}"


class CratonShell:
    """One invocation of the CLI, with its streams and environment injectable for tests."""

    def __init__(
        self,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        environ: Mapping[str, str] | None = None,
        client_factory: Callable[[argparse.Namespace], Any] | None = None,
    ) -> None:
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.environ = environ if environ is not None else os.environ
        self.client_factory = client_factory or default_client
        self.commands = by_name([*v1.commands(), *self._builtin_commands()])
        self.globals = global_arguments(self.environ)
        self.parser = self._build_parser()

    # --- parser ------------------------------------------------------------------------------

    def _builtin_commands(self) -> list[Command]:
        return [
            Command(
                name="help",
                summary="Show help for the CLI or for one command.",
                handler=self._help,
                arguments=(arg("subject", nargs="?", metavar="<command>", help="Command to describe."),),
            ),
            Command(
                name="completion",
                summary="Print a shell completion script (bash or zsh).",
                handler=self._completion,
                arguments=(arg("shell", choices=("bash", "zsh"), help="Shell to complete for."),),
                description="Print a completion script. Load it with: "
                'eval "$(craton completion bash)" in ~/.bashrc, or '
                'eval "$(craton completion zsh)" in ~/.zshrc.',
            ),
        ]

    def _build_parser(self) -> CratonArgumentParser:
        parser = CratonArgumentParser(
            prog=PROG,
            description="Command-line interface to Craton, the fleet inventory service.",
            epilog=f"See '{PROG} help <command>' (or '{PROG} <command> --help') for the options of a command.",
            formatter_class=_help_formatter,
        )
        parser.command_names = sorted(self.commands)
        parser.add_argument("--version", action="version", version=cratonclient.__version__)
        for option in self.globals:
            parser.add_argument(*option.flags, **option.options)
        # The same options after the subcommand, hidden from its help; SUPPRESS keeps a value
        # given before the subcommand from being reset to the default.
        shared = CratonArgumentParser(add_help=False)
        for option in self.globals:
            hidden = {k: v for k, v in option.options.items() if k != "default"}
            shared.add_argument(*option.flags, **hidden, default=argparse.SUPPRESS)
            shared._actions[-1].help = argparse.SUPPRESS
        subparsers = parser.add_subparsers(dest="command", metavar="<command>", title="commands")
        for command in self.commands.values():
            sub = subparsers.add_parser(
                command.name,
                help=command.summary,
                description=command.description or command.summary,
                epilog=command.epilog,
                parents=[shared],
                formatter_class=_help_formatter,
            )
            assert isinstance(sub, CratonArgumentParser)
            subject = "" if command.name == "help" else f" {command.name}"
            sub.hint = f"Try '{PROG} help{subject}' for more information."
            for option in command.arguments:
                sub.add_argument(*option.flags, **option.options)
            sub.set_defaults(_command=command)
        return parser

    # --- running -----------------------------------------------------------------------------

    def run(self, argv: Sequence[str]) -> int:
        """Run one command line and return the exit status."""
        try:
            with contextlib.redirect_stdout(self.stdout), contextlib.redirect_stderr(self.stderr):
                args, extras = self.parser.parse_known_args(list(argv))
                if extras:
                    # Report unknown options against the subcommand, with its usage and hint.
                    parser = self._subparser(args.command) if args.command else self.parser
                    parser.error(f"unrecognized arguments: {' '.join(extras)}")
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 1
        if args.command is None:
            self.parser.print_help(self.stdout)
            return 0
        return self._execute(args)

    def _execute(self, args: argparse.Namespace) -> int:
        command: Command = args._command
        try:
            if args.craton_version not in SUPPORTED_API_VERSIONS:
                raise UsageError(
                    f"unsupported API version {args.craton_version} (supported: "
                    f"{', '.join(map(str, SUPPORTED_API_VERSIONS))})"
                )
            formatter = get_formatter(args.format)
            context = Context(lambda: self.client_factory(args), self.stdin, self.stderr, args, stdout=self.stdout)
            context.resolver = names.resolve(context, command.arguments, args)
            result = _columns(command.handler(context, args), cliutils.split_list(getattr(args, "column", None)))
            self._render(result, formatter)
            for line in context.afterwords:
                print(line, file=self.stderr)
            return 0
        except UsageError as error:
            return self._usage_error(command, error.message)
        except UnsupportedOutput as error:
            return self._usage_error(command, f"--format {args.format}: {error}")
        except KeystoneUnreachable as error:
            return self._fail(args, error, connection_message(error.auth_url, error, "Keystone"))
        except exceptions.ConnectionFailed as error:
            return self._fail(args, error, connection_message(error.url or args.craton_url, error))
        except exceptions.Unauthorized as error:
            return self._fail(args, error, f"{error.explanation} ({credentials_tried(args, error)})")
        except exceptions.ClientException as error:
            return self._fail(args, error, error.explanation or type(error).__name__)
        except KeyboardInterrupt:
            print("Interrupted.", file=self.stderr)
            return 130
        except BrokenPipeError:
            raise
        except Exception as error:
            return self._fail(
                args,
                error,
                f"unexpected {type(error).__name__}: {error} (run with --debug for details)",
            )

    def _render(self, result: Result, formatter: Formatter) -> None:
        # Machine formats keep stdout parseable: confirmations go to stderr there.
        notes = self.stderr if formatter.machine_readable else self.stdout
        if isinstance(result, TextResult):
            self.stdout.write(result.text)
        elif isinstance(result, BytesResult):
            self._write_bytes(result.chunks)
        elif isinstance(result, MessageResult):
            print(result.text, file=notes)
        elif isinstance(result, StreamResult):
            batches = (_displayed(batch, result.display, formatter) for batch in result.batches)
            for text in formatter.format_stream(batches, result.fields):
                print(text, file=self.stdout)
                self.stdout.flush()  # each batch shows as soon as it arrives
        elif isinstance(result, PreviewResult):
            print(self._previewed(result, formatter), file=self.stdout)
            print(result.summary, file=notes)
        else:
            message = getattr(result, "message", None)
            if message:
                print(message, file=notes)
            print(self._formatted(result, formatter), file=self.stdout)
        self.stdout.flush()

    def _write_bytes(self, chunks: Iterable[bytes]) -> None:
        binary = getattr(self.stdout, "buffer", None)
        self.stdout.flush()
        last = b""
        for chunk in chunks:
            if binary is not None:
                binary.write(chunk)
            else:  # a text stream without a buffer (tests): the server writes UTF-8
                self.stdout.write(chunk.decode())
            last = chunk or last
        if binary is not None:
            binary.flush()
        if last and not last.endswith(b"\n"):  # a JSON document ends without one
            self.stdout.write("\n")

    @staticmethod
    def _previewed(result: PreviewResult, formatter: Formatter) -> str:
        """The server's whole answer in machine formats; the device table otherwise (and in CSV)."""
        if formatter.machine_readable:
            with contextlib.suppress(UnsupportedOutput):
                return formatter.format_document(result.document)
        rows = [result.display(item) for item in result.items] if result.display else result.items
        return formatter.format_list(rows, result.fields)

    @staticmethod
    def _formatted(result: Result, formatter: Formatter) -> str:
        if isinstance(result, ObjectResult):
            return formatter.format_object(result.data)
        if isinstance(result, ListResult):
            return formatter.format_list(_displayed(result.items, result.display, formatter), result.fields)
        if isinstance(result, VariablesResult):
            return formatter.format_variables(result.variables)
        if isinstance(result, ValuesResult):
            return formatter.format_values(result.name, result.values)
        assert isinstance(result, DocumentResult), result
        return formatter.format_document(result.data)

    def _usage_error(self, command: Command, message: str) -> int:
        subparser = self._subparser(command.name)
        subparser.print_usage(self.stderr)
        print(f"{subparser.prog}: error: {message}", file=self.stderr)
        print(subparser.hint, file=self.stderr)
        return 2

    def _fail(self, args: argparse.Namespace, error: BaseException, message: str) -> int:
        print(f"ERROR: {message}", file=self.stderr)
        if getattr(args, "debug", False):
            if isinstance(error, exceptions.ClientException) and error.status_code is not None:
                print(f"DEBUG: HTTP {error.status_code}, request id {error.request_id}", file=self.stderr)
            traceback.print_exception(error, file=self.stderr)
        return 1

    def _subparser(self, name: str) -> CratonArgumentParser:
        for action in self.parser._subparsers._group_actions if self.parser._subparsers else ():
            choices = getattr(action, "choices", None)
            if choices and name in choices:
                return choices[name]  # type: ignore[no-any-return]
        raise KeyError(name)

    # --- built-in commands -------------------------------------------------------------------

    def _help(self, ctx: Context, args: argparse.Namespace) -> TextResult:
        if args.subject is None:
            return TextResult(self.parser.format_help())
        if args.subject not in self.commands:
            raise UsageError(unknown_command_message(args.subject, sorted(self.commands)))
        return TextResult(self._subparser(args.subject).format_help())

    def _completion(self, ctx: Context, args: argparse.Namespace) -> TextResult:
        generate = completion.bash_script if args.shell == "bash" else completion.zsh_script
        return TextResult(generate(PROG, list(self.commands.values()), self.globals))


def _columns(result: Result, columns: Sequence[str]) -> Result:
    """Apply ``-c/--column``: the object's rows, or the list's columns, that were asked for."""
    if not columns:
        return result
    if isinstance(result, ObjectResult):
        unknown = [name for name in columns if name not in result.data]
        if unknown:
            raise UsageError(f"invalid column {unknown[0]!r}; choose from: {', '.join(sorted(result.data))}")
        return dataclasses.replace(result, data={name: result.data[name] for name in columns})
    if isinstance(result, (ListResult, PreviewResult)) and list(result.fields) != list(columns):
        unknown = [name for name in columns if name not in result.fields]
        if unknown:
            raise UsageError(f"invalid column {unknown[0]!r}; choose from: {', '.join(result.fields)}")
        return dataclasses.replace(result, fields=list(columns))
    return result


def _displayed(
    items: Sequence[Mapping[str, Any]], display: Display | None, formatter: Formatter
) -> Sequence[Mapping[str, Any]]:
    """Rows as a table shows them; machine formats keep the data as it is."""
    if display is None or formatter.machine_readable:
        return items
    return [display(item) for item in items]


def default_client(options: argparse.Namespace) -> Any:
    """The real API client; only built when a command needs the server."""
    # Imported here so help, completion and usage errors never load the HTTP stack.
    from cratonclient.shell import auth
    from cratonclient.v1 import client

    if not options.craton_url:
        raise exceptions.CommandError("no Craton URL: pass --craton-url or set CRATON_URL")
    try:
        session = auth.build_session(options)
        # --reason / CRATON_CHANGE_REASON: recorded with every change, however we authenticate.
        session.change_reason = getattr(options, "reason", None) or None
        return client.Client(session=session, url=options.craton_url)
    except ValueError as error:
        raise exceptions.CommandError(str(error)) from None


def credentials_tried(options: argparse.Namespace, error: exceptions.ClientException) -> str:
    """``tried http://.../v1/clouds as user 'root' of project <id>``: what a 401 refused."""
    url = error.url or options.craton_url
    if getattr(options, "os_auth_url", None):
        return f"tried {url} with a Keystone token for user {options.os_username!r} from {options.os_auth_url}"
    return f"tried {url} as user {options.os_username!r} of project {options.os_project_id}"


def connection_message(url: str | None, error: BaseException, service: str = "Craton") -> str:
    """``could not connect to Craton at <url>: <root cause>``, without urllib3's noise."""
    return f"could not connect to {service} at {url}: {root_cause(error)}"


def root_cause(error: BaseException) -> str:
    """The innermost operating-system reason (``Connection refused``), else the error text."""
    seen: set[int] = set()
    best: str | None = None
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            best = current.strerror
        for nested in (
            getattr(current, "original_exception", None),
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
            *getattr(current, "args", ()),
        ):
            if isinstance(nested, BaseException):
                pending.append(nested)
    return best or str(error)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: ``craton = cratonclient.shell.main:main``."""
    try:
        return CratonShell().run(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        # The reader went away (``craton host-list | head``); that is not an error to report.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
