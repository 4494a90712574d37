"""The routes of the course: lessons and reading, search, importing a document in the browser."""

from typing import Any

from app.course import lessons, search, upload

ROUTES: list[Any] = [
    lessons.router,
    upload.router,
    search.router,
]
