"""Writing rosters as .xlsx and .csv without holding them in memory.

.xlsx: xlsxwriter in constant_memory mode writes each row to disk as it comes (a page of
rows at a time, in a worker thread so the event loop stays free), the workbook is assembled
in an anonymous temporary file, and the response streams that file.
.csv: UTF-8 with a BOM (so Excel reads the Chinese correctly), yielded a page at a time.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import anyio.to_thread
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from app.reports.rows import Cell

BOM = "\ufeff"
# Text that a spreadsheet would take for a formula (CSV injection): shown with a leading '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A field that starts so, at the start of a line or after a comma (quoted or not).
# (A field holding a line break is quoted; an empty last field is followed by "\r\n".)
_FORMULA_MARKS = ("=", "+", "@", "\t", ",-", "\n-", '"-', '"\r')
_FORMULA_FIELD = re.compile(r'(?:^|,)(?:"[=+\-@\t\r]|[=+\-@\t])', re.MULTILINE)
# Text in XML: markup characters escaped, control characters (not allowed in XML) dropped.
_XML_TEXT = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"} | {
    c: None for c in (*range(0, 9), 11, 12, *range(14, 32))
}
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')

# What a column holds: text, a whole number, a number, a share shown as a percentage, or
# text that may be long and wraps.
TEXT, INTEGER, NUMBER, RATE, LONG_TEXT = "text", "integer", "number", "rate", "long"
_MIN_WIDTH, _MAX_WIDTH, _LONG_WIDTH = 6, 40, 60
_XML_BATCH = 500  # rows of XML put together before they are written


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def display_width(text: str) -> int:
    """Columns the text takes in a spreadsheet: 2 for a Chinese character, 1 for ASCII (the
    UTF-8 length is 3 for one, 1 for the other, so this needs no per-character test)."""
    return (len(text) + len(text.encode())) // 2


def filename(*parts: str, suffix: str) -> str:
    """A download name from its parts, e.g. "专题培训-花名册-20261124.xlsx"."""
    name = "-".join(_UNSAFE_FILENAME.sub("", p) for p in parts if p)
    return f"{name[:120]}.{suffix}"


# ------------------------------------------------------------------------------ CSV


def csv_text(rows: Sequence[Sequence[Cell]]) -> str:
    """Rows as CSV lines: numbers as they are, nothing as "", and text that a spreadsheet
    would take for a formula (=, +, -, @ first) with a leading '."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(rows)
    text = out.getvalue()
    # Nearly always none of these is there at all: a few quick scans in C.
    probe = "\n" + text
    if not any(mark in probe for mark in _FORMULA_MARKS) or not _FORMULA_FIELD.search(text):
        return text
    out = io.StringIO()
    csv.writer(out).writerows(
        [safe_text(v) if isinstance(v, str) else v for v in row] for row in rows
    )
    return out.getvalue()


async def csv_stream(
    headers: Sequence[str], pages: AsyncIterator[Sequence[Sequence[Cell]]]
) -> AsyncIterator[bytes]:
    """The CSV file, a page at a time: the BOM and the header first."""
    yield (BOM + csv_text([headers])).encode()
    async for rows in pages:
        yield csv_text(rows).encode()


# ------------------------------------------------------------------------------ XLSX


@dataclass
class Sheet:
    """A sheet with a title row, a line of 填报单位 and 填报日期, and a frozen header row that
    is printed on every page (A4 landscape, fitted to the page width, numbered pages)."""

    book: XlsxBook
    worksheet: Any
    kinds: Sequence[str]
    widths: list[int]
    row: int = 3

    def __post_init__(self) -> None:
        self._measured = [n for n, k in enumerate(self.kinds) if k in (TEXT, LONG_TEXT)]
        # An empty cell is written blank with its column's format, to keep its border.
        self._blank_formats = [self.book.cell_format(k) for k in self.kinds]
        self._letters = [xl_col_to_name(n) for n in range(len(self.kinds))]

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        """Rows in the column formats; call from a worker thread for big pages."""
        if not rows:
            return
        for n in self._measured:
            longest = max((str(r[n]) for r in rows if r[n]), key=len, default="")
            self.widths[n] = max(self.widths[n], display_width(longest))
        if self.book.fast_rows:
            self._write_xml(rows)
        else:
            self._write_cells(rows)
        self.row += len(rows)

    def _write_cells(self, rows: Sequence[Sequence[Cell]]) -> None:
        """Through xlsxwriter's public methods, a cell at a time."""
        sheet, row, blanks = self.worksheet, self.row, self._blank_formats
        for cells in rows:
            for n, value in enumerate(cells):
                if value is None:
                    sheet.write_blank(row, n, None, blanks[n])
                elif isinstance(value, str):
                    sheet.write_string(row, n, value)
                else:
                    sheet.write_number(row, n, value)
            row += 1

    def _write_xml(self, rows: Sequence[Sequence[Cell]]) -> None:
        """The same <row> elements xlsxwriter's constant_memory mode writes (inline strings,
        each cell with its column's style), put together here a row per string: xlsxwriter
        spends about 5 µs on every cell, 6 s for a 花名册 of 100,000 people."""
        sheet = self.worksheet
        sheet._write_single_row(self.row)  # what xlsxwriter still holds (the header) first
        styles = [f' s="{fmt._get_xf_index()}"' for fmt in self._blank_formats]
        letters = self._letters
        out: list[str] = []
        number = self.row
        for cells in rows:
            number += 1
            line = [f'<row r="{number}">']
            for n, value in enumerate(cells):
                ref = f'<c r="{letters[n]}{number}"{styles[n]}'
                if value is None:
                    line.append(ref + "/>")
                elif isinstance(value, str):
                    text = value.translate(_XML_TEXT)
                    space = (
                        ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                    )
                    line.append(f'{ref} t="inlineStr"><is><t{space}>{text}</t></is></c>')
                else:
                    line.append(f"{ref}><v>{value!r}</v></c>")
            line.append("</row>")
            out.append("".join(line))
            if len(out) == _XML_BATCH:
                sheet.fh.write("".join(out))
                out.clear()
        sheet.fh.write("".join(out))
        last = self.row + len(rows) - 1
        sheet._check_dimensions(last, len(self.kinds) - 1)
        sheet.previous_row = last

    async def write_page(self, rows: Sequence[Sequence[Cell]]) -> None:
        await anyio.to_thread.run_sync(self.write_rows, rows)

    def write_styled(self, cells: Sequence[Cell], bold: bool = False, indent: int = 0) -> None:
        """One row with its own look (a 小计 row in bold, a unit indented by its level)."""
        for n, (value, kind) in enumerate(zip(cells, self.kinds, strict=True)):
            cell_format = self.book.cell_format(kind, bold=bold, indent=indent if n == 0 else 0)
            if value is None:
                self.worksheet.write_blank(self.row, n, None, cell_format)
            else:
                self.worksheet.write(self.row, n, value, cell_format)
            if kind in (TEXT, LONG_TEXT) and value is not None:
                self.widths[n] = max(self.widths[n], display_width(str(value)) + 2 * indent)
        self.row += 1

    def finish(self) -> None:
        for n, (kind, width) in enumerate(zip(self.kinds, self.widths, strict=True)):
            limit = _LONG_WIDTH if kind == LONG_TEXT else _MAX_WIDTH
            self.worksheet.set_column(
                n, n, min(max(width + 2, _MIN_WIDTH), limit), self.book.cell_format(kind)
            )


class XlsxBook:
    """A workbook written row by row into an anonymous temporary file."""

    def __init__(self, fast_rows: bool = True) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed after streaming)
        self.book = xlsxwriter.Workbook(
            self.file,
            {
                "constant_memory": True,
                # Text stays text: never a formula, a link or a number.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._formats: dict[tuple, Any] = {}
        self.sheets: list[Sheet] = []
        # Rows are written as XML straight into xlsxwriter's row file (see Sheet._write_xml)
        # where this xlsxwriter has the internals that relies on; otherwise cell by cell.
        self.fast_rows = fast_rows and all(
            hasattr(xlsxwriter.worksheet.Worksheet, name)
            for name in ("_write_single_row", "_check_dimensions")
        )

    def cell_format(self, kind: str, bold: bool = False, indent: int = 0) -> Any:
        key = (kind, bold, indent)
        if key not in self._formats:
            spec: dict[str, Any] = {"border": 1, "valign": "vcenter", "font_size": 10}
            if kind == INTEGER:
                spec["num_format"] = "0"
            elif kind == RATE:
                spec["num_format"] = "0.0%"
            elif kind == LONG_TEXT:
                spec["text_wrap"] = True
            if bold:
                spec["bold"] = True
            if indent:
                spec["indent"] = indent
            self._formats[key] = self.book.add_format(spec)
        return self._formats[key]

    def add_sheet(
        self, name: str, title: str, info: str, headers: Sequence[str], kinds: Sequence[str]
    ) -> Sheet:
        sheet = self.book.add_worksheet(name)
        last = len(headers) - 1
        title_format = self.book.add_format(
            {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
        )
        info_format = self.book.add_format({"font_size": 10, "valign": "vcenter"})
        header_format = self.book.add_format(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#DDEBF7",
                "font_size": 10,
            }
        )
        widths = [display_width(h) for h in headers]
        # Column formats first: rows written without a format of their own take them.
        for n, kind in enumerate(kinds):
            sheet.set_column(n, n, widths[n] + 2, self.cell_format(kind))
        sheet.set_row(0, 30)
        sheet.merge_range(0, 0, 0, last, title, title_format)
        sheet.merge_range(1, 0, 1, last, info, info_format)
        sheet.write_row(2, 0, list(headers), header_format)
        sheet.freeze_panes(3, 0)
        sheet.repeat_rows(2)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)  # as wide as the page, as many pages as it takes
        sheet.center_horizontally()
        sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        sheet.set_footer("&C第 &P 页，共 &N 页")
        result = Sheet(self, sheet, kinds, widths)
        self.sheets.append(result)
        return result

    def _close(self) -> None:
        for sheet in self.sheets:
            sheet.finish()
        self.book.close()
        self.file.seek(0)

    async def close(self) -> IO[bytes]:
        """Assemble the workbook (in a worker thread); the file to stream, at its start."""
        try:
            await anyio.to_thread.run_sync(self._close)
        except BaseException:
            self.file.close()
            raise
        return self.file

    def discard(self) -> None:
        self.file.close()
