"""The entry point of the v1 API: one attribute (a manager) per kind of resource."""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from urllib.parse import urlsplit

from cratonclient.session import Session
from cratonclient.v1.cells import CellManager
from cratonclient.v1.clouds import CloudManager
from cratonclient.v1.devices import DeviceManager
from cratonclient.v1.history import ChangeManager
from cratonclient.v1.hosts import HostManager
from cratonclient.v1.inventory import AnsibleInventoryManager
from cratonclient.v1.network_devices import NetworkDeviceManager
from cratonclient.v1.network_interfaces import NetworkInterfaceManager
from cratonclient.v1.networks import NetworkManager
from cratonclient.v1.projects import ProjectManager
from cratonclient.v1.regions import RegionManager
from cratonclient.v1.users import UserManager


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

    def __init__(self, session: Session, url: str) -> None:
        self._session = session
        self._url = api_root(url)
        self.projects = ProjectManager(session=session, url=self._url)
        self.users = UserManager(session=session, url=self._url)
        self.clouds = CloudManager(session=session, url=self._url)
        self.regions = RegionManager(session=session, url=self._url)
        self.cells = CellManager(session=session, url=self._url)
        self.hosts = HostManager(session=session, url=self._url)
        self.network_devices = NetworkDeviceManager(session=session, url=self._url)
        self.networks = NetworkManager(session=session, url=self._url)
        self.network_interfaces = NetworkInterfaceManager(session=session, url=self._url)
        self.devices = DeviceManager(session=session, url=self._url)
        self.inventory = AnsibleInventoryManager(session=session, url=self._url)

    @functools.cached_property
    def changes(self) -> ChangeManager:
        """The change records of all the resources above, as one feed read with a cursor."""
        return ChangeManager(session=self._session, url=self._url)

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


__all__ = ["Client", "api_root"]
