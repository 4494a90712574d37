"""The report pages of each training, each printing on A4 landscape: the 汇总表, the 花名册
and the 催学名单. Their .xlsx and .csv downloads are in `app.reports.files`; the report as
asked for (training, unit, batch, order, each checked) comes from `app.reports.report`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from litestar import Request, Router, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.reports import queries as q
from app.reports.report import (
    DETAIL_KINDS,
    REPORTING,
    Report,
    load_summary,
    prepare,
    reminder_pages,
    roster_cells,
    roster_row_maker,
)
from app.reports.rows import (
    DETAIL_HEADERS,
    REMINDER_HEADERS,
    SUMMARY_HEADERS,
    rate_text,
    summary_cells,
    text_cell,
)
from app.reports.strokes import ORDER_NAMES
from app.reports.writers import INTEGER, NUMBER
from app.tables import TRAINING_KINDS

# The printable page lists this many people at most; longer rosters are downloaded.
PAGE_LIMIT = 3000


async def _page_context(report: Report, page: str, what: str) -> dict[str, Any]:
    return {
        "page": page,
        "text": text_cell,
        "rate": rate_text,
        "report": report,
        "title": report.title(what),
        "info": report.info_line(),
        "units": await q.units_under(report.base),
        "batches": await q.batches_of(report.training["id"]),
        "orders": ORDER_NAMES,
        "query": report.query(),
        "kinds": TRAINING_KINDS,
    }


async def _first(pages: AsyncGenerator[list[tuple], None], limit: int) -> list[tuple]:
    """The first `limit` rows; the pages after them are never read."""
    shown: list[tuple] = []
    async with aclosing(pages):
        async for cells in pages:
            shown.extend(cells[: limit - len(shown)])
            if len(shown) >= limit:
                break
    return shown


@get("/trainings/{training_id:int}/summary", name="report_summary")
async def summary_page(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
) -> Template:
    report = await prepare(request.user, training_id, unit, batch)
    rows, _ = await load_summary(report)
    context = await _page_context(report, "summary", "完成情况汇总表")
    context.update(rows=rows, cells=summary_cells, headers=SUMMARY_HEADERS)
    return Template("reports/summary.html", context=context)


@get("/trainings/{training_id:int}/roster", name="report_roster")
async def roster_page(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    order: FromQuery[str] = "",
) -> Template:
    report = await prepare(request.user, training_id, unit, batch, order)
    breakdown = await q.load_breakdown(report.filters)
    pages = roster_cells(report, breakdown.units, roster_row_maker(report))
    context = await _page_context(report, "roster", "完成情况花名册")
    context.update(
        rows=await _first(pages, PAGE_LIMIT),
        total=breakdown.total.enrolled,
        limit=PAGE_LIMIT,
        headers=DETAIL_HEADERS,
        numeric={n for n, k in enumerate(DETAIL_KINDS) if k in (INTEGER, NUMBER)},
    )
    return Template("reports/roster.html", context=context)


@get("/trainings/{training_id:int}/reminders", name="report_reminders")
async def reminders_page(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    order: FromQuery[str] = "",
) -> Template:
    """催学名单: by unit, who has not completed and what each still lacks."""
    report = await prepare(request.user, training_id, unit, batch, order)
    breakdown = await q.load_breakdown(report.filters)
    shown = await _first(await reminder_pages(report, breakdown.units), PAGE_LIMIT)
    groups: list[tuple[str, list[tuple]]] = []
    for cells in shown:
        if not groups or groups[-1][0] != cells[1]:
            groups.append((cells[1], []))
        groups[-1][1].append(cells)
    context = await _page_context(report, "reminders", "催学名单")
    context.update(
        groups=groups,
        total=breakdown.total.not_completed,
        shown=len(shown),
        limit=PAGE_LIMIT,
        headers=REMINDER_HEADERS,
    )
    return Template("reports/reminders.html", context=context)


router = Router(
    path="/reports",
    guards=[REPORTING],
    route_handlers=[summary_page, roster_page, reminders_page],
)
