"""Users of a project. The API key of a new user is returned once, by ``create``, and a
fresh one once by ``rotate_key``."""

from __future__ import annotations

from typing import Any

from cratonclient import crud
from cratonclient.session import json_body
from cratonclient.v1.history import HistoryMixin


class User(crud.Resource):
    NAME_ATTR = "username"

    def rotate_key(self, grace_seconds: int | None = None) -> User:
        """Issue a new API key for this user: see ``UserManager.rotate_key``."""
        return self.manager.rotate_key(self.id, grace_seconds=grace_seconds)  # type: ignore[attr-defined,no-any-return]


class UserManager(HistoryMixin, crud.CRUDClient):
    key = "user"
    base_path = "/users"
    resource_class = User

    # The API has no PUT on users: delete and re-create to change one.
    update = crud.unsupported()

    def rotate_key(self, user_id: Any, grace_seconds: int | None = None) -> User:
        """Give the user a new API key (``POST /v1/users/<id>/api-key``) and return the user.

        The new key is in ``api_key`` of the answer, and only there: keep it now. The previous
        key keeps working for ``grace_seconds`` (0 to 604800; the server's default is 0,
        so it stops at once), long enough to roll the new one out.
        """
        url = self.build_url({"user_id": user_id}) + "/api-key"
        response = self.session.post(url, params=crud.encode_query({"grace_seconds": grace_seconds}))
        return User(self, json_body(response), loaded=True)


__all__ = ["User", "UserManager"]
