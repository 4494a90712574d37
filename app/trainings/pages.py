"""Trainings (专题培训、集中轮训): the pages trainers and federation staff use to set them
up, and what unit admins may see of them (who sees which training is decided in
`app/trainings/access.py`).

Their batches (期次) have their pages in `app/trainings/batches.py`; the forms of both are
checked in `app/trainings/forms.py`. Enrolling cadres, the enrollment lists and the cadres'
own page are in `app/trainings/enrollment.py`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import requires_role, scope_path
from app.accounts.units import units_in_scope
from app.db import write_transaction
from app.lib.pagination import Page
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
from app.trainings.batches import batch_counts
from app.trainings.forms import TRAINING_FIELDS, form_of, training_problems
from app.trainings.progress import recompute


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
    form = form_of(await request.form(), TRAINING_FIELDS)
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


async def _open_paths(batches: list[dict[str, Any]]) -> dict[int, str]:
    ids = sorted({b["open_unit"] for b in batches if b["open_unit"]})
    if not ids:
        return {}
    rows = await Unit.select(Unit.id, Unit.path).where(Unit.id.is_in(ids))
    return {row["id"]: row["path"] for row in rows}


route_handlers = [
    training_list,
    training_new,
    training_create,
    training_edit,
    training_update,
    training_overview,
]
