"""Enrolling cadres in a training, the work behind the pages in `app.trainings.enrollment`:
the batches and units one may enroll into, then a unit's whole subtree, cadres picked from a
list, or an uploaded list (checked by `app.trainings.enrollment_check`, kept until
confirmed); and withdrawing. Every way of enrolling is all-or-nothing, in one write
transaction after `lock_training`, and keeps each batch within its capacity; it raises
`EnrollRefused` (or `UploadRefused`) having written nothing.

The lists on those pages are in `app.trainings.enrollment_lists`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts import audit
from app.accounts.auth import normalize_username
from app.accounts.cadre_import import Problem, normalize_phone
from app.accounts.guards import scope_path
from app.accounts.listed import accounts_named
from app.db import write_transaction
from app.lib.parsing import valid_id
from app.lib.sheets import ImportFileError
from app.lib.uploads import keep_upload
from app.tables import Batch, Enrollment, Training, Unit, Upload, User
from app.trainings.access import enroll_scope
from app.trainings.batches import batch_counts, load_batch, lock_training
from app.trainings.enrollment_check import (
    Account,
    EnrollPlan,
    check_enrollment_rows,
    read_enrollment_table,
)
from app.trainings.progress import recompute

CHUNK = 500


class EnrollRefused(Exception):
    """Nothing was enrolled; `messages` say why, in Chinese."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("；".join(messages))
        self.messages = messages


class UploadRefused(Exception):
    """Nothing was enrolled from an uploaded list; `plan` lists the problems. The upload
    stays, untouched: the rolled-back transaction deleted nothing."""

    def __init__(self, plan: EnrollPlan) -> None:
        super().__init__("；".join(p.message for p in plan.problems))
        self.plan = plan


# ---------------------------------------------------------------- batches and units


async def batch_enrolled(training_id: int, batch_id: int) -> int:
    """How many are actively enrolled in the batch."""
    return (await batch_counts(training_id)).get(batch_id, 0)


async def open_batches(user: User, training: Training) -> list[dict[str, Any]]:
    """The training's batches this person may enroll into, each with its `scope`."""
    batches = await (
        Batch.select(Batch.all_columns(), Batch.open_unit.path.as_alias("open_path"))
        .where(Batch.training == training.id)
        .order_by(Batch.sort_order)
        .order_by(Batch.id)
    )
    counts = await batch_counts(training.id)
    out = []
    for b in batches:
        b["scope"] = enroll_scope(user, b["open_path"], training.unit.path)
        b["enrolled"] = counts.get(b["id"], 0)
        if b["scope"] is not None:
            out.append(b)
    return out


async def chosen_batch(user: User, training: Training, raw: Any) -> tuple[Batch, str]:
    """The batch picked in a form and the enroll scope in it; 403 when not open to this person."""
    text = str(raw or "")
    batch = await load_batch(training, int(text) if text.isdigit() else 0)
    open_path = None
    if batch.open_unit:
        unit = await Unit.select(Unit.path).where(Unit.id == batch.open_unit).first()
        open_path = unit["path"]
    scope = enroll_scope(user, open_path, training.unit.path)
    if scope is None:
        raise PermissionDeniedException(f"期次“{batch.name}”没有向您的单位开放报名。")
    return batch, scope


async def chosen_unit(user: User, raw: Any, scope: str) -> Unit:
    """The unit picked in a form, whose cadres may be enrolled in a batch with this scope."""
    text = str(raw or "")
    unit = await Unit.objects().where(Unit.id == int(text)).first() if text.isdigit() else None
    if unit is None or not unit.path.startswith(scope_path(user)):
        raise NotFoundException("请选择您管理范围内的单位。")
    if not unit.path.startswith(scope):
        raise PermissionDeniedException(f"“{unit.name}”的干部不能报名这一期。")
    return unit


# ---------------------------------------------------------------- who is enrolled


async def enrolled_among(training_id: int, account_ids: Sequence[int]) -> set[int]:
    """Of these accounts, those actively enrolled in the training."""
    enrolled: set[int] = set()
    for start in range(0, len(account_ids), CHUNK):
        rows = await Enrollment.select(Enrollment.account).where(
            Enrollment.training == training_id,
            Enrollment.active.eq(True),
            Enrollment.account.is_in(list(account_ids[start : start + CHUNK])),
        )
        enrolled.update(row["account"] for row in rows)
    return enrolled


@dataclass(frozen=True)
class UnitPlan:
    to_enroll: list[int]
    already: int
    deactivated: list[str]  # names of deactivated cadres, who are skipped


async def unit_plan(training_id: int, unit_path: str) -> UnitPlan:
    """The active cadres of the subtree not yet enrolled, and those skipped."""
    cadres = await User.select(User.id, User.name, User.active).where(
        User.role == "cadre", User.unit.path.like(unit_path + "%")
    )
    enrolled = await enrolled_among(training_id, [c["id"] for c in cadres])
    return UnitPlan(
        to_enroll=[c["id"] for c in cadres if c["active"] and c["id"] not in enrolled],
        already=len(enrolled),
        deactivated=[c["name"] for c in cadres if not c["active"] and c["id"] not in enrolled],
    )


async def plan_upload(
    filename: str, content: bytes, *, training_id: int, batch: Batch, scope: str
) -> EnrollPlan:
    """Read the list and check it against the accounts, enrollments and the batch."""
    try:
        rows = read_enrollment_table(filename, content)
    except ImportFileError as error:
        return EnrollPlan([], [Problem(None, None, str(error))])
    phones = {normalize_phone(r.values["手机号"]) for r in rows} - {None}
    usernames = {normalize_username(r.values["用户名"]) for r in rows if r.values["用户名"]}
    staff_nos = {r.values["工号"] for r in rows if r.values["工号"]}
    accounts = [Account(**row) for row in await accounts_named(phones | usernames, staff_nos)]
    return check_enrollment_rows(
        rows,
        accounts,
        scope=scope,
        enrolled=await enrolled_among(training_id, [a.id for a in accounts]),
        batch_name=batch.name,
        capacity=batch.capacity,
        batch_enrolled=await batch_enrolled(training_id, batch.id),
    )


# ---------------------------------------------------------------- writing enrollments


async def write_enrollments(
    request: Request, training: Training, batch: Batch, account_ids: Sequence[int], scope: str
) -> int:
    """Enroll the cadres into the batch, reactivating withdrawn enrollments; call inside a
    write transaction after `lock_training`. Raises EnrollRefused, writing nothing, when one
    of them may not be enrolled or the batch has no room for all of them."""
    ids = sorted(set(account_ids))
    if not ids:
        raise EnrollRefused(["请至少选择一名干部"])
    if not training.active:
        raise EnrollRefused([f"培训“{training.title}”已停用，不能再报名"])
    people: dict[int, dict] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await User.select(
            User.id, User.name, User.role, User.active, User.unit,
            User.unit.path.as_alias("unit_path"),
        ).where(User.id.is_in(ids[start : start + CHUNK]))  # fmt: skip
        people.update({row["id"]: row for row in rows})
    messages = []
    if len(people) < len(ids):
        messages.append(f"有 {len(ids) - len(people)} 名所选人员不存在")
    existing: dict[int, dict] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await Enrollment.select(Enrollment.id, Enrollment.account, Enrollment.active).where(
            Enrollment.training == training.id,
            Enrollment.account.is_in(ids[start : start + CHUNK]),
        )
        existing.update({row["account"]: row for row in rows})
    for person in people.values():
        name = person["name"]
        if not person["unit_path"].startswith(scope):
            messages.append(f"“{name}”不在您可以报名的范围内")
        elif person["role"] != "cadre":
            messages.append(f"“{name}”不是学员账号，不能报名培训")
        elif not person["active"]:
            messages.append(f"“{name}”的账号已停用，不能报名")
        elif existing.get(person["id"], {}).get("active"):
            messages.append(f"“{name}”已经报名了这个培训")
    fresh = await Batch.select(Batch.capacity).where(Batch.id == batch.id).first()
    if fresh is None:
        raise NotFoundException("没有找到这个期次。")
    taken = await Enrollment.count().where(Enrollment.batch == batch.id, Enrollment.active.eq(True))
    if fresh["capacity"] and taken + len(ids) > fresh["capacity"]:
        messages.append(
            f"期次“{batch.name}”名额 {fresh['capacity']} 人，已报名 {taken} 人，"
            f"还可报名 {max(0, fresh['capacity'] - taken)} 人，本次要报名 {len(ids)} 人"
        )
    if messages:
        raise EnrollRefused(messages)
    now = datetime.now(UTC)
    new = [
        Enrollment(
            training=training.id,
            batch=batch.id,
            account=person_id,
            unit=people[person_id]["unit"],
            enrolled_at=now,
            enrolled_by=request.user.id,
        )
        for person_id in ids
        if person_id not in existing
    ]
    for start in range(0, len(new), CHUNK):
        await Enrollment.insert(*new[start : start + CHUNK])
    for person_id in ids:
        if person_id in existing:  # withdrawn earlier: enrolled again
            await Enrollment.update(
                {
                    Enrollment.active: True,
                    Enrollment.batch: batch.id,
                    Enrollment.unit: people[person_id]["unit"],
                    Enrollment.enrolled_at: now,
                    Enrollment.enrolled_by: request.user.id,
                }
            ).where(Enrollment.id == existing[person_id]["id"])
    return len(ids)


async def _recompute(training: Training, ids: list[int]) -> None:
    # A very long list of ids would pass the drivers' limit on query parameters.
    await recompute(training.id, ids if len(ids) <= 10 * CHUNK else None)


async def enroll_subtree(
    request: Request, training: Training, batch: Batch, unit: Unit, scope: str
) -> tuple[int, UnitPlan]:
    """Enroll the active cadres of the unit's subtree not yet enrolled: how many, and the plan."""
    async with write_transaction():
        await lock_training(training.id)
        plan = await unit_plan(training.id, unit.path)
        if not plan.to_enroll:
            raise EnrollRefused([f"“{unit.name}”没有需要报名的干部（都已报名或已停用）"])
        count = await write_enrollments(request, training, batch, plan.to_enroll, scope)
        summary = f"为“{training.title}”{batch.name}报名“{unit.name}”的干部 {count} 人"
        await audit.record(request, "enrollment.create", training, summary)
    await _recompute(training, plan.to_enroll)
    return count, plan


async def enroll_picked(
    request: Request, training: Training, batch: Batch, ids: list[int], scope: str
) -> int:
    """Enroll the cadres picked from the list; how many."""
    async with write_transaction():
        await lock_training(training.id)
        count = await write_enrollments(request, training, batch, ids, scope)
        summary = f"为“{training.title}”{batch.name}报名所选干部 {count} 人"
        await audit.record(request, "enrollment.create", training, summary)
    await _recompute(training, ids)
    return count


async def check_upload(
    user: User, training: Training, batch: Batch, scope: str, filename: str, content: bytes
) -> tuple[EnrollPlan, int | None]:
    """The plan of an uploaded list and, when it can be confirmed, the id it is kept under."""
    plan = await plan_upload(filename, content, training_id=training.id, batch=batch, scope=scope)
    upload_id = await keep_upload("enrollment", filename, content, user.id) if plan.ok else None
    return plan, upload_id


async def enroll_uploaded(
    request: Request, training: Training, batch: Batch, scope: str, upload_id: int
) -> tuple[str, int]:
    """Enroll the list kept under `upload_id`, checked again: its filename and how many.
    Raises UploadRefused when it no longer passes; 404 when it was confirmed already."""
    user: User = request.user
    plan = None
    try:
        async with write_transaction():
            await lock_training(training.id)
            taken = (
                await Upload.delete()
                .where(
                    Upload.id == upload_id,
                    Upload.uploaded_by == user.id,
                    Upload.kind == "enrollment",
                )
                .returning(Upload.filename, Upload.content)
            )
            if not taken:
                raise NotFoundException("没有找到这次上传，它可能已经确认过了。请重新上传名单。")
            filename, content = taken[0]["filename"], bytes(taken[0]["content"])
            plan = await plan_upload(
                filename, content, training_id=training.id, batch=batch, scope=scope
            )
            if not plan.ok:
                raise EnrollRefused([p.message for p in plan.problems])
            ids = [d.account_id for d in plan.drafts]
            count = await write_enrollments(request, training, batch, ids, scope)
            summary = f"从“{filename}”为“{training.title}”{batch.name}报名 {count} 人"
            await audit.record(request, "enrollment.create", training, summary)
    except EnrollRefused as refused:
        if plan is None or plan.ok:
            plan = EnrollPlan([], [Problem(None, None, m) for m in refused.messages])
        raise UploadRefused(plan) from refused
    await _recompute(training, ids)
    return filename, count


async def withdraw(request: Request, training: Training, enrollment_id: int) -> str:
    """Withdraw an enrollment (once: a withdrawn one stays so); the cadre's name."""
    row = None
    if valid_id(enrollment_id):
        row = (
            await Enrollment.select(
                Enrollment.id,
                Enrollment.active,
                Enrollment.account.name.as_alias("name"),
                Enrollment.unit.path.as_alias("unit_path"),
            )
            .where(Enrollment.id == enrollment_id, Enrollment.training == training.id)
            .first()
        )
    if row is None:
        raise NotFoundException("没有找到这条报名记录。")
    if not row["unit_path"].startswith(scope_path(request.user)):
        raise PermissionDeniedException("这名干部不在您的管理范围内。")
    if row["active"]:
        async with write_transaction():
            await Enrollment.update({Enrollment.active: False}).where(Enrollment.id == row["id"])
            summary = f"取消“{row['name']}”在“{training.title}”的报名"
            await audit.record(request, "enrollment.withdraw", training, summary)
    return row["name"]
