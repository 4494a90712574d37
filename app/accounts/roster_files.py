"""Roster files of cadres (工会干部): the columns of the cadre list, reading an uploaded list
with the shared sheet reader (`app.lib.sheets`), and the downloadable template.

`read_table` turns the bytes into `SourceRow`s (or raises `ImportFileError` when the file as a
whole is unusable); `app.accounts.cadre_import` then checks the rows. The columns, limits and
example row defined here are shared by both.

Nothing here touches the database, the network or the web framework; the only input/output is
parsing the bytes handed in and building the template workbook in memory.
"""

from __future__ import annotations

import io

from app.lib.sheets import (
    MAX_DATA_ROWS,
    ImportFileError,
    SheetColumns,
    SourceRow,
    read_sheet,
)
from app.lib.spreadsheets import HEADER_FILL, add_instructions

COLUMNS_REQUIRED = ("姓名", "单位", "职务", "手机号")
COLUMNS_OPTIONAL = ("性别", "工号")
COLUMNS_ALL = COLUMNS_REQUIRED + COLUMNS_OPTIONAL

NAME_MAX = 30
POSITION_MAX = 50
STAFF_NO_MAX = 50
# The example row of the template; a row with this name and phone is refused so that an
# untouched example is never imported as a real person.
EXAMPLE_ROW = ("张三", "解放区总工会", "工会主席", "13800000000", "男", "")

# Canonical column -> the header texts accepted for it, best first (a file with both 手机号
# and 联系电话 uses 手机号). Listed in the order of COLUMNS_ALL.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "姓名": ("姓名",),
    "单位": ("单位", "所在单位", "单位名称", "工会名称"),
    "职务": ("职务", "职位"),
    "手机号": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "性别": ("性别",),
    "工号": ("工号", "职工号", "员工号"),
}


def _missing_columns(found: dict[str, int], header_row: int) -> ImportFileError | None:
    """The error naming every required column missing from the header row, if any."""
    missing = [column for column in COLUMNS_REQUIRED if column not in found]
    if not missing:
        return None
    return ImportFileError(
        f"缺少必填列：{'、'.join(missing)}。"
        f"第 {header_row} 行被当作列名行，列名应为：{'、'.join(COLUMNS_REQUIRED)}"
        f"（可选：{'、'.join(COLUMNS_OPTIONAL)}）。可下载模板对照填写。"
    )


def _accept_header(found: dict[str, int], row: int) -> bool:
    """The first row that names a known column is the header; it must name every required one."""
    if not found:
        return False
    error = _missing_columns(found, row)
    if error:
        raise error
    return True


def _no_header(first: tuple[int, dict[str, int]]) -> ImportFileError:
    row, found = first
    return _missing_columns(found, row) or ImportFileError("没有找到列名行。")


CADRE_COLUMNS = SheetColumns(
    aliases=HEADER_ALIASES, accept_header=_accept_header, no_header=_no_header
)


def read_table(filename: str, content: bytes) -> list[SourceRow]:
    """Read a cadre list (.xlsx or .csv) into the non-empty data rows of the first sheet.

    The header row is the first non-empty row that names a known column (a title row above it
    is skipped; at most 10 non-empty rows are searched), otherwise the first non-empty row.
    Unknown columns are ignored; rows whose known columns are all empty are skipped.
    Raises ImportFileError with a Chinese message for an unsupported extension, an unreadable,
    corrupt or empty file, missing required columns, or more than 20,000 data rows.
    """
    return read_sheet(filename, content, CADRE_COLUMNS)


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
