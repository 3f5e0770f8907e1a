"""The API's routes: one module per kind of object, plus views over several kinds.

The routes of a kind live in ``<collection>.py`` (``hosts.py`` for ``/v1/hosts``), which
declares a :class:`~craton.http.resources.Resource` for it. They are found through the kind
registry (:data:`craton.domain.kinds.KINDS`), so declaring a kind and writing its module is
all it takes to serve it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from starlette.routing import BaseRoute

from craton.domain import kinds

#: Routes over several kinds, served after those of the kinds.
VIEWS = ("devices", "inventory", "changes", "effective_changes", "fleet", "imports", "webhooks")


def kind_module(info: kinds.KindInfo) -> ModuleType:
    """The module declaring the routes of one kind."""
    return importlib.import_module(f"{__name__}.{info.collection}")


def api_routes() -> list[BaseRoute]:
    """Every /v1 route: each kind's, in registry order, then the views."""
    modules = [kind_module(info) for info in kinds.KINDS]
    modules += [importlib.import_module(f"{__name__}.{view}") for view in VIEWS]
    return [route for module in modules for route in module.ROUTES]
