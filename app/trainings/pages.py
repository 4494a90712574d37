"""Trainings (专题培训、集中轮训) and their batches (期次): the pages trainers and federation
staff use to set them up, and what unit admins may see of them (who sees which training is
decided in `app/trainings/access.py`).

Enrolling cadres, the enrollment lists and the cadres' own page are in
`app/trainings/enrollment.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import requires_role, scope_path
from app.accounts.units import units_in_scope
from app.db import is_sqlite, write_transaction
from app.lib.pagination import Page
from app.lib.parsing import form_date, form_number
from app.tables import (
    TRAINING_KINDS,
    Batch,
    Enrollment,
    Lesson,
    Module,
    Quiz,
    Training,
    TrainingModule,
    Unit,
    User,
)
from app.trainings.access import enroll_scope, load_training, visible_to
from app.trainings.progress import recompute

_MAX_ID = 2**31 - 1


async def load_batch(training: Training, batch_id: int) -> Batch:
    batch = None
    if 0 < batch_id <= _MAX_ID:
        batch = (
            await Batch.objects().where(Batch.id == batch_id, Batch.training == training.id).first()
        )
    if batch is None:
        raise NotFoundException("没有找到这个期次。")
    return batch


async def lock_training(training_id: int) -> None:
    """Serialise enrollment writes of one training (inside a write transaction): SQLite's
    IMMEDIATE transaction already holds the only write lock."""
    if not is_sqlite():
        await Training.select(Training.id).where(Training.id == training_id).lock_rows()


# ---------------------------------------------------------------- the forms (pure)


def training_problems(
    form: Mapping[str, Any],
    *,
    unit_ids: Collection[int],
    module_ids: Collection[int],
    quiz_ids: Collection[int],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Training column values (and `modules`, a list of ids) from the typed form, and
    field → Chinese message for every field that is wrong (pure)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    title = form.get("title", "")
    if not title:
        errors["title"] = "请填写培训名称。"
    elif len(title) > 200:
        errors["title"] = "培训名称不能超过 200 个字。"
    values["title"] = title
    kind = form.get("kind", "")
    if kind not in TRAINING_KINDS:
        errors["kind"] = "请选择培训类型（专题培训或集中轮训）。"
    values["kind"] = kind
    unit = form.get("unit", "")
    values["unit"] = int(unit) if unit.isdigit() and int(unit) in unit_ids else None
    if values["unit"] is None:
        errors["unit"] = "请选择主办单位（您管理范围内的启用单位）。"
    description = form.get("description", "")
    if len(description) > 5000:
        errors["description"] = "培训说明不能超过 5000 个字。"
    values["description"] = description
    modules = [int(m) for m in form.get("modules", []) if m.isdigit()]
    if len(modules) != len(form.get("modules", [])) or not set(modules) <= set(module_ids):
        errors["modules"] = "所选课程模块不存在或已停用，请重新选择。"
    values["modules"] = sorted(set(modules))
    quiz = form.get("final_quiz", "")
    values["final_quiz"] = int(quiz) if quiz.isdigit() else None
    if quiz and values["final_quiz"] not in quiz_ids:
        errors["final_quiz"] = "所选结业测验不存在、已停用或未发布。"
        values["final_quiz"] = None
    if kind == "special" and not modules and not quiz:
        errors["modules"] = "专题培训请至少选择一个课程模块或一个结业测验，否则无从考核。"
    hours = form_number(form.get("credit_hours", "") or "0")
    if hours is None or not 0 <= hours <= 1000:
        errors["credit_hours"] = "学时应为 0 到 1000 之间的数字。"
    values["credit_hours"] = hours
    share = form_number(form.get("attendance_share", "") or "80")
    if kind == "rotation" and (share is None or not 1 <= share <= 100):
        errors["attendance_share"] = "出勤要求应为 1 到 100 之间的数字（百分比）。"
    values["attendance_share"] = round(share / 100, 4) if share and 1 <= share <= 100 else 0.8
    values["active"] = bool(form.get("active"))
    return values, errors


def batch_problems(
    form: Mapping[str, str], *, unit_ids: Collection[int], enrolled: int = 0
) -> tuple[dict[str, Any], dict[str, str]]:
    """Batch column values from the typed form, and field → Chinese message (pure).
    `enrolled`: active enrollments the batch already has (its capacity may not go below)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    name = form.get("name", "")
    if not name:
        errors["name"] = "请填写期次名称，例如“第一期”。"
    elif len(name) > 100:
        errors["name"] = "期次名称不能超过 100 个字。"
    values["name"] = name
    for key, label in (("starts_on", "开始日期"), ("ends_on", "结束日期")):
        try:
            values[key] = form_date(form[key]) if form.get(key) else None
        except ValueError:
            errors[key] = f"{label}应为“2024-03-01”这样的日期。"
            values[key] = None
    if values["starts_on"] and values["ends_on"] and values["ends_on"] < values["starts_on"]:
        errors["ends_on"] = "结束日期不能早于开始日期。"
    place = form.get("place", "")
    if len(place) > 200:
        errors["place"] = "地点不能超过 200 个字。"
    values["place"] = place
    capacity = form_number(form.get("capacity", "") or "0")
    if capacity is None or not capacity.is_integer() or not 0 <= capacity <= 100_000:
        errors["capacity"] = "名额应为不小于 0 的整数，0 表示不限名额。"
        values["capacity"] = 0
    else:
        values["capacity"] = int(capacity)
        if values["capacity"] and values["capacity"] < enrolled:
            errors["capacity"] = f"这一期已报名 {enrolled} 人，名额不能少于 {enrolled}。"
    open_unit = form.get("open_unit", "")
    values["open_unit"] = int(open_unit) if open_unit.isdigit() else None
    if open_unit and values["open_unit"] not in unit_ids:
        errors["open_unit"] = "所选单位不存在、已停用或不在您的管理范围内。"
        values["open_unit"] = None
    return values, errors


def _form_of(data: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    form: dict[str, Any] = {key: str(data.get(key) or "").strip() for key in keys}
    if hasattr(data, "getall"):
        form["modules"] = [str(v).strip() for v in data.getall("modules", [])]
    return form


TRAINING_FIELDS = (
    "title", "kind", "unit", "description", "final_quiz", "credit_hours", "attendance_share",
    "active",
)  # fmt: skip
BATCH_FIELDS = ("name", "starts_on", "ends_on", "place", "capacity", "open_unit")


# ---------------------------------------------------------------- trainings


@get("/trainings", name="trainings")
async def training_list(
    request: Request,
    kind: FromQuery[str] = "",
    status: FromQuery[str] = "active",
    page: FromQuery[int] = 1,
) -> Template | Redirect:
    user: User = request.user
    if user.role == "cadre":
        return Redirect(request.app.route_reverse("my_trainings"))
    conditions = [visible_to(user)]
    if kind in TRAINING_KINDS:
        conditions.append(Training.kind == kind)
    if status in ("active", "inactive"):
        conditions.append(Training.active.eq(status == "active"))
    pager = Page(number=page, total=await Training.count().where(*conditions))
    trainings = await (
        Training.select(Training.all_columns(), Training.unit.name.as_alias("unit_name"))
        .where(*conditions)
        .order_by(Training.active, Training.id, ascending=False)  # inactive ones last
        .offset(pager.offset)
        .limit(pager.size)
    )
    ids = [t["id"] for t in trainings] or [0]
    path = scope_path(user)
    counts = {
        row["training"]: row
        for row in await Enrollment.select(
            Enrollment.training, Count(Enrollment.id).as_alias("enrolled")
        )
        .where(
            Enrollment.training.is_in(ids),
            Enrollment.active.eq(True),
            Enrollment.unit.path.like(path + "%"),
        )
        .group_by(Enrollment.training)
    }
    completed = {
        row["training"]: row["n"]
        for row in await Enrollment.select(Enrollment.training, Count(Enrollment.id).as_alias("n"))
        .where(
            Enrollment.training.is_in(ids),
            Enrollment.active.eq(True),
            Enrollment.completed_at.is_not_null(),
            Enrollment.unit.path.like(path + "%"),
        )
        .group_by(Enrollment.training)
    }
    for t in trainings:
        t["enrolled"] = counts.get(t["id"], {}).get("enrolled", 0)
        t["completed"] = completed.get(t["id"], 0)
    return Template(
        "trainings/list.html",
        context={
            "trainings": trainings,
            "pager": pager,
            "kinds": TRAINING_KINDS,
            "filters": {"kind": kind, "status": status},
        },
    )


async def _training_choices(user: User, training: Training | None) -> dict[str, Any]:
    units = await units_in_scope(user, active_only=True)
    modules = await Module.select(Module.id, Module.title, Module.active).order_by(
        Module.sort_order
    )
    quizzes = await Quiz.select(Quiz.id, Quiz.title, Quiz.active, Quiz.published).order_by(Quiz.id)
    current_modules: set[int] = set()
    if training is not None:
        current_modules = {
            r["module"]
            for r in await TrainingModule.select(TrainingModule.module).where(
                TrainingModule.training == training.id
            )
        }
    # An inactive module or unpublished quiz the training already has may stay.
    return {
        "units": units,
        "modules": [m for m in modules if m["active"] or m["id"] in current_modules],
        "quizzes": [
            q
            for q in quizzes
            if (q["active"] and q["published"])
            or (training is not None and q["id"] == training.final_quiz)
        ],
        "kinds": TRAINING_KINDS,
    }


async def _training_form(
    request: Request, form: dict, errors: dict, training: Training | None, status: int = 200
) -> Template:
    choices = await _training_choices(request.user, training)
    if training is not None and training.unit.id not in {u["id"] for u in choices["units"]}:
        # The organiser stays selectable for a trainer outside its subtree.
        unit = await Unit.select().where(Unit.id == training.unit.id).first()
        choices["units"] = [unit, *choices["units"]]
    return Template(
        "trainings/form.html",
        context={"form": form, "errors": errors, "training": training, **choices},
        status_code=status,
    )


@get("/trainings/new", name="training_new", guards=[requires_role("trainer")])
async def training_new(request: Request) -> Template:
    user: User = request.user
    form = {"kind": "special", "unit": str(user.unit.id), "modules": [], "active": "1"}
    return await _training_form(request, form | {"attendance_share": "80"}, {}, None)


@get("/trainings/{training_id:int}/edit", name="training_edit", guards=[requires_role("trainer")])
async def training_edit(request: Request, training_id: FromPath[int]) -> Template:
    training = await load_training(request.user, training_id)
    modules = await TrainingModule.select(TrainingModule.module).where(
        TrainingModule.training == training.id
    )
    form = {
        "title": training.title,
        "kind": training.kind,
        "unit": str(training.unit.id),
        "description": training.description,
        "final_quiz": str(training.final_quiz or ""),
        "credit_hours": f"{training.credit_hours:g}",
        "attendance_share": f"{training.attendance_share * 100:g}",
        "modules": [str(m["module"]) for m in modules],
        "active": "1" if training.active else "",
    }
    return await _training_form(request, form, {}, training)


@post("/trainings/new", name="training_create", guards=[requires_role("trainer")])
async def training_create(request: Request) -> Template | Redirect:
    return await _save_training(request, None)


@post(
    "/trainings/{training_id:int}/edit", name="training_update", guards=[requires_role("trainer")]
)
async def training_update(request: Request, training_id: FromPath[int]) -> Template | Redirect:
    return await _save_training(request, await load_training(request.user, training_id))


async def _save_training(request: Request, training: Training | None) -> Template | Redirect:
    form = _form_of(await request.form(), TRAINING_FIELDS)
    if training is None:
        form["active"] = "1"
    choices = await _training_choices(request.user, training)
    unit_ids = {u["id"] for u in choices["units"]}
    if training is not None:
        unit_ids.add(training.unit.id)
    values, errors = training_problems(
        form,
        unit_ids=unit_ids,
        module_ids={m["id"] for m in choices["modules"]},
        quiz_ids={q["id"] for q in choices["quizzes"]},
    )
    if errors:
        return await _training_form(request, form, errors, training, status=400)
    modules = values.pop("modules")
    async with write_transaction():
        if training is None:
            training = Training(**values, created_by=request.user.id)
            await training.save()
            action, verb = "training.create", "新建"
        else:
            await Training.update({getattr(Training, k): v for k, v in values.items()}).where(
                Training.id == training.id
            )
            await TrainingModule.delete().where(TrainingModule.training == training.id)
            action, verb = "training.update", "修改"
        if modules:
            await TrainingModule.insert(
                *(TrainingModule(training=training.id, module=m) for m in modules)
            )
        summary = f"{verb}{TRAINING_KINDS[values['kind']]}“{values['title']}”"
        await audit.record(request, action, training, summary)
    await recompute(training.id)  # the rule may have changed for everyone enrolled
    flash(request, f"已保存培训“{values['title']}”。", "success")
    return Redirect(request.app.route_reverse("training", training_id=training.id))


@get(
    "/trainings/{training_id:int}",
    name="training",
    guards=[requires_role("trainer", "unit_admin")],
)
async def training_overview(request: Request, training_id: FromPath[int]) -> Template:
    user: User = request.user
    training = await load_training(user, training_id)
    modules = await (
        TrainingModule.select(
            TrainingModule.module.id.as_alias("id"),
            TrainingModule.module.slug.as_alias("slug"),
            TrainingModule.module.title.as_alias("title"),
        )
        .where(TrainingModule.training == training.id)
        .order_by(TrainingModule.module.sort_order)
    )
    lessons = {
        r["module"]: r["n"]
        for r in await Lesson.select(Lesson.module, Count(Lesson.id).as_alias("n"))
        .where(Lesson.module.is_in([m["id"] for m in modules] or [0]), Lesson.active.eq(True))
        .group_by(Lesson.module)
    }
    for m in modules:
        m["lessons"] = lessons.get(m["id"], 0)
    quiz = None
    if training.final_quiz:
        quiz = await Quiz.select().where(Quiz.id == training.final_quiz).first()
    batches = await (
        Batch.select(Batch.all_columns(), Batch.open_unit.name.as_alias("open_unit_name"))
        .where(Batch.training == training.id)
        .order_by(Batch.sort_order)
        .order_by(Batch.id)
    )
    enrolled = await batch_counts(training.id)
    open_paths = await _open_paths(batches)
    for b in batches:
        b["enrolled"] = enrolled.get(b["id"], 0)
        b["open_to_me"] = (
            enroll_scope(user, open_paths.get(b["open_unit"]), training.unit.path) is not None
        )
    mine = (
        Enrollment.training == training.id,
        Enrollment.active.eq(True),
        Enrollment.unit.path.like(scope_path(user) + "%"),
    )
    counts = {
        "enrolled": await Enrollment.count().where(*mine),
        "completed": await Enrollment.count().where(*mine, Enrollment.completed_at.is_not_null()),
    }
    return Template(
        "trainings/training.html",
        context={
            "training": training,
            "modules": modules,
            "quiz": quiz,
            "batches": batches,
            "counts": counts,
            "kinds": TRAINING_KINDS,
            "can_enroll": any(b["open_to_me"] for b in batches),
        },
    )


async def batch_counts(training_id: int) -> dict[int, int]:
    """Active enrollments per batch of the training, counted in SQL."""
    rows = await (
        Enrollment.select(Enrollment.batch, Count(Enrollment.id).as_alias("n"))
        .where(Enrollment.training == training_id, Enrollment.active.eq(True))
        .group_by(Enrollment.batch)
    )
    return {row["batch"]: row["n"] for row in rows}


async def _open_paths(batches: list[dict[str, Any]]) -> dict[int, str]:
    ids = sorted({b["open_unit"] for b in batches if b["open_unit"]})
    if not ids:
        return {}
    rows = await Unit.select(Unit.id, Unit.path).where(Unit.id.is_in(ids))
    return {row["id"]: row["path"] for row in rows}


# ---------------------------------------------------------------- batches


async def _batch_form(
    request: Request,
    training: Training,
    form: dict,
    errors: dict,
    batch: Batch | None,
    status: int = 200,
) -> Template:
    return Template(
        "trainings/batch_form.html",
        context={
            "training": training,
            "batch": batch,
            "form": form,
            "errors": errors,
            "units": await units_in_scope(request.user, active_only=True),
        },
        status_code=status,
    )


@get(
    "/trainings/{training_id:int}/batches/new",
    name="batch_new",
    guards=[requires_role("trainer")],
)
async def batch_new(request: Request, training_id: FromPath[int]) -> Template:
    training = await load_training(request.user, training_id)
    number = await Batch.count().where(Batch.training == training.id) + 1
    names = "一二三四五六七八九十"
    name = f"第{names[number - 1]}期" if number <= 10 else f"第{number}期"
    return await _batch_form(request, training, {"name": name, "capacity": "0"}, {}, None)


@get(
    "/trainings/{training_id:int}/batches/{batch_id:int}/edit",
    name="batch_edit",
    guards=[requires_role("trainer")],
)
async def batch_edit(
    request: Request, training_id: FromPath[int], batch_id: FromPath[int]
) -> Template:
    training = await load_training(request.user, training_id)
    batch = await load_batch(training, batch_id)
    form = {
        "name": batch.name,
        "starts_on": batch.starts_on.isoformat() if batch.starts_on else "",
        "ends_on": batch.ends_on.isoformat() if batch.ends_on else "",
        "place": batch.place,
        "capacity": str(batch.capacity),
        "open_unit": str(batch.open_unit or ""),
    }
    return await _batch_form(request, training, form, {}, batch)


@post(
    "/trainings/{training_id:int}/batches/new",
    name="batch_create",
    guards=[requires_role("trainer")],
)
async def batch_create(request: Request, training_id: FromPath[int]) -> Template | Redirect:
    training = await load_training(request.user, training_id)
    return await _save_batch(request, training, None)


@post(
    "/trainings/{training_id:int}/batches/{batch_id:int}/edit",
    name="batch_update",
    guards=[requires_role("trainer")],
)
async def batch_update(
    request: Request, training_id: FromPath[int], batch_id: FromPath[int]
) -> Template | Redirect:
    training = await load_training(request.user, training_id)
    return await _save_batch(request, training, await load_batch(training, batch_id))


async def _save_batch(
    request: Request, training: Training, batch: Batch | None
) -> Template | Redirect:
    form = _form_of(await request.form(), BATCH_FIELDS)
    unit_ids = {u["id"] for u in await units_in_scope(request.user, active_only=True)}
    if batch is not None and batch.open_unit:
        unit_ids.add(batch.open_unit)  # the unit it is already open to may stay
    async with write_transaction():
        await lock_training(training.id)
        enrolled = 0
        if batch is not None:
            enrolled = await Enrollment.count().where(
                Enrollment.batch == batch.id, Enrollment.active.eq(True)
            )
        values, errors = batch_problems(form, unit_ids=unit_ids, enrolled=enrolled)
        if not errors:
            if batch is None:
                order = await Batch.count().where(Batch.training == training.id)
                batch = Batch(training=training.id, sort_order=order + 1, **values)
                await batch.save()
                action, verb = "batch.create", "新建"
            else:
                await Batch.update({getattr(Batch, k): v for k, v in values.items()}).where(
                    Batch.id == batch.id
                )
                action, verb = "batch.update", "修改"
            summary = f"{verb}“{training.title}”的期次“{values['name']}”"
            await audit.record(request, action, training, summary)
    if errors:
        return await _batch_form(request, training, form, errors, batch, status=400)
    flash(request, f"已保存期次“{values['name']}”。", "success")
    return Redirect(request.app.route_reverse("training", training_id=training.id))


route_handlers = [
    training_list,
    training_new,
    training_create,
    training_edit,
    training_update,
    training_overview,
    batch_new,
    batch_create,
    batch_edit,
    batch_update,
]
