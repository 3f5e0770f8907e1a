"""The one merge implementation (domain/merging.py) against the reference and worked examples."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from craton.domain import merging
from tests.merge_reference import reference_resolve

KEYS = ("a", "b", "c")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", "z"]))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["p", "q", "r"]), inner, max_size=3)
    ),
    max_leaves=8,
)
levels_strategy = st.lists(
    st.tuples(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3), st.sets(st.sampled_from(KEYS))),
    min_size=1,
    max_size=5,
)
declared = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(merging.STRATEGIES), max_size=3)


def _resolve(levels: list[tuple[dict[str, Any], set[str]]], strategies: dict[str, str]) -> dict[str, Any]:
    chain = [("owner", str(i)) for i in range(len(levels))]
    owned = {owner: own for owner, (own, _) in zip(chain, levels, strict=True)}
    masks = {owner: masked for owner, (_, masked) in zip(chain, levels, strict=True)}
    return merging.resolve(chain, owned, masks, strategies)


@settings(max_examples=400, deadline=None)
@given(levels_strategy, declared)
def test_resolve_equals_the_reference(levels: list[tuple[dict[str, Any], set[str]]], strategies: dict[str, str]):
    assert _resolve(levels, strategies) == reference_resolve(levels, strategies)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=5), st.sampled_from(merging.STRATEGIES))
def test_the_parts_rebuild_the_result(values: list[Any], strategy: str) -> None:
    """What blame says each level contributes adds up to the merged value."""
    result, parts = merging.contributions(strategy, values)
    assert result == merging.combine(strategy, values)
    counted = [part for part in parts if part is not merging.ABSENT]
    assert counted, "some level contributes"
    if strategy in ("append", "union") and isinstance(result, list):
        assert [item for part in counted for item in part] == result
    elif strategy == "deep" and isinstance(result, dict):
        rebuilt = merging.combine("deep", counted) if len(counted) > 1 else counted[0]
        assert rebuilt == result
    else:
        assert counted == [result]


def test_worked_examples() -> None:
    """The examples of docs/variables.md."""
    project = {"ntp_servers": ["10.0.0.1"], "sysctl": {"net": {"ipv4_forward": 0}, "vm.swappiness": 60}}
    region = {"ntp_servers": ["10.1.0.1", "10.0.0.1"], "sysctl": {"net": {"ipv4_forward": 1}}, "proxy": "p:3128"}
    host = {"packages": ["htop"], "motd": "hello"}
    cell = {"packages": ["vim"]}
    chain = [("device", "1"), ("cell", "1"), ("region", "1"), ("project", "p")]
    owned = {("device", "1"): host, ("cell", "1"): cell, ("region", "1"): region, ("project", "p"): project}
    strategies = {"ntp_servers": "union", "sysctl": "deep", "packages": "append", "motd": "replace"}
    assert merging.resolve(chain, owned, {("cell", "1"): {"proxy"}}, strategies) == {
        "ntp_servers": ["10.0.0.1", "10.1.0.1"],
        "sysctl": {"net": {"ipv4_forward": 1}, "vm.swappiness": 60},
        "packages": ["vim", "htop"],
        "motd": "hello",
    }
    # without declarations and masks: Craton v1, the nearest level wins per key
    assert merging.resolve(chain, owned) == {
        "ntp_servers": ["10.1.0.1", "10.0.0.1"],
        "sysctl": {"net": {"ipv4_forward": 1}},
        "proxy": "p:3128",
        "packages": ["htop"],
        "motd": "hello",
    }


def test_a_value_of_another_type_replaces_and_a_mask_keeps_the_own_value() -> None:
    assert merging.combine("deep", [{"a": 1}, "off", {"b": 2}]) == {"b": 2}
    assert merging.combine("deep", [{"a": {"x": 1}}, {"a": 5}]) == {"a": 5}
    assert merging.combine("append", [[1], "none", [2], [3]]) == [2, 3]
    assert merging.combine("union", [[1, 2, 1]]) == [1, 2]
    assert merging.combine("union", [[1, True, 1.0, "1"], [True]]) == [1, True, 1.0, "1"]
    chain = [("device", "1"), ("region", "1")]
    owned = {("device", "1"): {"k": [2]}, ("region", "1"): {"k": [1]}}
    assert merging.resolve(chain, owned, {("device", "1"): {"k"}}, {"k": "append"}) == {"k": [2]}
    assert merging.resolve(chain, owned, {("device", "1"): set()}, {"k": "append"}) == {"k": [1, 2]}


def test_blame_parts_for_a_deep_merge() -> None:
    value, parts = merging.contributions("deep", [{"a": 1, "b": {"x": 1, "y": 2}}, {"b": {"y": 3}}])
    assert value == {"a": 1, "b": {"x": 1, "y": 3}}
    assert parts == [{"a": 1, "b": {"x": 1}}, {"b": {"y": 3}}]
    value, parts = merging.contributions("union", [["a", "b"], ["b", "c"]])
    assert parts == [["a", "b"], ["c"]]


@settings(max_examples=200, deadline=None)
@given(st.lists(levels_strategy, min_size=1, max_size=6), levels_strategy, declared)
def test_a_memo_of_shared_tails_changes_nothing(
    heads: list[list[tuple[dict[str, Any], set[str]]]], tail: list[tuple[dict[str, Any], set[str]]], strategies: dict
) -> None:
    """Rows sharing their farther owners (hosts of one cell) resolve the same with and without a memo."""
    owned: dict[tuple[str, str], dict[str, Any]] = {}
    masks: dict[tuple[str, str], set[str]] = {}
    shared = [("tail", str(i)) for i in range(len(tail))]
    for owner, (own, masked) in zip(shared, tail, strict=True):
        owned[owner], masks[owner] = own, masked
    memo: merging.Memo = {}
    for row, levels in enumerate(heads):
        chain = [(f"row{row}", str(i)) for i in range(len(levels))] + shared
        for owner, (own, masked) in zip(chain, levels, strict=False):
            owned[owner], masks[owner] = own, masked
        expected = reference_resolve([(owned.get(o, {}), masks.get(o, set())) for o in chain], strategies)
        assert merging.resolve(chain, owned, masks, strategies, memo) == expected
        assert merging.resolve(chain, owned, masks, strategies) == expected
