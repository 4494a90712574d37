"""The routes of reports: the dashboard, and each training's report pages and files."""

from typing import Any

from app.reports import credit_pages, dashboard, files, pages

ROUTES: list[Any] = [
    dashboard.router,
    pages.router,
    files.router,
    credit_pages.router,
]
