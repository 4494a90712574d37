"""The dashboard, 完成情况总览: across the trainings a person may see, or one training (and
batch), the completion figures of a unit and each unit under it, to drill down the tree.

A unit admin sees only its own subtree: the units start at `home_path(user)`, and `?unit=`
outside `scope_path(user)` is refused with 403.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Template

from app.accounts.guards import scope_path
from app.lib.parsing import parse_id
from app.reports import queries as q
from app.reports.report import REPORTING, unit_asked
from app.reports.rows import rate_text, summary_cells, text_cell
from app.reports.summary import CHART, TOTAL, SummaryRow, chart_bars
from app.tables import TRAINING_KINDS, User
from app.trainings.access import training_row


def rate_rows(rows: list[SummaryRow]) -> list[dict[str, Any]]:
    """The chart's rows, one per unit (合计 left out): the full name, the bar's length in
    CHART units, the rate as text (✔ when everyone has completed) and the two counts."""
    units = [row for row in rows if row.kind != TOTAL]
    return [
        {
            "name": row.name,
            "width": bar.width,
            "rate_text": ("✔ " if row.figures.enrolled and row.figures.rate == 1 else "")
            + bar.rate_text,
            "has_data": bar.has_data,
            "completed": row.figures.completed,
            "enrolled": row.figures.enrolled,
        }
        for row, bar in zip(units, chart_bars(rows), strict=True)
    ]


@get("/", name="dashboard")
async def dashboard(
    request: Request,
    training: FromQuery[str] = "",
    batch: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    unit: FromQuery[str] = "",
) -> Template:
    """完成情况总览: three numbers, a chart of completion by unit, a table to drill down."""
    user: User = request.user
    trainings = await q.visible_trainings(user)
    chosen = None
    start = q.home_path(user)
    if training.strip():
        training_id = parse_id(training)
        if training_id is None:
            raise NotFoundException("没有找到这项培训。")
        chosen = await training_row(user, training_id, *q.TRAINING_COLUMNS)
        start = q.nested(start, chosen["unit_path"]) or start
    chosen_batch = await q.load_batch(chosen["id"], batch) if chosen else None
    current: dict[str, Any] | None
    if unit.strip():
        found = await unit_asked(user, unit)
        current = await q.unit_at(found.path)
    else:
        current = await q.unit_at(start)
    if current is None:
        raise NotFoundException("没有找到这个单位。")
    kind = kind if kind in TRAINING_KINDS and chosen is None else ""
    filters = q.Filters(
        path=current["path"],
        training_id=chosen["id"] if chosen else None,
        batch_id=chosen_batch["id"] if chosen_batch else None,
        kind=kind,
    )
    rows = (await q.load_breakdown(filters)).drill_rows(current)
    scope = scope_path(user)
    crumbs = [
        u
        for u in await q.units_above(current["path"])
        if u["path"].startswith(scope) and u["id"] != current["id"]
    ]
    keep = {
        "training": chosen["id"] if chosen else "",
        "batch": chosen_batch["id"] if chosen_batch else "",
        "kind": kind,
    }
    bars = rate_rows(rows)
    return Template(
        "reports/dashboard.html",
        context={
            "trainings": trainings,
            "training": chosen,
            "batches": await q.batches_of(chosen["id"]) if chosen else [],
            "batch": chosen_batch,
            "kind": kind,
            "kinds": TRAINING_KINDS,
            "current": current,
            "crumbs": crumbs,
            "rows": rows,
            "totals": rows[-1].figures,
            "bars": bars,
            "bar_scale": CHART["bar_width"],
            "TOTAL": TOTAL,
            "keep": {k: v for k, v in keep.items() if v != ""},
            "cells": summary_cells,
            "text": text_cell,
            "rate": rate_text,
        },
    )


router = Router(path="/reports", guards=[REPORTING], route_handlers=[dashboard])
