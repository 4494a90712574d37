"""The routes of question banks: authoring and importing."""

from typing import Any

from app.banks import import_pages, pages

ROUTES: list[Any] = [
    pages.router,
    import_pages.router,
]
