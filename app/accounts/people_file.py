"""The people list as .xlsx: the rows the list page shows for its filters, all of them, with
the columns staff keep on file. Written with the reports' workbook writer (`XlsxBook`), so
phone numbers and staff numbers stay text and 最近登录 is a real date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from app.reports.writers import DATETIME, TEXT, XlsxBook, filename
from app.settings import get_settings
from app.tables import ROLES

PEOPLE_HEADERS = ("姓名", "用户名", "手机号", "工号", "单位", "角色", "状态", "最近登录")
PEOPLE_KINDS = (TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, DATETIME)


def status_text(person: Mapping[str, Any]) -> str:
    """启用, 已停用 or 待首次登录, as the list page shows it."""
    if not person["active"]:
        return "已停用"
    return "待首次登录" if person["must_change_password"] else "启用"


def local_minute(value: datetime | None) -> str | None:
    """A stored time as "2026-11-20 14:30" in the site's time zone (an Excel date in the
    file); None for none."""
    if value is None:
        return None
    return f"{value.astimezone(get_settings().timezone):%Y-%m-%d %H:%M}"


def person_cells(person: Mapping[str, Any]) -> list[str | None]:
    return [
        person["name"],
        person["username"],
        person["phone"] or None,
        person["staff_no"] or None,
        person["unit_name"],
        ROLES.get(person["role"], person["role"]),
        status_text(person),
        local_minute(person["last_login_at"]),
    ]


def _today() -> datetime:
    return datetime.now(UTC).astimezone(get_settings().timezone)


async def people_book(
    own_unit: str, listed_unit: str, people: Sequence[Mapping[str, Any]]
) -> IO[bytes]:
    """The workbook, one sheet 人员名单; the file to stream, at its start."""
    book = XlsxBook()
    try:
        sheet = book.add_sheet(
            "人员名单",
            f"人员名单：{listed_unit}",
            "　　".join(
                (
                    f"填报单位：{own_unit}",
                    f"统计范围：{listed_unit}（含下级单位）",
                    f"导出日期：{_today():%Y年%m月%d日}",
                    f"共 {len(people)} 人",
                )
            ),
            PEOPLE_HEADERS,
            PEOPLE_KINDS,
        )
        await sheet.write_page([person_cells(p) for p in people])
    except BaseException:
        book.discard()
        raise
    return await book.close()


def people_file_name(listed_unit: str) -> str:
    return filename("人员名单", listed_unit, f"{_today():%Y%m%d}", suffix="xlsx")
