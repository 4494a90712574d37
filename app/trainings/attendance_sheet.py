"""The 签到表 of a class session: one row per cadre enrolled in its batch (序号, 姓名, 单位,
签到时间, 状态), in unit order and, within a unit, by 姓氏笔画 — as a print page (A4, with a
签字 column for paper) and as an .xlsx (签到时间 a real date and time).

Trainers and federation staff see every cadre of the batch; a unit admin, who sees the
training by `trainings/access.py`, sees only the cadres of their own subtree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from litestar import Request, Router, get
from litestar.params import FromPath
from litestar.response import Stream, Template

from app.accounts.guards import requires_role
from app.lib.downloads import XLSX, file_chunks, stream_download
from app.reports.queries import units_under
from app.reports.rows import Cell
from app.reports.strokes import stroke_key
from app.reports.writers import DATETIME, INTEGER, TEXT, XlsxBook, filename
from app.settings import get_settings
from app.tables import Attendance, Enrollment, User
from app.trainings.access import person_scope
from app.trainings.checkin import load_session, session_when

HEADERS = ("序号", "姓名", "单位", "签到时间", "状态")
KINDS = (INTEGER, TEXT, TEXT, DATETIME, TEXT)
PRESENT = "已签到"
MARKED = "老师标记出席"
ABSENT = "未签到"


# ---------------------------------------------------------------- pure


def status(mark: dict[str, Any] | None) -> str:
    """A cadre's state at a session: checked in with the code, marked present by the
    trainer, or not there (never recorded, or the trainer took it back)."""
    if mark is None or not mark["present"]:
        return ABSENT
    return PRESENT if mark["method"] == "code" else MARKED


def sheet_cells(rows: Sequence[dict[str, Any]], timezone: tzinfo) -> list[list[Cell]]:
    """The rows (in order) as cells: 签到时间 as "YYYY-MM-DD HH:MM" local time, which the
    .xlsx writes as a date and time, or nothing."""
    cells: list[list[Cell]] = []
    for number, row in enumerate(rows, start=1):
        when = row["checked_in_at"]
        cells.append(
            [
                number,
                row["name"],
                row["unit_name"],
                when.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if when else None,
                row["status"],
            ]
        )
    return cells


# ---------------------------------------------------------------- loading


async def sheet_rows(user: User, session: dict[str, Any]) -> list[dict[str, Any]]:
    """The cadres enrolled in the session's batch within the person's scope, in unit (tree)
    order and by 姓氏笔画 within a unit, each with their check-in time and state."""
    scope = person_scope(user)
    rows = await Enrollment.select(
        Enrollment.account,
        Enrollment.unit,
        Enrollment.account.name.as_alias("name"),
        Enrollment.unit.name.as_alias("unit_name"),
    ).where(
        Enrollment.batch == session["batch"],
        Enrollment.active.eq(True),
        Enrollment.unit.path.like(scope + "%"),
    )
    marks = {
        row["account"]: row
        for row in await Attendance.select(
            Attendance.account, Attendance.present, Attendance.method, Attendance.created_at
        ).where(Attendance.session == session["id"])
    }
    position = {unit["id"]: n for n, unit in enumerate(await units_under(scope))}
    for row in rows:
        mark = marks.get(row["account"])
        row["status"] = status(mark)
        row["checked_in_at"] = mark["created_at"] if row["status"] != ABSENT and mark else None
    rows.sort(
        key=lambda r: (position.get(r["unit"], len(position)), stroke_key(r["name"]), r["account"])
    )
    return rows


def _title(session: dict[str, Any]) -> str:
    return f"{session['training_title']} {session['batch_name']} 签到表"


def _info(session: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    present = sum(1 for r in rows if r["status"] != ABSENT)
    cancelled = "（已取消）" if session["cancelled_at"] is not None else ""
    place = f" · {session['place']}" if session["place"] else ""
    return (
        f"{session['topic']}{cancelled} · {session_when(session)}{place} · "
        f"应到 {len(rows)} 人，已到 {present} 人"
    )


# ---------------------------------------------------------------- pages and files


@get("/sessions/{session_id:int}/sheet", name="attendance_sheet")
async def attendance_sheet(request: Request, session_id: FromPath[int]) -> Template:
    """The 签到表 for printing (A4), with an empty 签字 column."""
    session = await load_session(request.user, session_id)
    rows = await sheet_rows(request.user, session)
    return Template(
        "trainings/attendance_sheet.html",
        context={
            "session": session,
            "title": _title(session),
            "info": _info(session, rows),
            "rows": rows,
            "cells": sheet_cells(rows, get_settings().timezone),
            "staff": request.user.role != "unit_admin",
        },
    )


@get("/sessions/{session_id:int}/sheet.xlsx", name="attendance_sheet_xlsx")
async def attendance_sheet_xlsx(request: Request, session_id: FromPath[int]) -> Stream:
    session = await load_session(request.user, session_id)
    rows = await sheet_rows(request.user, session)
    book = XlsxBook()
    try:
        sheet = book.add_sheet("签到表", _title(session), _info(session, rows), HEADERS, KINDS)
        await sheet.write_page(sheet_cells(rows, get_settings().timezone))
    except BaseException:
        book.discard()
        raise
    file = await book.close()
    day = session["starts_at"].astimezone(get_settings().timezone)
    name = filename(
        session["training_title"], session["batch_name"], "签到表", f"{day:%Y%m%d}", suffix="xlsx"
    )
    return stream_download(file_chunks(file), name, XLSX)


router = Router(
    path="/",
    guards=[requires_role("trainer", "unit_admin")],
    route_handlers=[attendance_sheet, attendance_sheet_xlsx],
)
