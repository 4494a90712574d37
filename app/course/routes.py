"""The routes of the course: lessons and reading, search, importing a document in the browser,
what a new version of a document changed."""

from typing import Any

from app.course import amendment_pages, lessons, search, upload

ROUTES: list[Any] = [
    lessons.router,
    upload.router,
    search.router,
    amendment_pages.router,
]
