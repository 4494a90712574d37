"""The routes of reports: the dashboard, and each training's report pages and files."""

from typing import Any

from app.reports import dashboard, files, pages

ROUTES: list[Any] = [
    dashboard.router,
    pages.router,
    files.router,
]
