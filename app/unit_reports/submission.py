"""A unit's report: its figures (as submitted, or as they are now), the draft .docx made from
them, and submitting, which stores both as they were. One place for the pages and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from litestar.connection import ASGIConnection

from app.accounts import audit
from app.db import write_transaction
from app.reports.report import today
from app.reports.writers import filename
from app.tables import Unit, UnitReport
from app.unit_reports.document import unit_report_docx
from app.unit_reports.figures import ReportFigures
from app.unit_reports.gather import report_figures

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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


async def ensure_report(round_id: int, unit_id: int) -> dict[str, Any]:
    """The unit's report row of the round, made when it has none (inside a write
    transaction)."""
    row = await (
        UnitReport.select(UnitReport.id, UnitReport.status, UnitReport.uploaded_at)
        .where(UnitReport.round == round_id, UnitReport.unit == unit_id)
        .first()
    )
    if row is None:
        report = UnitReport(round=round_id, unit=unit_id)
        await report.save()
        row = {"id": report.id, "status": "draft", "uploaded_at": None}
    return row


async def submit_report(
    round_row: Mapping[str, Any],
    unit: Mapping[str, Any],
    actor_id: int,
    connection: ASGIConnection[Any, Any, Any, Any] | None = None,
) -> bool:
    """Submit the unit's report: the figures as they are now and the document (the one the
    unit uploaded, else the draft made from those figures) are stored with it, audited.
    False when it was already submitted."""
    async with write_transaction():
        report = await ensure_report(round_row["id"], unit["id"])
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
