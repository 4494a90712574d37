"""The enrollment pages: enrolling cadres in a training — a unit's whole subtree, cadres
picked from a list, or an uploaded list (upload → preview with every problem by row →
confirm) — the enrollment list of a training, and withdrawing.

The handlers read the request, call the work in `app.trainings.enrolling` (the lists come
from `app.trainings.enrollment_lists`) and render or redirect.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts.guards import requires_role
from app.accounts.units import units_in_scope
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.uploads import MAX_UPLOAD_BYTES, stored_filename
from app.tables import Training, User
from app.trainings.access import load_training
from app.trainings.enrolling import (
    EnrollRefused,
    UploadRefused,
    batch_enrolled,
    check_upload,
    chosen_batch,
    chosen_unit,
    enroll_picked,
    enroll_subtree,
    enroll_uploaded,
    open_batches,
    unit_plan,
    withdraw,
)
from app.trainings.enrollment_lists import batch_choices, cadres_to_pick, enrollment_rows

ENROLLING = requires_role("trainer", "unit_admin")


def _done(request: Request, training: Training, text: str) -> Redirect:
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
            "batches": await open_batches(request.user, training),
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
    chosen, scope = await chosen_batch(user, training, batch)
    picked = await chosen_unit(user, unit, scope)
    plan = await unit_plan(training.id, picked.path)
    enrolled = await batch_enrolled(training.id, chosen.id)
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


@post("/trainings/{training_id:int}/enroll/unit", name="enroll_unit", guards=[ENROLLING])
async def enroll_unit(request: Request, training_id: FromPath[int]) -> Template | Redirect:
    user: User = request.user
    data = await request.form()
    training = await load_training(user, training_id)
    batch, scope = await chosen_batch(user, training, data.get("batch"))
    unit = await chosen_unit(user, data.get("unit"), scope)
    try:
        count, plan = await enroll_subtree(request, training, batch, unit, scope)
    except EnrollRefused as refused:
        flash(request, "没有报名任何人：" + "；".join(refused.messages[:10]) + "。", "error")
        return Redirect(request.app.route_reverse("enroll", training_id=training.id))
    skipped = f"，跳过已停用的 {len(plan.deactivated)} 人" if plan.deactivated else ""
    return _done(request, training, f"已报名 {count} 人{skipped}。")


async def _pick_page(
    request: Request,
    training: Training,
    filters: dict[str, Any],
    checked: Collection[int] = (),
    error: str = "",
    status: int = 200,
) -> Template:
    user: User = request.user
    pager, people, enrolled = await cadres_to_pick(user, training, filters)
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
            "batches": await open_batches(user, training),
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
    batch, scope = await chosen_batch(user, training, data.get("batch"))
    try:
        count = await enroll_picked(request, training, batch, ids, scope)
    except EnrollRefused as refused:
        error = "没有报名任何人：" + "；".join(refused.messages[:10]) + "。"
        return await _pick_page(request, training, filters, ids, error, status=400)
    return _done(request, training, f"已将 {count} 人报名{batch.name}。")


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
    batch, scope = await chosen_batch(user, training, data.get("batch"))
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
    plan, upload_id = await check_upload(user, training, batch, scope, filename, content)
    if upload_id is not None:
        context["upload_id"] = upload_id
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
    batch, scope = await chosen_batch(user, training, data.get("batch"))
    try:
        filename, count = await enroll_uploaded(request, training, batch, scope, upload_id)
    except UploadRefused as refused:
        # The upload stays, untouched: the rolled-back transaction deleted nothing.
        context = {"training": training, "batch": batch, "plan": refused.plan, "changed": True}
        return Template("trainings/enroll_upload.html", context=context, status_code=409)
    return _done(request, training, f"已从“{filename}”报名 {count} 人。")


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
    pager, rows = await enrollment_rows(
        user, training, batch=batch, unit=unit, status=status, q=q, page=page
    )
    return Template(
        "trainings/enrollments.html",
        context={
            "training": training,
            "rows": rows,
            "pager": pager,
            "batches": await batch_choices(training),
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
    training = await load_training(request.user, training_id)
    name = await withdraw(request, training, enrollment_id)
    return _done(request, training, f"已取消“{name}”的报名。")


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
