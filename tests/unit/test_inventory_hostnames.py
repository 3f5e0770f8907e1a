"""The inventory's host names, as a property: distinct whatever the names and ids (issue #19, item 8)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from craton.domain.inventory import _hostnames

# Names built from a few parts so that clashes with made-up "<name>-<id>[-n]" names are likely.
PARTS = st.sampled_from(["web", "db", "-", "1", "2", "3", "4", "-2"])
NAMES = st.lists(PARTS, min_size=1, max_size=4).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(NAMES, min_size=1, max_size=12), st.integers(min_value=1, max_value=3))
def test_host_names_are_distinct_and_real_names_are_kept(names: list[str], first_id: int) -> None:
    hosts = [{"id": first_id + index, "name": name} for index, name in enumerate(names)]
    given_names = _hostnames(hosts)
    assert len(set(given_names.values())) == len(hosts), given_names
    firsts = {}
    for host in hosts:
        firsts.setdefault(host["name"], host["id"])
    for name, host_id in firsts.items():
        assert given_names[host_id] == name, "the first host with a name keeps it"
    for host in hosts:
        if given_names[host["id"]] != host["name"]:
            assert given_names[host["id"]].startswith(f"{host['name']}-{host['id']}")


def test_the_reported_collision() -> None:
    hosts = [{"id": 14, "name": "web"}, {"id": 15, "name": "web-16"}, {"id": 16, "name": "web"}]
    assert _hostnames(hosts) == {14: "web", 15: "web-16", 16: "web-16-2"}
