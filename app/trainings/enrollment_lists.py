"""The lists on the enrollment pages (`app.trainings.enrollment`): the cadres to pick from,
and the enrollments of a training, each a page at a time within the person's scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.accounts.guards import scope_path
from app.accounts.people import person_matches
from app.lib.pagination import Page
from app.tables import Batch, Enrollment, Training, Unit, User
from app.trainings.enrolling import enrolled_among
from app.trainings.progress import enrollment_lacks, progress_columns


async def _path_within(user: User, unit: str) -> str:
    """The path of the unit picked to filter by, when within the person's scope."""
    path = scope_path(user)
    if unit.isdigit():
        row = await Unit.select(Unit.path).where(Unit.id == int(unit)).first()
        if row and row["path"].startswith(path):
            path = row["path"]
    return path


async def cadres_to_pick(
    user: User, training: Training, filters: Mapping[str, Any]
) -> tuple[Page, list[dict[str, Any]], set[int]]:
    """A page of the active cadres to pick from, and which of them are enrolled already."""
    path = await _path_within(user, str(filters.get("unit") or ""))
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
    return pager, people, await enrolled_among(training.id, [p["id"] for p in people])


async def enrollment_rows(
    user: User, training: Training, *, batch: str, unit: str, status: str, q: str, page: int
) -> tuple[Page, list[dict[str, Any]]]:
    """A page of the training's enrollments within the person's scope, as filtered."""
    path = await _path_within(user, unit)
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
    return pager, rows


async def batch_choices(training: Training) -> list[dict[str, Any]]:
    """The training's batches, to filter the list by."""
    return await Batch.select(Batch.id, Batch.name).where(Batch.training == training.id)
