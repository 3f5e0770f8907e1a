"""The one CRUD base every resource manager shares, and the resource object it returns.

A manager only declares where its collection lives (``key``, ``base_path``) and which
:class:`Resource` class wraps its items; create, get, list (with pagination), update and delete
are written once here. Operations the Craton API does not offer for a resource are switched off
with :class:`unsupported`, so they fail before a request is sent.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload
from urllib.parse import quote

from cratonclient.session import json_body

if TYPE_CHECKING:
    from cratonclient.session import Session

#: Friendly keyword -> wire name, for query parameters whose wire name is not an identifier.
_QUERY_ALIASES = {"resolved": "resolved-values"}


def encode_query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the server reads them.

    ``None`` is dropped (so ``marker=None`` means "from the start"), booleans become
    ``true``/``false``, sequences are joined with commas (``sort_keys=["name", "id"]``) and
    ``resolved=`` becomes ``resolved-values=``.
    """
    query: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            text = ",".join(str(part) for part in value)
        else:
            text = str(value)
        query[_QUERY_ALIASES.get(name, name)] = text
    return query


class unsupported:  # noqa: N801 - used like a keyword in class bodies
    """Marks a manager operation the Craton API does not have for that resource.

    Reading the attribute raises ``AttributeError`` with an explanation, so ``hasattr`` is
    false and no pointless request reaches the server.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner.__name__

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise AttributeError(
            f"{self.owner}.{self.name}() is not available: the Craton API has no such operation for this resource"
        )


class Resource:
    """One object returned by the server, with its JSON keys as attributes.

    ``to_dict()`` returns exactly what the server sent. Sub-resources (``variables``) are
    managers bound to this object's URL; they replace the plain attribute of the same name.
    """

    HUMAN_ID: ClassVar[bool] = False
    NAME_ATTR: ClassVar[str] = "name"
    subresource_managers: ClassVar[dict[str, type[CRUDClient]]] = {}

    def __init__(self, manager: CRUDClient, info: dict[str, Any], loaded: bool = False) -> None:
        self.manager = manager
        self._info = info
        self._loaded = loaded
        self._add_details(info)

    def _add_details(self, info: dict[str, Any]) -> None:
        for name, value in info.items():
            # Never let data shadow the object's own behaviour; it stays in to_dict().
            if name.startswith("_") or name == "manager" or hasattr(type(self), name):
                continue
            setattr(self, name, value)
        if "id" not in info:
            return  # nothing to bind sub-resources to
        for name, manager_class in self.subresource_managers.items():
            url = self.manager.build_url({f"{self.manager.key}_id": info["id"]})
            setattr(self, name, manager_class(self.manager.session, url))

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes that do not exist; a stub (loaded=False) with an id is
        # fetched once, anything else is a plain missing attribute.
        state = self.__dict__
        if name.startswith("_") or state.get("_loaded", True) or "id" not in state["_info"]:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.get()
        return getattr(self, name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in sorted(self._info.items()))
        return f"<{type(self).__name__} {fields}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return type(self) is type(other) and self._info == other._info

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    @property
    def human_id(self) -> str | None:
        """A slug of the name, for resources that opt in with ``HUMAN_ID``."""
        if not self.HUMAN_ID:
            return None
        name = str(self._info.get(self.NAME_ATTR) or "")
        return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split()) or None

    def get(self) -> Resource:
        """Reload this object from the server (in place) and return it."""
        fresh = self.manager.get(self.id)
        self._info = fresh._info
        self._add_details(self._info)
        self._loaded = True
        return self

    def delete(self) -> bool:
        """Delete this object on the server."""
        return self.manager.delete(self.id)

    def history(self, **options: Any) -> Iterator[Resource]:
        """This object's change records, oldest first: see the manager's ``history``."""
        return self.manager.history(self.id, **options)  # type: ignore[attr-defined,no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the server's JSON for this object."""
        return copy.deepcopy(self._info)

    def is_loaded(self) -> bool:
        return self._loaded

    def set_loaded(self, value: bool) -> None:
        self._loaded = value


class CRUDClient:
    """Base manager: maps Python calls on one collection to Craton's REST routes.

    ``CRUDClient(session, url, **extra_request_kwargs)``: ``url`` is the API root
    (``.../v1``); the extras are added to list queries and create bodies (for example
    ``region_id=`` to scope a manager to one region).
    """

    key: ClassVar[str] = ""
    base_path: ClassVar[str | None] = None
    resource_class: ClassVar[type[Resource]] = Resource
    #: True when the list body maps kinds to lists (``/v1/devices``).
    nested: ClassVar[bool] = False

    def __init__(self, session: Session, url: str, **extra_request_kwargs: Any) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.extra_request_kwargs = extra_request_kwargs

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, extra={self.extra_request_kwargs!r})"

    @property
    def collection_key(self) -> str:
        """The key holding the items in a list response (``clouds``, ``network_devices``...)."""
        return f"{self.key}s"

    def build_url(self, path_arguments: dict[str, Any] | None = None) -> str:
        """The collection URL, or an item URL when ``<key>_id`` is given.

        ``base_path`` and ``<key>_id`` are removed from ``path_arguments`` so they never reach
        a body or a query string.
        """
        arguments = path_arguments if path_arguments is not None else {}
        base_path = arguments.pop("base_path", None) or self.base_path or ""
        item_id = arguments.pop(f"{self.key}_id", None)
        url = self.url + base_path
        if item_id is not None:
            url += "/" + quote(str(item_id), safe="")
        return url

    def merge_request_arguments(self, request_kwargs: dict[str, Any], skip_merge: bool) -> None:
        """Add the manager's extra arguments that the caller did not set."""
        if skip_merge:
            return
        for name, value in self.extra_request_kwargs.items():
            request_kwargs.setdefault(name, value)

    def _item_url(self, item_id: Any, kwargs: dict[str, Any], operation: str) -> str:
        kwargs.setdefault(f"{self.key}_id", item_id)
        if kwargs[f"{self.key}_id"] is None:
            raise TypeError(f"{type(self).__name__}.{operation}() needs the id of the object")
        return self.build_url(kwargs)

    def _resource(self, info: dict[str, Any]) -> Resource:
        return self.resource_class(self, info, loaded=True)

    def create(self, skip_merge: bool = False, **kwargs: Any) -> Resource:
        """Create an object from the given fields (``POST``) and return it."""
        self.merge_request_arguments(kwargs, skip_merge)
        url = self.build_url(kwargs)
        return self._resource(json_body(self.session.post(url, json=kwargs)))

    def get(self, item_id: Any = None, skip_merge: bool = True, **kwargs: Any) -> Resource:
        """Fetch one object by id; other keywords are query parameters (``resolved=False``)."""
        url = self._item_url(item_id, kwargs, "get")
        self.merge_request_arguments(kwargs, skip_merge)
        return self._resource(json_body(self.session.get(url, params=encode_query(kwargs))))

    def list(
        self,
        autopaginate: bool = True,
        marker: Any = None,
        limit: int | None = None,
        skip_merge: bool = False,
        **filters: Any,
    ) -> Iterator[Resource]:
        """Lazily iterate over the collection, page by page, as the server returns it.

        With ``autopaginate`` (the default) every page is fetched as iteration reaches it;
        without, only the page after ``marker`` (up to ``limit`` items) is. Other keywords are
        query filters, e.g. ``cloud_id=1``, ``vars='a:"b"'``, ``details=True``.
        """
        self.merge_request_arguments(filters, skip_merge)
        url = self.build_url(filters)
        params = {**filters, "marker": marker, "limit": limit}
        return self.iterate(url, self.collection_key, autopaginate, params)

    def iterate(
        self,
        url: str,
        items_key: str,
        autopaginate: bool,
        params: Mapping[str, Any],
        resource_class: type[Resource] | None = None,
    ) -> Iterator[Resource]:
        """Lazily wrap every item of a paginated list at ``url`` (``body[items_key]``).

        The one pagination loop of the managers: ``list`` uses it for the collection, and
        other paginated routes of a resource (its change history) for theirs.
        """
        wrap = resource_class or self.resource_class
        pages = self.session.paginate(
            url,
            items_key=items_key,
            autopaginate=autopaginate,
            nested=self.nested,
            params=encode_query(params),
        )
        for response, items in pages:
            for info in self._arrange(response, items):
                yield wrap(self, info, loaded=True)

    def _arrange(self, response: Any, items: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        """Hook for managers whose pages need reordering; the server's order by default."""
        return items

    def update(self, item_id: Any = None, skip_merge: bool = True, **kwargs: Any) -> Resource:
        """Change the given fields of one object (``PUT``) and return the result."""
        url = self._item_url(item_id, kwargs, "update")
        self.merge_request_arguments(kwargs, skip_merge)
        return self._resource(json_body(self.session.put(url, json=kwargs)))

    @overload
    def delete(
        self, item_id: Any = None, skip_merge: bool = True, json: Any = None, *, preview: Literal[True], **kwargs: Any
    ) -> dict[str, int]: ...

    @overload
    def delete(
        self,
        item_id: Any = None,
        skip_merge: bool = True,
        json: Any = None,
        *,
        preview: Literal[False] = ...,
        **kwargs: Any,
    ) -> bool: ...

    def delete(
        self, item_id: Any = None, skip_merge: bool = True, json: Any = None, *, preview: bool = False, **kwargs: Any
    ) -> bool | dict[str, int]:
        """Delete one object with everything below it; True once the server confirms.

        A missing id raises NotFound. With ``preview=True`` nothing is deleted: the
        result is how many objects of each kind the delete would remove, the object
        itself included, e.g. ``{"regions": 1, "cells": 2, "hosts": 13, ...}``.
        """
        url = self._item_url(item_id, kwargs, "delete")
        self.merge_request_arguments(kwargs, skip_merge)
        if preview:
            kwargs["preview"] = True
            body = json_body(self.session.delete(url, params=encode_query(kwargs), json=json))
            return dict(body["preview"]["deleted"])
        response = self.session.delete(url, params=encode_query(kwargs), json=json)
        return 200 <= response.status_code < 300


__all__ = ["CRUDClient", "Resource", "encode_query", "unsupported"]
