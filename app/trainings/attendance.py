"""签到 and 考勤 of 集中轮训: a batch's class sessions, the check-in code shown in the room,
cadres checking in with it, and the trainer's attendance list with its corrections.

Every change of attendance is followed by `progress.recompute` for the cadres concerned,
after the write transaction, so their enrollments' stored progress stays true.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import requires_role
from app.db import write_transaction
from app.lib.forms import FormBody
from app.settings import get_settings
from app.tables import (
    TRAINING_KINDS,
    Attendance,
    AuditEvent,
    Batch,
    ClassSession,
    Enrollment,
    User,
)
from app.trainings.certificates import qr_svg
from app.trainings.progress import recompute

CODE_LENGTH = 6
CODE_MINUTES = 15  # how long a new check-in code is valid, unless the trainer says otherwise
CODE_MINUTES_MAX = 240
# At most this many wrong codes per person in the window; then check-in is refused for a while.
CHECKIN_FAILURE_LIMIT = 10
CHECKIN_WINDOW = timedelta(minutes=10)
REFRESH_SECONDS = 15  # the projector page reloads itself this often while the code is valid
METHODS = {"code": "签到码", "trainer": "老师标记"}

_MAX_ID = 2**31 - 1
_CODE = re.compile(r"[0-9]{6}")
_HOURS = re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?")

SESSION_COLUMNS = (
    ClassSession.id,
    ClassSession.batch,
    ClassSession.starts_at,
    ClassSession.ends_at,
    ClassSession.place,
    ClassSession.topic,
    ClassSession.hours,
    ClassSession.checkin_code,
    ClassSession.code_expires_at,
    ClassSession.batch.name.as_alias("batch_name"),
    ClassSession.batch.training.as_alias("training_id"),
    ClassSession.batch.training.title.as_alias("training_title"),
)


# ---------------------------------------------------------------- pure helpers


def new_code() -> str:
    """A random six-digit check-in code."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def normalize_code(text: str) -> str:
    """What a cadre typed, with full-width digits made ASCII and spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())[:20]


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


def _valid_id(value: int) -> bool:
    return 0 < value <= _MAX_ID


async def _load_batch(training_id: int, batch_id: int) -> dict[str, Any]:
    batch = None
    if _valid_id(training_id) and _valid_id(batch_id):
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


async def _load_session(session_id: int, batch_id: int | None = None) -> dict[str, Any]:
    session = None
    if _valid_id(session_id):
        query = ClassSession.select(*SESSION_COLUMNS).where(ClassSession.id == session_id)
        if batch_id is not None:
            query = query.where(ClassSession.batch == batch_id)
        session = await query.first()
    if session is None:
        raise NotFoundException("没有找到这次面授课程。")
    return session


async def _batch_accounts(batch_id: int) -> list[int]:
    rows = await Enrollment.select(Enrollment.account).where(
        Enrollment.batch == batch_id, Enrollment.active.eq(True)
    )
    return [row["account"] for row in rows]


async def _enrolled_count(batch_id: int) -> int:
    return await Enrollment.count().where(Enrollment.batch == batch_id, Enrollment.active.eq(True))


async def _present_count(session_id: int) -> int:
    return await Attendance.count().where(
        Attendance.session == session_id, Attendance.present.eq(True)
    )


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(get_settings().timezone).strftime(fmt) if moment else ""


def _when(session: Mapping[str, Any]) -> str:
    text = _local(session["starts_at"])
    return text + ("–" + _local(session["ends_at"], "%H:%M") if session["ends_at"] else "")


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
async def sessions_page(training_id: FromPath[int], batch_id: FromPath[int]) -> Template:
    batch = await _load_batch(training_id, batch_id)
    return await _sessions_page(batch, {"place": batch["place"], "hours": "3"}, {})


@post("/trainings/{training_id:int}/batches/{batch_id:int}/sessions", name="session_create")
async def session_create(
    request: Request, training_id: FromPath[int], batch_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    batch = await _load_batch(training_id, batch_id)
    form = {
        key: str(data.get(key, "")) for key in ("starts_at", "ends_at", "place", "topic", "hours")
    }
    values, errors = parse_session_form(form, get_settings().timezone)
    if errors:
        return await _sessions_page(batch, form, errors, status=400)
    session = ClassSession(batch=batch["id"], **values)
    async with write_transaction():
        await session.save()
        await audit.record(
            request,
            "session.create",
            session,
            f"“{batch['training_title']}”{batch['name']}新增面授课程："
            f"{_when(values)} {values['topic']}",
        )
    await recompute(training_id, await _batch_accounts(batch["id"]))
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
    batch = await _load_batch(training_id, batch_id)
    session = await _load_session(session_id, batch["id"])
    back = request.app.route_reverse("sessions", training_id=training_id, batch_id=batch_id)
    async with write_transaction():
        if await Attendance.exists().where(Attendance.session == session["id"]):
            deleted = False
        else:
            await ClassSession.delete().where(ClassSession.id == session["id"])
            await audit.record(
                request,
                "session.delete",
                None,
                f"“{batch['training_title']}”{batch['name']}删除面授课程："
                f"{_when(session)} {session['topic']}",
            )
            deleted = True
    if not deleted:
        flash(request, "这次课已有签到或考勤记录，不能删除。", "error")
        return Redirect(back)
    await recompute(training_id, await _batch_accounts(batch["id"]))
    flash(request, f"已删除面授课程“{session['topic']}”。", "success")
    return Redirect(back)


# ---------------------------------------------------------------- the check-in code


def _checkin_url(request: Request, code: str) -> str:
    return (
        str(request.base_url).rstrip("/") + request.app.route_reverse("checkin") + f"?code={code}"
    )


@get("/sessions/{session_id:int}/code", name="session_code")
async def session_code(request: Request, session_id: FromPath[int]) -> Template:
    session = await _load_session(session_id)
    now = datetime.now(UTC)
    expires = session["code_expires_at"]
    valid = bool(session["checkin_code"]) and expires is not None and expires > now
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
    session = await _load_session(session_id)
    back = request.app.route_reverse("session_code", session_id=session["id"])
    now = datetime.now(UTC)
    if data.get("stop"):
        async with write_transaction():
            await ClassSession.update({ClassSession.code_expires_at: now}).where(
                ClassSession.id == session["id"]
            )
        flash(request, "已停止签到：签到码已失效。", "success")
        return Redirect(back)
    raw = normalize_code(str(data.get("minutes") or str(CODE_MINUTES)))
    minutes = int(raw) if raw.isdigit() and len(raw) <= 4 else 0
    if not 1 <= minutes <= CODE_MINUTES_MAX:
        flash(request, f"有效时间请填写 1 到 {CODE_MINUTES_MAX} 之间的分钟数。", "error")
        return Redirect(back)
    async with write_transaction():
        # Codes are unique among the codes still valid, so a code finds one session.
        for _ in range(100):
            code = new_code()
            taken = await ClassSession.exists().where(
                ClassSession.checkin_code == code,
                ClassSession.code_expires_at > now,
                ClassSession.id != session["id"],
            )
            if not taken:
                break
        else:  # pragma: no cover - a million codes, a few dozen classes at a time
            raise RuntimeError("no free check-in code")
        await ClassSession.update(
            {
                ClassSession.checkin_code: code,
                ClassSession.code_expires_at: now + timedelta(minutes=minutes),
            }
        ).where(ClassSession.id == session["id"])
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
    return _checkin_form(code if _CODE.fullmatch(code) else "")


async def _recent_failures(account_id: int, now: datetime) -> int:
    return await AuditEvent.count().where(
        AuditEvent.actor == account_id,
        AuditEvent.action == "checkin.failed",
        AuditEvent.created_at > now - CHECKIN_WINDOW,
    )


@post("/checkin", name="checkin_submit")
async def checkin_submit(request: Request, data: FormBody) -> Template:
    user: User = request.user
    code = normalize_code(str(data.get("code") or ""))
    now = datetime.now(UTC)
    failures = await _recent_failures(user.id, now)
    if failures >= CHECKIN_FAILURE_LIMIT:
        return _checkin_form(
            code,
            "签到码输错的次数太多，请 10 分钟后再试，或请培训老师在考勤表上为您标记出席。",
            429,
        )
    live = None
    if _CODE.fullmatch(code):
        live = (
            await ClassSession.select(*SESSION_COLUMNS)
            .where(ClassSession.checkin_code == code, ClassSession.code_expires_at > now)
            .first()
        )
    if live is None:
        if _CODE.fullmatch(code) and await ClassSession.exists().where(
            ClassSession.checkin_code == code
        ):
            return _checkin_form(code, "签到码已过期，请向培训老师索取新的签到码。", 400)
        async with write_transaction():
            await audit.record(request, "checkin.failed", None, f"输入的签到码“{code[:20]}”不正确")
        left = CHECKIN_FAILURE_LIMIT - failures - 1
        hint = f"（再错 {left} 次将暂停签到 10 分钟）" if left <= 3 else ""
        return _checkin_form(
            code, f"签到码不正确，请核对老师公布的 6 位数字后重新输入。{hint}", 400
        )
    enrolled = await Enrollment.exists().where(
        Enrollment.account == user.id,
        Enrollment.batch == live["batch"],
        Enrollment.active.eq(True),
    )
    if not enrolled:
        return _checkin_form(
            code,
            f"您没有报名这一期培训，不能签到。（{live['training_title']} {live['batch_name']}）"
            "如有疑问，请联系培训老师。",
            400,
        )
    async with write_transaction():
        row = (
            await Attendance.select(Attendance.id, Attendance.present)
            .where(Attendance.session == live["id"], Attendance.account == user.id)
            .first()
        )
        if row is None:
            inserted = (
                await Attendance.insert(
                    Attendance(session=live["id"], account=user.id, present=True, method="code")
                )
                .on_conflict(action="DO NOTHING")
                .returning(Attendance.id)
            )
            already = not inserted
        elif row["present"]:
            already = True
        else:  # the trainer had taken the attendance back; a valid code in the room counts
            await Attendance.update(
                {Attendance.present: True, Attendance.method: "code", Attendance.marked_by: None}
            ).where(Attendance.id == row["id"])
            already = False
    if not already:
        await recompute(live["training_id"], [user.id])
    enrollment = (
        await Enrollment.select(Enrollment.sessions_attended, Enrollment.sessions_total)
        .where(Enrollment.account == user.id, Enrollment.batch == live["batch"])
        .first()
    )
    return Template(
        "trainings/checkin_done.html",
        context={
            "session": live,
            "already": already,
            "enrollment": enrollment,
            "when": _when(live),
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
async def attendance_page(session_id: FromPath[int]) -> Template:
    session = await _load_session(session_id)
    rows = await _attendance_rows(session)
    return Template(
        "trainings/attendance.html",
        context={
            "session": session,
            "rows": rows,
            "present": sum(1 for row in rows if row["present"]),
            "when": _when(session),
        },
    )


def attendance_changes(
    checked: set[int], shown: Mapping[int, bool], enrolled: set[int]
) -> dict[int, bool]:
    """account -> present, for the cadres whose box the trainer changed from what the page
    showed (pure). Cadres who checked in while the page was open are left as they are."""
    return {
        account: account in checked
        for account, was in shown.items()
        if account in enrolled and (account in checked) != was
    }


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
    session = await _load_session(session_id)
    form = await request.form()
    checked = {int(v) for v in form.getall("present", []) if str(v).isdigit() and len(v) <= 10}
    changes = attendance_changes(
        checked, _shown(form.getall("shown", [])), set(await _batch_accounts(session["batch"]))
    )
    changed: list[int] = []
    marked = unmarked = 0
    context = (
        f"{session['training_title']} {session['batch_name']} {_when(session)} {session['topic']}"
    )
    if changes:
        people = {p.id: p for p in await User.objects().where(User.id.is_in(sorted(changes)))}
        async with write_transaction():
            current = {
                row["account"]: row
                for row in await Attendance.select(
                    Attendance.id, Attendance.account, Attendance.present
                ).where(
                    Attendance.session == session["id"],
                    Attendance.account.is_in(sorted(changes)),
                )
            }
            for account, present in sorted(changes.items()):
                row = current.get(account)
                person = people[account]
                if present and row is None:
                    await Attendance.insert(
                        Attendance(
                            session=session["id"],
                            account=account,
                            present=True,
                            method="trainer",
                            marked_by=actor.id,
                        )
                    )
                elif present and not row["present"]:
                    await Attendance.update(
                        {
                            Attendance.present: True,
                            Attendance.method: "trainer",
                            Attendance.marked_by: actor.id,
                        }
                    ).where(Attendance.id == row["id"])
                elif not present and row is not None and row["present"]:
                    await Attendance.update(
                        {Attendance.present: False, Attendance.marked_by: actor.id}
                    ).where(Attendance.id == row["id"])
                else:
                    continue  # already so, by a check-in or another trainer meanwhile
                if present:
                    marked += 1
                    summary = f"标记 {person.name} 出席：{context}"
                else:
                    unmarked += 1
                    summary = f"取消 {person.name} 的出席：{context}"
                await audit.record(
                    request, "attendance.mark" if present else "attendance.unmark", person, summary
                )
                changed.append(account)
    if changed:
        await recompute(session["training_id"], changed)
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
        session_code,
        session_code_new,
        attendance_page,
        attendance_save,
    ],
)

checkin_router = Router(path="/", route_handlers=[checkin_page, checkin_submit])
