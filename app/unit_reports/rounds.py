"""Rounds and who reports in them: the one place that decides which units must report in a
round, which of them a person may report for, whose 工作台账 entries are frozen, and the
state of every unit's report.

Scope is the accounts' rule (`accounts/guards.scope_path`): a unit admin reports for the
units of the round's kinds within its own subtree and keeps the ledger of that subtree;
federation staff see every unit. A report covers its unit's whole subtree, so once it is
submitted, the round's ledger entries of that subtree are frozen until it is returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.guards import in_scope, scope_path
from app.accounts.units import tree_order
from app.db import Statement
from app.lib.parsing import valid_id
from app.tables import ReportRound, Unit, UnitReport, User
from app.unit_reports.figures import json_list

UNIT_COLUMNS = (
    Unit.id,
    Unit.name,
    Unit.kind,
    Unit.path,
    Unit.parent,
    Unit.depth,
    Unit.sort_order,
    Unit.active,
)
REPORT_COLUMNS = (
    UnitReport.id,
    UnitReport.round,
    UnitReport.unit,
    UnitReport.status,
    UnitReport.document_name,
    UnitReport.uploaded_at,
    UnitReport.submitted_at,
    UnitReport.returned_at,
    UnitReport.return_note,
    UnitReport.submitted_by.name.as_alias("submitted_by_name"),
)


def round_kinds(round_row: Mapping[str, Any]) -> list[str]:
    return [k for k in json_list(round_row["unit_kinds"]) if isinstance(k, str)]


def is_open(round_row: Mapping[str, Any]) -> bool:
    return round_row["closed_at"] is None


def frozen(unit_path: str, submitted_paths: Iterable[str]) -> bool:
    """Whether a ledger entry of the unit at `unit_path` is frozen: a submitted report of
    the round covers it (its unit or one above)."""
    return any(unit_path.startswith(path) for path in submitted_paths)


def days_left(deadline: date, today: date) -> int:
    return (deadline - today).days


_LOCK_ROUND = Statement(
    ReportRound, 'UPDATE "report_round" SET "id" = "id" WHERE "id" = {} RETURNING "id"'
)


async def lock_round(round_id: int) -> None:
    """Inside a write transaction: hold the round until it ends, so that the round's ledger
    changes and the state changes of its reports happen one at a time (PostgreSQL; SQLite's
    write transactions are one at a time already)."""
    await _LOCK_ROUND.rows(round_id)


async def load_round(round_id: int) -> dict[str, Any]:
    row = (
        await ReportRound.select().where(ReportRound.id == round_id).first()
        if valid_id(round_id)
        else None
    )
    if row is None:
        raise NotFoundException("没有找到这次报送。")
    return row


async def rounds(open_only: bool = False) -> list[dict[str, Any]]:
    """Rounds, the open ones first, the newest first."""
    query = ReportRound.select()
    if open_only:
        query = query.where(ReportRound.closed_at.is_null())
    rows = await query.order_by(ReportRound.id, ascending=False)
    return sorted(rows, key=lambda r: r["closed_at"] is not None)


async def required_units(round_row: Mapping[str, Any], path: str = "/") -> list[dict[str, Any]]:
    """The active units that must report in the round, within the subtree at `path`, in
    tree order."""
    kinds = round_kinds(round_row)
    if not kinds:
        return []
    rows = await Unit.select(*UNIT_COLUMNS).where(
        Unit.kind.is_in(kinds), Unit.active.eq(True), Unit.path.like(path + "%")
    )
    return tree_order(rows)


async def reporting_units_of(user: User, round_row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The units this person reports for in the round (their own subtree's)."""
    return await required_units(round_row, scope_path(user))


async def load_reporting_unit(
    user: User, round_row: Mapping[str, Any], unit_id: int
) -> dict[str, Any]:
    """A unit that must report in the round: 404 when there is none (or it need not
    report), 403 when it is outside the person's scope."""
    unit = (
        await Unit.select(*UNIT_COLUMNS).where(Unit.id == unit_id).first()
        if valid_id(unit_id)
        else None
    )
    required = unit is not None and unit["active"] and unit["kind"] in round_kinds(round_row)
    if unit is None or not (required or await report_of(round_row["id"], unit["id"])):
        raise NotFoundException("这个单位不在本次报送的范围内。")
    if not in_scope(user, unit["path"]):
        raise PermissionDeniedException("这个单位不在您的管理范围内。")
    return unit


async def report_of(round_id: int, unit_id: int) -> dict[str, Any] | None:
    return (
        await UnitReport.select(*REPORT_COLUMNS)
        .where(UnitReport.round == round_id, UnitReport.unit == unit_id)
        .first()
    )


async def reports_in(round_id: int) -> dict[int, dict[str, Any]]:
    """Unit id → its report in the round (those that have one)."""
    rows = await UnitReport.select(*REPORT_COLUMNS).where(UnitReport.round == round_id)
    return {r["unit"]: r for r in rows}


async def submitted_paths(round_id: int) -> list[str]:
    """The paths of the units whose report of the round is submitted."""
    rows = await UnitReport.select(UnitReport.unit.path.as_alias("path")).where(
        UnitReport.round == round_id, UnitReport.status == "submitted"
    )
    return [r["path"] for r in rows]


@dataclass(frozen=True)
class UnitStatus:
    """A unit that must report, and where its report stands."""

    unit: Mapping[str, Any]
    report: Mapping[str, Any] | None

    @property
    def submitted(self) -> bool:
        return self.report is not None and self.report["status"] == "submitted"

    @property
    def label(self) -> str:
        if self.submitted:
            return "已报送"
        if self.report is not None and self.report["returned_at"] is not None:
            return "已退回修改"
        if self.report is not None and self.report["uploaded_at"] is not None:
            return "已上传，未报送"
        return "未报送"


async def unit_statuses(round_row: Mapping[str, Any], path: str = "/") -> list[UnitStatus]:
    """The units that must report (within `path`), by kind in the round's order (the
    notice's), in tree order within a kind, with their reports."""
    units = await required_units(round_row, path)
    reports = await reports_in(round_row["id"])
    # A unit that has submitted stays listed, even if it was closed or its kind was taken
    # out of the round since.
    listed = {u["id"] for u in units}
    extra = [i for i, r in reports.items() if i not in listed and r["status"] == "submitted"]
    if extra:
        more = await Unit.select(*UNIT_COLUMNS).where(
            Unit.id.is_in(extra), Unit.path.like(path + "%")
        )
        units = tree_order([*units, *more])
    order = {kind: n for n, kind in enumerate(round_kinds(round_row))}
    units.sort(key=lambda u: order.get(u["kind"], len(order)))  # stable: tree order kept
    return [UnitStatus(u, reports.get(u["id"])) for u in units]


def by_kind(
    statuses: Sequence[UnitStatus], kinds: Sequence[str]
) -> list[tuple[str, list[UnitStatus]]]:
    """The statuses grouped by unit kind, in the order of `kinds`, then the kinds of units
    that reported although their kind was taken out of the round since."""
    more = [k for k in dict.fromkeys(s.unit["kind"] for s in statuses) if k not in kinds]
    return [(kind, [s for s in statuses if s.unit["kind"] == kind]) for kind in (*kinds, *more)]


async def reports_due(user: User) -> list[tuple[dict[str, Any], list[UnitStatus]]]:
    """The open rounds in which units of this person's subtree have not reported yet, with
    those units (for a unit admin's home page)."""
    due = []
    for round_row in await rounds(open_only=True):
        waiting = [s for s in await unit_statuses(round_row, scope_path(user)) if not s.submitted]
        if waiting:
            due.append((round_row, waiting))
    return due
