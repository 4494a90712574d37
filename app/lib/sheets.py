"""Reading an uploaded list (.xlsx or .csv) into its header and data rows (pure).

Every uploaded list of people goes through `read_sheet`: the cadre import
(`app.accounts.roster_files`) and the enrollment upload (`app.trainings.enrollment_check`).
Each names its columns (a canonical name and the header texts accepted for it) and says which
header row it accepts; the reader does the rest the same way for both: the file type, the text
encoding of a CSV, a workbook renamed to .csv, zip bombs, Excel's numbers and dates shown as
the user meant them, a title row above the header, empty rows, and the row limit.

Nothing here touches the database, the network or the web framework.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time

MAX_DATA_ROWS = 20_000
# The whole .xlsx package unzipped: a list of MAX_DATA_ROWS rows is a few MB, a zip bomb far
# more. zipfile reads no more of a member than its stated size, so the stated sizes are a bound.
MAX_UNZIPPED = 200 * 1024 * 1024
HEADER_SEARCH_ROWS = 10  # how many non-empty rows may precede the header (e.g. a title row)

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters pasted in from elsewhere
SPACES = re.compile(rf"[\s{INVISIBLE}]+")
_EDGES = re.compile(rf"^[\s{INVISIBLE}]+|[\s{INVISIBLE}]+$")
_HEADER_MARKS = re.compile(r"^\*+|(?:\*|\((?:必填|选填|可选|非必填)\))+$")
_SHOW_MAX = 40

Cells = Iterable[tuple[int, Sequence[object]]]


class ImportFileError(ValueError):
    """The file as a whole can't be read; str(e) is a Chinese message for the user."""


@dataclass(frozen=True)
class SourceRow:
    """One non-empty data row of the file.

    `row` is the row number the user sees in Excel (the header is row 1 normally); for a CSV it
    is the record number, which equals the line number unless a quoted cell spans lines.
    `values` has every canonical column as a key, holding the stripped text of the cell ("" when
    the cell is empty or the file lacks the column).
    """

    row: int
    values: dict[str, str]


@dataclass(frozen=True)
class SheetColumns:
    """The columns of one kind of list, and which header row it accepts.

    `aliases`: canonical column -> the header texts accepted for it, best first (a file with
    both 手机号 and 联系电话 uses 手机号). `accept_header(found, row)` is given the columns a
    non-empty row names (canonical -> index) and its row number; it returns whether this is the
    header row, or raises ImportFileError naming what the header lacks. `no_header(first)` is the
    error when none of the first non-empty rows was accepted; `first` is (row, columns found) of
    the first non-empty row.
    """

    aliases: Mapping[str, tuple[str, ...]]
    accept_header: Callable[[dict[str, int], int], bool]
    no_header: Callable[[tuple[int, dict[str, int]]], ImportFileError]


# --------------------------------------------------------------------------- text helpers


def clean_text(text: str) -> str:
    """Strip all kinds of whitespace (full-width, non-breaking, zero-width) from both ends."""
    return _EDGES.sub("", text)


def shown(text: str) -> str:
    """Text to quote inside a message, cut short when very long."""
    return text if len(text) <= _SHOW_MAX else text[:_SHOW_MAX] + "…"


def cell_text(
    value: object, *, booleans: tuple[str, str] = ("是", "否"), strip: bool = True
) -> str:
    """The text of a cell value as the user meant it: 13812345678.0 -> "13812345678", dates in
    ISO form, TRUE/FALSE as `booleans`; text stripped of every kind of space unless `strip` is
    false (a question's text is kept as written)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value) if strip else value
    if isinstance(value, bool):
        return booleans[0] if value else booleans[1]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return clean_text(str(value)) if strip else str(value)


def header_key(text: str) -> str:
    """Normalise a header cell: no spaces, half-width, without "*" / "（必填）" marks."""
    key = SPACES.sub("", unicodedata.normalize("NFKC", text))
    return _HEADER_MARKS.sub("", key)


# --------------------------------------------------------------------------- reading files


def read_sheet(filename: str, content: bytes, columns: SheetColumns) -> list[SourceRow]:
    """Read .xlsx or .csv bytes into the non-empty data rows of the first sheet.

    The header is the first of the first 10 non-empty rows that `columns` accepts. Unknown
    columns are ignored; rows whose known columns are all empty are skipped. Raises
    ImportFileError with a Chinese message for an unsupported extension, an unreadable, corrupt
    or empty file, a missing header, or more than 20,000 data rows.
    """
    basename = re.split(r"[\\/]", filename or "")[-1] or "未命名文件"
    ext = basename.rsplit(".", 1)[-1].lower() if "." in basename else ""
    name = shown(basename)
    if ext == "xls":
        raise ImportFileError(
            f"无法读取文件“{name}”：不支持旧版 .xls 格式。请用 Excel 另存为 .xlsx 后重新上传。"
        )
    if ext not in ("xlsx", "csv"):
        raise ImportFileError(
            f"无法读取文件“{name}”：只支持 Excel（.xlsx）或 CSV（.csv）文件。请下载模板填写后上传。"
        )
    if not content:
        raise ImportFileError(f"文件“{name}”是空的，请检查后重新上传。")
    # A workbook that was merely renamed to .csv is still read as a workbook.
    if ext == "csv" and not content.startswith(b"PK\x03\x04"):
        with closing(_csv_cells(name, content)) as cells:
            return _source_rows(name, cells, columns)
    with closing(_xlsx_cells(name, content)) as cells:
        try:
            return _source_rows(name, cells, columns)
        except ImportFileError:
            raise
        except Exception as exc:  # a broken sheet may only fail while its rows are read
            raise _not_excel(name) from exc


def _not_excel(name: str) -> ImportFileError:
    return ImportFileError(
        f"无法读取文件“{name}”：它不是有效的 Excel 文件。请用 Excel 另存为 .xlsx 后重新上传。"
    )


def _xlsx_cells(name: str, content: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    """(Excel row number, cell values) of the first worksheet, read lazily."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            f"无法读取文件“{name}”：它是旧版 .xls 文件或设置了打开密码。"
            "请取消密码，并用 Excel 另存为 .xlsx 后重新上传。"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            unzipped = sum(info.file_size for info in package.infolist())
    except Exception as exc:  # not a zip file, or a broken one
        raise _not_excel(name) from exc
    if unzipped > MAX_UNZIPPED:
        raise ImportFileError(
            f"无法读取文件“{name}”：解压后超过 {MAX_UNZIPPED // 1024 // 1024} MB，"
            "不是正常的名单文件。请删除其中的图片和多余的工作表，或分成几个文件分别上传。"
        )
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise _not_excel(name) from exc

    def rows() -> Generator[tuple[int, Sequence[object]], None, None]:
        try:
            sheets = workbook.worksheets
            if not sheets:
                raise ImportFileError(f"文件“{name}”中没有工作表，请检查后重新上传。")
            sheet = sheets[0]
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some programs write a wrong size; read every row
            # Rows missing from the file are filled in, so the count is Excel's row number.
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        finally:
            workbook.close()

    return rows()


def _decode_csv(name: str, content: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GBK)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        f"无法读取文件“{name}”：无法识别文件的文字编码。"
        "请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后重新上传。"
    )


def _csv_cells(name: str, content: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    """(record number, cells) of a CSV file; comma-separated, or tab-separated if clearly so."""
    text = _decode_csv(name, content)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Generator[tuple[int, Sequence[object]], None, None]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise ImportFileError(
                f"无法读取文件“{name}”：CSV 格式有误（{exc}）。"
                "请用 Excel 打开后另存为 .xlsx 后重新上传。"
            ) from exc

    return rows()


def _find_columns(cells: Sequence[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Canonical column -> index in a row (best-ranked alias, then leftmost)."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(cells):
        key = header_key(cell)
        for column, accepted in aliases.items():
            if key in accepted:
                rank = accepted.index(key)
                if column not in best or rank < best[column][0]:
                    best[column] = (rank, index)
    return {column: index for column, (_, index) in best.items()}


def _source_rows(name: str, cells: Cells, columns: SheetColumns) -> list[SourceRow]:
    """Locate the header, map columns and collect the non-empty data rows."""
    found: dict[str, int] | None = None
    first: tuple[int, dict[str, int]] | None = None
    seen = 0
    out: list[SourceRow] = []
    for number, raw in cells:
        texts = [cell_text(value) for value in raw]
        if found is None:
            if not any(texts):
                continue
            seen += 1
            named = _find_columns(texts, columns.aliases)
            if first is None:
                first = (number, named)
            if columns.accept_header(named, number):
                found = named
            elif seen >= HEADER_SEARCH_ROWS:
                raise columns.no_header(first)
            continue
        values = {column: _pick(texts, found.get(column)) for column in columns.aliases}
        if not any(values.values()):
            continue
        if len(out) >= MAX_DATA_ROWS:
            raise ImportFileError(
                f"文件“{name}”的数据超过 {MAX_DATA_ROWS} 行，请分成几个文件分别上传。"
            )
        out.append(SourceRow(row=number, values=values))
    if found is None:
        if first is None:
            raise ImportFileError(f"文件“{name}”是空的，请检查后重新上传。")
        raise columns.no_header(first)
    return out


def _pick(texts: Sequence[str], index: int | None) -> str:
    """The text at `index` of a row, "" when the column is absent or the row is short."""
    return texts[index] if index is not None and index < len(texts) else ""
