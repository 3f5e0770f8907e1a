"""The vars language on its own: parsing and MySQL-style containment, no database."""

from __future__ import annotations

import pytest

from craton.domain.errors import InvalidInput
from craton.domain.vars_query import INVALID_PATH, INVALID_VALUE, contains, parse, parse_path, split_conditions


@pytest.mark.parametrize(
    ("path", "key", "steps"),
    [
        ("foo", "foo", ()),
        ("foo.bar", "foo", (("member", "bar"),)),
        ("foo[5]", "foo", (("index", 5),)),
        ("foo[*]", "foo", (("elements",),)),
        ("foo.bar[*]", "foo", (("member", "bar"), ("elements",))),
        ("foo.*", "foo", (("members",),)),
        ("foo.*.baz", "foo", (("members",), ("member", "baz"))),
        ('"v3.0".foo."hyphenated-key"', "v3.0", (("member", "foo"), ("member", "hyphenated-key"))),
        ("os-information.release", "os-information", (("member", "release"),)),
        (
            "hardware_profiles.disks[*].manufacturer",
            "hardware_profiles",
            (("member", "disks"), ("elements",), ("member", "manufacturer")),
        ),
        ("foo[1][2]", "foo", (("index", 1), ("index", 2))),
    ],
)
def test_paths_translate_to_steps(path, key, steps):
    assert parse_path(path) == (key, steps)


@pytest.mark.parametrize(
    "path",
    [
        "foo.hyphenated-key",
        "$.foo",
        "[*]foo.bar",
        "foo[1:3]",
        "foo..bar",
        "foo.**.bar",
        "v3.0.foo",
        "foo.1",
        "foo.'bar'",
        "foo.`bar`",
        "1abc",
        "",
        "foo.",
        'foo["x"]',
        "foo.b$r",
    ],
)
def test_invalid_paths_are_rejected_with_the_original_message(path):
    with pytest.raises(InvalidInput) as caught:
        parse_path(path)
    assert caught.value.message.startswith(INVALID_PATH)


def test_values_must_be_json_literals():
    with pytest.raises(InvalidInput) as caught:
        parse("foo.bar:string")
    assert caught.value.message.startswith(INVALID_VALUE)


def test_a_condition_without_colon_is_a_400():
    with pytest.raises(InvalidInput, match="foo"):
        parse("foo")


@pytest.mark.parametrize(
    ("query", "parts"),
    [
        ("a:1,b:2", ["a:1", "b:2"]),
        ('a:"x,y",b:2', ['a:"x,y"', "b:2"]),
        ('a:"x\\",y",b:2', ['a:"x\\",y"', "b:2"]),
        ('a:[1,2],b:{"c":1,"d":2}', ["a:[1,2]", 'b:{"c":1,"d":2}']),
        ("a[1]:1,b:2", ["a[1]:1", "b:2"]),
        ('"v3.0":"p,q"', ['"v3.0":"p,q"']),
        ("a:1,", ["a:1", ""]),
        ("a]:1,b:2", ["a]:1", "b:2"]),
    ],
)
def test_commas_split_conditions_only_outside_strings_and_brackets(query, parts):
    assert split_conditions(query) == parts


def test_same_path_twice_keeps_the_last_value_and_conditions_are_separate():
    conditions = parse('a:1,b:"x",a:2')
    assert [(c.key, c.value) for c in conditions] == [("a", 2), ("b", "x")]


@pytest.mark.parametrize(
    ("target", "candidate", "expected"),
    [
        (1, 1.0, True),
        (1, "1", False),
        (True, "true", False),
        ("false", False, False),
        (3.14, 3, False),
        (None, None, True),
        (None, False, False),
        (True, 1, False),
        (["a", "b"], "a", True),
        (["a", "b"], ["b", "a"], True),
        (["a"], ["a", "c"], False),
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": 1}, 1, False),
        ("Bar", "bar", False),
    ],
)
def test_containment_follows_mysql_json_contains(target, candidate, expected):
    assert contains(target, candidate) is expected


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ('foo.bar:"baz"', {"bar": "baz"}, True),
        ('foo.*:"x"', {"a": "y", "b": "x"}, True),
        ("foo[5]:6", [1, 2, 3, 4, 5, 6], True),
        ("foo[5]:5", [1, 2, 3, 4, 5, 6], False),
        ("foo[*]:3", [1, 2, 3], True),
        ('foo.bar[*]:"q"', {"bar": ["p", "q"]}, True),
        ("foo.missing:1", {"bar": 1}, False),
        ('foo.*.baz:"z"', {"a": {"baz": "z"}, "b": {"baz": "y"}}, True),
        ("foo:null", None, True),
    ],
)
def test_conditions_match_values(expression, value, expected):
    (condition,) = parse(expression)
    assert condition.matches(value) is expected
