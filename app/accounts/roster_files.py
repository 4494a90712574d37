"""Roster files of cadres (工会干部): reading uploaded .xlsx/.csv bytes into rows, and the
downloadable template.

`read_table` turns the bytes into `SourceRow`s (or raises `ImportFileError` when the file as a
whole is unusable); `app.accounts.cadre_import` then checks the rows. The columns, limits and
example
row defined here are shared by both, and every public name is re-exported by
`app.accounts.cadre_import`.

Nothing here touches the database, the network or the web framework; the only input/output is
parsing the bytes handed in and building the template workbook in memory.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time

from app.lib.spreadsheets import HEADER_FILL, add_instructions

COLUMNS_REQUIRED = ("姓名", "单位", "职务", "手机号")
COLUMNS_OPTIONAL = ("性别", "工号")
COLUMNS_ALL = COLUMNS_REQUIRED + COLUMNS_OPTIONAL

MAX_DATA_ROWS = 20_000
# The whole .xlsx package unzipped: a roster of MAX_DATA_ROWS rows is a few MB, a zip bomb far
# more. zipfile reads no more of a member than its stated size, so the stated sizes are a bound.
MAX_UNZIPPED = 200 * 1024 * 1024
NAME_MAX = 30
POSITION_MAX = 50
STAFF_NO_MAX = 50
# The example row of the template; a row with this name and phone is refused so that an
# untouched example is never imported as a real person.
EXAMPLE_ROW = ("张三", "解放区总工会", "工会主席", "13800000000", "男", "")

# Header text (after normalisation, see `_header_key`) -> canonical column.  Earlier entries of
# the same canonical column win when a file has several of them (e.g. both 手机号 and 联系电话).
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "姓名": ("姓名",),
    "单位": ("单位", "所在单位", "单位名称", "工会名称"),
    "职务": ("职务", "职位"),
    "手机号": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "性别": ("性别",),
    "工号": ("工号", "职工号", "员工号"),
}
_HEADER_LOOKUP: dict[str, tuple[str, int]] = {
    alias: (column, rank)
    for column, aliases in _HEADER_ALIASES.items()
    for rank, alias in enumerate(aliases)
}
_HEADER_SEARCH_ROWS = 10  # how many non-empty rows may precede the header (e.g. a title row)

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EDGE_RE = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
_SPACE_RE = re.compile(rf"[\s{_INVISIBLE}]+")
_HEADER_MARK_RE = re.compile(r"^\*+|(?:\*|\((?:必填|选填|可选|非必填)\))+$")
_SHOW_MAX = 40


class ImportFileError(ValueError):
    """The file as a whole can't be read; str(e) is a Chinese message for the user."""


@dataclass(frozen=True)
class SourceRow:
    """One non-empty data row of the file.

    `row` is the row number the user sees in Excel (the header is row 1 normally); for a CSV it
    is the record number, which equals the line number unless a quoted cell spans lines.
    `values` has every column of `COLUMNS_REQUIRED + COLUMNS_OPTIONAL` as a key, holding the
    stripped text of the cell ("" when the cell is empty or the file lacks the optional column).
    """

    row: int
    values: dict[str, str]


# --------------------------------------------------------------------------- text helpers


def _clean(text: str) -> str:
    """Strip all kinds of whitespace (full-width, non-breaking, zero-width) from both ends."""
    return _EDGE_RE.sub("", text)


def _cell_text(value: object) -> str:
    """The text of a cell value as the user meant it: 13812345678.0 -> "13812345678"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
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
    return _clean(str(value))


def _show(text: str) -> str:
    """Text to quote inside a message, cut short when very long."""
    return text if len(text) <= _SHOW_MAX else text[:_SHOW_MAX] + "…"


def _header_key(text: str) -> str:
    """Normalise a header cell: no spaces, half-width, without "*" / "（必填）" marks."""
    key = _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))
    return _HEADER_MARK_RE.sub("", key)


# --------------------------------------------------------------------------- reading files


def read_table(filename: str, content: bytes) -> list[SourceRow]:
    """Read .xlsx or .csv bytes into the non-empty data rows of the first sheet.

    The header row is the first non-empty row that names a known column (a title row above it
    is skipped; at most 10 non-empty rows are searched), otherwise the first non-empty row.
    Unknown columns are ignored; rows whose known columns are all empty are skipped.
    Raises ImportFileError with a Chinese message for an unsupported extension, an unreadable,
    corrupt or empty file, missing required columns, or more than 20,000 data rows.
    """
    basename = re.split(r"[\\/]", filename or "")[-1] or "未命名文件"
    ext = basename.rsplit(".", 1)[-1].lower() if "." in basename else ""
    shown = _show(basename)
    if ext == "xls":
        raise ImportFileError(
            f"无法读取文件“{shown}”：不支持旧版 .xls 格式。请用 Excel 另存为 .xlsx 后重新上传。"
        )
    if ext not in ("xlsx", "csv"):
        raise ImportFileError(
            f"无法读取文件“{shown}”：只支持 Excel（.xlsx）或 CSV（.csv）文件。"
            "请下载模板填写后上传。"
        )
    if not content:
        raise ImportFileError(f"文件“{shown}”是空的，请检查后重新上传。")
    # A workbook that was merely renamed to .csv is still read as a workbook.
    if ext == "csv" and not content.startswith(b"PK\x03\x04"):
        with closing(_csv_rows(shown, content)) as cells:
            return _source_rows(shown, cells)
    with closing(_xlsx_rows(shown, content)) as cells:
        try:
            return _source_rows(shown, cells)
        except ImportFileError:
            raise
        except Exception as exc:  # a broken sheet may only fail while its rows are read
            raise _not_excel(shown) from exc


def _not_excel(shown: str) -> ImportFileError:
    return ImportFileError(
        f"无法读取文件“{shown}”：它不是有效的 Excel 文件。请用 Excel 另存为 .xlsx 后重新上传。"
    )


def _xlsx_rows(shown: str, content: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    """(Excel row number, cell values) of the first worksheet, read lazily."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            f"无法读取文件“{shown}”：它是旧版 .xls 文件或设置了打开密码。"
            "请取消密码，并用 Excel 另存为 .xlsx 后重新上传。"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            unzipped = sum(info.file_size for info in package.infolist())
    except Exception as exc:  # not a zip file, or a broken one
        raise _not_excel(shown) from exc
    if unzipped > MAX_UNZIPPED:
        raise ImportFileError(
            f"无法读取文件“{shown}”：解压后超过 {MAX_UNZIPPED // 1024 // 1024} MB，"
            "不是正常的名单文件。请删除其中的图片和多余的工作表，或分成几个文件分别上传。"
        )
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise _not_excel(shown) from exc

    def rows() -> Generator[tuple[int, Sequence[object]], None, None]:
        try:
            sheets = workbook.worksheets
            if not sheets:
                raise ImportFileError(f"文件“{shown}”中没有工作表，请检查后重新上传。")
            sheet = sheets[0]
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some programs write a wrong size; read every row
            # Rows missing from the file are filled in, so the count is Excel's row number.
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        finally:
            workbook.close()

    return rows()


def _decode_csv(shown: str, content: bytes) -> str:
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
        f"无法读取文件“{shown}”：无法识别文件的文字编码。"
        "请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后重新上传。"
    )


def _csv_rows(shown: str, content: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    """(record number, cells) of a CSV file; comma-separated, or tab-separated if clearly so."""
    text = _decode_csv(shown, content)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Generator[tuple[int, Sequence[object]], None, None]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise ImportFileError(
                f"无法读取文件“{shown}”：CSV 格式有误（{exc}）。"
                "请用 Excel 打开后另存为 .xlsx 后重新上传。"
            ) from exc

    return rows()


def _find_columns(cells: Sequence[str]) -> dict[str, int]:
    """Canonical column -> index in the header row (best-ranked alias, then leftmost)."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(cells):
        found = _HEADER_LOOKUP.get(_header_key(cell))
        if found is None:
            continue
        column, rank = found
        if column not in best or rank < best[column][0]:
            best[column] = (rank, index)
    return {column: index for column, (_, index) in best.items()}


def _source_rows(shown: str, cells: Iterable[tuple[int, Sequence[object]]]) -> list[SourceRow]:
    """Locate the header, map columns and collect the non-empty data rows."""
    columns: dict[str, int] | None = None
    first_nonempty: tuple[int, dict[str, int]] | None = None
    seen_nonempty = 0
    out: list[SourceRow] = []
    for number, raw in cells:
        texts = [_cell_text(value) for value in raw]
        if columns is None:
            if not any(texts):
                continue
            seen_nonempty += 1
            found = _find_columns(texts)
            if first_nonempty is None:
                first_nonempty = (number, found)
            if found:
                _require_columns(found, number)
                columns = found
            elif seen_nonempty >= _HEADER_SEARCH_ROWS:
                _require_columns(first_nonempty[1], first_nonempty[0])
            continue
        values = {column: _pick(texts, columns.get(column)) for column in COLUMNS_ALL}
        if not any(values.values()):
            continue
        if len(out) >= MAX_DATA_ROWS:
            raise ImportFileError(
                f"文件“{shown}”的数据超过 {MAX_DATA_ROWS} 行，请分成几个文件分别上传。"
            )
        out.append(SourceRow(row=number, values=values))
    if columns is None:
        if first_nonempty is None:
            raise ImportFileError(f"文件“{shown}”是空的，请检查后重新上传。")
        _require_columns(first_nonempty[1], first_nonempty[0])
    return out


def _pick(texts: Sequence[str], index: int | None) -> str:
    """The text at `index` of a row, "" when the column is absent or the row is short."""
    return texts[index] if index is not None and index < len(texts) else ""


def _require_columns(found: dict[str, int], header_row: int) -> None:
    """Raise ImportFileError naming every required column missing from the header row."""
    missing = [column for column in COLUMNS_REQUIRED if column not in found]
    if missing:
        raise ImportFileError(
            f"缺少必填列：{'、'.join(missing)}。"
            f"第 {header_row} 行被当作列名行，列名应为：{'、'.join(COLUMNS_REQUIRED)}"
            f"（可选：{'、'.join(COLUMNS_OPTIONAL)}）。可下载模板对照填写。"
        )


# --------------------------------------------------------------------------- template


def template_xlsx() -> bytes:
    """A downloadable .xlsx template.

    Sheet 1 "干部名单": header row 姓名 单位 职务 手机号 性别 工号 (bold, required columns in
    red, frozen), column widths to fit, 手机号/工号 columns formatted as text so Excel keeps
    every digit, a 男/女 drop-down for 性别, and one grey italic example row (张三 …) which
    `check_rows` refuses if it is uploaded unchanged. Sheet 2 "填写说明" explains each column.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "干部名单"
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    widths = {"姓名": 14, "单位": 34, "职务": 18, "手机号": 16, "性别": 8, "工号": 14}
    for col, column in enumerate(COLUMNS_ALL, start=1):
        cell = sheet.cell(row=1, column=col, value=column)
        required = column in COLUMNS_REQUIRED
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = widths[column]
        if column in ("手机号", "工号"):
            sheet.column_dimensions[letter].number_format = "@"
    for col, value in enumerate(EXAMPLE_ROW, start=1):
        cell = sheet.cell(row=2, column=col, value=value or None)
        cell.font = Font(italic=True, color="808080")
        cell.number_format = "@"
    sheet.freeze_panes = "A2"
    genders = DataValidation(type="list", formula1='"男,女"', allow_blank=True)
    genders.error = "请选择“男”或“女”，或留空。"
    genders.errorTitle = "性别"
    sheet.add_data_validation(genders)
    genders.add(f"E2:E{MAX_DATA_ROWS + 1}")

    lines = [
        ("列名", "是否必填", "填写说明"),
        (
            "姓名",
            "必填",
            f"干部的真实姓名，最多 {NAME_MAX} 个字；少数民族姓名可用“·”，如 买买提·艾力。",
        ),
        (
            "单位",
            "必填",
            "所在工会的完整名称，须与系统中的单位名称一致，如 解放区总工会；"
            "只能填写您管理范围内的单位。",
        ),
        ("职务", "必填", f"如 工会主席、副主席、经费审查委员会主任，最多 {POSITION_MAX} 个字。"),
        (
            "手机号",
            "必填",
            "11 位手机号码，将作为登录账号，不能与已有账号或本表中其他人重复。"
            "请把此列设为“文本”格式，避免 Excel 显示成科学计数法。",
        ),
        ("性别", "选填", "填写“男”或“女”，也可以留空。"),
        ("工号", "选填", "单位内部的职工编号，本表中不能重复；没有可留空。"),
        ("", "", ""),
        ("注意事项", "", "1. 第一行是列名，请不要修改或删除；列名后的“*”可有可无。"),
        ("", "", "2. 第 2 行灰色斜体的“张三”是示例，上传前请删除。"),
        ("", "", f"3. 一次最多导入 {MAX_DATA_ROWS} 行；空行会被自动跳过。"),
        ("", "", "4. 上传后系统会先检查，列出每一行的问题；全部改正后才会导入。"),
        ("", "", "5. 也可以另存为 CSV（逗号分隔）文件上传。"),
    ]
    add_instructions(workbook, lines, widths=(12, 10))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
