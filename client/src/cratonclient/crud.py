"""The one CRUD base every resource manager shares, and the resource object it returns.

A manager only declares where its collection lives (``key``, ``base_path``) and which
:class:`Resource` class wraps its items; create, get, list (with pagination), update and delete
are written once here. Operations the Craton API does not offer for a resource are switched off
with :class:`unsupported`, so they fail before a request is sent.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, overload
from urllib.parse import quote

from cratonclient import exceptions
from cratonclient.impact import Impact
from cratonclient.impact import request as impact_request
from cratonclient.session import json_body, next_link

if TYPE_CHECKING:
    from cratonclient.session import Session

#: Friendly keyword -> wire name, for query parameters whose wire name is not an identifier.
_QUERY_ALIASES = {"resolved": "resolved-values"}

#: The page sizes the server accepts; ``limit`` outside them is handled here, not sent.
MIN_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

R = TypeVar("R")


def page_size(limit: int | None) -> int | None:
    """The ``limit`` to send: ``None`` stays the server's default, others are clamped to 10..100."""
    if limit is None:
        return None
    return min(max(int(limit), MIN_PAGE_SIZE), MAX_PAGE_SIZE)


class Listing(Iterator[R], Generic[R]):
    """The lazy iterator ``list()`` returns.

    Once iteration has ended, ``more`` says whether the server holds further items that were
    not fetched (only possible with ``autopaginate=False``), and ``next_marker`` is the
    ``marker`` that continues after the last item returned.
    """

    def __init__(self, produce: Callable[[Listing[R]], Iterator[R]]) -> None:
        self.more = False
        self.next_marker: Any = None
        self._items = produce(self)

    def __iter__(self) -> Listing[R]:
        return self

    def __next__(self) -> R:
        return next(self._items)


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
    ) -> Listing[Resource]:
        """Lazily iterate over the collection, page by page, as the server returns it.

        With ``autopaginate`` (the default) every page is fetched as iteration reaches it and
        ``limit`` is only the page size (kept within the server's 10..100). Without, the
        items after ``marker`` are returned: one server page, or exactly ``limit`` items when
        given (any number: fewer than 10 are cut from a page of 10, more than 100 are fetched
        over several pages). The returned :class:`Listing` then says whether ``more``
        follow, and the ``next_marker`` to ask for them. Other keywords are query filters,
        e.g. ``cloud_id=1``, ``vars='a:"b"'``, ``details=True``, ``label=["web", "prod"]``.
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
    ) -> Listing[Resource]:
        """Lazily wrap every item of a paginated list at ``url`` (``body[items_key]``).

        The one pagination loop of the managers: ``list`` uses it for the collection, and
        other paginated routes of a resource (its change history) for theirs. ``limit`` in
        ``params`` follows ``list``'s rules.
        """
        wrap = resource_class or self.resource_class
        limit = params.get("limit")
        wanted = None if autopaginate or limit is None else max(int(limit), 0)
        query = encode_query({**params, "limit": page_size(limit)})

        def produce(listing: Listing[Resource]) -> Iterator[Resource]:
            pages = self.session.paginate(
                url,
                items_key=items_key,
                # A limit above one server page is reached by following next links.
                autopaginate=autopaginate or wanted is not None,
                nested=self.nested,
                params=query,
            )
            count = 0
            for response, items in pages:
                arranged = self._arrange(response, items)
                taken = arranged if wanted is None else arranged[: wanted - count]
                for info in taken:
                    count += 1
                    listing.next_marker = info.get("id")
                    yield wrap(self, info, loaded=True)
                if autopaginate:
                    continue
                if wanted is None or count >= wanted:
                    listing.more = len(taken) < len(arranged) or next_link(json_body(response)) is not None
                    return
            listing.more = False

        return Listing(produce)

    def _arrange(self, response: Any, items: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        """Hook for managers whose pages need reordering; the server's order by default."""
        return items

    @property
    def kind_name(self) -> str:
        """What one object is called in messages: ``network interface``."""
        return self.key.replace("_", " ")

    def find_all(self, name: str, **filters: Any) -> builtins.list[Resource]:
        """Every object whose name (``username`` for users) is exactly ``name``.

        One ``?name=`` query (more only if over 100 objects share the name); ``filters``
        narrow it, e.g. ``region_id=3``. The comparison is exact even where the database
        compares names without regard to case.
        """
        return self._named(name, filters)[1]

    def _named(self, name: str, filters: dict[str, Any]) -> tuple[builtins.list[Resource], builtins.list[Resource]]:
        """(what ``?name=`` answered, the exact matches among it)."""
        attr = self.resource_class.NAME_ATTR
        try:
            found = builtins.list(self.list(name=name, limit=MAX_PAGE_SIZE, **filters))
        except exceptions.NotFound:
            found = []  # /clouds and /regions answer 404 when no name matches
        # Scope again here: /clouds and /regions answer ?name= with every match (v1 behaviour)
        # and ignore the other filters.
        scope = {key: value for key, value in filters.items() if value is not None}

        def matches(info: dict[str, Any]) -> bool:
            return info.get(attr) == name and all(info.get(key, value) == value for key, value in scope.items())

        return found, [item for item in found if matches(item.to_dict())]

    def find(self, name: str, **filters: Any) -> Resource:
        """The one object named exactly ``name``, as ``find_all`` looks for it.

        Raises ``NotFound`` when there is none (naming near matches that differ only in
        case), and ``NoUniqueMatch`` (with ``candidates``) when there are several.
        """
        found, exact = self._named(name, filters)
        scope = " with " + ", ".join(f"{key}={value}" for key, value in filters.items() if value is not None)
        scope = "" if scope == " with " else scope
        if not exact:
            attr = self.resource_class.NAME_ATTR
            near = ", ".join(
                describe(item, with_name=True)
                for item in found
                if str(item.to_dict().get(attr)).casefold() == name.casefold() and item.to_dict().get(attr) != name
            )
            hint = f" (names differing only in case: {near})" if near else ""
            raise exceptions.NotFound(f"No {self.kind_name} named {name!r}{scope}{hint}.")
        if len(exact) > 1:
            raise exceptions.NoUniqueMatch(
                f"{len(exact)} {self.kind_name}s are named {name!r}{scope}; give the id of one of them: "
                + ", ".join(describe(item) for item in exact),
                candidates=exact,
            )
        return exact[0]

    def update(self, item_id: Any = None, skip_merge: bool = True, **kwargs: Any) -> Resource:
        """Change the given fields of one object (``PUT``) and return the result."""
        url = self._item_url(item_id, kwargs, "update")
        self.merge_request_arguments(kwargs, skip_merge)
        return self._resource(json_body(self.session.put(url, json=kwargs)))

    def update_preview(self, item_id: Any = None, skip_merge: bool = True, **kwargs: Any) -> Impact:
        """What ``update`` with the same arguments would do to devices' resolved variables (a move),
        without doing it."""
        url = self._item_url(item_id, kwargs, "update")
        self.merge_request_arguments(kwargs, skip_merge)
        return impact_request(self.session, "PUT", url, kwargs)

    def delete_preview(self, item_id: Any = None, skip_merge: bool = True, **kwargs: Any) -> Impact:
        """What ``delete`` would do, without doing it: the :class:`Impact` with the devices it
        removes (each ``deleted``, every variable under ``removed``) and, in ``deleted``, how
        many objects of each kind would go. ``delete(id, preview=True)`` gives the counts alone."""
        url = self._item_url(item_id, kwargs, "delete")
        self.merge_request_arguments(kwargs, skip_merge)
        return impact_request(self.session, "DELETE", url, None, encode_query(kwargs))

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


#: Fields that place an object, nearest first: shown next to the ids of name candidates.
_PLACEMENT = ("device_id", "parent_id", "cell_id", "region_id", "cloud_id", "project_id")


def describe(item: Resource, with_name: bool = False) -> str:
    """``7 (region_id 2)``: an object's id and where it sits, to tell namesakes apart."""
    info = item.to_dict()
    where = next((f"{key} {info[key]}" for key in _PLACEMENT if info.get(key) is not None), None)
    text = str(info.get("id"))
    if with_name:
        text += f" {info.get(item.NAME_ATTR)!r}"
    return f"{text} ({where})" if where else text


__all__ = [
    "MAX_PAGE_SIZE",
    "MIN_PAGE_SIZE",
    "CRUDClient",
    "Listing",
    "Resource",
    "describe",
    "encode_query",
    "page_size",
    "unsupported",
]
