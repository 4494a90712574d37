"""The routes of reports: the dashboard and the rosters of each training."""

from typing import Any

from app.reports import pages

ROUTES: list[Any] = [
    pages.router,
]
