"""The routes of reporting back: the 工作台账, the units' reports and the rounds."""

from typing import Any

from app.unit_reports import ledger_pages, report_pages, round_pages

ROUTES: list[Any] = [report_pages.router, ledger_pages.router, round_pages.router]
