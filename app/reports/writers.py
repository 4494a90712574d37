"""Writing rosters as .xlsx and .csv without holding them in memory.

.xlsx: xlsxwriter in constant_memory mode writes each row to disk as it comes (a page of
rows at a time, in a worker thread so the event loop stays free), the workbook is assembled
in an anonymous temporary file, and the response streams that file.
.csv: UTF-8 with a BOM (so Excel reads the Chinese correctly), yielded a page at a time.

A spreadsheet program opening either file shows every cell as the page does: text stays
text, numbers are numbers, 完成时间 is a date. In the .xlsx each cell has its type and text
columns are formatted as text (so typing over a cell keeps it text). A .csv has no types, and
Excel and LibreOffice read a field such as 5/13, 0012, 1-2, 3% or 13800000000 as a date or a
number. So the CSV writes such text with a zero-width space after it (`csv_field`): it shows
nothing and belongs to no number or date, so the field is read as the text (peixun's own
readers of uploaded lists drop it again). The usual ="5/13" is not used: LibreOffice leaves
formulas in a .csv unevaluated by default and shows ="5/13" as it is. It also shows a
leading ' as it is, so only text that would be taken for a formula gets one (so that it
never runs).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import IO, Any

import anyio.to_thread
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from app.reports.rows import Cell, rate_text

BOM = "\ufeff"
# Text that a spreadsheet would take for a formula (CSV injection): shown with a leading '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Put after text that a spreadsheet would read as a number or a date: shows nothing.
ZERO_WIDTH_SPACE = "\u200b"
# Text that Excel or LibreOffice reads as a number, a date, a time, a fraction, a percentage,
# a truth value or an error value (matched after NFKC, so full-width forms alike): 5/13,
# 0012, 1-2, 3%, 1 1/2, 13800000000, 5月13日, 下午2:30, 1e5, (5), ¥5, May 13, TRUE, #N/A.
_READ_AS_VALUE = re.compile(
    r"""[\s(+\-$¥€£上下午]* [0-9] [0-9\s.,:/%()+\-$¥€£年月日时分秒eEaApPmM]*
      | (?=.*[0-9]) [0-9\s.,/\-]* (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*
        \.? [0-9\s.,/\-]*
      | \s* (?:true|false) \s*
      | \#(?:N/A|VALUE!|REF!|DIV/0!|NUM!|NAME\?|NULL!)""",
    re.IGNORECASE | re.VERBOSE,
)
# A quick look at a column's texts (joined by "\0") for anything _READ_AS_VALUE could match,
# or for a text that starts like a formula.
_MAYBE_VALUE = re.compile("[0-9\uff10-\uff19#TtFf]")
_FORMULA_MARKS = tuple("\0" + start for start in _FORMULA_START)
# Text in XML: markup characters escaped, control characters (not allowed in XML) dropped.
_XML_TEXT = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"} | {
    c: None for c in (*range(0, 9), 11, 12, *range(14, 32))
}
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')

# What a column holds: text, a whole number, a number, a share shown as a percentage, text
# that may be long and wraps, or a time as "2026-11-20 14:30" (or text such as 未完成).
TEXT, INTEGER, NUMBER, RATE, LONG_TEXT = "text", "integer", "number", "rate", "long"
DATETIME = "datetime"
_TEXT_KINDS = (TEXT, LONG_TEXT)
_TIME_FORMAT = "yyyy-mm-dd hh:mm"
_EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's dates (as 1900 is not a leap year)
_DAY = timedelta(days=1)
_MIN_WIDTH, _MAX_WIDTH, _LONG_WIDTH = 6, 40, 60
_XML_BATCH = 500  # rows of XML put together before they are written


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def reads_as_value(text: str) -> bool:
    """Whether a spreadsheet opening a .csv would read this text as a number, a date, a time,
    a percentage, a truth value or an error value instead of as text."""
    return _READ_AS_VALUE.fullmatch(unicodedata.normalize("NFKC", text)) is not None


@lru_cache(maxsize=4096)  # the same units, positions and 期次 come again on every page
def csv_field(text: str) -> str:
    """A text cell as the CSV writes it, so that a spreadsheet shows this text and nothing
    else: with a leading ' when it would be taken for a formula, with a zero-width space
    after it when it would be read as a number or a date."""
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text + ZERO_WIDTH_SPACE if reads_as_value(text) else text


def excel_time(text: str) -> float | None:
    """ "2026-11-20 14:30" as an Excel date and time (days since 1899-12-30); None for
    other text."""
    if len(text) != 16 or text[4] != "-":
        return None
    try:
        return (datetime.fromisoformat(text) - _EXCEL_EPOCH) / _DAY
    except ValueError:
        return None


def display_width(text: str) -> int:
    """Columns the text takes in a spreadsheet: 2 for a Chinese character, 1 for ASCII (the
    UTF-8 length is 3 for one, 1 for the other, so this needs no per-character test)."""
    return (len(text) + len(text.encode())) // 2


def filename(*parts: str, suffix: str) -> str:
    """A download name from its parts, e.g. "专题培训-花名册-20261124.xlsx"."""
    name = "-".join(_UNSAFE_FILENAME.sub("", p) for p in parts if p)
    return f"{name[:120]}.{suffix}"


# ------------------------------------------------------------------------------ CSV


def csv_text(rows: Sequence[Sequence[Cell]], kinds: Sequence[str] = ()) -> str:
    """Rows as CSV lines, each column as its kind (TEXT where no kind is given): numbers as
    they are, a RATE as a percentage ("66.7%"), a DATETIME as it is, nothing as "", and
    text as `csv_field` writes it."""
    fixes: list[tuple[int, Callable[[Cell], Cell]]] = []
    for n, column in enumerate(zip(*rows, strict=True)):
        kind = kinds[n] if n < len(kinds) else TEXT
        if kind == RATE:
            fixes.append((n, rate_text))
        elif kind in _TEXT_KINDS and (fields := _text_fields(column)):
            fixes.append((n, _replacing(fields)))
    if fixes:
        lines = [list(row) for row in rows]
        for n, fix in fixes:
            for line in lines:
                line[n] = fix(line[n])
        rows = lines
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _text_fields(column: Sequence[Cell]) -> dict[Cell, str]:
    """The texts of a column that the CSV writes otherwise than as they are (see csv_field).
    Nearly always none of a page's texts needs it: one quick scan in C of them all first."""
    texts: set[Any] = set(column)
    texts.discard(None)
    try:
        probe = "\0" + "\0".join(texts)
    except TypeError:  # a number in a column of text: written as a number
        texts = {value for value in texts if isinstance(value, str)}
        probe = "\0" + "\0".join(texts)
    if not _MAYBE_VALUE.search(probe) and not any(mark in probe for mark in _FORMULA_MARKS):
        return {}
    fields = {text: csv_field(text) for text in texts}
    return {text: field for text, field in fields.items() if field != text}


def _replacing(fields: dict[Cell, str]) -> Callable[[Cell], Cell]:
    return lambda value: fields.get(value, value)


async def csv_stream(
    headers: Sequence[str],
    pages: AsyncIterator[Sequence[Sequence[Cell]]],
    kinds: Sequence[str] = (),
) -> AsyncIterator[bytes]:
    """The CSV file, a page at a time: the BOM and the header first."""
    yield (BOM + csv_text([headers])).encode()
    async for rows in pages:
        yield csv_text(rows, kinds).encode()


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
        self._measured = [n for n, k in enumerate(self.kinds) if k in (*_TEXT_KINDS, DATETIME)]
        self._times = {n for n, k in enumerate(self.kinds) if k == DATETIME}
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
        sheet, row, blanks, times = self.worksheet, self.row, self._blank_formats, self._times
        for cells in rows:
            for n, value in enumerate(cells):
                if value is None:
                    sheet.write_blank(row, n, None, blanks[n])
                elif isinstance(value, str):
                    serial = excel_time(value) if n in times else None
                    if serial is None:
                        sheet.write_string(row, n, value)
                    else:
                        sheet.write_number(row, n, serial)
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
        letters, times = self._letters, self._times
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
                    serial = excel_time(value) if n in times else None
                    if serial is not None:
                        line.append(f"{ref}><v>{serial!r}</v></c>")
                        continue
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
            serial = excel_time(value) if kind == DATETIME and isinstance(value, str) else None
            if value is None:
                self.worksheet.write_blank(self.row, n, None, cell_format)
            elif serial is not None:
                self.worksheet.write_number(self.row, n, serial, cell_format)
            elif isinstance(value, str):
                self.worksheet.write_string(self.row, n, value, cell_format)
            else:
                self.worksheet.write_number(self.row, n, value, cell_format)
            if n in self._measured and value is not None:
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
            elif kind == TEXT:
                spec["num_format"] = "@"  # text, also when typed over (never a formula)
            elif kind == DATETIME:
                spec["num_format"] = _TIME_FORMAT
            elif kind == LONG_TEXT:
                # Not "@": Excel shows a text-formatted cell of over 255 characters as ####.
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
