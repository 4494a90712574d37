"""The batches (期次) of a training: the pages trainers use to add and change them, and what
the enrollment pages need of them (`load_batch`, `batch_counts`, `lock_training`).

Their forms are checked in `app/trainings/forms.py`; the training's own pages, which list
its batches, are in `app/trainings/pages.py`.
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import requires_role
from app.accounts.units import units_in_scope
from app.db import is_sqlite, write_transaction
from app.lib.parsing import valid_id
from app.tables import Batch, Enrollment, Training
from app.trainings.access import load_training
from app.trainings.forms import BATCH_FIELDS, batch_problems, form_of


async def load_batch(training: Training, batch_id: int) -> Batch:
    batch = None
    if valid_id(batch_id):
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


async def batch_counts(training_id: int) -> dict[int, int]:
    """Active enrollments per batch of the training, counted in SQL."""
    rows = await (
        Enrollment.select(Enrollment.batch, Count(Enrollment.id).as_alias("n"))
        .where(Enrollment.training == training_id, Enrollment.active.eq(True))
        .group_by(Enrollment.batch)
    )
    return {row["batch"]: row["n"] for row in rows}


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
    form = form_of(await request.form(), BATCH_FIELDS)
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
    batch_new,
    batch_create,
    batch_edit,
    batch_update,
]
