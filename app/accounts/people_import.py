"""Importing a roster of cadres: upload, preview with every problem by row, confirm.

The list of the new accounts and their initial passwords is shown once on the page and kept,
encrypted, as a real download for the person who imported, for `UPLOAD_KEPT_FOR` (then it is
deleted; a password is then given again by resetting it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Template
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from app.accounts import audit
from app.accounts.cadre_import import (
    CadreDraft,
    ImportPlan,
    Problem,
    UnitChoice,
    check_rows,
    normalize_phone,
)
from app.accounts.guards import ADMIN_ROLES, requires_role
from app.accounts.passwords import generate_initial_password, hash_initial_password
from app.accounts.roster_files import read_table, template_xlsx
from app.db import write_transaction
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.downloads import XLSX, download, sends_file
from app.lib.sheets import ImportFileError
from app.lib.uploads import (
    MAX_UPLOAD_BYTES,
    UPLOAD_KEPT_FOR,
    KeptFileExpired,
    keep_sealed,
    keep_upload,
    open_sealed,
    stored_filename,
    take_upload,
)
from app.settings import get_settings
from app.tables import Unit, User

_INSERT_CHUNK = 500
# The kind of kept file (app.lib.uploads) that holds an import's initial passwords.
PASSWORD_LIST = "password_list"
KEPT_HOURS = int(UPLOAD_KEPT_FOR.total_seconds() // 3600)


@dataclass(frozen=True)
class CreatedAccount:
    draft: CadreDraft
    password: str


async def plan_import(filename: str, content: bytes, scope: str) -> ImportPlan:
    """Read and check a roster against the units under `scope` and the accounts already there."""
    try:
        rows = read_table(filename, content)
    except ImportFileError as error:
        return ImportPlan(drafts=[], problems=[Problem(row=None, column=None, message=str(error))])
    units = [
        UnitChoice(id=u["id"], name=u["name"], path=u["path"])
        for u in await Unit.select(Unit.id, Unit.name, Unit.path).where(
            Unit.path.like(scope + "%"), Unit.active.eq(True)
        )
    ]
    # The same normalisation as check_rows, so "138 0000 0001" or full-width digits still meet
    # the account that already has the number (and never reach the unique constraint).
    phones = sorted({normalize_phone(r.values.get("手机号", "")) for r in rows} - {None})
    taken: set[str] = set()
    for start in range(0, len(phones), _INSERT_CHUNK):
        chunk = phones[start : start + _INSERT_CHUNK]
        # A number is taken when it is an account's username or the phone of any account.
        for row in await User.select(User.username, User.phone).where(
            User.username.is_in(chunk) | User.phone.is_in(chunk)
        ):
            taken.update({row["username"], row["phone"]} & set(chunk))
    return check_rows(rows, units, taken)


async def write_import(drafts: Sequence[CadreDraft]) -> list[CreatedAccount]:
    """Create the accounts; call inside a write transaction so a failure writes nothing."""
    created = [CreatedAccount(d, generate_initial_password()) for d in drafts]
    users = [
        User(
            username=c.draft.phone,
            name=c.draft.name,
            role="cadre",
            unit=c.draft.unit_id,
            position=c.draft.position,
            phone=c.draft.phone,
            gender=c.draft.gender,
            staff_no=c.draft.staff_no,
            password_hash=hash_initial_password(c.password),
            must_change_password=True,
        )
        for c in created
    ]
    for start in range(0, len(users), _INSERT_CHUNK):
        await User.insert(*users[start : start + _INSERT_CHUNK])
    return created


def accounts_xlsx(created: Sequence[CreatedAccount]) -> bytes:
    """The list of new accounts and their initial passwords, to print or hand out. Every
    text is a text cell formatted as text: a 职务 such as "=1+1" is never a formula, and a
    phone number or password stays the text it is."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("账号与初始密码")

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl takes text starting with "=" for a formula
        cell.number_format = "@"
        return cell

    sheet.append(["序号", "姓名", "单位", "职务", "用户名（手机号）", "初始密码"])
    for n, c in enumerate(created, start=1):
        d = c.draft
        sheet.append([n, *map(text, (d.name, d.unit_name, d.position, d.phone, c.password))])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@get("/people/import", name="import_form")
async def import_form() -> Template:
    return Template("people/import.html", context={"plan": None})


@get("/people/import/template.xlsx", name="import_template")
async def import_template() -> Response[bytes]:
    return download(template_xlsx(), "干部导入模板.xlsx", XLSX)


@post("/people/import", name="import_upload", request_max_body_size=MAX_UPLOAD_BODY_BYTES)
async def import_upload(
    request: Request,
    # Any, not UploadFile: the form also carries the CSRF token as text.
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return Template(
            "people/import.html",
            context={"plan": None, "error": "请选择要上传的文件（.xlsx 或 .csv）。"},
            status_code=400,
        )
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return Template(
            "people/import.html",
            context={
                "plan": None,
                "error": f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分后分批导入。",
            },
            status_code=400,
        )
    user: User = request.user
    filename = stored_filename(upload.filename)
    plan = await plan_import(
        filename, content, user.unit.path if user.role != "federation_admin" else "/"
    )
    upload_id = None
    if plan.ok:
        upload_id = await keep_upload("cadres", filename, content, user.id)
    return Template(
        "people/import.html",
        context={"plan": plan, "filename": filename, "upload_id": upload_id},
        status_code=200 if plan.ok else 400,
    )


@post("/people/import/{upload_id:int}", name="import_confirm")
async def import_confirm(request: Request, upload_id: FromPath[int]) -> Template:
    user: User = request.user
    scope = user.unit.path if user.role != "federation_admin" else "/"
    async with write_transaction():
        # Taking the upload out first makes a second confirmation of the same upload, even a
        # concurrent one, find nothing: on PostgreSQL it waits for this transaction's row lock.
        taken = await take_upload(upload_id, user.id, "cadres")
        if taken is None:
            raise NotFoundException("没有找到这次上传，它可能已经导入过了。请重新上传文件。")
        filename, content = taken
        plan = await plan_import(filename, content, scope)
        if plan.ok:
            created = await write_import(plan.drafts)
            await audit.record(
                request, "cadres.import", None, f"从“{filename}”导入 {len(created)} 名干部"
            )
            list_name = (
                "干部账号与初始密码-"
                f"{datetime.now(UTC).astimezone(get_settings().timezone):%Y%m%d-%H%M}.xlsx"
            )
            list_id = await keep_sealed(PASSWORD_LIST, list_name, accounts_xlsx(created), user.id)
    if not plan.ok:
        # Only the stale upload is gone; it could never be confirmed as it stands.
        return Template(
            "people/import.html",
            context={"plan": plan, "filename": filename, "upload_id": None, "changed": True},
            status_code=409,
        )
    return Template(
        "people/imported.html",
        context={
            "created": created,
            "filename": filename,
            "passwords_url": request.app.route_reverse("import_passwords", import_id=list_id),
            "kept_hours": KEPT_HOURS,
        },
        # Initial passwords are shown once: no copy in the browser's cache or history.
        headers={"Cache-Control": "no-store"},
    )


@get("/people/imports/{import_id:int}/passwords.xlsx", name="import_passwords")
async def import_passwords(
    request: Request, import_id: FromPath[int]
) -> Response[bytes] | Template:
    """The accounts and initial passwords of one import, for the person who imported, while
    kept; a page saying it has expired (410) or is not theirs / not there (404) otherwise."""
    user: User = request.user
    try:
        kept = await open_sealed(import_id, user, PASSWORD_LIST)
    except (KeptFileExpired, NotFoundException) as gone:
        return Template(
            "people/password_list_gone.html",
            context={"expired": isinstance(gone, KeptFileExpired), "kept_hours": KEPT_HOURS},
            status_code=410 if isinstance(gone, KeptFileExpired) else 404,
        )
    if sends_file(request):
        async with write_transaction():
            await audit.record(
                request, "cadres.password_list", None, f"下载账号与初始密码清单“{kept.filename}”"
            )
    return download(kept.content, kept.filename, XLSX)


router = Router(
    path="/",
    guards=[requires_role(*ADMIN_ROLES)],
    route_handlers=[import_form, import_template, import_upload, import_confirm, import_passwords],
)
