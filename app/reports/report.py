"""What the report pages and files share: the guard, the unit asked for with `?unit=`
(checked against the person's scope), one training's report as asked for (`Report`,
`prepare`), and the rows of its 汇总表, 花名册 and 催学名单.

A unit admin sees only its own subtree: every query runs under a path within
`scope_path(user)`, and `?unit=` outside it is refused with 403.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar.exceptions import NotFoundException

from app.accounts.guards import load_unit, requires_role, scope_path
from app.lib.parsing import parse_id
from app.reports import queries as q
from app.reports.rows import TrainingFacts, detail_maker, reminder_cells
from app.reports.strokes import ORDERS
from app.reports.summary import Breakdown, SummaryRow
from app.reports.writers import DATETIME, INTEGER, LONG_TEXT, NUMBER, RATE, TEXT, filename
from app.settings import get_settings
from app.tables import Unit, User
from app.trainings.access import training_row

REPORTING = requires_role("unit_admin")
# The kinds of the columns, as .xlsx and .csv write them (and the pages align the numbers).
SUMMARY_KINDS = (TEXT, INTEGER, INTEGER, INTEGER, RATE, NUMBER, NUMBER)
DETAIL_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, NUMBER, TEXT, DATETIME, NUMBER, TEXT)
REMINDER_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, LONG_TEXT)


def today() -> datetime:
    return datetime.now(get_settings().timezone)


async def unit_asked(user: User, unit: str) -> Unit:
    """The unit named by `?unit=`: 404 when it names none, 403 outside the person's subtree."""
    unit_id = parse_id(unit)
    if unit_id is None:
        raise NotFoundException("没有找到这个单位。")
    return await load_unit(user, unit_id)


@dataclass(frozen=True)
class Report:
    """One training's report as asked for: whose, which subtree, batch and order."""

    user: User
    training: dict[str, Any]
    facts: TrainingFacts
    base: str  # the subtree the training covers for this person
    unit: dict[str, Any] | None  # the unit chosen with ?unit=
    batch: dict[str, Any] | None
    order: str
    filters: q.Filters
    scope_name: str  # the unit at filters.path, for 统计范围

    def query(self, **changes: Any) -> str:
        values = {
            "unit": self.unit["id"] if self.unit else "",
            "batch": self.batch["id"] if self.batch else "",
            "order": self.order if self.order != "strokes" else "",
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def title(self, what: str) -> str:
        return f"{self.training['title']}{what}"

    def info_line(self) -> str:
        """填报单位、统计范围、期次、填报日期, in one line under the title."""
        parts = [f"填报单位：{self.user.unit.name}", f"统计范围：{self.scope_name}（含下级单位）"]
        if self.batch:
            parts.append(f"期次：{self.batch['name']}")
        parts.append(f"填报日期：{today():%Y年%m月%d日}")
        return "　　".join(parts)

    def download_name(self, what: str, suffix: str) -> str:
        unit = self.unit["name"] if self.unit else ""
        batch = self.batch["name"] if self.batch else ""
        return filename(
            self.training["title"], what, unit, batch, f"{today():%Y%m%d}", suffix=suffix
        )


async def prepare(
    user: User, training_id: int, unit: str = "", batch: str = "", order: str = ""
) -> Report:
    """The report's training, subtree, batch and order, each checked: an unknown training,
    unit or batch gives 404; a training or unit outside the person's scope gives 403."""
    training = await training_row(user, training_id, *q.TRAINING_COLUMNS)
    scope = scope_path(user)
    base = q.nested(scope, training["unit_path"]) or scope
    chosen = None
    path = base
    if unit.strip():
        found = await unit_asked(user, unit)
        inside = q.nested(base, found.path)
        if inside is None:
            raise NotFoundException(f"“{found.name}”不在这项培训的范围内。")
        path = inside
        chosen = {"id": found.id, "name": found.name, "path": found.path}
    chosen_batch = await q.load_batch(training["id"], batch)
    top = await q.unit_at(path)
    return Report(
        user=user,
        training=training,
        facts=TrainingFacts(
            title=training["title"],
            kind=training["kind"],
            has_quiz=training["final_quiz"] is not None,
            attendance_share=training["attendance_share"],
        ),
        base=base,
        unit=chosen,
        batch=chosen_batch,
        order=order if order in ORDERS else "strokes",
        filters=q.Filters(
            path=path,
            training_id=training["id"],
            batch_id=chosen_batch["id"] if chosen_batch else None,
        ),
        scope_name=top["name"] if top else "全市",
    )


async def load_summary(report: Report) -> tuple[list[SummaryRow], Breakdown]:
    """The 汇总表's rows, and the figures they were made of."""
    breakdown = await q.load_breakdown(report.filters)
    return breakdown.summary_rows(), breakdown


async def roster_cells(
    report: Report, units: Sequence[Mapping[str, Any]], make: Callable, **kw: Any
) -> AsyncGenerator[list[tuple], None]:
    """Rows of cells, a chunk at a time, numbered from 1 in roster order."""
    number = 0
    async for rows in q.roster_pages(report.filters, units, ORDERS[report.order], **kw):
        yield [make(n, row) for n, row in enumerate(rows, number + 1)]
        number += len(rows)


def roster_row_maker(report: Report) -> Callable:
    """Makes the cells of one 花名册 row: `make(number, row)`."""
    return detail_maker(report.facts, get_settings().timezone)


def reminder_row_maker(report: Report) -> Callable:
    """Makes the cells of one 催学名单 row: `make(number, row)`."""
    return lambda number, row: reminder_cells(number, row, report.facts)


async def reminder_pages(
    report: Report, units: Sequence[Mapping[str, Any]] | None = None
) -> AsyncGenerator[list[tuple], None]:
    """The 催学名单's rows of cells, a chunk at a time: who has not completed, by unit."""
    if units is None:
        units = await q.units_under(report.filters.path)
    return roster_cells(report, units, reminder_row_maker(report), not_completed_only=True)
