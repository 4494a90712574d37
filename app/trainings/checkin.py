"""The work behind the 签到 and 考勤 pages of 集中轮训 (`app/trainings/attendance.py`): class
sessions added, edited, cancelled (and restored) and deleted, check-in codes made and
stopped, cadres checking in with a code, and the trainer's corrections of the attendance list.

A cancelled session (已取消) keeps the attendance recorded for it, takes no new check-in
and no correction, and is left out of the completion rule (`progress.recompute` counts the
sessions that are not cancelled), so nobody lacks a session that did not take place.

Every change of attendance is followed by `progress.recompute` for the cadres concerned,
after the write transaction, so their enrollments' stored progress stays true. A function
that takes a `connection` (the request) uses it only for the audit log: who, from where.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException

from app.accounts import audit
from app.db import is_sqlite, write_transaction
from app.lib.parsing import valid_id
from app.settings import get_settings
from app.tables import Attendance, AuditEvent, ClassSession, Enrollment, User
from app.trainings.access import load_training
from app.trainings.credits import credit_attendance
from app.trainings.progress import recompute

CODE_LENGTH = 6
CODE_MINUTES = 15  # how long a new check-in code is valid, unless the trainer says otherwise
CODE_MINUTES_MAX = 240
# At most this many wrong codes per person in the window; then check-in is refused for a while.
CHECKIN_FAILURE_LIMIT = 10
CHECKIN_WINDOW = timedelta(minutes=10)

_CODE = re.compile(r"[0-9]{6}")

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
    ClassSession.cancelled_at,
    ClassSession.cancel_reason,
    ClassSession.batch.name.as_alias("batch_name"),
    ClassSession.batch.training.as_alias("training_id"),
    ClassSession.batch.training.title.as_alias("training_title"),
)

Connection = ASGIConnection[Any, Any, Any, Any]


# ---------------------------------------------------------------- pure helpers


def new_code() -> str:
    """A random six-digit check-in code."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def normalize_code(text: str) -> str:
    """What a cadre typed, with full-width digits made ASCII and spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())[:20]


def is_code(text: str) -> bool:
    """Whether a normalized text has the form of a check-in code (six digits)."""
    return bool(_CODE.fullmatch(text))


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(get_settings().timezone).strftime(fmt) if moment else ""


def session_when(session: Mapping[str, Any]) -> str:
    """When a class session is, in local time: "2024-03-01 09:00–11:30"."""
    text = _local(session["starts_at"])
    return text + ("–" + _local(session["ends_at"], "%H:%M") if session["ends_at"] else "")


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


# ---------------------------------------------------------------- class sessions


async def load_session(user: User, session_id: int, batch_id: int | None = None) -> dict[str, Any]:
    """A class session (SESSION_COLUMNS), of the batch if given: 404 when there is none,
    403 when its training is not visible to the person (`trainings/access.py`)."""
    session = None
    if valid_id(session_id):
        query = ClassSession.select(*SESSION_COLUMNS).where(ClassSession.id == session_id)
        if batch_id is not None:
            query = query.where(ClassSession.batch == batch_id)
        session = await query.first()
    if session is None:
        raise NotFoundException("没有找到这次面授课程。")
    await load_training(user, session["training_id"])
    return session


async def batch_accounts(batch_id: int) -> list[int]:
    """The accounts actively enrolled in a batch."""
    rows = await Enrollment.select(Enrollment.account).where(
        Enrollment.batch == batch_id, Enrollment.active.eq(True)
    )
    return [row["account"] for row in rows]


async def create_session(
    connection: Connection | None,
    training_id: int,
    batch: Mapping[str, Any],
    values: Mapping[str, Any],
) -> None:
    """Add a class session (values from `parse_session_form`) to a batch of the training."""
    session = ClassSession(batch=batch["id"], **values)
    async with write_transaction():
        await session.save()
        await audit.record(
            connection,
            "session.create",
            session,
            f"“{batch['training_title']}”{batch['name']}新增面授课程："
            f"{session_when(values)} {values['topic']}",
        )
    await recompute(training_id, await batch_accounts(batch["id"]))


async def delete_session(
    connection: Connection | None,
    training_id: int,
    batch: Mapping[str, Any],
    session: Mapping[str, Any],
) -> bool:
    """Delete a class session of a batch of the training, unless someone's attendance (or
    absence) is recorded for it; whether it was deleted."""
    async with write_transaction():
        if await Attendance.exists().where(Attendance.session == session["id"]):
            return False
        await ClassSession.delete().where(ClassSession.id == session["id"])
        await audit.record(
            connection,
            "session.delete",
            None,
            f"“{batch['training_title']}”{batch['name']}删除面授课程："
            f"{session_when(session)} {session['topic']}",
        )
    await recompute(training_id, await batch_accounts(batch["id"]))
    return True


SESSION_FIELDS = {
    "starts_at": "上课时间",
    "ends_at": "下课时间",
    "topic": "课程内容",
    "place": "地点",
    "hours": "学时",
}


def session_changes(session: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """What an edit changes of a class session, in Chinese, one item per field (pure)."""
    changes = []
    before, after = session_when(session), session_when(values)
    if before != after:
        changes.append(f"时间 {before} 改为 {after}")
    for key in ("topic", "place"):
        if (session[key] or "") != (values[key] or ""):
            changes.append(f"{SESSION_FIELDS[key]}“{session[key]}”改为“{values[key]}”")
    if float(session["hours"]) != float(values["hours"]):
        changes.append(f"学时 {session['hours']:g} 改为 {values['hours']:g}")
    return changes


def session_text(session: Mapping[str, Any]) -> str:
    """A class session named in the audit log: the training, the batch, when, the topic."""
    return (
        f"“{session['training_title']}”{session['batch_name']} "
        f"{session_when(session)} {session['topic']}"
    )


async def update_session(
    connection: Connection | None, session: Mapping[str, Any], values: Mapping[str, Any]
) -> list[str]:
    """Change a class session's time, topic, place and hours (values from
    `parse_session_form`); the changes, in Chinese (none: nothing was written)."""
    changes = session_changes(session, values)
    if not changes:
        return []
    async with write_transaction():
        await ClassSession.update(
            {getattr(ClassSession, key): values[key] for key in SESSION_FIELDS}
        ).where(ClassSession.id == session["id"])
        await audit.record(
            connection,
            "session.update",
            None,
            f"修改面授课程 {session_text(session)}：" + "；".join(changes),
        )
        if float(session["hours"]) != float(values["hours"]):
            attended = await Attendance.select(Attendance.account).where(
                Attendance.session == session["id"]
            )
            await credit_attendance(
                session["id"],
                [row["account"] for row in attended],
                datetime.now(UTC),
                f"更正：面授课程学时由 {session['hours']:g} 改为 {values['hours']:g}",
            )
    if float(session["hours"]) != float(values["hours"]):
        await recompute(session["training_id"], await batch_accounts(session["batch"]))
    return changes


async def cancel_session(
    connection: Connection | None, session: Mapping[str, Any], reason: str, now: datetime
) -> bool:
    """Cancel a class session: its check-in code stops, its recorded attendance stays, and
    it no longer counts toward completion. Whether it was cancelled (False: already was)."""
    async with write_transaction():
        cancelled = (
            await ClassSession.update(
                {
                    ClassSession.cancelled_at: now,
                    ClassSession.cancel_reason: reason,
                    ClassSession.code_expires_at: now,
                }
            )
            .where(ClassSession.id == session["id"], ClassSession.cancelled_at.is_null())
            .returning(ClassSession.id)
        )
        if not cancelled:
            return False
        await audit.record(
            connection,
            "session.cancel",
            None,
            f"取消面授课程 {session_text(session)}" + (f"：{reason}" if reason else ""),
        )
    await recompute(session["training_id"], await batch_accounts(session["batch"]))
    return True


async def restore_session(connection: Connection | None, session: Mapping[str, Any]) -> bool:
    """Take back the cancellation of a class session; whether it was cancelled."""
    async with write_transaction():
        restored = (
            await ClassSession.update(
                {ClassSession.cancelled_at: None, ClassSession.cancel_reason: ""}
            )
            .where(ClassSession.id == session["id"], ClassSession.cancelled_at.is_not_null())
            .returning(ClassSession.id)
        )
        if not restored:
            return False
        await audit.record(
            connection, "session.restore", None, f"恢复已取消的面授课程 {session_text(session)}"
        )
    await recompute(session["training_id"], await batch_accounts(session["batch"]))
    return True


# ---------------------------------------------------------------- the check-in code


async def new_session_code(session_id: int, minutes: int, now: datetime) -> str:
    """Give a class session a new check-in code, valid `minutes` from `now`, and return it.
    Codes are unique among the codes still valid, so a code finds one session."""
    async with write_transaction():
        for _ in range(100):
            code = new_code()
            taken = await ClassSession.exists().where(
                ClassSession.checkin_code == code,
                ClassSession.code_expires_at > now,
                ClassSession.id != session_id,
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
        ).where(ClassSession.id == session_id)
    return code


async def stop_session_code(session_id: int, now: datetime) -> None:
    """End check-in for a class session: its code expires `now`."""
    async with write_transaction():
        await ClassSession.update({ClassSession.code_expires_at: now}).where(
            ClassSession.id == session_id
        )


# ---------------------------------------------------------------- checking in


@dataclass(frozen=True)
class CheckinResult:
    """A cadre's check-in: the class session checked in to, or the Chinese message refusing
    it (and then nothing is recorded but a wrong code)."""

    session: dict[str, Any] | None = None  # SESSION_COLUMNS; None when refused
    already: bool = False  # was present before (by a code or the trainer's mark)
    enrollment: dict[str, Any] | None = None  # sessions_attended and sessions_total, after
    refusal: str = ""
    throttled: bool = False  # refused for too many wrong codes lately, whatever the code


async def _recent_failures(account_id: int, now: datetime) -> int:
    return await AuditEvent.count().where(
        AuditEvent.actor == account_id,
        AuditEvent.action == "checkin.failed",
        AuditEvent.created_at > now - CHECKIN_WINDOW,
    )


async def _lock_account(account_id: int) -> None:
    """Serialise the check-ins of one account (inside a write transaction), so counting its
    wrong codes and recording a new one happen as one step: SQLite's IMMEDIATE transaction
    already holds the only write lock; on PostgreSQL, the account's row (NO KEY UPDATE, so
    rows referring to the account can still be written meanwhile)."""
    if not is_sqlite():
        await User.select(User.id).where(User.id == account_id).lock_rows("NO KEY UPDATE")


async def check_in(
    connection: Connection | None, account_id: int, code: str, now: datetime
) -> CheckinResult:
    """Check the account in to the class session whose code (normalized) is valid `now`.
    A wrong code is recorded in the audit log, and after CHECKIN_FAILURE_LIMIT of them in
    CHECKIN_WINDOW every check-in of the account is refused without looking at the code.
    The count, the code's check and its recording are one transaction under the account's
    lock, so a burst of simultaneous guesses gets exactly CHECKIN_FAILURE_LIMIT looks."""
    async with write_transaction():
        await _lock_account(account_id)
        failures = await _recent_failures(account_id, now)
        if failures >= CHECKIN_FAILURE_LIMIT:
            return CheckinResult(
                refusal="签到码输错的次数太多，请 10 分钟后再试，"
                "或请培训老师在考勤表上为您标记出席。",
                throttled=True,
            )
        live = None
        if is_code(code):
            live = (
                await ClassSession.select(*SESSION_COLUMNS)
                .where(
                    ClassSession.checkin_code == code,
                    ClassSession.code_expires_at > now,
                    ClassSession.cancelled_at.is_null(),
                )
                .first()
            )
        if live is None:
            known = None
            if is_code(code):
                known = (
                    await ClassSession.select(ClassSession.topic, ClassSession.cancelled_at)
                    .where(ClassSession.checkin_code == code)
                    .order_by(ClassSession.code_expires_at, ascending=False)
                    .first()
                )
            if known is not None and known["cancelled_at"] is not None:
                return CheckinResult(
                    refusal=f"这次面授课程（{known['topic']}）已取消，不能签到。"
                    "如有疑问，请联系培训老师。"
                )
            if known is not None:
                return CheckinResult(refusal="签到码已过期，请向培训老师索取新的签到码。")
            await audit.record(
                connection,
                "checkin.failed",
                None,
                f"输入的签到码“{code[:20]}”不正确",
                actor_id=account_id,
            )
            left = CHECKIN_FAILURE_LIMIT - failures - 1
            hint = f"（再错 {left} 次将暂停签到 10 分钟）" if left <= 3 else ""
            return CheckinResult(
                refusal=f"签到码不正确，请核对老师公布的 6 位数字后重新输入。{hint}"
            )
        enrolled = await Enrollment.exists().where(
            Enrollment.account == account_id,
            Enrollment.batch == live["batch"],
            Enrollment.active.eq(True),
        )
        if not enrolled:
            return CheckinResult(
                refusal=f"您没有报名这一期培训，不能签到。（{live['training_title']} "
                f"{live['batch_name']}）如有疑问，请联系培训老师。"
            )
        row = (
            await Attendance.select(Attendance.id, Attendance.present)
            .where(Attendance.session == live["id"], Attendance.account == account_id)
            .first()
        )
        if row is None:
            inserted = (
                await Attendance.insert(
                    Attendance(session=live["id"], account=account_id, present=True, method="code")
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
            await credit_attendance(live["id"], [account_id], now)
    if not already:
        await recompute(live["training_id"], [account_id])
    enrollment = (
        await Enrollment.select(Enrollment.sessions_attended, Enrollment.sessions_total)
        .where(Enrollment.account == account_id, Enrollment.batch == live["batch"])
        .first()
    )
    return CheckinResult(session=live, already=already, enrollment=enrollment)


# ---------------------------------------------------------------- the attendance list


@dataclass(frozen=True)
class AttendanceSaved:
    marked: int  # cadres marked present
    unmarked: int  # cadres whose attendance was taken back


async def save_attendance(
    connection: Connection | None,
    actor_id: int,
    session: Mapping[str, Any],
    checked: set[int],
    shown: Mapping[int, bool],
) -> AttendanceSaved:
    """Store the trainer's ticks on the attendance list of a class session (SESSION_COLUMNS):
    only the boxes changed from what the page showed (`shown`), for cadres enrolled in the
    batch, and not those someone else made so meanwhile; one audit record per cadre."""
    changes = attendance_changes(checked, shown, set(await batch_accounts(session["batch"])))
    changed: list[int] = []
    marked = unmarked = 0
    context = (
        f"{session['training_title']} {session['batch_name']} {session_when(session)} "
        f"{session['topic']}"
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
                            marked_by=actor_id,
                        )
                    )
                elif present and not row["present"]:
                    await Attendance.update(
                        {
                            Attendance.present: True,
                            Attendance.method: "trainer",
                            Attendance.marked_by: actor_id,
                        }
                    ).where(Attendance.id == row["id"])
                elif not present and row is not None and row["present"]:
                    await Attendance.update(
                        {Attendance.present: False, Attendance.marked_by: actor_id}
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
                    connection,
                    "attendance.mark" if present else "attendance.unmark",
                    person,
                    summary,
                    actor_id=actor_id,
                )
                changed.append(account)
            await credit_attendance(session["id"], changed, datetime.now(UTC))
    if changed:
        await recompute(session["training_id"], changed)
    return AttendanceSaved(marked, unmarked)
