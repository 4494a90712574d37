"""Granting and revoking 补考/延期 (QuizOverride), for the trainers' pages: one cadre found by
name, phone or staff number, or an uploaded list (checked in `app/quizzes/override_check.py`,
all or nothing), each grant and revocation audited with its old and new values.

Trainers and federation staff grant to cadres in their scope (`accounts/guards.scope_path`:
a trainer's own unit's subtree, the whole city for federation staff), as they enroll them.
Every write keeps the quiz's `override_count` (its overrides not revoked) in step, in the
same transaction: starting an attempt reads a cadre's override only when it is not 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts import audit
from app.accounts.cadre_import import Problem, normalize_phone
from app.accounts.guards import in_scope, scope_path
from app.accounts.listed import accounts_named
from app.db import Statement, write_transaction
from app.lib.parsing import valid_id
from app.lib.sheets import ImportFileError
from app.lib.uploads import keep_upload, take_upload
from app.quizzes.override_check import (
    Cadre,
    Grant,
    GrantPlan,
    check_override_rows,
    read_override_list,
)
from app.settings import get_settings
from app.tables import Quiz, QuizOverride, User

UPLOAD_KIND = "quiz_override"
LISTED = 1000  # overrides shown on a quiz's page at most
CHUNK = 500

QUIZ_COLUMNS = (
    Quiz.id,
    Quiz.slug,
    Quiz.title,
    Quiz.max_attempts,
    Quiz.time_limit_minutes,
    Quiz.opens_at,
    Quiz.closes_at,
    Quiz.override_count,
    Quiz.active,
    Quiz.published,
)
CADRE_COLUMNS = (
    User.id,
    User.name,
    User.phone,
    User.staff_no,
    User.role,
    User.active,
    User.unit.name.as_alias("unit_name"),
    User.unit.path.as_alias("unit_path"),
)

_LOCK_QUIZ = Statement(
    Quiz, 'UPDATE "quiz" SET "override_count" = "override_count" WHERE "id" = {} RETURNING "id"'
)
_RECOUNT = Statement(
    Quiz,
    'UPDATE "quiz" SET "override_count" = (SELECT COUNT(*) FROM "quiz_override" '
    'WHERE "quiz" = {} AND "revoked_at" IS NULL) WHERE "id" = {} RETURNING "override_count"',
)


class UploadRefused(Exception):
    """Nothing was granted from an uploaded list; `plan` lists the problems. The upload
    stays: the rolled-back transaction removed nothing."""

    def __init__(self, plan: GrantPlan) -> None:
        super().__init__("；".join(p.message for p in plan.problems))
        self.plan = plan


# ---------------------------------------------------------------- reading


async def load_quiz(slug: str) -> dict[str, Any]:
    quiz = await Quiz.select(*QUIZ_COLUMNS).where(Quiz.slug == slug[:80]).first()
    if quiz is None:
        raise NotFoundException("没有找到这个测验。")
    return quiz


async def listed_overrides(user: User, quiz_id: int) -> list[dict[str, Any]]:
    """The quiz's overrides of cadres in the person's scope, those in force first."""
    rows = await (
        QuizOverride.select(
            QuizOverride.all_columns(),
            QuizOverride.account.name.as_alias("name"),
            QuizOverride.account.phone.as_alias("phone"),
            QuizOverride.account.staff_no.as_alias("staff_no"),
            QuizOverride.account.unit.name.as_alias("unit_name"),
            QuizOverride.granted_by.name.as_alias("granted_by_name"),
            QuizOverride.revoked_by.name.as_alias("revoked_by_name"),
        )
        .where(
            QuizOverride.quiz == quiz_id,
            QuizOverride.account.unit.path.like(scope_path(user) + "%"),
        )
        .order_by(QuizOverride.account.unit.path)
        .order_by(QuizOverride.account.name)
        .limit(LISTED)
    )
    rows.sort(key=lambda row: row["revoked_at"] is not None)  # stable: in force first
    return rows


async def find_cadres(user: User, text: str) -> list[dict[str, Any]]:
    """Active cadres in the person's scope whose phone, staff number, username or name is
    exactly `text` (at most 20)."""
    text = text.strip()[:50]
    if not text:
        return []
    phone = normalize_phone(text)
    condition = (User.staff_no == text) | (User.username == text) | (User.name == text)
    if phone:
        condition = condition | (User.phone == phone) | (User.username == phone)
    return await (
        User.select(*CADRE_COLUMNS)
        .where(
            condition,
            User.role == "cadre",
            User.active.eq(True),
            User.unit.path.like(scope_path(user) + "%"),
        )
        .order_by(User.unit.path)
        .order_by(User.id)
        .limit(20)
    )


async def load_cadre(user: User, account_id: int) -> dict[str, Any]:
    """An active cadre the person may grant to; 404 unknown, 403 outside their scope."""
    cadre = None
    if valid_id(account_id):
        cadre = await User.select(*CADRE_COLUMNS).where(User.id == account_id).first()
    if cadre is None or cadre["role"] != "cadre":
        raise NotFoundException("没有找到这位学员。")
    if not in_scope(user, cadre["unit_path"]):
        raise PermissionDeniedException("这位学员不在您的管理范围内。")
    if not cadre["active"]:
        raise PermissionDeniedException("这位学员的账号已停用。")
    return cadre


# ---------------------------------------------------------------- writing


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "无"
    return f"{moment.astimezone(get_settings().timezone):%Y-%m-%d %H:%M}"


def describe(grant: Grant | Mapping[str, Any]) -> str:
    """A grant in words, for the audit log: "增加 1 次，延长 10 分钟，截止 …；原因：…"."""
    get = grant.get if isinstance(grant, Mapping) else lambda key: getattr(grant, key)
    parts = []
    if get("extra_attempts"):
        parts.append(f"增加 {get('extra_attempts')} 次")
    if get("extra_minutes"):
        parts.append(f"延长 {get('extra_minutes')} 分钟")
    if get("closes_at"):
        parts.append(f"截止 {_local(get('closes_at'))}")
    return "，".join(parts) + f"；原因：{get('reason')}"


def _changes(old: Mapping[str, Any], grant: Grant) -> str:
    """What changed, old → new."""
    changes = []
    if old["revoked_at"] is not None:
        changes.append("已撤销→有效")
    for key, label in (("extra_attempts", "增加次数"), ("extra_minutes", "延长分钟")):
        if old[key] != getattr(grant, key):
            changes.append(f"{label} {old[key]}→{getattr(grant, key)}")
    if old["closes_at"] != grant.closes_at:
        changes.append(f"截止时间 {_local(old['closes_at'])}→{_local(grant.closes_at)}")
    if old["reason"] != grant.reason:
        changes.append(f"原因“{old['reason']}”→“{grant.reason}”")
    return "；".join(changes)


async def _write_grant(
    connection: ASGIConnection[Any, Any, Any, Any] | None,
    actor_id: int,
    quiz: Mapping[str, Any],
    cadre: Mapping[str, Any],
    grant: Grant,
    now: datetime,
) -> str:
    """Grant inside the caller's write transaction, which holds the quiz's lock: "created",
    "updated" or "unchanged"."""
    old = (
        await QuizOverride.select(QuizOverride.all_columns())
        .where(QuizOverride.quiz == quiz["id"], QuizOverride.account == cadre["id"])
        .first()
    )
    who = f"“{cadre['name']}”（{cadre['unit_name']}）"
    values = {
        QuizOverride.extra_attempts: grant.extra_attempts,
        QuizOverride.extra_minutes: grant.extra_minutes,
        QuizOverride.closes_at: grant.closes_at,
        QuizOverride.reason: grant.reason,
    }
    if old is None:
        row = QuizOverride(
            quiz=quiz["id"],
            account=cadre["id"],
            granted_by=actor_id,
            created_at=now,
            updated_at=now,
            **{column._meta.name: value for column, value in values.items()},
        )
        await row.save()
        summary = f"为{who}授予测验“{quiz['title']}”的补考与延期：{describe(grant)}"
        await audit.record(connection, "quiz_override.grant", row, summary, actor_id)
        return "created"
    changes = _changes(old, grant)
    if not changes:
        return "unchanged"
    await QuizOverride.update(
        {
            **values,
            QuizOverride.granted_by: actor_id,
            QuizOverride.updated_at: now,
            QuizOverride.revoked_at: None,
            QuizOverride.revoked_by: None,
        }
    ).where(QuizOverride.id == old["id"])
    row = QuizOverride(id=old["id"])
    summary = f"修改{who}在测验“{quiz['title']}”的补考与延期：{changes}"
    await audit.record(connection, "quiz_override.update", row, summary, actor_id)
    return "updated"


async def _recount(quiz_id: int) -> None:
    await _RECOUNT.rows(quiz_id, quiz_id)


async def grant_one(
    connection: ASGIConnection[Any, Any, Any, Any] | None,
    quiz: Mapping[str, Any],
    cadre: Mapping[str, Any],
    grant: Grant,
    actor_id: int | None = None,
) -> str:
    """Grant (or change) one cadre's override, audited: "created", "updated", "unchanged".
    The grantor is the signed-in person of `connection`, or `actor_id` (the demo data)."""
    if actor_id is None:
        assert connection is not None
        actor_id = connection.user.id
    async with write_transaction():
        await _LOCK_QUIZ.rows(quiz["id"])  # grants of one quiz one at a time
        done = await _write_grant(connection, actor_id, quiz, cadre, grant, datetime.now(UTC))
        await _recount(quiz["id"])
    return done


async def revoke(
    connection: ASGIConnection[Any, Any, Any, Any], quiz: Mapping[str, Any], override_id: int
) -> str | None:
    """Revoke an override of the quiz (attempts already started keep their deadline); the
    cadre's name, or None when it was revoked already. 404 unknown, 403 outside the scope."""
    user: User = connection.user
    async with write_transaction():
        await _LOCK_QUIZ.rows(quiz["id"])
        row = None
        if valid_id(override_id):
            row = await (
                QuizOverride.select(
                    QuizOverride.id,
                    QuizOverride.revoked_at,
                    QuizOverride.extra_attempts,
                    QuizOverride.extra_minutes,
                    QuizOverride.closes_at,
                    QuizOverride.reason,
                    QuizOverride.account.name.as_alias("name"),
                    QuizOverride.account.unit.name.as_alias("unit_name"),
                    QuizOverride.account.unit.path.as_alias("unit_path"),
                )
                .where(QuizOverride.id == override_id, QuizOverride.quiz == quiz["id"])
                .first()
            )
        if row is None:
            raise NotFoundException("没有找到这项补考与延期。")
        if not in_scope(user, row["unit_path"]):
            raise PermissionDeniedException("这位学员不在您的管理范围内。")
        if row["revoked_at"] is not None:
            return None
        await QuizOverride.update(
            {QuizOverride.revoked_at: datetime.now(UTC), QuizOverride.revoked_by: user.id}
        ).where(QuizOverride.id == row["id"])
        await _recount(quiz["id"])
        summary = (
            f"撤销“{row['name']}”（{row['unit_name']}）在测验“{quiz['title']}”的补考与延期"
            f"（原为：{describe(row)}）"
        )
        await audit.record(connection, "quiz_override.revoke", QuizOverride(id=row["id"]), summary)
    return row["name"]


# ---------------------------------------------------------------- an uploaded list


async def plan_upload(
    user: User, quiz: Mapping[str, Any], filename: str, content: bytes
) -> GrantPlan:
    """Read the list and check each row against the accounts and the quiz."""
    try:
        rows = read_override_list(filename, content)
    except ImportFileError as error:
        return GrantPlan([], [Problem(None, None, str(error))])
    phones = {normalize_phone(r.values["手机号"]) for r in rows} - {None}
    staff_nos = {r.values["工号"] for r in rows if r.values["工号"]}
    found = await accounts_named(phones, staff_nos)
    cadres = []
    for row in found:
        username = row.pop("username")
        # A cadre signs in with their phone number: an account may have it only as its name.
        phone = row["phone"] or (username if normalize_phone(username) == username else "")
        cadres.append(Cadre(**{**row, "phone": phone, "staff_no": row["staff_no"] or ""}))
    return check_override_rows(
        rows, cadres, scope=scope_path(user), quiz=quiz, timezone=get_settings().timezone
    )


async def check_upload(
    user: User, quiz: Mapping[str, Any], filename: str, content: bytes
) -> tuple[GrantPlan, int | None]:
    """The plan of an uploaded list and, when it can be confirmed, the id it is kept under."""
    plan = await plan_upload(user, quiz, filename, content)
    upload_id = await keep_upload(UPLOAD_KIND, filename, content, user.id) if plan.ok else None
    return plan, upload_id


class _Refused(Exception):
    pass


async def grant_uploaded(
    connection: ASGIConnection[Any, Any, Any, Any], quiz: Mapping[str, Any], upload_id: int
) -> tuple[str, int]:
    """Grant every row of the list kept under `upload_id`, checked again, all or nothing:
    its filename and how many rows. Raises UploadRefused when it no longer passes; 404 when
    it was confirmed already."""
    user: User = connection.user
    plan: GrantPlan | None = None
    now = datetime.now(UTC)
    try:
        async with write_transaction():
            await _LOCK_QUIZ.rows(quiz["id"])
            taken = await take_upload(upload_id, user.id, UPLOAD_KIND)
            if taken is None:
                raise NotFoundException("没有找到这次上传，它可能已经确认过了。请重新上传名单。")
            filename, content = taken
            plan = await plan_upload(user, quiz, filename, content)
            if not plan.ok:
                raise _Refused
            for draft in plan.drafts:
                cadre = {"id": draft.account_id, "name": draft.name, "unit_name": draft.unit_name}
                await _write_grant(connection, connection.user.id, quiz, cadre, draft.grant, now)
            await _recount(quiz["id"])
            summary = f"从“{filename}”为测验“{quiz['title']}”授予 {len(plan.drafts)} 人补考与延期"
            await audit.record(connection, "quiz_override.import", Quiz(id=quiz["id"]), summary)
    except _Refused:
        assert plan is not None
        raise UploadRefused(plan) from None
    return filename, len(plan.drafts)
