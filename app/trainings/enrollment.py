"""Enrolling cadres in a training: a unit's whole subtree, cadres picked from a list, or an
uploaded list (upload → preview with every problem by row → confirm). Every way is
all-or-nothing, in one write transaction, and keeps each batch within its capacity.

Also the enrollment list of a training, withdrawing, and the cadres' own 我的培训.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.auth import normalize_username
from app.accounts.cadre_import import Problem, normalize_phone
from app.accounts.guards import requires_role, scope_path
from app.accounts.people import person_matches
from app.accounts.units import units_in_scope
from app.db import write_transaction
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.pagination import Page
from app.lib.sheets import ImportFileError
from app.lib.uploads import MAX_UPLOAD_BYTES, keep_upload, stored_filename
from app.tables import (
    Batch,
    Enrollment,
    Training,
    Unit,
    Upload,
    User,
)
from app.trainings.access import enroll_scope, load_training
from app.trainings.enrollment_check import (
    Account,
    EnrollPlan,
    check_enrollment_rows,
    read_enrollment_table,
)
from app.trainings.pages import batch_counts, load_batch, lock_training
from app.trainings.progress import enrollment_lacks, progress_columns, recompute

CHUNK = 500
ENROLLING = requires_role("trainer", "unit_admin")


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
    keys = sorted(phones | usernames)
    staff_nos = sorted({r.values["工号"] for r in rows if r.values["工号"]})
    found: dict[int, dict] = {}
    columns = (
        User.id, User.name, User.username, User.phone, User.staff_no, User.role, User.active,
        User.unit.name.as_alias("unit_name"), User.unit.path.as_alias("unit_path"),
    )  # fmt: skip
    for start in range(0, max(len(keys), len(staff_nos)), CHUNK):
        conditions = []
        if chunk := keys[start : start + CHUNK]:
            conditions += [User.phone.is_in(chunk), User.username.is_in(chunk)]
        if chunk := staff_nos[start : start + CHUNK]:
            conditions.append(User.staff_no.is_in(chunk))
        where = conditions[0]
        for condition in conditions[1:]:
            where = where | condition
        found.update({row["id"]: row for row in await User.select(*columns).where(where)})
    accounts = [Account(**row) for row in found.values()]
    return check_enrollment_rows(
        rows,
        accounts,
        scope=scope,
        enrolled=await _enrolled(training_id, [a.id for a in accounts]),
        batch_name=batch.name,
        capacity=batch.capacity,
        batch_enrolled=(await batch_counts(training_id)).get(batch.id, 0),
    )


async def _enrolled(training_id: int, account_ids: Sequence[int]) -> set[int]:
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


# ---------------------------------------------------------------- writing enrollments


class EnrollRefused(Exception):
    """Nothing was enrolled; `messages` say why, in Chinese."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("；".join(messages))
        self.messages = messages


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
    enrolled = await _enrolled(training_id, [c["id"] for c in cadres])
    return UnitPlan(
        to_enroll=[c["id"] for c in cadres if c["active"] and c["id"] not in enrolled],
        already=len(enrolled),
        deactivated=[c["name"] for c in cadres if not c["active"] and c["id"] not in enrolled],
    )


async def _open_batches(user: User, training: Training) -> list[dict[str, Any]]:
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


async def _chosen_batch(user: User, training: Training, raw: Any) -> tuple[Batch, str]:
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


async def _finish(request: Request, training: Training, ids: list[int], text: str) -> Redirect:
    # A very long list of ids would pass the drivers' limit on query parameters.
    await recompute(training.id, ids if len(ids) <= 10 * CHUNK else None)
    flash(request, text, "success")
    return Redirect(request.app.route_reverse("enrollments", training_id=training.id))


# ---------------------------------------------------------------- pages: enrolling


@get("/trainings/{training_id:int}/enroll", name="enroll", guards=[ENROLLING])
async def enroll_page(request: Request, training_id: FromPath[int]) -> Template:
    training = await load_training(request.user, training_id)
    return Template(
        "trainings/enroll.html",
        context={
            "training": training,
            "batches": await _open_batches(request.user, training),
            "units": await units_in_scope(request.user, active_only=True),
        },
    )


@get("/trainings/{training_id:int}/enroll/unit", name="enroll_unit_confirm", guards=[ENROLLING])
async def enroll_unit_confirm(
    request: Request,
    training_id: FromPath[int],
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
) -> Template:
    user: User = request.user
    training = await load_training(user, training_id)
    chosen, scope = await _chosen_batch(user, training, batch)
    picked = await _unit_in(user, unit, scope)
    plan = await unit_plan(training.id, picked.path)
    enrolled = (await batch_counts(training.id)).get(chosen.id, 0)
    room = chosen.capacity - enrolled if chosen.capacity else None
    return Template(
        "trainings/enroll_unit.html",
        context={
            "training": training,
            "batch": chosen,
            "unit": picked,
            "plan": plan,
            "room": room,
            "enrolled": enrolled,
        },
    )


async def _unit_in(user: User, raw: Any, scope: str) -> Unit:
    text = str(raw or "")
    unit = await Unit.objects().where(Unit.id == int(text)).first() if text.isdigit() else None
    if unit is None or not unit.path.startswith(scope_path(user)):
        raise NotFoundException("请选择您管理范围内的单位。")
    if not unit.path.startswith(scope):
        raise PermissionDeniedException(f"“{unit.name}”的干部不能报名这一期。")
    return unit


@post("/trainings/{training_id:int}/enroll/unit", name="enroll_unit", guards=[ENROLLING])
async def enroll_unit(request: Request, training_id: FromPath[int]) -> Template | Redirect:
    user: User = request.user
    data = await request.form()
    training = await load_training(user, training_id)
    batch, scope = await _chosen_batch(user, training, data.get("batch"))
    unit = await _unit_in(user, data.get("unit"), scope)
    try:
        async with write_transaction():
            await lock_training(training.id)
            plan = await unit_plan(training.id, unit.path)
            if not plan.to_enroll:
                raise EnrollRefused([f"“{unit.name}”没有需要报名的干部（都已报名或已停用）"])
            count = await write_enrollments(request, training, batch, plan.to_enroll, scope)
            summary = f"为“{training.title}”{batch.name}报名“{unit.name}”的干部 {count} 人"
            await audit.record(request, "enrollment.create", training, summary)
    except EnrollRefused as refused:
        flash(request, "没有报名任何人：" + "；".join(refused.messages[:10]) + "。", "error")
        return Redirect(request.app.route_reverse("enroll", training_id=training.id))
    skipped = f"，跳过已停用的 {len(plan.deactivated)} 人" if plan.deactivated else ""
    return await _finish(request, training, plan.to_enroll, f"已报名 {count} 人{skipped}。")


async def _pick_page(
    request: Request,
    training: Training,
    filters: dict[str, Any],
    checked: Collection[int] = (),
    error: str = "",
    status: int = 200,
) -> Template:
    user: User = request.user
    path = scope_path(user)
    unit_text = str(filters.get("unit") or "")
    if unit_text.isdigit():
        unit = await Unit.select(Unit.path).where(Unit.id == int(unit_text)).first()
        if unit and unit["path"].startswith(path):
            path = unit["path"]
    conditions = [User.role == "cadre", User.active.eq(True), User.unit.path.like(path + "%")]
    if filters.get("q"):
        conditions.append(person_matches(filters["q"]))
    pager = Page(number=filters.get("page") or 1, total=await User.count().where(*conditions))
    people = await (
        User.select(
            User.id, User.name, User.phone, User.position, User.unit.name.as_alias("unit_name")
        )
        .where(*conditions)
        .order_by(User.unit.path)
        .order_by(User.id)
        .offset(pager.offset)
        .limit(pager.size)
    )
    enrolled = await _enrolled(training.id, [p["id"] for p in people])
    return Template(
        "trainings/enroll_pick.html",
        context={
            "training": training,
            "people": people,
            "enrolled": enrolled,
            "checked": {str(c) for c in checked},
            "pager": pager,
            "filters": filters,
            "units": await units_in_scope(user, active_only=True),
            "batches": await _open_batches(user, training),
            "error": error,
        },
        status_code=status,
    )


@get("/trainings/{training_id:int}/enroll/pick", name="enroll_pick", guards=[ENROLLING])
async def enroll_pick(
    request: Request,
    training_id: FromPath[int],
    q: FromQuery[str] = "",
    unit: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Template:
    training = await load_training(request.user, training_id)
    filters = {"q": q.strip(), "unit": unit, "batch": batch, "page": page}
    return await _pick_page(request, training, filters)


@post("/trainings/{training_id:int}/enroll/pick", name="enroll_pick_save", guards=[ENROLLING])
async def enroll_pick_save(request: Request, training_id: FromPath[int]) -> Template | Redirect:
    user: User = request.user
    data = await request.form()
    training = await load_training(user, training_id)
    page = str(data.get("page") or "1")
    filters = {
        "q": str(data.get("q") or "").strip(),
        "unit": str(data.get("unit") or ""),
        "batch": str(data.get("batch") or ""),
        "page": int(page) if page.isdigit() else 1,
    }
    ids = sorted({int(v) for v in data.getall("account", []) if str(v).isdigit()})
    batch, scope = await _chosen_batch(user, training, data.get("batch"))
    try:
        async with write_transaction():
            await lock_training(training.id)
            count = await write_enrollments(request, training, batch, ids, scope)
            summary = f"为“{training.title}”{batch.name}报名所选干部 {count} 人"
            await audit.record(request, "enrollment.create", training, summary)
    except EnrollRefused as refused:
        error = "没有报名任何人：" + "；".join(refused.messages[:10]) + "。"
        return await _pick_page(request, training, filters, ids, error, status=400)
    return await _finish(request, training, ids, f"已将 {count} 人报名{batch.name}。")


@post(
    "/trainings/{training_id:int}/enroll/upload",
    name="enroll_upload",
    guards=[ENROLLING],
    request_max_body_size=MAX_UPLOAD_BODY_BYTES,
)
async def enroll_upload(request: Request, training_id: FromPath[int]) -> Template:
    user: User = request.user
    data = await request.form()
    training = await load_training(user, training_id)
    batch, scope = await _chosen_batch(user, training, data.get("batch"))
    upload = data.get("file")
    context: dict[str, Any] = {"training": training, "batch": batch, "plan": None}
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["error"] = "请选择要上传的名单文件（.xlsx 或 .csv）。"
        return Template("trainings/enroll_upload.html", context=context, status_code=400)
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        context["error"] = f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分后分批上传。"
        return Template("trainings/enroll_upload.html", context=context, status_code=400)
    filename = stored_filename(upload.filename)
    plan = await plan_upload(filename, content, training_id=training.id, batch=batch, scope=scope)
    if plan.ok:
        context["upload_id"] = await keep_upload("enrollment", filename, content, user.id)
    context.update(plan=plan, filename=filename)
    return Template(
        "trainings/enroll_upload.html", context=context, status_code=200 if plan.ok else 400
    )


@post(
    "/trainings/{training_id:int}/enroll/upload/{upload_id:int}",
    name="enroll_upload_confirm",
    guards=[ENROLLING],
)
async def enroll_upload_confirm(
    request: Request, training_id: FromPath[int], upload_id: FromPath[int]
) -> Template | Redirect:
    user: User = request.user
    data = await request.form()
    training = await load_training(user, training_id)
    batch, scope = await _chosen_batch(user, training, data.get("batch"))
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
        # The upload stays, untouched: the rolled-back transaction deleted nothing.
        context = {"training": training, "batch": batch, "plan": plan, "changed": True}
        return Template("trainings/enroll_upload.html", context=context, status_code=409)
    return await _finish(request, training, ids, f"已从“{filename}”报名 {count} 人。")


# ---------------------------------------------------------------- pages: the enrollments


@get("/trainings/{training_id:int}/enrollments", name="enrollments", guards=[ENROLLING])
async def enrollment_list(
    request: Request,
    training_id: FromPath[int],
    batch: FromQuery[str] = "",
    unit: FromQuery[str] = "",
    status: FromQuery[str] = "active",
    q: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Template:
    user: User = request.user
    training = await load_training(user, training_id)
    path = scope_path(user)
    if unit.isdigit():
        row = await Unit.select(Unit.path).where(Unit.id == int(unit)).first()
        path = row["path"] if row and row["path"].startswith(path) else path
    conditions = [Enrollment.training == training.id, Enrollment.unit.path.like(path + "%")]
    if batch.isdigit():
        conditions.append(Enrollment.batch == int(batch))
    conditions.append(Enrollment.active.eq(status != "withdrawn"))
    if status == "completed":
        conditions.append(Enrollment.completed_at.is_not_null())
    elif status == "incomplete":
        conditions.append(Enrollment.completed_at.is_null())
    if q.strip():
        conditions.append(Enrollment.account.is_in(User.select(User.id).where(person_matches(q))))
    pager = Page(number=page, total=await Enrollment.count().where(*conditions))
    rows = await (
        Enrollment.select(
            *progress_columns(),
            Enrollment.account.name.as_alias("name"),
            Enrollment.account.phone.as_alias("phone"),
            Enrollment.unit.name.as_alias("unit_name"),
        )
        .where(*conditions)
        .order_by(Enrollment.unit.path)
        .order_by(Enrollment.id)
        .offset(pager.offset)
        .limit(pager.size)
    )
    for row in rows:
        row["lacks"] = enrollment_lacks(row)
    batches = await Batch.select(Batch.id, Batch.name).where(Batch.training == training.id)
    return Template(
        "trainings/enrollments.html",
        context={
            "training": training,
            "rows": rows,
            "pager": pager,
            "batches": batches,
            "units": await units_in_scope(user),
            "filters": {"batch": batch, "unit": unit, "status": status, "q": q.strip()},
        },
    )


@post(
    "/trainings/{training_id:int}/enrollments/{enrollment_id:int}/withdraw",
    name="enrollment_withdraw",
    guards=[ENROLLING],
)
async def enrollment_withdraw(
    request: Request, training_id: FromPath[int], enrollment_id: FromPath[int]
) -> Redirect:
    user: User = request.user
    training = await load_training(user, training_id)
    row = None
    if 0 < enrollment_id < 2**31:
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
    if not row["unit_path"].startswith(scope_path(user)):
        raise PermissionDeniedException("这名干部不在您的管理范围内。")
    if row["active"]:
        async with write_transaction():
            await Enrollment.update({Enrollment.active: False}).where(Enrollment.id == row["id"])
            summary = f"取消“{row['name']}”在“{training.title}”的报名"
            await audit.record(request, "enrollment.withdraw", training, summary)
    flash(request, f"已取消“{row['name']}”的报名。", "success")
    return Redirect(request.app.route_reverse("enrollments", training_id=training.id))


route_handlers = [
    enroll_page,
    enroll_unit_confirm,
    enroll_unit,
    enroll_pick,
    enroll_pick_save,
    enroll_upload,
    enroll_upload_confirm,
    enrollment_list,
    enrollment_withdraw,
]
