"""Every operation in /openapi.json has a real summary and every parameter a description (issue #21)."""

from __future__ import annotations

from craton.app import API_ROUTES
from craton.http import openapi


def test_every_operation_has_a_summary_in_words() -> None:
    document = openapi.document(API_ROUTES)
    summaries = {
        f"{method.upper()} {path}": operation.get("summary", "")
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert all(summaries.values()), [name for name, text in summaries.items() if not text]
    assert not [name for name, text in summaries.items() if "one of" in text or "_" in text]
    assert summaries["PUT /v1/projects/{id}"] == "Rename a project"
    assert summaries["POST /v1/network-interfaces"] == "Create a network interface"
    assert summaries["GET /v1/cells/{id}/history"] == "Change history of a cell"


def test_every_parameter_has_a_description() -> None:
    document = openapi.document(API_ROUTES)
    bare = sorted(
        f"{method.upper()} {path} {parameter['in']}:{parameter['name']}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    )
    assert not bare, bare
