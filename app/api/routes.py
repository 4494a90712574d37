"""The routes of the JSON API and of its tokens' management pages."""

from typing import Any

from app.api import tokens, v1

ROUTES: list[Any] = [
    tokens.router,
    v1.router,
]
