"""The routes of question banks: authoring and importing."""

from typing import Any

from app.banks import draft_pages, import_pages, pages, question_pages

ROUTES: list[Any] = [
    pages.router,
    question_pages.router,
    import_pages.router,
    draft_pages.router,
]
