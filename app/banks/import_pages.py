"""Importing questions in the browser: upload a file or paste text, see the same preview as
`peixun banks import`, confirm. The file waits in `Upload` (kind "bank") meanwhile; the
format and target bank the trainer chose travel in the URL and are checked on every request.

The preview shows every question as a cadre will see it, with its answer; a question that
matches an existing one shows what changes, field by field, and which fields it keeps. For
each such question the confirm form carries the trainer's choice (`choice-N`, N its place in
the file): update the matched question (the default) or add it as a new question.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.banks.editor_form import (
    BANK_FALLBACK,
    RESERVED_SLUGS,
    SLUG,
    SLUG_MAX,
    TITLE_MAX,
    preview_of,
)
from app.banks.formats import FORMATS, BankFile, read_bank_file
from app.banks.merge import ADD, CHANGED, CHOICE_NAMES, NEW, STATUS_NAMES, UNCHANGED, UPDATE
from app.banks.model import QUESTION_TYPES, BankFormatError
from app.banks.own_format import BankHeader
from app.banks.pages import banks_starting_with
from app.banks.store import KEPT, ImportPreview, import_preview, preview_import, question_numbers
from app.db import write_transaction
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.forms import AnyFormBody
from app.lib.identifiers import candidate, first_free, is_unique_violation
from app.lib.uploads import (
    MAX_UPLOAD_BYTES,
    discard_upload,
    keep_upload,
    load_upload,
    stored_filename,
    take_upload,
)
from app.tables import Bank, Module, Upload, User

KIND = "bank"
PASTED_NAME = "粘贴的题目.txt"
SHOWN_MAX = 2000  # rows of the preview's table of questions
TARGET_FIELDS = ("format", "bank", "title", "module")
CHOICE_FIELD = re.compile(r"choice-(\d{1,6})")


class _Refused(Exception):
    """The preview has problems at confirmation: the transaction is rolled back."""

    def __init__(self, preview: ImportPreview) -> None:
        self.preview = preview


@dataclasses.dataclass(frozen=True)
class Target:
    """What the trainer chose: the format ("auto" or a FORMATS key) and the bank (its slug,
    or "" for a new bank named `title`, or with no title the one the file names), with a
    module for a new bank. A new bank's identifier is made from its title."""

    format: str = "auto"
    bank: str = ""
    title: str = ""
    module: str = ""

    def query(self) -> str:
        return urlencode({name: getattr(self, name) for name in TARGET_FIELDS})


async def check_target(values: Mapping[str, Any]) -> tuple[Target, list[str]]:
    """The target in a form or query string, and what is wrong with it (in Chinese)."""
    text = {n: v.strip() if isinstance(v := values.get(n), str) else "" for n in TARGET_FIELDS}
    target = Target(text["format"] or "auto", text["bank"].lower(), text["title"], text["module"])
    problems = []
    if target.format not in (*FORMATS, "auto"):
        problems.append(f"不认识的格式“{target.format}”。")
    if target.bank and (not SLUG.match(target.bank) or len(target.bank) > SLUG_MAX):
        problems.append(
            f"题库标识“{target.bank}”只能由小写字母、数字和“-”组成，最多 {SLUG_MAX} 个字符。"
        )
    elif target.bank in RESERVED_SLUGS:
        problems.append(f"题库标识“{target.bank}”是系统保留的，请换一个。")
    if len(target.title) > TITLE_MAX:
        problems.append(f"题库名称太长（最多 {TITLE_MAX} 个字）。")
    if target.module and not await Module.exists().where(Module.slug == target.module):
        problems.append(f"没有 slug 为“{target.module}”的课程模块。")
    return target, problems


def choices_from_form(data: Mapping[str, Any]) -> tuple[set[int], list[str]]:
    """The positions of the questions the trainer chose to add as new questions, and what
    is wrong with the choices (in Chinese, naming the question as the preview does)."""
    as_new: set[int] = set()
    problems = []
    for name, value in data.items():
        found = CHOICE_FIELD.fullmatch(name)
        if found is None:
            continue
        position = int(found.group(1))
        if value == ADD:
            as_new.add(position)
        elif value != UPDATE:
            shown = value if isinstance(value, str) else "、".join(map(str, value))
            problems.append(
                f"第 {position} 题的导入方式“{shown[:20]}”无法识别"
                f"（应为“{CHOICE_NAMES[UPDATE]}”或“{CHOICE_NAMES[ADD]}”），请重新选择。"
            )
    return as_new, problems


async def build_preview(
    filename: str,
    content: bytes,
    target: Target,
    problems: list[str],
    as_new: Collection[int] = (),
) -> ImportPreview:
    """Read the file and plan the import, as `peixun banks import` does; raises
    BankFormatError for a file that can't be read at all. `as_new`: the positions of the
    questions to add as new questions rather than update the question they match."""
    bank_file = read_bank_file(filename, content, target.format)
    slug = target.bank
    if not slug and target.title:  # a new bank: its identifier made from its title
        used = await banks_starting_with(candidate(target.title) or BANK_FALLBACK)
        slug = first_free(candidate(target.title), {*used, *RESERVED_SLUGS}, BANK_FALLBACK)
    bank = await Bank.select(Bank.title).where(Bank.slug == slug).first() if slug else None
    title = bank["title"] if bank else target.title
    if bank is None and target.module:  # a new bank in the module the trainer chose
        header = bank_file.header
        slug = slug or (header.slug if header else "")
        named = title or (header.title if header else "")
        header = BankHeader(slug, named, target.module)
        bank_file = BankFile(bank_file.format, header, bank_file.result)
    preview = await preview_import(bank_file, filename, slug or None, title or None, as_new=as_new)
    if problems:
        preview = dataclasses.replace(preview, problems=(*problems, *preview.problems))
    return preview


async def _upload(user: User, upload_id: int) -> Upload:
    return await load_upload(
        user, upload_id, KIND, "没有找到这次上传，它可能已经导入或取消了。请重新上传文件。"
    )


async def _form_page(form: Mapping[str, Any], error: str = "", status: int = 200) -> Template:
    banks = await Bank.select(Bank.slug, Bank.title).order_by(Bank.slug)
    modules = (
        await Module.select(Module.slug, Module.title)
        .where(Module.active.eq(True))
        .order_by(Module.sort_order, Module.slug)
    )
    return Template(
        "banks/import.html",
        context={
            "form": {k: v for k, v in form.items() if isinstance(v, str)},
            "error": error,
            "banks": banks,
            "modules": modules,
            "formats": FORMATS,
        },
        status_code=status,
    )


async def _preview_page(
    upload: Upload, target: Target, preview: ImportPreview, status: int = 200
) -> Template:
    bank = await Bank.select(Bank.id).where(Bank.slug == preview.bank_slug).first()
    numbers = await question_numbers([bank["id"]]) if bank else {}
    module = await Module.select(Module.title).where(Module.slug == preview.module_slug).first()
    return Template(
        "banks/import_preview.html",
        context={
            "upload": upload,
            "numbers": {key: n for (_bank, key), n in numbers.items()},
            "module_title": module["title"] if module else preview.module_slug,
            "target": target,
            "query": target.query(),
            "preview": preview,
            "items": [
                (change, preview_of(change.question, position=change.position))
                for change in preview.changes[:SHOWN_MAX]
            ],
            "formats": FORMATS,
            "status_names": STATUS_NAMES,
            "choice_names": CHOICE_NAMES,
            "kept_label": KEPT,
            "types": QUESTION_TYPES,
            "shown_max": SHOWN_MAX,
        },
        status_code=status,
    )


@get("/banks/import", name="bank_import")
async def import_form(bank: FromQuery[str] = "") -> Template:
    return await _form_page({"bank": bank})


@post("/banks/import", name="bank_import_upload", request_max_body_size=MAX_UPLOAD_BODY_BYTES)
async def import_upload(
    request: Request,
    # Any, not UploadFile: the form also carries text fields and the CSRF token.
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    user: User = request.user
    file, pasted = data.get("file"), data.get("text")
    pasted = pasted.strip() if isinstance(pasted, str) else ""
    has_file = isinstance(file, UploadFile) and bool(file.filename)
    chosen = data.get("bank") if isinstance(data.get("bank"), str) else ""
    values = {"format": data.get("format"), "bank": chosen}
    if not chosen:  # a new bank, or the one the file names
        values.update({n: data.get(f"new_{n}") for n in ("title", "module")})
    target, problems = await check_target(values)
    if has_file and pasted:
        problems.insert(0, "请上传文件或粘贴题目文本，二者选一。")
    elif not has_file and not pasted:
        problems.insert(0, "请选择要导入的文件，或把题目文本粘贴到下面的文本框中。")
    exists = bool(target.bank) and await Bank.exists().where(Bank.slug == target.bank)
    if chosen and not exists:
        problems.append("所选的题库不存在，请重新选择。")
    if problems:
        return await _form_page(data, "；".join(problems), 400)
    if has_file:
        content = await file.read(MAX_UPLOAD_BYTES + 1)
        filename = stored_filename(file.filename)
    else:
        content, filename = pasted.encode("utf-8"), PASTED_NAME
        if target.format == "auto":
            target = dataclasses.replace(target, format="text")
    if len(content) > MAX_UPLOAD_BYTES:
        return await _form_page(
            data,
            f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，无法导入。请拆分后分批导入。",
            400,
        )
    try:
        header = read_bank_file(filename, content, target.format).header
    except BankFormatError as error:
        return await _form_page(data, f"没有导入“{filename}”：{error}", 400)
    if not target.bank and not target.title and not (header and header.slug):
        return await _form_page(
            data, "请选择导入到哪个已有的题库，或填写新题库的名称（文件中没有写明题库）。", 400
        )
    upload_id = await keep_upload(KIND, filename, content, user.id)
    url = request.app.route_reverse("bank_import_preview", upload_id=upload_id)
    return Redirect(f"{url}?{target.query()}")


@get("/banks/import/{upload_id:int}", name="bank_import_preview")
async def import_preview_page(request: Request, upload_id: FromPath[int]) -> Template:
    upload = await _upload(request.user, upload_id)
    target, problems = await check_target(request.query_params)
    try:
        preview = await build_preview(upload.filename, bytes(upload.content), target, problems)
    except BankFormatError as error:
        form = {"format": target.format, "bank": target.bank}
        return await _form_page(form, f"没有导入“{upload.filename}”：{error}", 400)
    return await _preview_page(upload, target, preview)


@post("/banks/import/{upload_id:int}", name="bank_import_confirm")
async def import_confirm(
    request: Request, upload_id: FromPath[int], data: AnyFormBody
) -> Template | Redirect:
    user: User = request.user
    upload = await _upload(user, upload_id)
    target, problems = await check_target(request.query_params)
    as_new, wrong_choices = choices_from_form(data)
    problems += wrong_choices
    for tries_left in (2, 1, 0):  # a new bank's identifier taken by someone meanwhile
        try:
            async with write_transaction():
                # Taken out first: a second confirmation of the same upload finds nothing.
                if await take_upload(upload.id, user.id, KIND) is None:
                    raise NotFoundException("这次上传已经导入过了。")
                preview = await build_preview(
                    upload.filename, bytes(upload.content), target, problems, as_new
                )
                if not preview.ok:
                    raise _Refused(preview)
                counts = await import_preview(preview, user.id)
                summary = f"新题 {counts[NEW]}，新版本 {counts[CHANGED]}，未变 {counts[UNCHANGED]}"
                bank = f"题库“{preview.bank_title}”"
                await audit.record(
                    request, "bank.import", None, f"从“{upload.filename}”导入{bank}：{summary}"
                )
        except _Refused as refused:  # rolled back: the upload is still there to fix and retry
            return await _preview_page(upload, target, refused.preview, 409)
        except BankFormatError as error:
            form = {"format": target.format, "bank": target.bank}
            return await _form_page(form, f"没有导入“{upload.filename}”：{error}", 400)
        except Exception as error:
            if tries_left and is_unique_violation(error):
                continue
            raise
        break
    flash(request, f"已导入：{summary}。", "success")
    return Redirect(request.app.route_reverse("bank", bank_slug=preview.bank_slug))


@post("/banks/import/{upload_id:int}/discard", name="bank_import_discard")
async def import_discard(request: Request, upload_id: FromPath[int]) -> Redirect:
    upload = await _upload(request.user, upload_id)
    await discard_upload(upload.id)
    flash(request, f"已取消导入“{upload.filename}”，没有写入任何题目。", "info")
    return Redirect(request.app.route_reverse("bank_import"))


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[
        import_form,
        import_upload,
        import_preview_page,
        import_confirm,
        import_discard,
    ],
)
