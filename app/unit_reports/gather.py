"""A unit's figures for a round, read from the stored facts (`figures.ReportFigures`): the
enrollments of the round's trainings through the reports' engine (`reports/queries`), the
学时 through the 学时 report (`reports/credit_report`), and the round's 工作台账 entries of
the unit's subtree. Every count is made in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from piccolo.query.functions.aggregate import Count

from app.reports import queries as q
from app.reports.credit_report import load_credit_report_at
from app.reports.summary import total
from app.tables import TRAINING_KINDS, ActivityPhoto, Training, WorkActivity
from app.unit_reports.figures import (
    ActivityItem,
    ReportFigures,
    TrainingFigures,
    activity_figures,
    json_list,
    training_totals,
)


async def _training_lines(path: str, ids: tuple[int, ...]) -> tuple[TrainingFigures, ...]:
    lines = []
    joined: dict[str, int] = {}
    if ids:
        joined = await q.trainings_joined(q.Filters(path, training_ids=ids))
    for kind in TRAINING_KINDS:
        if not ids:  # the round counts no training
            lines.append(TrainingFigures(kind=kind))
            continue
        sums = total((await q.unit_figures(q.Filters(path, kind=kind, training_ids=ids))).values())
        lines.append(
            TrainingFigures(
                kind=kind,
                trainings=joined.get(kind, 0),
                enrolled=sums.enrolled,
                completed=sums.completed,
                scored=sums.scored,
                score_sum=round(sums.score_sum, 2),
            )
        )
    return (*lines, training_totals(lines, sum(joined.values())))


async def activity_items(round_id: int, path: str) -> list[ActivityItem]:
    """The round's ledger entries of the subtree at `path` (not removed), by date."""
    rows = await (
        WorkActivity.select(
            WorkActivity.all_columns(), WorkActivity.unit.name.as_alias("unit_name")
        )
        .where(
            WorkActivity.round == round_id,
            WorkActivity.removed_at.is_null(),
            WorkActivity.unit.path.like(path + "%"),
        )
        .order_by(WorkActivity.held_on)
        .order_by(WorkActivity.id)
    )
    photos: dict[int, int] = {}
    if rows:
        counted = await (
            ActivityPhoto.select(ActivityPhoto.activity, Count().as_alias("n"))
            .where(ActivityPhoto.activity.is_in([r["id"] for r in rows]))
            .group_by(ActivityPhoto.activity)
        )
        photos = {r["activity"]: r["n"] for r in counted}
    return [
        ActivityItem(
            held_on=r["held_on"],
            kind=r["kind"],
            form=r["form"],
            title=r["title"],
            place=r["place"],
            participants=r["participants"],
            speaker=r["speaker"],
            summary=r["summary"],
            unit_name=r["unit_name"],
            photos=photos.get(r["id"], 0),
        )
        for r in rows
    ]


async def report_figures(
    round_row: Mapping[str, Any], unit: Mapping[str, Any], as_of: date
) -> ReportFigures:
    """The figures of `unit` (id, name, kind, path) and its subtree for the round, now."""
    path = unit["path"]
    ids = tuple(int(i) for i in json_list(round_row["trainings"]) if isinstance(i, int))
    organised = 0
    if ids:
        organised = await Training.count().where(
            Training.id.is_in(list(ids)), Training.unit.path.like(path + "%")
        )
    credits = await load_credit_report_at(None, path, round_row["credit_year"])
    people = total(credits.own.values())
    need = credits.need
    items = await activity_items(round_row["id"], path)
    return ReportFigures(
        unit_name=unit["name"],
        unit_kind=unit["kind"],
        round_title=round_row["title"],
        doc_number=round_row["doc_number"],
        as_of=as_of,
        trainings=await _training_lines(path, ids),
        organised=organised,
        credit_year=round_row["credit_year"],
        cadres=people.enrolled,
        credit_hours=round(people.hours, 2),
        meeting_requirement=people.completed,
        requirement_set=need.other is not None or any(h is not None for h in need.by_kind.values()),
        activities=activity_figures(items),
        items=tuple(items),
    )
