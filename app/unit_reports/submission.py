"""A unit's report and every change of its state, in one place for the pages and the demo:
its figures (as submitted, or as they are now), the draft .docx made from them, the unit's
own version (upload), submitting (the figures and the document stored as they were), and
returning it for changes (the submission kept in `ReturnedReport`).

Each change runs in one write transaction that first holds the round (`rounds.lock_round`)
and then reads the report's state again, so a double tap, two people at once or a ledger
change racing a submission cannot slip past the rule: a report is submitted once, an
upload or a return meets the state it expects, and what was submitted is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from litestar.connection import ASGIConnection

from app.accounts import audit
from app.db import write_transaction
from app.lib.parsing import valid_id
from app.reports.report import today
from app.reports.writers import filename
from app.tables import ReportRound, ReturnedReport, Unit, UnitReport
from app.unit_reports.document import unit_report_docx
from app.unit_reports.figures import ReportFigures
from app.unit_reports.gather import report_figures
from app.unit_reports.rounds import is_open, lock_round

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Connection = ASGIConnection[Any, Any, Any, Any] | None


class ReportRefused(Exception):
    """The change does not fit the report's state now; the message says why, in Chinese."""


async def city_name() -> str:
    """Whom the reports go to: the top unit of the tree (the city federation)."""
    top = await Unit.select(Unit.name).where(Unit.depth == 0).order_by(Unit.id).first()
    return top["name"] if top else "市总工会"


async def figures_of(round_row: Mapping[str, Any], unit: Mapping[str, Any]) -> ReportFigures:
    """The report's figures: as submitted when it is, else as they are now."""
    stored = await (
        UnitReport.select(UnitReport.figures, UnitReport.status)
        .where(UnitReport.round == round_row["id"], UnitReport.unit == unit["id"])
        .first()
    )
    if stored and stored["status"] == "submitted" and stored["figures"]:
        return ReportFigures.from_json(stored["figures"])
    return await report_figures(round_row, unit, today().date())


def draft_name(figures: ReportFigures, what: str) -> str:
    return filename(figures.unit_name, what, suffix="docx")


async def draft_bytes(figures: ReportFigures, signed_on: date) -> bytes:
    return unit_report_docx(figures, addressee=await city_name(), signed_on=signed_on)


async def _held(
    round_row: Mapping[str, Any], unit: Mapping[str, Any], doing: str
) -> dict[str, Any]:
    """Inside a write transaction: hold the round (refused when it has been closed), then
    the unit's report row as it is now (made when it has none)."""
    await lock_round(round_row["id"])
    closed = (
        await ReportRound.select(ReportRound.closed_at)
        .where(ReportRound.id == round_row["id"])
        .first()
    )
    _open({"closed_at": closed["closed_at"] if closed else None}, doing)
    await UnitReport.insert(UnitReport(round=round_row["id"], unit=unit["id"])).on_conflict(
        action="DO NOTHING"
    )
    row = await (
        UnitReport.select(UnitReport.all_columns())
        .where(UnitReport.round == round_row["id"], UnitReport.unit == unit["id"])
        .first()
    )
    assert row is not None
    return row


def _open(round_row: Mapping[str, Any], doing: str) -> None:
    if not is_open(round_row):
        raise ReportRefused(f"这次报送已经结束，不能再{doing}。")


async def upload_document(
    round_row: Mapping[str, Any],
    unit: Mapping[str, Any],
    name: str,
    content: bytes,
    actor_id: int,
    connection: Connection = None,
) -> None:
    """Keep the unit's own version of its report (a checked .docx) until it submits."""
    async with write_transaction():
        report = await _held(round_row, unit, "上传")
        if report["status"] == "submitted":
            raise ReportRefused("报告已经报送，不能再上传。")
        await UnitReport.update(
            {
                UnitReport.document: content,
                UnitReport.document_name: name,
                UnitReport.uploaded_at: datetime.now(UTC),
                UnitReport.uploaded_by: actor_id,
            }
        ).where(UnitReport.id == report["id"])
        await audit.record(
            connection,
            "unit_report.upload",
            UnitReport(id=report["id"]),
            f"上传{unit['name']}修改后的报告“{name}”（{round_row['title']}）",
            actor_id,
        )


async def submit_report(
    round_row: Mapping[str, Any],
    unit: Mapping[str, Any],
    actor_id: int,
    connection: Connection = None,
) -> bool:
    """Submit the unit's report: the figures as they are now and the document (the one the
    unit uploaded, else the draft made from those figures) are stored with it, audited.
    False when it was already submitted."""
    async with write_transaction():
        report = await _held(round_row, unit, "报送")
        if report["status"] == "submitted":
            return False
        figures = await report_figures(round_row, unit, today().date())
        values: dict[Any, Any] = {
            UnitReport.status: "submitted",
            UnitReport.figures: figures.to_json(),
            UnitReport.submitted_at: datetime.now(UTC),
            UnitReport.submitted_by: actor_id,
        }
        if report["uploaded_at"] is None:  # no version of its own: the draft, frozen
            values[UnitReport.document] = await draft_bytes(figures, today().date())
            values[UnitReport.document_name] = draft_name(figures, "学习贯彻情况报告")
        await UnitReport.update(values).where(UnitReport.id == report["id"])
        await audit.record(
            connection,
            "unit_report.submit",
            UnitReport(id=report["id"]),
            f"报送{unit['name']}学习贯彻情况报告（{round_row['title']}）",
            actor_id,
        )
    return True


async def return_report(
    round_row: Mapping[str, Any],
    unit: Mapping[str, Any],
    note: str,
    actor_id: int,
    connection: Connection = None,
) -> None:
    """Send a submitted report back for changes: the submission is kept as it was
    (`ReturnedReport`), the report and its ledger open again."""
    now = datetime.now(UTC)
    async with write_transaction():
        report = await _held(round_row, unit, "退回报告（退回后单位将无法重新报送）")
        if report["status"] != "submitted":
            raise ReportRefused("这份报告还没有报送，无需退回。")
        await ReturnedReport(
            report=report["id"],
            figures=report["figures"],
            document=report["document"],
            document_name=report["document_name"],
            submitted_at=report["submitted_at"],
            submitted_by=report["submitted_by"],
            returned_at=now,
            returned_by=actor_id,
            note=note,
        ).save()
        values: dict[Any, Any] = {
            UnitReport.status: "draft",
            UnitReport.figures: "",
            UnitReport.returned_at: now,
            UnitReport.returned_by: actor_id,
            UnitReport.return_note: note,
        }
        if report["uploaded_at"] is None:  # the draft frozen at submission is kept above
            values.update({UnitReport.document: None, UnitReport.document_name: ""})
        await UnitReport.update(values).where(UnitReport.id == report["id"])
        await audit.record(
            connection,
            "unit_report.return",
            UnitReport(id=report["id"]),
            f"退回{unit['name']}的报告（{round_row['title']}）：{note}",
            actor_id,
        )


async def returns_of(report_id: int) -> list[dict[str, Any]]:
    """The submissions of a report that were returned, newest first."""
    return await (
        ReturnedReport.select(
            ReturnedReport.id,
            ReturnedReport.submitted_at,
            ReturnedReport.returned_at,
            ReturnedReport.note,
            ReturnedReport.returned_by.name.as_alias("returned_by_name"),
        )
        .where(ReturnedReport.report == report_id)
        .order_by(ReturnedReport.id, ascending=False)
    )


async def returned_document(report_id: int, returned_id: int) -> dict[str, Any] | None:
    """The document of one returned submission of the report (None: no such one)."""
    if not valid_id(returned_id):
        return None
    return await (
        ReturnedReport.select(ReturnedReport.document, ReturnedReport.document_name)
        .where(ReturnedReport.id == returned_id, ReturnedReport.report == report_id)
        .first()
    )
