"""学时 by unit, as pages (each printing on A4 landscape) and .xlsx/.csv downloads: the
学时统计 (the units rolled up with subtotals, then each cadre) and the 学时催学名单 (the cadres
below the yearly requirement). What they show is made by `app.reports.credit_report`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from litestar import Request, Router, get
from litestar.params import FromQuery
from litestar.response import Stream, Template

from app.lib.downloads import CSV, XLSX, file_chunks, stream_download
from app.reports import queries as q
from app.reports.credit_report import (
    CREDIT_DETAIL_HEADERS,
    CREDIT_DETAIL_KINDS,
    CREDIT_REMINDER_HEADERS,
    CREDIT_REMINDER_KINDS,
    CREDIT_SUMMARY_HEADERS,
    CREDIT_SUMMARY_KINDS,
    CadreCredit,
    CreditReport,
    credit_detail_cells,
    credit_reminder_cells,
    credit_summary_cells,
    load_credit_report,
)
from app.reports.report import REPORTING
from app.reports.rows import text_cell
from app.reports.writers import INTEGER, NUMBER, XlsxBook, csv_stream
from app.tables import User
from app.trainings.credit_rules import SOURCES

# The page lists this many cadres at most (about 150 KB: it is opened on phones, often on a
# weak network); a unit's own page or the files carry the rest.
PAGE_LIMIT = 500
PAGE_ROWS = 1000  # cells made and written at a time in the files


async def _context(user: User, report: CreditReport, page: str, what: str) -> dict[str, Any]:
    return {
        "page": page,
        "report": report,
        "title": report.title(what),
        "info": report.info_line(),
        "units": await q.units_under(q.home_path(user)),
        "query": report.query(),
        "text": text_cell,
        "sources": SOURCES,
    }


def _numbered(cadres: Sequence[CadreCredit], make: Any, limit: int | None = None) -> list[tuple]:
    shown = cadres if limit is None else cadres[:limit]
    return [make(n, c) for n, c in enumerate(shown, 1)]


async def _pages(cadres: Sequence[CadreCredit], make: Any) -> AsyncGenerator[list[tuple], None]:
    for start in range(0, len(cadres), PAGE_ROWS):
        yield [make(n, c) for n, c in enumerate(cadres[start : start + PAGE_ROWS], start + 1)]


@get("/credits", name="credit_summary")
async def credit_summary_page(
    request: Request, year: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Template:
    """学时统计: by unit with subtotals, then each cadre's 学时 by source."""
    report = await load_credit_report(request.user, year, unit)
    cadres = await report.cadres()
    context = await _context(request.user, report, "summary", "学时统计表")
    context.update(
        rows=report.summary_rows(),
        cells=credit_summary_cells,
        headers=CREDIT_SUMMARY_HEADERS,
        detail_headers=CREDIT_DETAIL_HEADERS,
        detail=_numbered(cadres, credit_detail_cells, PAGE_LIMIT),
        total=len(cadres),
        limit=PAGE_LIMIT,
        numeric={n for n, k in enumerate(CREDIT_DETAIL_KINDS) if k in (INTEGER, NUMBER)},
    )
    return Template("reports/credits.html", context=context)


@get("/credits/reminders", name="credit_reminders")
async def credit_reminders_page(
    request: Request, year: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Template:
    """学时催学名单: by unit, the cadres below the yearly requirement and what they lack."""
    report = await load_credit_report(request.user, year, unit)
    below = await report.cadres(below_only=True)
    shown = _numbered(below, credit_reminder_cells, PAGE_LIMIT)
    groups: list[tuple[str, list[tuple]]] = []
    for cells in shown:
        if not groups or groups[-1][0] != cells[1]:
            groups.append((str(cells[1]), []))
        groups[-1][1].append(cells)
    context = await _context(request.user, report, "reminders", "学时催学名单")
    context.update(
        groups=groups,
        total=len(below),
        shown=len(shown),
        headers=CREDIT_REMINDER_HEADERS,
    )
    return Template("reports/credit_reminders.html", context=context)


# ------------------------------------------------------------------------------ files


def _write_summary(book: XlsxBook, report: CreditReport) -> None:
    sheet = book.add_sheet(
        "汇总",
        report.title("学时统计表"),
        report.info_line(),
        CREDIT_SUMMARY_HEADERS,
        CREDIT_SUMMARY_KINDS,
    )
    for row in report.summary_rows():
        sheet.write_styled(credit_summary_cells(row), bold=row.is_subtotal, indent=row.level)


async def _xlsx(report: CreditReport, what: str, fill: Any) -> Stream:
    book = XlsxBook()
    try:
        await fill(book)
    except BaseException:
        book.discard()
        raise
    file = await book.close()
    return stream_download(file_chunks(file), report.download_name(what, "xlsx"), XLSX)


@get("/credits.xlsx", name="credit_summary_xlsx")
async def credit_summary_xlsx(
    request: Request, year: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Stream:
    """学时统计 as .xlsx: sheets 汇总 (by unit) and 明细 (each cadre)."""
    report = await load_credit_report(request.user, year, unit)

    async def fill(book: XlsxBook) -> None:
        _write_summary(book, report)
        sheet = book.add_sheet(
            "明细",
            report.title("学时明细"),
            report.info_line(),
            CREDIT_DETAIL_HEADERS,
            CREDIT_DETAIL_KINDS,
        )
        async for cells in _pages(await report.cadres(), credit_detail_cells):
            await sheet.write_page(cells)

    return await _xlsx(report, "学时统计表", fill)


@get("/credits.csv", name="credit_summary_csv")
async def credit_summary_csv(
    request: Request, year: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Stream:
    """学时明细 as .csv: each cadre (the totals by unit are in the .xlsx and on the page)."""
    report = await load_credit_report(request.user, year, unit)
    chunks = csv_stream(
        CREDIT_DETAIL_HEADERS,
        _pages(await report.cadres(), credit_detail_cells),
        CREDIT_DETAIL_KINDS,
    )
    return stream_download(chunks, report.download_name("学时明细", "csv"), CSV)


@get("/credits/reminders.xlsx", name="credit_reminders_xlsx")
async def credit_reminders_xlsx(
    request: Request, year: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Stream:
    report = await load_credit_report(request.user, year, unit)

    async def fill(book: XlsxBook) -> None:
        sheet = book.add_sheet(
            "学时催学名单",
            report.title("学时催学名单"),
            report.info_line(),
            CREDIT_REMINDER_HEADERS,
            CREDIT_REMINDER_KINDS,
        )
        async for cells in _pages(await report.cadres(below_only=True), credit_reminder_cells):
            await sheet.write_page(cells)

    return await _xlsx(report, "学时催学名单", fill)


@get("/credits/reminders.csv", name="credit_reminders_csv")
async def credit_reminders_csv(
    request: Request, year: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Stream:
    report = await load_credit_report(request.user, year, unit)
    chunks = csv_stream(
        CREDIT_REMINDER_HEADERS,
        _pages(await report.cadres(below_only=True), credit_reminder_cells),
        CREDIT_REMINDER_KINDS,
    )
    return stream_download(chunks, report.download_name("学时催学名单", "csv"), CSV)


router = Router(
    path="/reports",
    guards=[REPORTING],
    route_handlers=[
        credit_summary_page,
        credit_reminders_page,
        credit_summary_xlsx,
        credit_summary_csv,
        credit_reminders_xlsx,
        credit_reminders_csv,
    ],
)
