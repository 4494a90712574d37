"""The report pages: the dashboard, and for each training the 汇总表, the 花名册 and the
催学名单, each a page that prints on A4 landscape and a download as .xlsx and .csv.

A unit admin sees only its own subtree: every query runs under a path within
`scope_path(user)`, and `?unit=` outside it is refused with 403.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlencode

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Stream, Template

from app.accounts.guards import load_unit, requires_role, scope_path
from app.lib.downloads import CSV, XLSX, file_chunks, stream_download
from app.reports import queries as q
from app.reports.rows import (
    DETAIL_HEADERS,
    REMINDER_HEADERS,
    SUMMARY_HEADERS,
    TrainingFacts,
    detail_maker,
    rate_text,
    reminder_cells,
    summary_cells,
    text_cell,
)
from app.reports.strokes import ORDER_NAMES, ORDERS
from app.reports.summary import CHART, TOTAL, Breakdown, SummaryRow, chart_bars, chart_height
from app.reports.writers import (
    INTEGER,
    LONG_TEXT,
    NUMBER,
    RATE,
    TEXT,
    XlsxBook,
    csv_stream,
    filename,
)
from app.settings import get_settings
from app.tables import TRAINING_KINDS, User
from app.trainings.access import training_row

SUMMARY_KINDS = (TEXT, INTEGER, INTEGER, INTEGER, RATE, NUMBER, NUMBER)
DETAIL_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, NUMBER, TEXT, TEXT, NUMBER, TEXT)
REMINDER_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, LONG_TEXT)
# The printable page lists this many people at most; longer rosters are downloaded.
PAGE_LIMIT = 3000


def today() -> datetime:
    return datetime.now(get_settings().timezone)


@dataclass(frozen=True)
class Report:
    """One training's report as asked for: whose, which subtree, batch and order."""

    user: User
    training: dict[str, Any]
    facts: TrainingFacts
    base: str  # the subtree the training covers for this person
    unit: dict[str, Any] | None  # the unit chosen with ?unit=
    batch: dict[str, Any] | None
    order: str
    filters: q.Filters
    scope_name: str  # the unit at filters.path, for 统计范围

    def query(self, **changes: Any) -> str:
        values = {
            "unit": self.unit["id"] if self.unit else "",
            "batch": self.batch["id"] if self.batch else "",
            "order": self.order if self.order != "strokes" else "",
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def title(self, what: str) -> str:
        return f"{self.training['title']}{what}"

    def info_line(self) -> str:
        """填报单位、统计范围、期次、填报日期, in one line under the title."""
        parts = [f"填报单位：{self.user.unit.name}", f"统计范围：{self.scope_name}（含下级单位）"]
        if self.batch:
            parts.append(f"期次：{self.batch['name']}")
        parts.append(f"填报日期：{today():%Y年%m月%d日}")
        return "　　".join(parts)

    def download_name(self, what: str, suffix: str) -> str:
        unit = self.unit["name"] if self.unit else ""
        batch = self.batch["name"] if self.batch else ""
        return filename(
            self.training["title"], what, unit, batch, f"{today():%Y%m%d}", suffix=suffix
        )


async def prepare(
    user: User, training_id: int, unit: str = "", batch: str = "", order: str = ""
) -> Report:
    """The report's training, subtree, batch and order, each checked: an unknown training,
    unit or batch gives 404; a training or unit outside the person's scope gives 403."""
    training = await training_row(user, training_id, *q.TRAINING_COLUMNS)
    scope = scope_path(user)
    base = q.nested(scope, training["unit_path"]) or scope
    chosen = None
    path = base
    if unit.strip():
        unit_id = q.parse_id(unit)
        if unit_id is None:
            raise NotFoundException("没有找到这个单位。")
        found = await load_unit(user, unit_id)  # 403 outside the person's subtree
        path = q.nested(base, found.path)
        if path is None:
            raise NotFoundException(f"“{found.name}”不在这项培训的范围内。")
        chosen = {"id": found.id, "name": found.name, "path": found.path}
    chosen_batch = await q.load_batch(training["id"], batch)
    top = await q.unit_at(path)
    return Report(
        user=user,
        training=training,
        facts=TrainingFacts(
            title=training["title"],
            kind=training["kind"],
            has_quiz=training["final_quiz"] is not None,
            attendance_share=training["attendance_share"],
        ),
        base=base,
        unit=chosen,
        batch=chosen_batch,
        order=order if order in ORDERS else "strokes",
        filters=q.Filters(
            path=path,
            training_id=training["id"],
            batch_id=chosen_batch["id"] if chosen_batch else None,
        ),
        scope_name=top["name"] if top else "全市",
    )


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


async def _summary(report: Report) -> tuple[list[SummaryRow], Breakdown]:
    """The 汇总表's rows, and the figures they were made of."""
    breakdown = await q.load_breakdown(report.filters)
    return breakdown.summary_rows(), breakdown


# ------------------------------------------------------------------------------ dashboard


@get("/", name="dashboard")
async def dashboard(
    request: Request,
    training: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    unit: FromQuery[str] = "",
) -> Template:
    """完成情况总览: three numbers, a chart of completion by unit, a table to drill down."""
    user: User = request.user
    trainings = await q.visible_trainings(user)
    chosen = None
    start = q.home_path(user)
    if training.strip():
        training_id = q.parse_id(training)
        if training_id is None:
            raise NotFoundException("没有找到这项培训。")
        chosen = await training_row(user, training_id, *q.TRAINING_COLUMNS)
        start = q.nested(start, chosen["unit_path"]) or start
    chosen_batch = await q.load_batch(chosen["id"], batch) if chosen else None
    current: dict[str, Any] | None
    if unit.strip():
        unit_id = q.parse_id(unit)
        if unit_id is None:
            raise NotFoundException("没有找到这个单位。")
        found = await load_unit(user, unit_id)  # 403 outside the person's subtree
        current = await q.unit_at(found.path)
    else:
        current = await q.unit_at(start)
    if current is None:
        raise NotFoundException("没有找到这个单位。")
    kind = kind if kind in TRAINING_KINDS and chosen is None else ""
    filters = q.Filters(
        path=current["path"],
        training_id=chosen["id"] if chosen else None,
        batch_id=chosen_batch["id"] if chosen_batch else None,
        kind=kind,
    )
    rows = (await q.load_breakdown(filters)).drill_rows(current)
    scope = scope_path(user)
    crumbs = [
        u
        for u in await q.units_above(current["path"])
        if u["path"].startswith(scope) and u["id"] != current["id"]
    ]
    keep = {
        "training": chosen["id"] if chosen else "",
        "batch": chosen_batch["id"] if chosen_batch else "",
        "kind": kind,
    }
    bars = chart_bars(rows)
    return Template(
        "reports/dashboard.html",
        context={
            "trainings": trainings,
            "training": chosen,
            "batches": await q.batches_of(chosen["id"]) if chosen else [],
            "batch": chosen_batch,
            "kind": kind,
            "kinds": TRAINING_KINDS,
            "current": current,
            "crumbs": crumbs,
            "rows": rows,
            "totals": rows[-1].figures,
            "bars": bars,
            "chart": CHART,
            "chart_height": chart_height(bars),
            "TOTAL": TOTAL,
            "keep": {k: v for k, v in keep.items() if v != ""},
            "cells": summary_cells,
            "text": text_cell,
            "rate": rate_text,
        },
    )


# ------------------------------------------------------------------------------ 汇总表


@get("/trainings/{training_id:int}/summary", name="report_summary")
async def summary_page(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
) -> Template:
    report = await prepare(request.user, training_id, unit, batch)
    rows, _ = await _summary(report)
    context = await _page_context(report, "summary", "完成情况汇总表")
    context.update(rows=rows, cells=summary_cells, headers=SUMMARY_HEADERS)
    return Template("reports/summary.html", context=context)


def _write_summary(book: XlsxBook, report: Report, rows: list) -> None:
    sheet = book.add_sheet(
        "汇总", report.title("完成情况汇总表"), report.info_line(), SUMMARY_HEADERS, SUMMARY_KINDS
    )
    for row in rows:
        sheet.write_styled(summary_cells(row), bold=row.is_subtotal, indent=row.level)


def _xlsx_response(file: IO[bytes], name: str) -> Stream:
    return stream_download(file_chunks(file), name, XLSX)


def _csv_response(chunks: AsyncIterator[bytes], name: str) -> Stream:
    return stream_download(chunks, name, CSV)


@get("/trainings/{training_id:int}/summary.xlsx", name="report_summary_xlsx")
async def summary_xlsx(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
) -> Stream:
    """The 汇总表 as .xlsx: one sheet, 汇总."""
    report = await prepare(request.user, training_id, unit, batch)
    rows, _ = await _summary(report)
    book = XlsxBook()
    try:
        _write_summary(book, report, rows)
    except BaseException:
        book.discard()
        raise
    return _xlsx_response(await book.close(), report.download_name("完成情况汇总表", "xlsx"))


@get("/trainings/{training_id:int}/summary.csv", name="report_summary_csv")
async def summary_csv(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
) -> Stream:
    report = await prepare(request.user, training_id, unit, batch)
    rows, _ = await _summary(report)

    async def pages() -> AsyncIterator[list]:
        lines = [list(summary_cells(row)) for row in rows]
        for line in lines:
            line[4] = rate_text(line[4])
        yield lines

    return _csv_response(
        csv_stream(SUMMARY_HEADERS, pages()),
        report.download_name("完成情况汇总表", "csv"),
    )


# ------------------------------------------------------------------------------ 花名册


async def _roster_cells(
    report: Report, units: Sequence[Mapping[str, Any]], make: Callable, **kw: Any
) -> AsyncIterator[list[tuple]]:
    """Rows of cells, a chunk at a time, numbered from 1 in roster order."""
    number = 0
    async for rows in q.roster_pages(report.filters, units, ORDERS[report.order], **kw):
        yield [make(n, row) for n, row in enumerate(rows, number + 1)]
        number += len(rows)


def _detail_maker(report: Report) -> Callable:
    return detail_maker(report.facts, get_settings().timezone)


def _reminder_maker(report: Report) -> Callable:
    return lambda number, row: reminder_cells(number, row, report.facts)


async def _first(pages: AsyncIterator[list[tuple]], limit: int) -> list[tuple]:
    """The first `limit` rows; the pages after them are never read."""
    shown: list[tuple] = []
    async with aclosing(pages):
        async for cells in pages:
            shown.extend(cells[: limit - len(shown)])
            if len(shown) >= limit:
                break
    return shown


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
    pages = _roster_cells(report, breakdown.units, _detail_maker(report))
    context = await _page_context(report, "roster", "完成情况花名册")
    context.update(
        rows=await _first(pages, PAGE_LIMIT),
        total=breakdown.total.enrolled,
        limit=PAGE_LIMIT,
        headers=DETAIL_HEADERS,
        numeric={n for n, k in enumerate(DETAIL_KINDS) if k in (INTEGER, NUMBER)},
    )
    return Template("reports/roster.html", context=context)


@get("/trainings/{training_id:int}/roster.xlsx", name="report_roster_xlsx")
async def roster_xlsx(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    order: FromQuery[str] = "",
) -> Stream:
    """The 花名册 as .xlsx: two sheets, 汇总 (the summary) and 明细 (one row per cadre)."""
    report = await prepare(request.user, training_id, unit, batch, order)
    return _xlsx_response(await roster_book(report), report.download_name("完成情况花名册", "xlsx"))


async def roster_book(report: Report):
    """The workbook with sheets 汇总 and 明细, written page by page; the file to stream."""
    rows, breakdown = await _summary(report)
    book = XlsxBook()
    try:
        _write_summary(book, report, rows)
        sheet = book.add_sheet(
            "明细", report.title("完成情况花名册"), report.info_line(), DETAIL_HEADERS, DETAIL_KINDS
        )
        async for cells in _roster_cells(report, breakdown.units, _detail_maker(report)):
            await sheet.write_page(cells)
    except BaseException:
        book.discard()
        raise
    return await book.close()


@get("/trainings/{training_id:int}/roster.csv", name="report_roster_csv")
async def roster_csv(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    order: FromQuery[str] = "",
) -> Stream:
    report = await prepare(request.user, training_id, unit, batch, order)
    return _csv_response(
        await roster_csv_chunks(report), report.download_name("完成情况花名册", "csv")
    )


async def roster_csv_chunks(report: Report) -> AsyncIterator[bytes]:
    """The 花名册 as CSV chunks, streamed as the pages are read."""
    units = await q.units_under(report.filters.path)
    pages = _roster_cells(report, units, _detail_maker(report))
    return csv_stream(DETAIL_HEADERS, pages)


# ------------------------------------------------------------------------------ 催学名单


async def _reminder_pages(
    report: Report, units: Sequence[Mapping[str, Any]] | None = None
) -> AsyncIterator[list[tuple]]:
    if units is None:
        units = await q.units_under(report.filters.path)
    return _roster_cells(report, units, _reminder_maker(report), not_completed_only=True)


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
    shown = await _first(await _reminder_pages(report, breakdown.units), PAGE_LIMIT)
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


@get("/trainings/{training_id:int}/reminders.xlsx", name="report_reminders_xlsx")
async def reminders_xlsx(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    order: FromQuery[str] = "",
) -> Stream:
    """催学名单 as .xlsx: one sheet, 催学名单."""
    report = await prepare(request.user, training_id, unit, batch, order)
    book = XlsxBook()
    try:
        sheet = book.add_sheet(
            "催学名单",
            report.title("催学名单"),
            report.info_line(),
            REMINDER_HEADERS,
            REMINDER_KINDS,
        )
        async for cells in await _reminder_pages(report):
            await sheet.write_page(cells)
    except BaseException:
        book.discard()
        raise
    return _xlsx_response(await book.close(), report.download_name("催学名单", "xlsx"))


@get("/trainings/{training_id:int}/reminders.csv", name="report_reminders_csv")
async def reminders_csv(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    order: FromQuery[str] = "",
) -> Stream:
    report = await prepare(request.user, training_id, unit, batch, order)
    chunks = csv_stream(REMINDER_HEADERS, await _reminder_pages(report))
    return _csv_response(chunks, report.download_name("催学名单", "csv"))


router = Router(
    path="/reports",
    guards=[requires_role("unit_admin")],
    route_handlers=[
        dashboard,
        summary_page,
        summary_xlsx,
        summary_csv,
        roster_page,
        roster_xlsx,
        roster_csv,
        reminders_page,
        reminders_xlsx,
        reminders_csv,
    ],
)
