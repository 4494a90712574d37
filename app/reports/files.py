"""The report files of each training, as .xlsx and .csv: the 汇总表, the 花名册 (with its
汇总 sheet) and the 催学名单, each written and streamed a page of rows at a time. The pages
that print them are in `app.reports.pages`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import IO

from litestar import Request, Router, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from app.lib.downloads import CSV, XLSX, file_chunks, stream_download
from app.reports import queries as q
from app.reports.report import (
    DETAIL_KINDS,
    REMINDER_KINDS,
    REPORTING,
    SUMMARY_KINDS,
    Report,
    load_summary,
    prepare,
    reminder_pages,
    roster_cells,
    roster_row_maker,
)
from app.reports.rows import DETAIL_HEADERS, REMINDER_HEADERS, SUMMARY_HEADERS, summary_cells
from app.reports.writers import XlsxBook, csv_stream


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


# ------------------------------------------------------------------------------ 汇总表


@get("/trainings/{training_id:int}/summary.xlsx", name="report_summary_xlsx")
async def summary_xlsx(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
) -> Stream:
    """The 汇总表 as .xlsx: one sheet, 汇总."""
    report = await prepare(request.user, training_id, unit, batch)
    rows, _ = await load_summary(report)
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
    rows, _ = await load_summary(report)

    async def pages() -> AsyncGenerator[list, None]:
        yield [summary_cells(row) for row in rows]

    return _csv_response(
        csv_stream(SUMMARY_HEADERS, pages(), SUMMARY_KINDS),
        report.download_name("完成情况汇总表", "csv"),
    )


# ------------------------------------------------------------------------------ 花名册


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
    rows, breakdown = await load_summary(report)
    book = XlsxBook()
    try:
        _write_summary(book, report, rows)
        sheet = book.add_sheet(
            "明细", report.title("完成情况花名册"), report.info_line(), DETAIL_HEADERS, DETAIL_KINDS
        )
        async for cells in roster_cells(report, breakdown.units, roster_row_maker(report)):
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
    pages = roster_cells(report, units, roster_row_maker(report))
    return csv_stream(DETAIL_HEADERS, pages, DETAIL_KINDS)


# ------------------------------------------------------------------------------ 催学名单


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
        async for cells in await reminder_pages(report):
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
    chunks = csv_stream(REMINDER_HEADERS, await reminder_pages(report), REMINDER_KINDS)
    return _csv_response(chunks, report.download_name("催学名单", "csv"))


router = Router(
    path="/reports",
    guards=[REPORTING],
    route_handlers=[
        summary_xlsx,
        summary_csv,
        roster_xlsx,
        roster_csv,
        reminders_xlsx,
        reminders_csv,
    ],
)
