"""Command-line value parsing: the typing rules of KEY=VALUE are the original CLI's."""

from __future__ import annotations

import pytest

from cratonclient.shell import cliutils
from cratonclient.shell.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"7"', "7"),
        ('"quoted words"', "quoted words"),
        ("7", 7),
        ("-3", -3),
        ("true", True),
        ("No", False),
        ("on", True),
        ("1", 1),  # integers win over the boolean spelling
        ("null", None),
        ("None", None),
        ("2.5", 2.5),
        ("east", "east"),
        ("a=b", "a=b"),
    ],
)
def test_convert_arg_value(text: str, expected: object) -> None:
    value = cliutils.convert_arg_value(text)
    assert value == expected and type(value) is type(expected)


def test_parse_assignments_splits_on_the_first_equals_and_collects_deletions() -> None:
    updates, deletions = cliutils.parse_assignments(["a=1", "url=http://x?y=z", "gone=", "b=x"])
    assert updates == {"a": 1, "url": "http://x?y=z", "b": "x"}
    assert deletions == ["gone"]


def test_a_later_assignment_wins_over_an_earlier_deletion() -> None:
    updates, deletions = cliutils.parse_assignments(["a=", "a=2"])
    assert updates == {"a": 2} and deletions == []


@pytest.mark.parametrize("bad", ["novalue", "=1"])
def test_parse_assignments_rejects_malformed_pairs(bad: str) -> None:
    with pytest.raises(UsageError):
        cliutils.parse_assignments([bad])


def test_parse_bool_is_strict() -> None:
    assert cliutils.parse_bool("YES") is True
    assert cliutils.parse_bool("0") is False
    with pytest.raises(ValueError):
        cliutils.parse_bool("maybe")


def test_env_ignores_empty_values() -> None:
    assert cliutils.env({"A": "", "B": "b"}, "A", "B") == "b"
    assert cliutils.env({}, "A", default="d") == "d"


def test_load_json_checks_the_shape() -> None:
    assert cliutils.load_json('{"a": 1}', dict, "an object") == {"a": 1}
    with pytest.raises(UsageError, match="not valid JSON"):
        cliutils.load_json("{", dict, "an object")
    with pytest.raises(UsageError, match="expected an object"):
        cliutils.load_json("[1]", dict, "an object")


def test_split_list_accepts_spaces_commas_and_repeats() -> None:
    assert cliutils.split_list(["id,name", "note", " , x"]) == ["id", "name", "note", "x"]
    assert cliutils.split_list(None) == []
