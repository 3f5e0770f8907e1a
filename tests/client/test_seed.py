"""Every example of mission/seed-using-the-clouds-api.txt, run verbatim against the live server.

The snippets are copied character for character; ``test_snippets_are_verbatim`` checks them
against the seed document itself whenever ../shared is next to the checkout. Each snippet runs
with the names the seed assumes: ``craton`` (a configured Client), ``print_cloud_info`` and
``cloud_id``.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cratonclient import exceptions as exc
from cratonclient.v1 import clouds

SEED = Path(__file__).resolve().parents[3] / "shared/mission/seed-using-the-clouds-api.txt"

LISTING = """\
for cloud in craton.clouds.list():
    print_cloud_info(cloud)
"""

MANUAL_PAGES = """\
first_page_of_clouds = list(craton.clouds.list(autopaginate=False))
marker_id = first_page_of_clouds[-1].id
second_page_of_clouds = list(craton.clouds.list(
    autopaginate=False,
    marker=marker_id,
))
marker_id = second_page_of_clouds[-1].id
third_page_of_clouds = list(craton.clouds.list(
    autopaginate=False,
    marker=marker_id,
))
# etc.
"""

NEVER_ENTERED_LOOP = """\
clouds_list = None
marker = None
while clouds_list and clouds_list is not None:
    clouds_list = list(craton.clouds.list(
        marker=marker,
        autopaginate=False,
    ))
    # do something with clouds_list
    if clouds_list:
        marker = clouds_list[-1].id
"""

CREATE = """\
cloud = craton.clouds.create(
    name='my-cloud-0',
    note='This is my cloud, there are many like it, but this is mine.',
    variables={
        'some-var': 'some-var-value',
    },
)
"""

GET_BY_ID = """\
cloud = craton.clouds.get(1)
"""

GET_VARIABLES = """\
cloud = craton.clouds.get(cloud_id)
cloud_vars = cloud.variables.get()
"""

UPDATE_VARIABLES = """\
updated_vars = {
    'var-a': 'new-var-a',
    'var-b': 'new-var-b',
    'updated-var': 'updated value',
}
cloud.variables.update(**updated_vars)
"""

DELETE_VARIABLES = """\
cloud.variables.delete('var-a', 'var-b', 'updated-var')
"""

UPDATE = """\
craton.clouds.update(
    cloud_id,
    name='new name',
    note='Updated note.',
)
"""

DELETE = """\
craton.clouds.delete(cloud_id)
"""

SNIPPETS = [
    LISTING,
    MANUAL_PAGES,
    NEVER_ENTERED_LOOP,
    CREATE,
    GET_BY_ID,
    GET_VARIABLES,
    UPDATE_VARIABLES,
    DELETE_VARIABLES,
    UPDATE,
    DELETE,
]


def run(snippet: str, namespace: dict[str, Any]) -> dict[str, Any]:
    exec(compile(textwrap.dedent(snippet), "<seed example>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def seeded(live_server: Any, root: Any) -> dict[str, Any]:
    """A project whose admin owns the first 65 clouds of this module's fresh database.

    65 clouds make three pages of the default size (30, 30, 5). Being first, the project
    also owns cloud 1, which the seed fetches by id.
    """
    from cratonclient import auth
    from cratonclient.v1 import client

    project = root.projects.create(name="seed-examples")
    username, api_key = live_server.create_user(project.id, "seed-admin", is_admin=True)
    session = auth.craton_auth(username=username, token=api_key, project_id=project.id)
    craton = client.Client(session=session, url=live_server.url)
    ids = [craton.clouds.create(name=f"seed-cloud-{n:02}").id for n in range(65)]
    return {"craton": craton, "ids": ids}


@pytest.fixture
def namespace(seeded: dict[str, Any]) -> dict[str, Any]:
    printed: list[Any] = []
    return {"craton": seeded["craton"], "print_cloud_info": printed.append, "printed": printed}


@pytest.mark.skipif(not SEED.exists(), reason="shared/ is not beside the checkout")
def test_snippets_are_verbatim():
    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.splitlines() if line.strip()]

    seed = "\n".join(lines(SEED.read_text(encoding="utf-8")))
    for snippet in SNIPPETS:
        assert "\n".join(lines(snippet)) in seed, snippet


def test_listing_clouds(namespace, seeded):
    run(LISTING, namespace)

    assert [cloud.id for cloud in namespace["printed"]] == seeded["ids"]
    assert all(isinstance(cloud, clouds.Cloud) for cloud in namespace["printed"])


def test_handling_pagination_by_hand(namespace, seeded):
    run(MANUAL_PAGES, namespace)

    ids = seeded["ids"]
    assert [c.id for c in namespace["first_page_of_clouds"]] == ids[:30]
    assert [c.id for c in namespace["second_page_of_clouds"]] == ids[30:60]
    assert [c.id for c in namespace["third_page_of_clouds"]] == ids[60:65]


def test_the_realistic_example_never_enters_its_loop(namespace):
    # As written in the seed, the loop starts from None and so never runs; docs/client/
    # clouds.md has the corrected loop, and test_docs.py runs it.
    run(NEVER_ENTERED_LOOP, namespace)

    assert namespace["clouds_list"] is None and namespace["marker"] is None


def test_creating_retrieving_updating_and_deleting_a_cloud(namespace, seeded):
    run(CREATE, namespace)
    cloud = namespace["cloud"]
    assert isinstance(cloud, clouds.Cloud)
    assert cloud.name == "my-cloud-0"
    assert cloud.note == "This is my cloud, there are many like it, but this is mine."
    assert cloud.to_dict()["variables"] == {"some-var": "some-var-value"}

    run(GET_BY_ID, namespace)
    assert namespace["cloud"].id == 1 == seeded["ids"][0]
    assert namespace["cloud"].name == "seed-cloud-00"

    namespace["cloud_id"] = cloud.id
    run(GET_VARIABLES, namespace)
    assert namespace["cloud_vars"].to_dict() == {"some-var": "some-var-value"}

    run(UPDATE_VARIABLES, namespace)
    assert namespace["cloud"].variables.get().to_dict() == {
        "some-var": "some-var-value",
        "var-a": "new-var-a",
        "var-b": "new-var-b",
        "updated-var": "updated value",
    }

    run(DELETE_VARIABLES, namespace)
    assert namespace["cloud"].variables.get().to_dict() == {"some-var": "some-var-value"}

    run(UPDATE, namespace)
    fetched = seeded["craton"].clouds.get(cloud.id)
    assert (fetched.name, fetched.note) == ("new name", "Updated note.")

    run(DELETE, namespace)
    with pytest.raises(exc.NotFound):
        seeded["craton"].clouds.get(cloud.id)


def test_no_snippet_was_left_out():
    # The seed has ten code examples; a new one there must get a test here.
    if SEED.exists():
        text = SEED.read_text(encoding="utf-8")
        assert len(re.findall(r"craton\.clouds\.", text)) == 11
    assert len(SNIPPETS) == 10
