"""The entry point of the v1 API: one attribute (a manager) per kind of resource."""

from __future__ import annotations

import functools
import typing
from contextlib import AbstractContextManager
from urllib.parse import urlsplit

from cratonclient.crud import CRUDClient
from cratonclient.session import Session
from cratonclient.v1.cells import CellManager
from cratonclient.v1.clouds import CloudManager
from cratonclient.v1.devices import DeviceManager
from cratonclient.v1.effective_changes import EffectiveChangeManager
from cratonclient.v1.fleet import FleetManager
from cratonclient.v1.history import ChangeManager
from cratonclient.v1.hosts import HostManager
from cratonclient.v1.inventory import AnsibleInventoryManager
from cratonclient.v1.network_devices import NetworkDeviceManager
from cratonclient.v1.network_interfaces import NetworkInterfaceManager
from cratonclient.v1.networks import NetworkManager
from cratonclient.v1.projects import ProjectManager
from cratonclient.v1.regions import RegionManager
from cratonclient.v1.users import UserManager
from cratonclient.v1.webhooks import WebhookManager


def api_root(url: str) -> str:
    """``http://h:7780``, ``http://h:7780/``, ``.../v1`` and ``.../v1/`` all give ``.../v1``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"The Craton URL must be an absolute http(s) URL, got {url!r}")
    root = url.rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


class Client:
    """All of a Craton deployment's resources, through one authenticated session.

    ``Client(session=auth.craton_auth(...), url="http://craton:7780")``.
    """

    # The client's one list of the kinds of object: a manager per kind, in the order the
    # server declares them (tests/unit/test_kinds.py compares it with the server's registry),
    # then the views over several kinds (VIEWS). The CLI and the change feed's filter are
    # derived from it: see kind_managers().
    projects: ProjectManager
    users: UserManager
    clouds: CloudManager
    regions: RegionManager
    cells: CellManager
    hosts: HostManager
    network_devices: NetworkDeviceManager
    networks: NetworkManager
    network_interfaces: NetworkInterfaceManager
    devices: DeviceManager
    inventory: AnsibleInventoryManager
    fleet: FleetManager

    def __init__(self, session: Session, url: str) -> None:
        self._session = session
        self._url = api_root(url)
        for name, manager in managers().items():
            setattr(self, name, manager(session=session, url=self._url))

    @functools.cached_property
    def changes(self) -> ChangeManager:
        """The change records of all the resources above, as one feed read with a cursor."""
        return ChangeManager(session=self._session, url=self._url)

    @functools.cached_property
    def webhooks(self) -> WebhookManager:
        """The project's webhooks (admins only) and their delivery logs: not a kind of inventory object."""
        return WebhookManager(session=self._session, url=self._url)

    @functools.cached_property
    def effective_changes(self) -> EffectiveChangeManager:
        """Per device, what each change did to its resolved variables: a feed read with a cursor."""
        return EffectiveChangeManager(session=self._session, url=self._url)

    @property
    def url(self) -> str:
        """The API root every manager uses, always ending in ``/v1``."""
        return self._url

    @property
    def session(self) -> Session:
        """The session every manager sends its requests through (``change_reason`` lives here)."""
        return self._session

    def reason(self, text: str | None) -> AbstractContextManager[None]:
        """``with craton.reason("OPS-42: new NTP pool"): ...``: every change made in the
        block (in this thread) is recorded with this reason. See ``Session.reason``."""
        return self._session.reason(text)

    def __repr__(self) -> str:
        return f"Client(url={self._url!r}, session={self._session!r})"


#: Managers of :class:`Client` that list several kinds together rather than one kind.
VIEWS = frozenset({"devices", "inventory", "fleet"})


@functools.cache
def managers() -> dict[str, type[CRUDClient]]:
    """Every manager attribute of :class:`Client` and its class, in declaration order."""
    hints = typing.get_type_hints(Client)
    return {name: hint for name, hint in hints.items() if isinstance(hint, type) and issubclass(hint, CRUDClient)}


def kind_managers() -> dict[str, type[CRUDClient]]:
    """The manager of each kind of object (``hosts``: ``HostManager``), in the server's order."""
    return {name: manager for name, manager in managers().items() if name not in VIEWS}


__all__ = ["Client", "api_root", "kind_managers", "managers"]
