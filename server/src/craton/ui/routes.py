"""Where each page lives under /ui/."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from craton.ui import browse, edit, forms, signin
from craton.ui.pipeline import page


async def to_ui(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)


ROUTES: list[BaseRoute] = [
    Route("/", to_ui, methods=["GET", "HEAD"]),
    Route("/ui", to_ui, methods=["GET", "HEAD"]),
    Mount(
        "/ui",
        routes=[
            Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="ui_static"),
            Route("/login", signin.login_form, methods=["GET"]),
            Route("/login", signin.login, methods=["POST"]),
            Route("/logout", signin.logout, methods=["POST"]),
            Route("/", page(browse.overview)),
            Route("/search", page(browse.search)),
            Route("/inventory", page(browse.inventory)),
            Route("/{collection}", page(browse.list_page)),
            Route("/{collection}/new", page(forms.new_form)),
            Route("/{collection}/new", page(forms.create, writes=True), methods=["POST"]),
            Route("/{collection}/{id}", page(browse.detail)),
            Route("/{collection}/{id}/history", page(browse.history)),
            Route("/{collection}/{id}/edit", page(forms.edit_form)),
            Route("/{collection}/{id}/edit", page(forms.update, writes=True), methods=["POST"]),
            Route("/{collection}/{id}/variables", page(edit.variables_form)),
            Route("/{collection}/{id}/variables", page(edit.variables_save, writes=True), methods=["POST"]),
            Route("/{collection}/{id}/labels", page(edit.labels_save, writes=True), methods=["POST"]),
            Route("/{collection}/{id}/delete", page(edit.delete_form)),
            Route("/{collection}/{id}/delete", page(edit.delete, writes=True), methods=["POST"]),
        ],
    ),
]
