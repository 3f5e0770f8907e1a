"""Users of a project. The API key of a new user is returned once, by ``create``."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin


class User(crud.Resource):
    NAME_ATTR = "username"


class UserManager(HistoryMixin, crud.CRUDClient):
    key = "user"
    base_path = "/users"
    resource_class = User

    # The API has no PUT on users: delete and re-create to change one.
    update = crud.unsupported()


__all__ = ["User", "UserManager"]
