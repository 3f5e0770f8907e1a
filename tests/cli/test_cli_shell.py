"""The shell in-process, against a recording fake client: what each command line asks for.

These pin the mapping from flags to library calls (and so to query parameters and bodies) for
the original command lines, without a server. tests/cli/test_cli_live.py runs the same
commands against a real craton-api.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from cratonclient import exceptions
from cratonclient.shell.main import CratonShell, root_cause

ENV = {"CRATON_URL": "http://craton.test:7780", "OS_USERNAME": "u", "OS_PASSWORD": "k", "OS_PROJECT_ID": "p"}


class FakeResource:
    def __init__(self, info: dict[str, Any], manager: FakeManager) -> None:
        self._info = info
        self.variables = FakeVariables(manager, info.get("id"))

    def to_dict(self) -> dict[str, Any]:
        return dict(self._info)


class FakeVariables:
    def __init__(self, manager: FakeManager, item_id: Any) -> None:
        self.manager, self.item_id = manager, item_id

    def get(self, resolved: bool | None = None) -> Any:
        self.manager.record("variables.get", self.item_id, resolved=resolved)
        return _Mapping({"a": 1})

    def update(self, variables: dict[str, Any]) -> Any:
        self.manager.record("variables.update", self.item_id, **variables)
        return _Mapping(variables)

    def delete(self, *keys: str) -> bool:
        self.manager.record("variables.delete", self.item_id, keys=keys)
        return True


class _Mapping(dict):  # type: ignore[type-arg]
    def to_dict(self) -> dict[str, Any]:
        return dict(self)


class FakeLabels:
    def __init__(self, manager: FakeManager, item_id: Any) -> None:
        self.manager, self.item_id = manager, item_id

    def get(self) -> list[str]:
        return ["b", "a"]

    def update(self, *labels: str) -> list[str]:
        self.manager.record("labels.update", self.item_id, labels=labels)
        return ["a", "b", *labels]

    def delete(self, *labels: str) -> bool:
        self.manager.record("labels.delete", self.item_id, labels=labels)
        return True


class FakeManager:
    def __init__(self, name: str, calls: list[tuple[Any, ...]], items: int) -> None:
        self.name, self.calls, self.items = name, calls, items

    def record(self, operation: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((self.name, operation, *args, kwargs))

    def list(self, **kwargs: Any) -> FakeListing:
        self.record("list", **kwargs)
        shown = self.items if kwargs.get("autopaginate", True) or not kwargs.get("limit") else kwargs["limit"]
        count = min(shown, self.items)
        items = [FakeResource({"id": i, "name": f"{self.name}-{i}"}, self) for i in range(1, count + 1)]
        return FakeListing(items, more=self.items > shown)

    def find(self, name: str, **filters: Any) -> FakeResource:
        self.record("find", name, **filters)
        if name == "twins":
            raise exceptions.NoUniqueMatch(f"2 {self.name} are named 'twins'; give the id of one of them: 5, 6")
        return FakeResource({"id": 40 + len(self.calls), "name": name, "cloud_id": 1, "region_id": 2}, self)

    def find_all(self, name: str, **filters: Any) -> list[FakeResource]:
        self.record("find_all", name, **filters)
        return [FakeResource({"id": 7, "name": name}, self)] if self.name == "network_devices" else []

    def rotate_key(self, item_id: Any, **kwargs: Any) -> FakeResource:
        self.record("rotate_key", item_id, **kwargs)
        return FakeResource({"id": item_id, "username": "bob", "api_key": "NEWKEY"}, self)

    def get(self, item_id: Any, **kwargs: Any) -> FakeResource:
        self.record("get", item_id, **kwargs)
        placement = {"cloud_id": 1} if self.name == "regions" else {}
        return FakeResource({"id": item_id, "name": "x", **placement}, self)

    def create(self, **kwargs: Any) -> FakeResource:
        self.record("create", **kwargs)
        return FakeResource({"id": 1, **kwargs}, self)

    def update(self, item_id: Any, **kwargs: Any) -> FakeResource:
        self.record("update", item_id, **kwargs)
        return FakeResource({"id": item_id, **kwargs}, self)

    def delete(self, item_id: Any, preview: bool = False) -> Any:
        if preview:  # nothing below the object: the CLI then deletes without asking
            self.record("preview", item_id)
            return {self.name: 1}
        self.record("delete", item_id)
        return True

    def labels(self, item_id: Any) -> FakeLabels:
        return FakeLabels(self, item_id)


class FakeListing:
    """What the library's list() returns: an iterator that knows whether more items follow."""

    def __init__(self, items: list[FakeResource], more: bool) -> None:
        self._items = iter(items)
        self.more = more
        self.next_marker = items[-1].to_dict()["id"] if items else None

    def __iter__(self) -> FakeListing:
        return self

    def __next__(self) -> FakeResource:
        return next(self._items)


class FakeClient:
    def __init__(self, items: int = 2) -> None:
        self.calls: list[tuple[Any, ...]] = []
        for name in (
            "projects",
            "users",
            "clouds",
            "regions",
            "cells",
            "hosts",
            "network_devices",
            "networks",
            "network_interfaces",
            "devices",
        ):
            setattr(self, name, FakeManager(name, self.calls, items))


class TTYStream(io.StringIO):
    def isatty(self) -> bool:
        return True


class Run:
    def __init__(self, code: int, out: str, err: str, client: FakeClient) -> None:
        self.code, self.out, self.err, self.client = code, out, err, client

    @property
    def calls(self) -> list[tuple[Any, ...]]:
        return self.client.calls


def run(
    *argv: str,
    stdin: io.StringIO | None = None,
    stderr: io.StringIO | None = None,
    items: int = 2,
    env: dict[str, str] | None = None,
) -> Run:
    client = FakeClient(items)
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    shell = CratonShell(
        stdin=stdin if stdin is not None else io.StringIO(""),
        stdout=out,
        stderr=err,
        environ=ENV if env is None else env,
        client_factory=lambda options: client,
    )
    code = shell.run(list(argv))
    return Run(code, out.getvalue(), err.getvalue(), client)


# --- the original command lines, flag by flag --------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["project-list", "-n", "ops"],
            ("projects", "list", {"autopaginate": True, "marker": None, "limit": 100, "name": "ops"}),
        ),
        (["project-create", "-n", "ops"], ("projects", "create", {"name": "ops"})),
        (["cloud-create", "-n", "c", "--note", "n"], ("clouds", "create", {"name": "c", "note": "n"})),
        (["cloud-update", "4", "-n", "c2"], ("clouds", "update", 4, {"name": "c2"})),
        (["region-create", "-n", "r", "--cloud", "1"], ("regions", "create", {"name": "r", "cloud_id": 1})),
        (
            ["cell-create", "-n", "c", "-r", "2", "--cloud", "1", "--note", "x"],
            ("cells", "create", {"name": "c", "region_id": 2, "cloud_id": 1, "note": "x"}),
        ),
        (
            ["host-create", "-n", "h", "-i", "10.0.0.1", "-r", "2", "--cloud", "1", "-t", "server"],
            (
                "hosts",
                "create",
                {
                    "name": "h",
                    "ip_address": "10.0.0.1",
                    "region_id": 2,
                    "cloud_id": 1,
                    "device_type": "server",
                    "active": True,
                },
            ),
        ),
        (
            [
                "host-create",
                "-n",
                "h",
                "--ip_address",
                "10.0.0.1",
                "--region",
                "2",
                "--cloud",
                "1",
                "--type",
                "vm",
                "-c",
                "3",
                "-a",
                "false",
                "--note",
                "n",
                "-l",
                "x,y",
                "-l",
                "z",
            ],
            (
                "hosts",
                "create",
                {
                    "name": "h",
                    "ip_address": "10.0.0.1",
                    "region_id": 2,
                    "cloud_id": 1,
                    "device_type": "vm",
                    "cell_id": 3,
                    "active": False,
                    "note": "n",
                    "labels": ["x", "y", "z"],
                },
            ),
        ),
        (
            ["host-update", "5", "--note", "n", "-i", "10.0.0.2"],
            ("hosts", "update", 5, {"note": "n", "ip_address": "10.0.0.2"}),
        ),
        (["host-update", "5", "--no-parent"], ("hosts", "update", 5, {"parent_id": None})),
        (
            ["project-delete", "0a3d1f52-7c55-4a39-9e62-7d1e4c2b8f00"],
            ("projects", "delete", "0a3d1f52-7c55-4a39-9e62-7d1e4c2b8f00", {}),
        ),
        (["host-delete", "9"], ("hosts", "delete", 9, {})),
    ],
)
def test_original_command_lines_map_to_library_calls(argv: list[str], expected: tuple[Any, ...]) -> None:
    result = run(*argv)
    assert result.code == 0, result.err
    assert result.calls[-1] == expected  # deletes ask for a preview first


def test_list_flags_become_query_parameters() -> None:
    result = run(
        "host-list",
        "-r",
        "2",
        "--cloud",
        "1",
        "-c",
        "4",
        "--detail",
        "--sort-key",
        "NAME",
        "--sort-dir",
        "desc",
        "--limit",
        "50",
        "--marker",
        "7",
        "--device-type",
        "server",
        "--vars",
        "a:1",
        "--label",
        "web",
        "--ip",
        "10.0.0.1",
    )
    assert result.code == 0, result.err
    assert result.calls == [
        (
            "hosts",
            "list",
            {
                "autopaginate": False,
                "marker": 7,
                "limit": 50,
                "region_id": 2,
                "cloud_id": 1,
                "cell_id": 4,
                "details": True,
                "sort_keys": "name",
                "sort_dir": "desc",
                "device_type": "server",
                "vars": "a:1",
                "label": ["web"],
                "ip_address": "10.0.0.1",
            },
        )
    ]


def test_vars_groups_are_all_joined() -> None:
    result = run("region-list", "--vars", "a:b", "--vars", "c:d", "e:f")
    assert result.calls[0][2]["vars"] == "a:b,c:d,e:f"


def test_device_list_always_sends_descendants() -> None:
    result = run("device-list", "--parent", "7", "--active", "true", "--cloud", "1", "-r", "2", "-c", "4")
    assert result.calls[0][2] == {
        "autopaginate": True,
        "marker": None,
        "limit": 100,
        "parent_id": 7,
        "descendants": False,
        "active": True,
        "cloud_id": 1,
        "region_id": 2,
        "cell_id": 4,
    }


def test_all_fetches_every_page_at_the_largest_page_size() -> None:
    result = run("cloud-list", "--all", "--limit", "20")
    assert result.calls[0][2] == {"autopaginate": True, "marker": None, "limit": 100}


def test_all_shows_progress_only_on_a_terminal() -> None:
    tty = TTYStream()
    result = run("cloud-list", "--all", stderr=tty, items=120)
    assert "Fetching clouds... 100" in tty.getvalue()
    assert result.out.count("clouds-") == 120
    quiet = run("cloud-list", "--all", items=120)
    assert quiet.err == ""


def test_a_page_that_leaves_items_behind_says_so_after_the_table() -> None:
    for stderr in (TTYStream(), io.StringIO()):  # on a terminal or not: the output is incomplete
        result = run("cloud-list", "--limit", "10", stderr=stderr, items=11)
        assert result.out.count("clouds-") == 10
        assert "Showing 10 clouds; more follow. Next page: --marker 10" in stderr.getvalue()
    complete = run("cloud-list", "--limit", "10", items=10)
    assert complete.err == ""


def test_fields_pick_table_columns_and_are_validated() -> None:
    result = run("cloud-list", "--fields", "name")
    assert "Name" in result.out and "Id" not in result.out
    bad = run("cloud-list", "--fields", "bogus")
    assert bad.code == 2 and "invalid field 'bogus'" in bad.err and bad.calls == []


def test_sort_key_is_validated_before_any_request() -> None:
    result = run("cell-list", "--sort-key", "nope")
    assert result.code == 2 and "invalid sort key" in result.err and result.calls == []


def test_update_without_changes_is_a_usage_error() -> None:
    result = run("cloud-update", "3")
    assert result.code == 2
    assert "nothing to update" in result.err
    assert "Try 'craton help cloud-update'" in result.err


def test_host_update_labels_go_through_the_labels_route() -> None:
    result = run("host-update", "5", "-l", "a,b")
    assert ("hosts", "labels.update", 5, {"labels": ("a", "b")}) in result.calls
    assert not any(call[1] == "update" for call in result.calls)


# --- variables and stdin ------------------------------------------------------------------------


def test_vars_set_converts_values_and_deletes_empty_ones() -> None:
    result = run("host-vars-set", "3", "a=1", 'b="1"', "c=", "d=x=y")
    assert ("hosts", "variables.delete", 3, {"keys": ("c",)}) in result.calls
    assert ("hosts", "variables.update", 3, {"a": 1, "b": "1", "d": "x=y"}) in result.calls


def test_vars_set_reads_a_json_object_from_piped_stdin() -> None:
    result = run("cell-vars-set", "3", stdin=io.StringIO('{"x": [1, 2], "y": null}'))
    assert ("cells", "variables.update", 3, {"x": [1, 2], "y": None}) in result.calls


def test_vars_delete_reads_a_json_array_from_piped_stdin() -> None:
    result = run("cloud-vars-delete", "3", stdin=io.StringIO('["a", "b"]'))
    assert ("clouds", "variables.delete", 3, {"keys": ("a", "b")}) in result.calls


def test_arguments_win_over_stdin_which_is_left_unread() -> None:
    stdin = io.StringIO('{"ignored": 1}')
    result = run("host-vars-set", "3", "a=1", stdin=stdin)
    assert ("hosts", "variables.update", 3, {"a": 1}) in result.calls
    assert stdin.tell() == 0


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["host-vars-set", "3"], TTYStream(), "nothing to update"),
        (["host-vars-delete", "3"], TTYStream(), "nothing to delete"),
        (["host-vars-set", "3"], io.StringIO(""), "stdin was empty"),
        (["host-vars-set", "3"], io.StringIO("[1]"), "expected a JSON object"),
        (["host-vars-set", "3"], io.StringIO("{oops"), "not valid JSON"),
        (["host-vars-delete", "3"], io.StringIO('{"a": 1}'), "expected a JSON array"),
        (["host-vars-delete", "3"], io.StringIO("[1]"), "array of strings"),
        (["host-vars-set", "3", "novalue"], io.StringIO(""), "expected KEY=VALUE"),
    ],
)
def test_variables_input_errors_are_usage_errors(argv: list[str], stdin: io.StringIO, message: str) -> None:
    result = run(*argv, stdin=stdin)
    assert result.code == 2
    assert message in result.err
    assert not any(call[1].startswith("variables.") for call in result.calls)


@pytest.mark.parametrize(("flag", "resolved"), [([], None), (["--resolved"], True), (["--no-resolved"], False)])
def test_vars_get_resolution_flags(flag: list[str], resolved: bool | None) -> None:
    result = run("region-vars-get", "2", *flag)
    assert ("regions", "variables.get", 2, {"resolved": resolved}) in result.calls


# --- output and help ----------------------------------------------------------------------------


def test_machine_formats_send_confirmations_to_stderr() -> None:
    table = run("cloud-delete", "3")
    assert table.out.strip() == "Cloud 3 was deleted." and table.err == ""
    machine = run("--format", "json", "cloud-delete", "3")
    assert machine.out == "" and "Cloud 3 was deleted." in machine.err


def test_global_options_are_accepted_after_the_command_too() -> None:
    result = run("cloud-list", "--format", "json")
    assert json.loads(result.out) == [{"id": 1, "name": "clouds-1"}, {"id": 2, "name": "clouds-2"}]


def test_labels_print_as_a_plain_list() -> None:
    assert json.loads(run("--format", "json", "host-labels-get", "1").out) == ["a", "b"]
    assert "| Label |" in run("network-device-labels-get", "1").out


def test_help_for_a_command_matches_its_own_help_flag() -> None:
    via_help = run("help", "host-create")
    via_flag = run("host-create", "--help")
    assert via_help.code == via_flag.code == 0
    assert via_help.out == via_flag.out
    assert "--ip_address" in via_help.out and "usage: craton host-create" in via_help.out


def test_no_arguments_prints_top_level_help() -> None:
    result = run()
    assert result.code == 0 and "project-list" in result.out and "network-interface-create" in result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["clud-list"], "unknown command 'clud-list' (did you mean cloud-list"),
        (["help", "nope"], "unknown command 'nope'"),
        (["cloud-show"], "the following arguments are required: <cloud>"),
        (["cloud-list", "--limit", "x"], "invalid positive integer value"),
        (["host-list", "--sort-dir", "up"], "invalid choice"),
        (["host-list", "--limit", "0"], "invalid positive integer value"),
        (["cloud-list", "--bogus"], "unrecognized arguments: --bogus"),
        (["--craton-version", "2", "cloud-list"], "unsupported API version 2"),
    ],
)
def test_usage_errors_exit_2_with_a_hint(argv: list[str], message: str) -> None:
    result = run(*argv)
    assert result.code == 2
    assert message in result.err
    assert "Try 'craton help" in result.err
    assert result.calls == []


def test_version() -> None:
    import cratonclient

    result = run("--version")
    assert result.code == 0 and result.out.strip() == cratonclient.__version__


def test_missing_url_and_credentials_are_reported_without_a_request() -> None:
    shell_env = {k: v for k, v in ENV.items() if k != "CRATON_URL"}
    out, err = io.StringIO(), io.StringIO()
    code = CratonShell(stdout=out, stderr=err, environ=shell_env).run(["cloud-list"])
    assert code == 1 and err.getvalue().strip() == "ERROR: no Craton URL: pass --craton-url or set CRATON_URL"
    err = io.StringIO()
    code = CratonShell(stdout=out, stderr=err, environ={"CRATON_URL": "http://h"}).run(["cloud-list"])
    assert code == 1 and "missing credentials" in err.getvalue() and "OS_PASSWORD" in err.getvalue()


def test_library_errors_print_the_server_message() -> None:
    def failing(options: Any) -> Any:
        raise exceptions.Conflict("A cloud with the given name already exists.", status_code=409)

    err = io.StringIO()
    code = CratonShell(stdout=io.StringIO(), stderr=err, environ=ENV, client_factory=failing).run(["cloud-list"])
    assert code == 1
    assert err.getvalue() == "ERROR: A cloud with the given name already exists.\n"


def test_unexpected_errors_have_no_traceback_unless_debug() -> None:
    def broken(options: Any) -> Any:
        raise RuntimeError("boom")

    for argv, traceback_shown in ((["cloud-list"], False), (["--debug", "cloud-list"], True)):
        err = io.StringIO()
        code = CratonShell(stdout=io.StringIO(), stderr=err, environ=ENV, client_factory=broken).run(argv)
        assert code == 1
        assert err.getvalue().startswith("ERROR: unexpected RuntimeError: boom")
        assert ("Traceback" in err.getvalue()) is traceback_shown


def test_root_cause_finds_the_operating_system_reason() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    wrapper = RuntimeError("HTTPConnectionPool(...): Max retries exceeded")
    wrapper.__cause__ = refused
    error = exceptions.ConnectionFailed("Unable to establish connection", original_exception=wrapper)
    assert root_cause(error) == "Connection refused"
    assert root_cause(ValueError("plain")) == "plain"


# --- names instead of ids (issue 21) -------------------------------------------------------------


def test_names_are_looked_up_once_each_narrowed_by_the_levels_above() -> None:
    result = run(
        "host-create", "-n", "h", "-i", "10.0.0.1", "--cloud", "prod", "-r", "east", "--cell", "a", "-t", "server"
    )
    assert result.code == 0, result.err
    finds = [call for call in result.calls if call[1] == "find"]
    cloud_id = 41  # the fake's ids: 40 + the number of calls so far
    assert finds == [
        ("clouds", "find", "prod", {}),
        ("regions", "find", "east", {"cloud_id": cloud_id}),
        ("cells", "find", "a", {"region_id": 42, "cloud_id": cloud_id}),
    ]
    assert [call[1] for call in result.calls] == ["find", "find", "find", "create"]  # nothing else is asked


def test_digits_are_ids_and_cost_no_request() -> None:
    result = run("host-list", "--cloud", "1", "-r", "2", "--cell", "3", "--limit", "10")
    assert [call[1] for call in result.calls] == ["list"]


def test_a_cell_alone_gives_region_and_cloud_from_the_one_lookup() -> None:
    result = run("host-create", "-n", "h", "-i", "10.0.0.1", "--cell", "a", "-t", "server")
    assert result.code == 0, result.err
    assert [call[:2] for call in result.calls] == [("cells", "find"), ("hosts", "create")]
    assert (result.calls[1][2]["region_id"], result.calls[1][2]["cloud_id"]) == (2, 1)


def test_a_numeric_region_alone_costs_one_get_for_its_cloud() -> None:
    result = run("cell-create", "-n", "c", "-r", "2")
    assert [call[:2] for call in result.calls] == [("regions", "get"), ("cells", "create")]
    assert result.calls[1][2] == {"name": "c", "region_id": 2, "cloud_id": 1}


def test_an_ambiguous_name_exits_1_naming_the_candidates() -> None:
    result = run("cloud-show", "twins")
    assert result.code == 1 and "give the id of one of them: 5, 6" in result.err


def test_a_device_name_searches_hosts_and_network_devices() -> None:
    result = run("device-list", "--parent", "sw1", "--limit", "10")
    assert [call[:2] for call in result.calls] == [
        ("hosts", "find_all"),
        ("network_devices", "find_all"),
        ("devices", "list"),
    ]
    assert result.calls[-1][2]["parent_id"] == 7


def test_repeated_and_comma_labels_are_sent_together() -> None:
    result = run("host-list", "--label", "compute", "--label", "gpu,ssd", "--limit", "10")
    assert result.calls[0][2]["label"] == ["compute", "gpu", "ssd"]


def test_f_and_c_are_short_for_format_and_column() -> None:
    result = run("-f", "json", "cloud-show", "1", "-c", "name")
    assert json.loads(result.out) == {"name": "x"}
    compat = run("host-list", "-c", "4", "--limit", "10")  # the original -c <cell id>
    assert compat.calls[0][2]["cell_id"] == 4


def test_a_delete_with_objects_below_is_refused_without_a_terminal() -> None:
    class Deep(FakeClient):
        def __init__(self) -> None:
            super().__init__()
            self.regions.delete = lambda item_id, preview=False: (  # type: ignore[method-assign]
                {"regions": 1, "cells": 1, "hosts": 13, "network_interfaces": 4} if preview else True
            )

    client = Deep()
    out, err = io.StringIO(), io.StringIO()
    shell = CratonShell(stdin=io.StringIO(""), stdout=out, stderr=err, environ=ENV, client_factory=lambda o: client)
    assert shell.run(["region-delete", "2"]) == 2
    assert "this deletes region 2 and 1 cell, 13 hosts, 4 interfaces below it" in err.getvalue()
    assert "--yes" in err.getvalue() and out.getvalue() == ""
