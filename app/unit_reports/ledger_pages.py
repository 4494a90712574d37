"""工作台账 pages: a unit's activities of a round (list, add, edit, remove) with their photos,
for unit admins (their subtree) and federation staff. Entries stay editable until a report
of the round covering them is submitted (`rounds.frozen`); every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import in_scope, requires_role, scope_path
from app.db import write_transaction
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.forms import FormBody
from app.lib.parsing import parse_id, valid_id
from app.lib.uploads import MAX_UPLOAD_BYTES, stored_filename
from app.reports.queries import units_under
from app.reports.report import today
from app.tables import ACTIVITY_KINDS, ActivityPhoto, User, WorkActivity
from app.unit_reports.figures import ACTIVITY_FORMS
from app.unit_reports.forms import parse_activity_form
from app.unit_reports.photos import MAX_PHOTOS, PhotoRefused, PreparedPhoto, prepare_photo
from app.unit_reports.rounds import frozen, is_open, load_round, lock_round, submitted_paths

FIELDS = ("unit", "kind", "form", "held_on", "title", "place", "participants", "speaker", "summary")
LABELS = {
    "kind": "类别",
    "form": "形式",
    "held_on": "日期",
    "title": "名称",
    "place": "地点",
    "participants": "参加人数",
    "speaker": "主讲人",
    "summary": "简要情况",
}


async def _units(user: User, activity: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The units a person keeps the ledger of: the active ones of their subtree, and the
    entry's own unit even when it has been closed since (so that editing never moves it)."""
    mine = activity["unit"] if activity else None
    return [u for u in await units_under(scope_path(user)) if u["active"] or u["id"] == mine]


async def load_activity(user: User, activity_id: int) -> dict[str, Any]:
    """An entry not removed: 404 when there is none, 403 outside the person's scope."""
    row = None
    if valid_id(activity_id):
        row = await (
            WorkActivity.select(
                WorkActivity.all_columns(),
                WorkActivity.unit.name.as_alias("unit_name"),
                WorkActivity.unit.path.as_alias("unit_path"),
            )
            .where(WorkActivity.id == activity_id, WorkActivity.removed_at.is_null())
            .first()
        )
    if row is None:
        raise NotFoundException("没有找到这条台账记录，可能已被删除。")
    if not in_scope(user, row["unit_path"]):
        raise PermissionDeniedException("这条台账记录不在您的管理范围内。")
    return row


FROZEN = "报告已经报送，这条记录随报告冻结，不能再修改；如需修改，请联系市总工会退回报告。"


class _Refused(Exception):
    """Checked again inside the write transaction: the entry can no longer change."""


class _TooMany(_Refused):
    """The entry has its photos already."""


async def _refusal(round_id: int, paths: list[str]) -> str:
    """Why entries of the units at `paths` cannot change in the round ("" when they can)."""
    if not is_open(await load_round(round_id)):
        return "这次报送已经结束，台账不能再修改。"
    submitted = await submitted_paths(round_id)
    return FROZEN if any(frozen(path, submitted) for path in paths) else ""


async def _hold(round_id: int, paths: list[str]) -> None:
    """Inside a write transaction: hold the round (`rounds.lock_round`), then check again
    that the entries may change; raises _Refused."""
    await lock_round(round_id)
    refusal = await _refusal(round_id, paths)
    if refusal:
        raise _Refused(refusal)


async def _editable(activity: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The round, and why the entry cannot be changed ("" when it can)."""
    return await load_round(activity["round"]), await _refusal(
        activity["round"], [activity["unit_path"]]
    )


def _form_context(form: dict[str, Any], errors: dict[str, str], units: list) -> dict[str, Any]:
    return {
        "form": form,
        "errors": errors,
        "units": units,
        "kinds": ACTIVITY_KINDS,
        "forms": ACTIVITY_FORMS,
        "top": min((u["depth"] for u in units), default=0),
    }


@get("/{round_id:int}/ledger", name="ledger")
async def ledger_page(
    request: Request, round_id: FromPath[int], unit: FromQuery[str] = "", kind: FromQuery[str] = ""
) -> Template:
    """The round's entries of the person's subtree (or of one unit in it), newest first."""
    user: User = request.user
    round_row = await load_round(round_id)
    units = await _units(user)
    chosen = parse_id(unit)
    path = scope_path(user)
    if chosen is not None:
        found = next((u for u in units if u["id"] == chosen), None)
        if found is None:
            raise NotFoundException("没有找到这个单位，或它不在您的管理范围内。")
        path = found["path"]
    query = WorkActivity.select(
        WorkActivity.all_columns(),
        WorkActivity.unit.name.as_alias("unit_name"),
        WorkActivity.unit.path.as_alias("unit_path"),
    ).where(
        WorkActivity.round == round_row["id"],
        WorkActivity.removed_at.is_null(),
        WorkActivity.unit.path.like(path + "%"),
    )
    if kind in ACTIVITY_KINDS:
        query = query.where(WorkActivity.kind == kind)
    rows = await query.order_by(WorkActivity.held_on, ascending=False).order_by(
        WorkActivity.id, ascending=False
    )
    locked = await submitted_paths(round_row["id"])
    counts = {k: sum(1 for r in rows if r["kind"] == k) for k in ACTIVITY_KINDS}
    return Template(
        "reporting/ledger.html",
        context={
            "round": round_row,
            "rows": rows,
            "frozen": {r["id"] for r in rows if frozen(r["unit_path"], locked)},
            "counts": counts,
            "kinds": ACTIVITY_KINDS,
            "units": units,
            "top": min((u["depth"] for u in units), default=0),
            "unit": chosen,
            "kind": kind if kind in ACTIVITY_KINDS else "",
            "open": is_open(round_row),
        },
    )


@get("/{round_id:int}/ledger/new", name="ledger_new")
async def ledger_new(request: Request, round_id: FromPath[int]) -> Template | Redirect:
    round_row = await load_round(round_id)
    if not is_open(round_row):
        flash(request, "这次报送已经结束，不能再登记。", "info")
        return Redirect(request.app.route_reverse("ledger", round_id=round_row["id"]))
    units = await _units(request.user)
    form = {"unit": request.user.unit.id, "held_on": today().date().isoformat()}
    return Template(
        "reporting/activity_new.html",
        context={"round": round_row, **_form_context(form, {}, units)},
    )


async def _create(
    request: Request, round_id: int, values: dict[str, Any], units: list[dict[str, Any]]
) -> WorkActivity:
    user: User = request.user
    now = datetime.now(UTC)
    async with write_transaction():
        await _hold(round_id, [next(u["path"] for u in units if u["id"] == values["unit"])])
        row = WorkActivity(
            round=round_id,
            created_by=user.id,
            updated_by=user.id,
            created_at=now,
            updated_at=now,
            **values,
        )
        await row.save()
        kind = ACTIVITY_KINDS[values["kind"]]
        await audit.record(
            request,
            "work_activity.create",
            row,
            f"登记工作台账：{values['held_on']}“{values['title']}”（{kind}）",
        )
    return row


@post("/{round_id:int}/ledger/new", name="ledger_create")
async def ledger_create(
    request: Request, round_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    user: User = request.user
    round_row = await load_round(round_id)
    units = await _units(user)
    values, errors = parse_activity_form(data, {u["id"] for u in units}, today().date())
    if not errors:
        try:
            row = await _create(request, round_row["id"], values, units)
        except _Refused as refused:
            errors["unit" if is_open(round_row) else "round"] = str(refused)
    if errors:
        return Template(
            "reporting/activity_new.html",
            context={"round": round_row, **_form_context(data, errors, units)},
            status_code=400,
        )
    flash(request, f"已登记“{values['title']}”。可以接着上传活动照片。", "success")
    return Redirect(request.app.route_reverse("activity", activity_id=row.id))


async def _activity_page(
    request: Request,
    activity: dict[str, Any],
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    photo_error: str = "",
    status: int = 200,
) -> Template:
    round_row, locked = await _editable(activity)
    photos = await (
        ActivityPhoto.select(
            ActivityPhoto.id, ActivityPhoto.filename, ActivityPhoto.width, ActivityPhoto.height
        )
        .where(ActivityPhoto.activity == activity["id"])
        .order_by(ActivityPhoto.id)
    )
    units = await _units(request.user, activity)
    return Template(
        "reporting/activity.html",
        context={
            "round": round_row,
            "activity": activity,
            "locked": locked,
            "photos": photos,
            "max_photos": MAX_PHOTOS,
            "photo_error": photo_error,
            **_form_context(form or activity, errors or {}, units),
        },
        status_code=status,
    )


@get("/activities/{activity_id:int}", name="activity")
async def activity_page(request: Request, activity_id: FromPath[int]) -> Template:
    return await _activity_page(request, await load_activity(request.user, activity_id))


def _changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    changed = []
    for key, label in LABELS.items():
        if old[key] != new[key]:
            value = ACTIVITY_KINDS.get(new[key], new[key]) if key == "kind" else new[key]
            changed.append(f"{label}改为“{value}”" if key != "summary" else "修改了简要情况")
    if old["unit"] != new["unit"]:
        changed.append("改了单位")
    return "；".join(changed)


@post("/activities/{activity_id:int}", name="activity_update")
async def activity_update(
    request: Request, activity_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    user: User = request.user
    activity = await load_activity(user, activity_id)
    _, locked = await _editable(activity)
    if locked:
        return await _activity_page(request, activity, errors={"round": locked}, status=409)
    units = await _units(user, activity)
    values, errors = parse_activity_form(data, {u["id"] for u in units}, today().date())
    changes = "" if errors else _changes(activity, values)
    if changes:
        paths = [activity["unit_path"], next(u["path"] for u in units if u["id"] == values["unit"])]
        try:
            async with write_transaction():
                await _hold(activity["round"], paths)
                await WorkActivity.update(
                    {
                        **{getattr(WorkActivity, k): v for k, v in values.items()},
                        WorkActivity.updated_by: user.id,
                        WorkActivity.updated_at: datetime.now(UTC),
                    }
                ).where(WorkActivity.id == activity["id"])
                await audit.record(
                    request,
                    "work_activity.update",
                    WorkActivity(id=activity["id"]),
                    f"修改工作台账“{activity['title']}”：{changes}",
                )
        except _Refused as refused:
            moving = values["unit"] != activity["unit"] and not (
                await _refusal(activity["round"], [activity["unit_path"]])
            )
            if moving:
                errors["unit"] = "这个单位的报告已经报送，不能把记录移到它名下。"
            else:
                return await _activity_page(
                    request, activity, errors={"round": str(refused)}, status=409
                )
    if errors:
        return await _activity_page(request, activity, data, errors, status=400)
    flash(request, "已保存。" if changes else "没有改动。", "success" if changes else "info")
    return Redirect(request.app.route_reverse("activity", activity_id=activity["id"]))


@post("/activities/{activity_id:int}/remove", name="activity_remove")
async def activity_remove(request: Request, activity_id: FromPath[int]) -> Template | Redirect:
    user: User = request.user
    activity = await load_activity(user, activity_id)
    round_row, locked = await _editable(activity)
    if locked:
        return await _activity_page(request, activity, errors={"round": locked}, status=409)
    try:
        async with write_transaction():
            await _hold(activity["round"], [activity["unit_path"]])
            await WorkActivity.update(
                {WorkActivity.removed_at: datetime.now(UTC), WorkActivity.removed_by: user.id}
            ).where(WorkActivity.id == activity["id"])
            await audit.record(
                request,
                "work_activity.remove",
                WorkActivity(id=activity["id"]),
                f"删除工作台账：{activity['held_on']}“{activity['title']}”",
            )
    except _Refused as refused:
        return await _activity_page(request, activity, errors={"round": str(refused)}, status=409)
    flash(request, f"已删除“{activity['title']}”。", "success")
    return Redirect(request.app.route_reverse("ledger", round_id=round_row["id"]))


@post(
    "/activities/{activity_id:int}/photos",
    name="activity_photo_upload",
    request_max_body_size=MAX_UPLOAD_BODY_BYTES,
)
async def photo_upload(request: Request, activity_id: FromPath[int]) -> Template | Redirect:
    user: User = request.user
    activity = await load_activity(user, activity_id)
    _, locked = await _editable(activity)
    if locked:
        return await _activity_page(request, activity, photo_error=locked, status=409)
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _activity_page(
            request, activity, photo_error="请选择要上传的照片。", status=400
        )
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    filename = stored_filename(upload.filename)
    if len(content) > MAX_UPLOAD_BYTES:
        message = f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB：请换一张照片，或缩小后再上传。"
        return await _activity_page(request, activity, photo_error=message, status=400)
    try:
        photo = prepare_photo(content)
    except PhotoRefused as refused:
        message = f"“{filename}”{refused}"
        return await _activity_page(request, activity, photo_error=message, status=400)
    try:
        await _add_photo(request, activity, photo, filename)
    except _Refused as refused:
        status = 400 if isinstance(refused, _TooMany) else 409
        return await _activity_page(request, activity, photo_error=str(refused), status=status)
    flash(request, "照片已上传。", "success")
    return Redirect(request.app.route_reverse("activity", activity_id=activity["id"]))


async def _add_photo(
    request: Request, activity: dict[str, Any], photo: PreparedPhoto, filename: str
) -> None:
    async with write_transaction():
        await _hold(activity["round"], [activity["unit_path"]])
        count = await ActivityPhoto.count().where(ActivityPhoto.activity == activity["id"])
        if count >= MAX_PHOTOS:
            raise _TooMany(f"每条记录最多 {MAX_PHOTOS} 张照片。请先删除一张，再上传。")
        row = ActivityPhoto(
            activity=activity["id"],
            content=photo.content,
            filename=filename,
            width=photo.width,
            height=photo.height,
            created_by=request.user.id,
        )
        await row.save()
        await audit.record(
            request,
            "activity_photo.add",
            row,
            f"为工作台账“{activity['title']}”上传照片“{filename}”",
        )


async def _photo(user: User, photo_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = None
    if valid_id(photo_id):
        row = await (
            ActivityPhoto.select(ActivityPhoto.id, ActivityPhoto.activity, ActivityPhoto.filename)
            .where(ActivityPhoto.id == photo_id)
            .first()
        )
    if row is None:
        raise NotFoundException("没有找到这张照片。")
    return row, await load_activity(user, row["activity"])


@get("/photos/{photo_id:int}/photo.jpg", name="activity_photo")
async def photo_file(request: Request, photo_id: FromPath[int]) -> Response[bytes]:
    """A photo, to the people who may see its entry; kept by the browser for a day."""
    row, _ = await _photo(request.user, photo_id)
    content = (
        await ActivityPhoto.select(ActivityPhoto.content)
        .where(ActivityPhoto.id == row["id"])
        .first()
    )
    return Response(
        bytes(content["content"]),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=86400"},
    )


@post("/photos/{photo_id:int}/delete", name="activity_photo_delete")
async def photo_delete(request: Request, photo_id: FromPath[int]) -> Template | Redirect:
    row, activity = await _photo(request.user, photo_id)
    _, locked = await _editable(activity)
    if locked:
        return await _activity_page(request, activity, photo_error=locked, status=409)
    try:
        async with write_transaction():
            await _hold(activity["round"], [activity["unit_path"]])
            await ActivityPhoto.delete().where(ActivityPhoto.id == row["id"])
            await audit.record(
                request,
                "activity_photo.remove",
                WorkActivity(id=activity["id"]),
                f"删除工作台账“{activity['title']}”的照片“{row['filename']}”",
            )
    except _Refused as refused:
        return await _activity_page(request, activity, photo_error=str(refused), status=409)
    flash(request, "照片已删除。", "success")
    return Redirect(request.app.route_reverse("activity", activity_id=activity["id"]))


router = Router(
    path="/reporting",
    guards=[requires_role("unit_admin")],
    route_handlers=[
        ledger_page,
        ledger_new,
        ledger_create,
        activity_page,
        activity_update,
        activity_remove,
        photo_upload,
        photo_file,
        photo_delete,
    ],
)
