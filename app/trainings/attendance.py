"""The pages of 签到 and 考勤 of 集中轮训: a batch's class sessions (added, edited, cancelled
and restored), the check-in code shown in the room and its full-screen projector view with a
count of check-ins that keeps itself current, cadres checking in with the code, and the
trainer's attendance list with its corrections.

The handlers read the request and render; the work (queries, write transactions, audit
records and the progress recompute after them) is in `app/trainings/checkin.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from app.accounts.guards import requires_role
from app.lib.forms import FormBody
from app.lib.parsing import valid_id
from app.settings import get_settings
from app.tables import (
    TRAINING_KINDS,
    Attendance,
    Batch,
    ClassSession,
    Enrollment,
    User,
)
from app.trainings.access import load_training
from app.trainings.certificates import qr_svg
from app.trainings.checkin import (
    CODE_MINUTES,
    CODE_MINUTES_MAX,
    SESSION_COLUMNS,
    cancel_session,
    check_in,
    create_session,
    delete_session,
    is_code,
    load_session,
    new_session_code,
    normalize_code,
    restore_session,
    save_attendance,
    session_when,
    stop_session_code,
    update_session,
)

REFRESH_SECONDS = 15  # the code page reloads itself this often while the code is valid
POLL_SECONDS = 4  # the projector view asks for the count of check-ins this often
SESSION_FORM_FIELDS = ("starts_at", "ends_at", "place", "topic", "hours")
METHODS = {"code": "签到码", "trainer": "老师标记"}

_HOURS = re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?")


# ---------------------------------------------------------------- pure helpers


def parse_session_form(
    form: Mapping[str, str], timezone: tzinfo
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of a new class session from its form (times in local time, stored UTC),
    and field -> Chinese message for every field that is wrong."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    text = {key: unicodedata.normalize("NFKC", form.get(key) or "").strip() for key in form}
    starts = text.get("starts_at", "")
    start_local = None
    if not starts:
        errors["starts_at"] = "请填写上课时间。"
    else:
        try:
            start_local = datetime.fromisoformat(starts.replace(" ", "T"))
        except ValueError:
            errors["starts_at"] = "上课时间的格式不正确，例如 2024-03-01 09:00。"
    if start_local is not None:
        start_local = start_local.replace(tzinfo=timezone, second=0, microsecond=0)
        values["starts_at"] = start_local.astimezone(UTC)
    ends = text.get("ends_at", "")
    values["ends_at"] = None
    if ends:
        try:
            end_time = time.fromisoformat(ends)
        except ValueError:
            errors["ends_at"] = "下课时间的格式不正确，例如 11:30。"
        else:
            if start_local is not None:
                end_local = datetime.combine(start_local.date(), end_time, tzinfo=timezone)
                if end_local <= start_local:
                    errors["ends_at"] = "下课时间应晚于上课时间。"
                else:
                    values["ends_at"] = end_local.astimezone(UTC)
    topic = text.get("topic", "")
    if not topic:
        errors["topic"] = "请填写课程内容。"
    elif len(topic) > 200:
        errors["topic"] = "课程内容不能超过 200 个字。"
    values["topic"] = topic
    place = text.get("place", "")
    if len(place) > 200:
        errors["place"] = "地点不能超过 200 个字。"
    values["place"] = place
    hours = text.get("hours", "")
    if not _HOURS.fullmatch(hours) or not 0 <= float(hours) <= 24:
        errors["hours"] = "学时请填写 0 到 24 之间的数字，例如 3 或 1.5。"
    else:
        values["hours"] = float(hours)
    return values, errors


# ---------------------------------------------------------------- loading


async def _load_batch(user: User, training_id: int, batch_id: int) -> dict[str, Any]:
    await load_training(user, training_id)  # 404 unknown, 403 not visible (trainings.access)
    batch = None
    if valid_id(training_id) and valid_id(batch_id):
        batch = (
            await Batch.select(
                Batch.id,
                Batch.name,
                Batch.place,
                Batch.training,
                Batch.training.title.as_alias("training_title"),
                Batch.training.kind.as_alias("training_kind"),
            )
            .where(Batch.id == batch_id, Batch.training == training_id)
            .first()
        )
    if batch is None:
        raise NotFoundException("没有找到这一期培训。")
    if batch["training_kind"] != "rotation":
        raise NotFoundException("只有集中轮训才安排面授课程和签到。")
    return batch


def session_form_values(session: Mapping[str, Any], timezone: tzinfo) -> dict[str, str]:
    """A class session as its edit form shows it: local times, hours as typed."""
    starts = session["starts_at"].astimezone(timezone)
    ends = session["ends_at"].astimezone(timezone) if session["ends_at"] else None
    return {
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ends.strftime("%H:%M") if ends else "",
        "place": session["place"] or "",
        "topic": session["topic"] or "",
        "hours": f"{session['hours']:g}",
    }


async def _enrolled_count(batch_id: int) -> int:
    return await Enrollment.count().where(Enrollment.batch == batch_id, Enrollment.active.eq(True))


async def _present_count(session_id: int) -> int:
    return await Attendance.count().where(
        Attendance.session == session_id, Attendance.present.eq(True)
    )


# ---------------------------------------------------------------- class sessions


async def _sessions_page(
    batch: dict[str, Any], form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Template:
    sessions = (
        await ClassSession.select(*SESSION_COLUMNS)
        .where(ClassSession.batch == batch["id"])
        .order_by(ClassSession.starts_at)
        .order_by(ClassSession.id)
    )
    ids = [s["id"] for s in sessions] or [0]
    present = {
        row["session"]: row["n"]
        for row in await Attendance.select(Attendance.session, Count(Attendance.id).as_alias("n"))
        .where(Attendance.session.is_in(ids), Attendance.present.eq(True))
        .group_by(Attendance.session)
    }
    recorded = {
        row["session"]
        for row in await Attendance.select(Attendance.session)
        .where(Attendance.session.is_in(ids))
        .distinct()
    }
    for session in sessions:
        session["present"] = present.get(session["id"], 0)
        session["deletable"] = session["id"] not in recorded
    return Template(
        "trainings/sessions.html",
        context={
            "batch": batch,
            "kind": TRAINING_KINDS["rotation"],
            "sessions": sessions,
            "enrolled": await _enrolled_count(batch["id"]),
            "form": form,
            "errors": errors,
            "now": datetime.now(UTC),
        },
        status_code=status,
    )


@get("/trainings/{training_id:int}/batches/{batch_id:int}/sessions", name="sessions")
async def sessions_page(
    request: Request, training_id: FromPath[int], batch_id: FromPath[int]
) -> Template:
    batch = await _load_batch(request.user, training_id, batch_id)
    return await _sessions_page(batch, {"place": batch["place"], "hours": "3"}, {})


@post("/trainings/{training_id:int}/batches/{batch_id:int}/sessions", name="session_create")
async def session_create(
    request: Request, training_id: FromPath[int], batch_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    batch = await _load_batch(request.user, training_id, batch_id)
    form = {
        key: str(data.get(key, "")) for key in ("starts_at", "ends_at", "place", "topic", "hours")
    }
    values, errors = parse_session_form(form, get_settings().timezone)
    if errors:
        return await _sessions_page(batch, form, errors, status=400)
    await create_session(request, training_id, batch, values)
    flash(request, f"已新增面授课程“{values['topic']}”。", "success")
    return Redirect(
        request.app.route_reverse("sessions", training_id=training_id, batch_id=batch_id)
    )


@post(
    "/trainings/{training_id:int}/batches/{batch_id:int}/sessions/{session_id:int}/delete",
    name="session_delete",
)
async def session_delete(
    request: Request, training_id: FromPath[int], batch_id: FromPath[int], session_id: FromPath[int]
) -> Redirect:
    batch = await _load_batch(request.user, training_id, batch_id)
    session = await load_session(request.user, session_id, batch["id"])
    back = request.app.route_reverse("sessions", training_id=training_id, batch_id=batch_id)
    if not await delete_session(request, training_id, batch, session):
        flash(request, "这次课已有签到或考勤记录，不能删除。", "error")
        return Redirect(back)
    flash(request, f"已删除面授课程“{session['topic']}”。", "success")
    return Redirect(back)


def _edit_page(
    session: dict[str, Any], form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Template:
    return Template(
        "trainings/session_edit.html",
        context={
            "session": session,
            "form": form,
            "errors": errors,
            "when": session_when(session),
        },
        status_code=status,
    )


@get("/sessions/{session_id:int}/edit", name="session_edit")
async def session_edit(request: Request, session_id: FromPath[int]) -> Template:
    session = await load_session(request.user, session_id)
    return _edit_page(session, session_form_values(session, get_settings().timezone), {})


@post("/sessions/{session_id:int}/edit", name="session_update")
async def session_update(
    request: Request, session_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    session = await load_session(request.user, session_id)
    form = {key: str(data.get(key, "")) for key in SESSION_FORM_FIELDS}
    values, errors = parse_session_form(form, get_settings().timezone)
    if errors:
        return _edit_page(session, form, errors, status=400)
    changes = await update_session(request, session, values)
    if changes:
        flash(
            request, f"已修改面授课程“{values['topic']}”：" + "；".join(changes) + "。", "success"
        )
    else:
        flash(request, "没有改动。", "info")
    return _back_to_sessions(request, session)


@post("/sessions/{session_id:int}/cancel", name="session_cancel")
async def session_cancel(request: Request, session_id: FromPath[int], data: FormBody) -> Redirect:
    session = await load_session(request.user, session_id)
    reason = unicodedata.normalize("NFKC", str(data.get("reason") or "")).strip()
    if len(reason) > 200:
        flash(request, "取消原因不能超过 200 个字。", "error")
        return Redirect(request.app.route_reverse("session_edit", session_id=session["id"]))
    if await cancel_session(request, session, reason, datetime.now(UTC)):
        flash(
            request,
            f"已取消面授课程“{session['topic']}”。已有的签到记录保留；这次课不再计入结业要求。",
            "success",
        )
    else:
        flash(request, "这次课已经取消了。", "info")
    return _back_to_sessions(request, session)


@post("/sessions/{session_id:int}/restore", name="session_restore")
async def session_restore(request: Request, session_id: FromPath[int]) -> Redirect:
    session = await load_session(request.user, session_id)
    if await restore_session(request, session):
        flash(request, f"已恢复面授课程“{session['topic']}”，它重新计入结业要求。", "success")
    else:
        flash(request, "这次课没有被取消。", "info")
    return _back_to_sessions(request, session)


# ---------------------------------------------------------------- the check-in code


def _checkin_url(request: Request, code: str) -> str:
    return (
        str(request.base_url).rstrip("/") + request.app.route_reverse("checkin") + f"?code={code}"
    )


def _code_valid(session: Mapping[str, Any], now: datetime) -> bool:
    """Whether the session's check-in code takes check-ins `now`."""
    expires = session["code_expires_at"]
    return (
        bool(session["checkin_code"])
        and expires is not None
        and expires > now
        and session["cancelled_at"] is None
    )


def _count_state(session: Mapping[str, Any], now: datetime) -> str:
    """What the projector shows besides the count; when it changes, the page reloads."""
    if session["cancelled_at"] is not None:
        return "cancelled"
    if _code_valid(session, now):
        return f"code:{session['checkin_code']}:{session['code_expires_at'].isoformat()}"
    return "closed"


@get("/sessions/{session_id:int}/projector", name="session_projector")
async def session_projector(request: Request, session_id: FromPath[int]) -> Template:
    """The check-in code full screen for the projector: the code, its QR code and the count
    of check-ins, which `session_count.js` keeps current (without JavaScript, a reload)."""
    session = await load_session(request.user, session_id)
    now = datetime.now(UTC)
    valid = _code_valid(session, now)
    url = _checkin_url(request, session["checkin_code"]) if valid else ""
    return Template(
        "trainings/session_projector.html",
        context={
            "session": session,
            "valid": valid,
            "url": url,
            "qr": qr_svg(url, "扫码签到") if valid else "",
            "present": await _present_count(session["id"]),
            "enrolled": await _enrolled_count(session["batch"]),
            "state": _count_state(session, now),
            "poll": POLL_SECONDS,
            "when": session_when(session),
        },
    )


@get("/sessions/{session_id:int}/count", name="session_count")
async def session_count(request: Request, session_id: FromPath[int]) -> dict[str, Any]:
    """The count of check-ins of a class session, for the projector view to poll."""
    session = await load_session(request.user, session_id)
    return {
        "present": await _present_count(session["id"]),
        "enrolled": await _enrolled_count(session["batch"]),
        "state": _count_state(session, datetime.now(UTC)),
    }


@get("/sessions/{session_id:int}/code", name="session_code")
async def session_code(request: Request, session_id: FromPath[int]) -> Template:
    session = await load_session(request.user, session_id)
    now = datetime.now(UTC)
    valid = _code_valid(session, now)
    expires = session["code_expires_at"]
    url = _checkin_url(request, session["checkin_code"]) if valid else ""
    return Template(
        "trainings/session_code.html",
        context={
            "session": session,
            "valid": valid,
            "url": url,
            "qr": qr_svg(url, "扫码签到") if valid else "",
            "present": await _present_count(session["id"]),
            "enrolled": await _enrolled_count(session["batch"]),
            "refresh": min(REFRESH_SECONDS, int((expires - now).total_seconds()) + 1)
            if valid
            else 0,
            "minutes": CODE_MINUTES,
            "now": now,
        },
        headers={"Cache-Control": "no-store"},
    )


@post("/sessions/{session_id:int}/code", name="session_code_new")
async def session_code_new(request: Request, session_id: FromPath[int], data: FormBody) -> Redirect:
    session = await load_session(request.user, session_id)
    back = request.app.route_reverse("session_code", session_id=session["id"])
    now = datetime.now(UTC)
    if session["cancelled_at"] is not None and not data.get("stop"):
        flash(request, "这次课已取消，不能再生成签到码。", "error")
        return Redirect(back)
    if data.get("stop"):
        await stop_session_code(session["id"], now)
        flash(request, "已停止签到：签到码已失效。", "success")
        return Redirect(back)
    raw = normalize_code(str(data.get("minutes") or str(CODE_MINUTES)))
    minutes = int(raw) if raw.isdigit() and len(raw) <= 4 else 0
    if not 1 <= minutes <= CODE_MINUTES_MAX:
        flash(request, f"有效时间请填写 1 到 {CODE_MINUTES_MAX} 之间的分钟数。", "error")
        return Redirect(back)
    await new_session_code(session["id"], minutes, now)
    flash(request, f"已生成新的签到码，{minutes} 分钟内有效。", "success")
    return Redirect(back)


# ---------------------------------------------------------------- checking in


def _checkin_form(code: str = "", error: str = "", status: int = 200) -> Template:
    return Template(
        "trainings/checkin.html",
        context={"code": code, "error": error},
        status_code=status,
    )


@get("/checkin", name="checkin")
async def checkin_page(code: FromQuery[str] = "") -> Template:
    code = normalize_code(code)
    return _checkin_form(code if is_code(code) else "")


@post("/checkin", name="checkin_submit")
async def checkin_submit(request: Request, data: FormBody) -> Template:
    user: User = request.user
    code = normalize_code(str(data.get("code") or ""))
    result = await check_in(request, user.id, code, datetime.now(UTC))
    if result.session is None:
        return _checkin_form(code, result.refusal, 429 if result.throttled else 400)
    return Template(
        "trainings/checkin_done.html",
        context={
            "session": result.session,
            "already": result.already,
            "enrollment": result.enrollment,
            "when": session_when(result.session),
        },
    )


# ---------------------------------------------------------------- the attendance list


async def _attendance_rows(session: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (
        await Enrollment.select(
            Enrollment.account,
            Enrollment.account.name.as_alias("name"),
            Enrollment.account.username.as_alias("username"),
            Enrollment.unit.name.as_alias("unit_name"),
        )
        .where(Enrollment.batch == session["batch"], Enrollment.active.eq(True))
        .order_by(Enrollment.unit.path)
        .order_by(Enrollment.account.name)
        .order_by(Enrollment.account)
    )
    marks = {
        row["account"]: row
        for row in await Attendance.select(
            Attendance.account,
            Attendance.present,
            Attendance.method,
            Attendance.created_at,
            Attendance.marked_by.name.as_alias("marked_by_name"),
        ).where(Attendance.session == session["id"])
    }
    for row in rows:
        mark = marks.get(row["account"])
        row["present"] = bool(mark and mark["present"])
        row["mark"] = mark
        if mark is None:
            row["how"] = "未到"
        elif not mark["present"]:
            row["how"] = "未到（老师已取消）"
        else:
            row["how"] = METHODS.get(mark["method"], mark["method"])
    return rows


@get("/sessions/{session_id:int}/attendance", name="attendance")
async def attendance_page(request: Request, session_id: FromPath[int]) -> Template:
    session = await load_session(request.user, session_id)
    rows = await _attendance_rows(session)
    return Template(
        "trainings/attendance.html",
        context={
            "cancelled": session["cancelled_at"] is not None,
            "session": session,
            "rows": rows,
            "present": sum(1 for row in rows if row["present"]),
            "when": session_when(session),
        },
    )


def _shown(values: list[str]) -> dict[int, bool]:
    shown = {}
    for value in values:
        account, _, was = value.partition(":")
        if account.isdigit() and len(account) <= 10 and was in ("0", "1"):
            shown[int(account)] = was == "1"
    return shown


@post("/sessions/{session_id:int}/attendance", name="attendance_save")
async def attendance_save(request: Request, session_id: FromPath[int]) -> Redirect:
    actor: User = request.user
    session = await load_session(request.user, session_id)
    if session["cancelled_at"] is not None:
        flash(request, "这次课已取消，考勤表只能查看，不能修改。", "error")
        return Redirect(request.app.route_reverse("attendance", session_id=session["id"]))
    form = await request.form()
    checked = {int(v) for v in form.getall("present", []) if str(v).isdigit() and len(v) <= 10}
    saved = await save_attendance(
        request, actor.id, session, checked, _shown(form.getall("shown", []))
    )
    marked, unmarked = saved.marked, saved.unmarked
    if marked or unmarked:
        parts = [
            f"标记 {marked} 人出席" if marked else "",
            f"取消 {unmarked} 人出席" if unmarked else "",
        ]
        flash(request, "已保存：" + "，".join(p for p in parts if p) + "。", "success")
    else:
        flash(request, "没有改动。", "info")
    return Redirect(request.app.route_reverse("attendance", session_id=session["id"]))


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[
        sessions_page,
        session_create,
        session_delete,
        session_edit,
        session_update,
        session_cancel,
        session_restore,
        session_code,
        session_code_new,
        session_projector,
        session_count,
        attendance_page,
        attendance_save,
    ],
)

checkin_router = Router(path="/", route_handlers=[checkin_page, checkin_submit])


def _back_to_sessions(request: Request, session: dict) -> Redirect:
    """Back to the list of the session's batch."""
    return Redirect(
        request.app.route_reverse(
            "sessions", training_id=session["training_id"], batch_id=session["batch"]
        )
    )
