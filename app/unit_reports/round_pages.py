"""Federation staff's side of reporting back: opening, changing and closing a round; which
units have reported and which not, by the notice's kinds of units, with the deadline; the
roll-up table (.xlsx), the city-wide draft (.docx) and the list of units yet to report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.db import write_transaction
from app.lib.downloads import (
    XLSX,
    FileResponse,
    FileStream,
    download,
    file_chunks,
    stream_download,
)
from app.lib.forms import FormBody
from app.lib.parsing import parse_id
from app.reports.report import today
from app.reports.writers import filename
from app.tables import UNIT_KINDS, ReportRound, Training, Unit
from app.unit_reports.document import city_report_docx
from app.unit_reports.figures import REPORTING_KINDS, ReportFigures, json_list
from app.unit_reports.forms import parse_round_form
from app.unit_reports.gather import report_figures
from app.unit_reports.rollup import contacts_of, rollup_xlsx, unit_figures_in
from app.unit_reports.rounds import (
    by_kind,
    days_left,
    is_open,
    load_round,
    round_kinds,
    unit_statuses,
)
from app.unit_reports.submission import DOCX

ROUND_FIELDS = ("title", "doc_number", "deadline", "credit_year", "note")


async def _trainings() -> list[dict[str, Any]]:
    return await Training.select(
        Training.id, Training.title, Training.kind, Training.active
    ).order_by(Training.active, Training.id, ascending=False)


def _checked(request_form: Any, name: str) -> list[str]:
    return [v for v in request_form.getall(name, []) if isinstance(v, str)]


async def _form_page(
    request: Request,
    form: dict[str, Any],
    errors: dict[str, str],
    round_row: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        "reporting/round_form.html",
        context={
            "form": form,
            "errors": errors,
            "round": round_row,
            "unit_kinds": {k: v for k, v in UNIT_KINDS.items() if k != "city_federation"},
            "trainings": await _trainings(),
        },
        status_code=status,
    )


def _form_of(round_row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: round_row[k] for k in ROUND_FIELDS},
        "unit_kinds": round_kinds(round_row),
        "trainings": json_list(round_row["trainings"]),
    }


@get("/rounds/new", name="round_new")
async def round_new(request: Request) -> Template:
    trainings = await _trainings()
    form = {
        "unit_kinds": list(REPORTING_KINDS),
        "trainings": [t["id"] for t in trainings if t["active"]],
        "credit_year": today().year,
    }
    return await _form_page(request, form, {})


async def _read_round_form(request: Request) -> tuple[dict[str, Any], dict[str, str], dict]:
    raw = await request.form()
    data = {k: raw.get(k) for k in ROUND_FIELDS}
    known = {t["id"] for t in await _trainings()}
    ticked = (parse_id(v) for v in _checked(raw, "trainings"))
    trainings = {t for t in ticked if t is not None and t in known}
    values, errors = parse_round_form(data, set(_checked(raw, "unit_kinds")), trainings)
    shown = {**data, "unit_kinds": values["unit_kinds"], "trainings": values["trainings"]}
    return values, errors, shown


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """The round's columns by name, as stored (the lists as JSON)."""
    return {
        **{k: values[k] for k in ROUND_FIELDS},
        "unit_kinds": json.dumps(values["unit_kinds"]),
        "trainings": json.dumps(values["trainings"]),
    }


ROUND_LABELS = {
    "title": "通知标题",
    "doc_number": "文号",
    "deadline": "截止日期",
    "credit_year": "学时年度",
    "note": "说明",
    "unit_kinds": "报送单位类别",
    "trainings": "计入的培训",
}


def _round_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What an edit of a round changes, for the audit log."""
    changed = []
    for key, label in ROUND_LABELS.items():
        before, after = old.get(key), new.get(key)
        if key in ("unit_kinds", "trainings"):
            before, after = sorted(before or []), sorted(after or [])
        if before != after:
            if key == "unit_kinds":
                after = "、".join(UNIT_KINDS[k] for k in after)
            changed.append(f"{label}改为“{after}”" if key != "note" else "修改了说明")
    return "；".join(changed)


@post("/rounds/new", name="round_create")
async def round_create(request: Request) -> Template | Redirect:
    values, errors, shown = await _read_round_form(request)
    if errors:
        return await _form_page(request, shown, errors, status=400)
    async with write_transaction():
        row = ReportRound(created_by=request.user.id, **_stored(values))
        await row.save()
        await audit.record(request, "report_round.create", row, f"发起报送：{values['title']}")
    flash(request, "已发起报送。需要报送的单位的管理员登录后会在“报送”中看到。", "success")
    return Redirect(request.app.route_reverse("round_status", round_id=row.id))


@get("/{round_id:int}/edit", name="round_edit")
async def round_edit(request: Request, round_id: FromPath[int]) -> Template:
    round_row = await load_round(round_id)
    return await _form_page(request, _form_of(round_row), {}, round_row)


@post("/{round_id:int}/edit", name="round_update")
async def round_update(request: Request, round_id: FromPath[int]) -> Template | Redirect:
    round_row = await load_round(round_id)
    values, errors, shown = await _read_round_form(request)
    if errors:
        return await _form_page(request, shown, errors, round_row, 400)
    changes = _round_changes(_form_of(round_row), values)
    async with write_transaction():
        await ReportRound.update(
            {getattr(ReportRound, k): v for k, v in _stored(values).items()}
        ).where(ReportRound.id == round_row["id"])
        await audit.record(
            request,
            "report_round.update",
            ReportRound(id=round_row["id"]),
            f"修改报送“{values['title']}”：{changes or '没有改动'}",
        )
    flash(request, "已保存。已报送的报告保留报送时的数据。", "success")
    return Redirect(request.app.route_reverse("round_status", round_id=round_row["id"]))


@post("/{round_id:int}/close", name="round_close")
async def round_close(request: Request, round_id: FromPath[int], data: FormBody) -> Redirect:
    """结束 (action=close) or 重新开放 (action=reopen); asking for what is already so does
    nothing, so a double tap or two people at once cannot undo each other."""
    round_row = await load_round(round_id)
    closing = data.get("action") == "close"
    if closing != is_open(round_row):
        flash(request, "这次报送已经结束了。" if closing else "这次报送已经开放了。", "info")
        return Redirect(request.app.route_reverse("round_status", round_id=round_row["id"]))
    async with write_transaction():
        await ReportRound.update(
            {ReportRound.closed_at: datetime.now(UTC) if closing else None}
        ).where(ReportRound.id == round_row["id"])
        await audit.record(
            request,
            "report_round.close" if closing else "report_round.reopen",
            ReportRound(id=round_row["id"]),
            f"{'结束' if closing else '重新开放'}报送：{round_row['title']}",
        )
    flash(request, "已结束这次报送。" if closing else "已重新开放这次报送。", "success")
    return Redirect(request.app.route_reverse("round_status", round_id=round_row["id"]))


@get("/{round_id:int}", name="round_status")
async def round_status(request: Request, round_id: FromPath[int]) -> Template:
    """Which units have reported and which not, by kind, with the deadline."""
    round_row = await load_round(round_id)
    statuses = await unit_statuses(round_row)
    waiting = [s for s in statuses if not s.submitted]
    return Template(
        "reporting/round_status.html",
        context={
            "round": round_row,
            "groups": by_kind(statuses, round_kinds(round_row)),
            "unit_kinds": UNIT_KINDS,
            "submitted": len(statuses) - len(waiting),
            "required": len(statuses),
            "waiting": waiting,
            "contacts": await contacts_of([s.unit["id"] for s in waiting]),
            "days_left": days_left(round_row["deadline"], today().date()),
            "open": is_open(round_row),
        },
    )


@get("/{round_id:int}/rollup.xlsx", name="round_rollup")
async def round_rollup(request: Request, round_id: FromPath[int]) -> FileStream:
    """汇总表: every unit that must report, its status and its figures as submitted."""
    round_row = await load_round(round_id)
    statuses = await unit_statuses(round_row)
    figures = await unit_figures_in(round_row["id"])
    file = await rollup_xlsx(round_row, statuses, figures, today())
    name = filename(round_row["title"][:40], "报送汇总表", f"{today():%Y%m%d}", suffix="xlsx")
    return stream_download(file_chunks(file), name, XLSX)


@get("/{round_id:int}/city.docx", name="round_city_draft")
async def round_city_draft(request: Request, round_id: FromPath[int]) -> FileResponse:
    """The city federation's own draft: the city-wide figures now, and who has reported."""
    round_row = await load_round(round_id)
    top = await (
        Unit.select(Unit.id, Unit.name, Unit.kind, Unit.path)
        .where(Unit.depth == 0)
        .order_by(Unit.id)
        .first()
    )
    if top is None:
        raise NotFoundException("还没有建立单位，无法生成全市报告草稿。")
    figures: ReportFigures = await report_figures(round_row, top, today().date())
    statuses = await unit_statuses(round_row)
    reported = [
        (
            kind,
            UNIT_KINDS[kind],
            len(group),
            sum(1 for s in group if s.submitted),
        )
        for kind, group in by_kind(statuses, round_kinds(round_row))
    ]
    content = city_report_docx(
        figures, reported=reported, deadline=round_row["deadline"], signed_on=today().date()
    )
    name = filename(top["name"], "全市学习贯彻情况报告（草稿）", suffix="docx")
    return download(content, name, DOCX)


router = Router(
    path="/reporting",
    guards=[requires_role("federation_admin")],
    route_handlers=[
        round_new,
        round_create,
        round_edit,
        round_update,
        round_close,
        round_status,
        round_rollup,
        round_city_draft,
    ],
)
