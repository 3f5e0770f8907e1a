"""Sort keys are what a list shows, never more (issue #19, item 13).

Admins could sort users by ``previous_api_key_hash`` and page through the order: an oracle on a
secret. A kind's sort keys must be fields of its representation, so a column added to a table
(a hash, a token, an internal flag) never becomes a sort key by accident.
"""

from __future__ import annotations

import importlib

import pytest

from craton.domain import kinds
from craton.domain.kinds import Kind
from craton.http.routes import kind_module

LISTED = [*kinds.KINDS, kinds.ANY_DEVICE]


def resource_of(info: kinds.KindInfo) -> object:
    module = importlib.import_module("craton.http.routes.devices") if info is kinds.ANY_DEVICE else kind_module(info)
    return module.RESOURCE


@pytest.mark.parametrize("info", LISTED, ids=[info.collection for info in LISTED])
def test_sort_keys_are_fields_the_list_shows(info: kinds.KindInfo) -> None:
    shown = set(resource_of(info).shape.fields)  # type: ignore[attr-defined]
    assert Kind(info).sort_columns() <= shown


@pytest.mark.parametrize("info", LISTED, ids=[info.collection for info in LISTED])
def test_no_secret_looking_column_is_a_sort_key(info: kinds.KindInfo) -> None:
    secret = {key for key in Kind(info).sort_columns() if any(w in key for w in ("hash", "key", "secret", "token"))}
    assert secret == set()
