"""A unit's 学习贯彻情况报告 in a round: its figures (as they are now, or as submitted), the
draft .docx made from them, the unit's own edited version, and submitting, which freezes the
figures and the document as they were. Federation staff may return a report for changes."""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts.guards import requires_role, scope_path
from app.course.text import DocumentError, read_text
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.downloads import FileResponse, download
from app.lib.forms import FormBody, typed_text
from app.lib.uploads import MAX_UPLOAD_BYTES, stored_filename
from app.reports.report import today
from app.reports.writers import filename
from app.tables import UNIT_KINDS, UnitReport, User
from app.unit_reports.rounds import (
    UnitStatus,
    is_open,
    load_reporting_unit,
    load_round,
    report_of,
    rounds,
    unit_statuses,
)
from app.unit_reports.submission import (
    DOCX,
    ReportRefused,
    draft_bytes,
    draft_name,
    figures_of,
    return_report,
    returned_document,
    returns_of,
    submit_report,
    upload_document,
)


@get("/", name="reporting")
async def reporting_home(request: Request) -> Template:
    """The rounds: for a unit admin, the open ones with the reports of their units; for
    federation staff, every round with how many units have reported."""
    user: User = request.user
    staff = user.role == "federation_admin"
    listed = []
    for round_row in await rounds(open_only=not staff):
        statuses = await unit_statuses(round_row) if staff else []
        mine = [] if staff else await unit_statuses(round_row, scope_path(user))
        listed.append(
            {
                "round": round_row,
                "mine": mine,
                "required": len(statuses),
                "submitted": sum(1 for s in statuses if s.submitted),
            }
        )
    return Template(
        "reporting/home.html",
        context={"listed": listed, "staff": staff, "today": today().date()},
    )


async def _page(
    request: Request, round_id: int, unit_id: int, error: str = "", status: int = 200
) -> Template:
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(request.user, round_row, unit_id)
    report = await report_of(round_row["id"], unit["id"])
    figures = await figures_of(round_row, unit)
    returns = await returns_of(report["id"]) if report else []
    return Template(
        "reporting/unit_report.html",
        context={
            "round": round_row,
            "unit": unit,
            "unit_kinds": UNIT_KINDS,
            "report": report,
            "state": UnitStatus(unit, report),
            "figures": figures,
            "returns": returns,
            "open": is_open(round_row),
            "error": error,
            "today": today().date(),
        },
        status_code=status,
    )


@get("/{round_id:int}/units/{unit_id:int}", name="unit_report")
async def unit_report_page(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int]
) -> Template:
    return await _page(request, round_id, unit_id)


@get("/{round_id:int}/units/{unit_id:int}/draft.docx", name="unit_report_draft")
async def unit_report_draft(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int]
) -> FileResponse:
    """The draft made from the figures on the page."""
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(request.user, round_row, unit_id)
    figures = await figures_of(round_row, unit)
    content = await draft_bytes(figures, today().date())
    return download(content, draft_name(figures, "学习贯彻情况报告（草稿）"), DOCX)


@get("/{round_id:int}/units/{unit_id:int}/report.docx", name="unit_report_document")
async def unit_report_document(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int]
) -> FileResponse:
    """The document the unit uploaded, or the one it submitted."""
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(request.user, round_row, unit_id)
    row = await (
        UnitReport.select(UnitReport.document, UnitReport.document_name)
        .where(UnitReport.round == round_row["id"], UnitReport.unit == unit["id"])
        .first()
    )
    if row is None or row["document"] is None:
        raise NotFoundException("这个单位还没有上传或报送报告。")
    name = row["document_name"] or filename(unit["name"], "学习贯彻情况报告", suffix="docx")
    return download(bytes(row["document"]), name, DOCX)


@get(
    "/{round_id:int}/units/{unit_id:int}/returned/{returned_id:int}/report.docx",
    name="unit_report_returned",
)
async def unit_report_returned(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int], returned_id: FromPath[int]
) -> FileResponse:
    """A submission that was returned, as it was submitted."""
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(request.user, round_row, unit_id)
    report = await report_of(round_row["id"], unit["id"])
    kept = await returned_document(report["id"], returned_id) if report else None
    if kept is None or kept["document"] is None:
        raise NotFoundException("没有找到这份退回前报送的报告。")
    name = kept["document_name"] or filename(unit["name"], "学习贯彻情况报告", suffix="docx")
    return download(bytes(kept["document"]), name, DOCX)


@post(
    "/{round_id:int}/units/{unit_id:int}/upload",
    name="unit_report_upload",
    request_max_body_size=MAX_UPLOAD_BODY_BYTES,
)
async def unit_report_upload(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int]
) -> Template | Redirect:
    """The unit's edited version of the draft (.docx), kept until it submits."""
    user: User = request.user
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(user, round_row, unit_id)
    if not is_open(round_row):
        return await _page(request, round_id, unit_id, "这次报送已经结束，不能再上传。", 409)
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(request, round_id, unit_id, "请选择修改后的报告（.docx 文件）。", 400)
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    name = stored_filename(upload.filename)
    error = ""
    if len(content) > MAX_UPLOAD_BYTES:
        error = f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请压缩其中的图片后再上传。"
    elif not name.lower().endswith((".docx", ".doc")):
        error = f"“{name}”不是 Word 文档：请上传 .docx 文件。"
    else:
        try:
            read_text(name, content)
        except DocumentError as problem:
            error = str(problem)
    if error:
        return await _page(request, round_id, unit_id, error, 400)
    try:
        await upload_document(round_row, unit, name, content, user.id, request)
    except ReportRefused as refused:
        return await _page(request, round_id, unit_id, str(refused), 409)
    flash(request, f"已上传“{name}”。确认无误后请点“报送”。", "success")
    return Redirect(request.app.route_reverse("unit_report", round_id=round_id, unit_id=unit_id))


@post("/{round_id:int}/units/{unit_id:int}/submit", name="unit_report_submit")
async def unit_report_submit(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    """Submit (`submission.submit_report`): the figures and the document are frozen."""
    user: User = request.user
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(user, round_row, unit_id)
    try:
        submitted = await submit_report(round_row, unit, user.id, request)
    except ReportRefused as refused:
        return await _page(request, round_id, unit_id, str(refused), 409)
    if submitted:
        flash(request, "报告已报送市总工会。报送时的数据已随报告保存。", "success")
    else:
        flash(request, "报告已经报送过了。", "info")
    return Redirect(request.app.route_reverse("unit_report", round_id=round_id, unit_id=unit_id))


@post(
    "/{round_id:int}/units/{unit_id:int}/return",
    name="unit_report_return",
    guards=[requires_role("federation_admin")],
)
async def unit_report_return(
    request: Request, round_id: FromPath[int], unit_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    """Federation staff send a submitted report back for changes, saying why."""
    user: User = request.user
    round_row = await load_round(round_id)
    unit = await load_reporting_unit(user, round_row, unit_id)
    note = typed_text(data.get("note")).strip()
    if not note or len(note) > 500:
        message = "请写明退回的原因（不超过 500 字），单位会在报告页面上看到。"
        return await _page(request, round_id, unit_id, message, 400)
    try:
        await return_report(round_row, unit, note, user.id, request)
    except ReportRefused as refused:
        return await _page(request, round_id, unit_id, str(refused), 409)
    flash(request, f"已退回{unit['name']}的报告。", "success")
    return Redirect(request.app.route_reverse("unit_report", round_id=round_id, unit_id=unit_id))


router = Router(
    path="/reporting",
    guards=[requires_role("unit_admin")],
    route_handlers=[
        reporting_home,
        unit_report_page,
        unit_report_draft,
        unit_report_document,
        unit_report_returned,
        unit_report_upload,
        unit_report_submit,
        unit_report_return,
    ],
)
