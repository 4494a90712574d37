"""A trainer imports an official document as course modules: upload, outline, plan, preview,
publish. The file waits in `Upload` (kind "document") meanwhile; publishing writes all or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.course.documents import Document, parse_document
from app.course.files import CourseFileError, ModuleText, SourceInfo
from app.course.importing import (
    ImportRefused,
    LessonPlan,
    build_lessons,
    default_lessons,
    existing_modules,
    slug_prefix,
    slug_problem,
    source_name,
    upload_name,
    write_new_modules,
)
from app.course.lessons import read_course_dir, sync_course
from app.course.plan import Part, PlanError, PlannedModule, default_plan, parts_of
from app.course.text import DocumentError, read_text, source_for
from app.course.versions import note_new_versions
from app.db import write_transaction
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.forms import FormBody
from app.lib.uploads import (
    MAX_UPLOAD_BYTES,
    discard_upload,
    keep_upload,
    load_upload,
    take_upload,
)
from app.settings import get_settings
from app.tables import Amendment, Upload, User

logger = logging.getLogger("peixun")
KIND = "document"
MODULE_TITLE_MAX, LESSON_TITLE_MAX = 200, 300  # what the tables hold

# ---------------------------------------------------------------- the plan form (pure)


@dataclass(frozen=True)
class PartRow:
    part: Part
    module: int  # 1, 2, …: modules are numbered in the order of their first part
    merge: bool  # read together with the part before it, as one lesson
    title: str  # the lesson's title, when this part starts a lesson


@dataclass(frozen=True)
class ModuleRow:
    number: int
    title: str
    slug: str


@dataclass(frozen=True)
class Draft:
    """The plan as the trainer last sent it, with every problem in it."""

    rows: tuple[PartRow, ...]
    modules: tuple[ModuleRow, ...]
    problems: tuple[str, ...] = ()

    def plan(self) -> tuple[list[PlannedModule], list[list[LessonPlan]]]:
        """The modules, and each one's lessons: a lesson starts at every part not merged."""
        plan, lessons = [], []
        for module in self.modules:
            rows = [r for r in self.rows if r.module == module.number]
            plan.append(
                PlannedModule(module.slug, module.title, tuple(r.part.source_ref for r in rows))
            )
            starts = [k for k, row in enumerate(rows) if k == 0 or not row.merge]
            ends = [*starts[1:], len(rows)]
            lessons.append(
                [
                    LessonPlan(tuple(r.part.source_ref for r in rows[a:b]), rows[a].title)
                    for a, b in zip(starts, ends, strict=True)
                ]
            )
        return plan, lessons


def _text(value: str) -> str:
    return " ".join(value.split())


def _free_slug(base: str, used: set[str]) -> str:
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    return slug


def initial_draft(document: Document, prefix: str, taken: Mapping[str, str]) -> Draft:
    """The plan to start from: `default_plan`, with the lessons `build_modules` would make."""
    plan, parts = default_plan(document, prefix), parts_of(document)
    index = {p.source_ref: i for i, p in enumerate(parts)}
    form = {f"module-{n}-title": module.title for n, module in enumerate(plan, start=1)}
    for n, lessons in enumerate(default_lessons(document, plan), start=1):
        for lesson in lessons:
            for k, i in enumerate(index[ref] for ref in lesson.parts):
                form[f"part-{i}-module"] = str(n)
                form[f"part-{i}-title"] = parts[i].title if k else lesson.title
                form[f"part-{i}-merge"] = "1" if k else ""
    return read_form(parts, form, prefix, taken)  # no slugs: named as default_plan names them


def read_form(
    parts: Sequence[Part], form: Mapping[str, str], prefix: str, taken: Mapping[str, str]
) -> Draft:
    """The plan in a submitted form; a part given a new module number starts a new module."""
    problems, labels = [], []
    for i, part in enumerate(parts):
        raw = form.get(f"part-{i}-module", "").strip()
        if raw.isdecimal() and 0 < int(raw) < 1000:
            labels.append(int(raw))
        else:
            problems.append(f"“{part.source_ref}”：请选择它所在的模块。")
            labels.append(labels[-1] if labels else 1)
    number = {label: n for n, label in enumerate(dict.fromkeys(labels), start=1)}
    rows = tuple(
        PartRow(
            part,
            number[labels[i]],
            i > 0 and bool(form.get(f"part-{i}-merge")),
            _text(form.get(f"part-{i}-title", "")),
        )
        for i, part in enumerate(parts)
    )
    slugs = {label: form.get(f"module-{label}-slug") for label in number}
    used = {slug.strip().lower() for slug in slugs.values() if slug is not None} | set(taken)
    modules = []
    for label, n in number.items():
        title, slug = form.get(f"module-{label}-title"), slugs[label]
        if slug is None:  # a module the trainer has just started: named after its first part
            slug = _free_slug(f"{prefix}-{label}", used)
            used.add(slug)
        if title is None:
            title = next(r.title for r in rows if r.module == n)
        modules.append(ModuleRow(n, _text(title), slug.strip().lower()))
    return Draft(rows, tuple(modules), tuple(problems + _check(rows, modules, taken)))


def _check(
    rows: Sequence[PartRow], modules: Sequence[ModuleRow], taken: Mapping[str, str]
) -> list[str]:
    problems = []
    for i, row in enumerate(rows):
        where = f"“{row.part.source_ref}”"
        if row.merge and (i == 0 or rows[i - 1].module != row.module):
            problems.append(f"{where}：与上一部分不在同一模块，不能合并为一课。")
        elif not row.merge:
            problems += _title_problems(f"{where}：课文标题", row.title, LESSON_TITLE_MAX)
    slugs = [m.slug for m in modules]
    for m in modules:
        where = f"模块 {m.number}："
        problems += _title_problems(f"{where}模块名称", m.title, MODULE_TITLE_MAX)
        if problem := slug_problem(m.slug, taken):
            problems.append(where + problem)
        elif slugs.index(m.slug) != m.number - 1:
            problems.append(f"{where}slug“{m.slug}”与模块 {slugs.index(m.slug) + 1} 重复。")
    return problems


def _title_problems(what: str, title: str, limit: int) -> list[str]:
    if not title:
        return [f"{what}不能为空。"]
    return [f"{what}太长（最多 {limit} 个字）。"] if len(title) > limit else []


# ---------------------------------------------------------------- pages


def _document(filename: str, content: bytes) -> Document:
    return parse_document(read_text(filename, content), source_for(filename))


async def _upload(user: User, upload_id: int) -> Upload:
    return await load_upload(
        user, upload_id, KIND, "没有找到这次上传，它可能已经发布或取消了。请重新上传文件。"
    )


async def _form_page(user: User, error: str = "", status: int = 200) -> Template:
    pending = await Upload.select(Upload.id, Upload.filename, Upload.created_at).where(
        Upload.uploaded_by == user.id, Upload.kind == KIND
    )
    return Template(
        "course_upload/upload.html",
        context={"uploads": pending, "error": error},
        status_code=status,
    )


def _plan_page(upload: Upload, document: Document, draft: Draft, status: int = 200) -> Template:
    preview: list[ModuleText] = []
    if not draft.problems:
        preview = build_lessons(document, *draft.plan(), SourceInfo())
    return Template(
        "course_upload/plan.html",
        context={"upload": upload, "meta": document.meta, "draft": draft, "preview": preview},
        status_code=status,
    )


@get("/course/import", name="course_upload")
async def upload_form(request: Request) -> Template:
    return await _form_page(request.user)


@post("/course/import", name="course_upload_file", request_max_body_size=MAX_UPLOAD_BODY_BYTES)
async def upload_file(
    request: Request,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    user: User = request.user
    file = data.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _form_page(user, "请选择要上传的文件（.txt、.md 或 .docx）。", 400)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return await _form_page(
            user, f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，无法导入。", 400
        )
    filename = upload_name(file.filename)
    try:
        _document(filename, content)
    except DocumentError as error:
        return await _form_page(user, f"没有导入“{filename}”：{error}", 400)
    upload_id = await keep_upload(KIND, filename, content, user.id)
    return Redirect(request.app.route_reverse("course_upload_plan", upload_id=upload_id))


@get("/course/import/{upload_id:int}", name="course_upload_plan")
async def plan_page(request: Request, upload_id: FromPath[int]) -> Template:
    upload = await _upload(request.user, upload_id)
    content = bytes(upload.content)
    document, prefix = _document(upload.filename, content), slug_prefix(upload.filename, content)
    taken = existing_modules(get_settings().course_dir)
    return _plan_page(upload, document, initial_draft(document, prefix, taken))


# The plan form has a row for every part of the document: it grows with the uploaded file.
@post(
    "/course/import/{upload_id:int}",
    name="course_upload_save",
    request_max_body_size=MAX_UPLOAD_BODY_BYTES,
)
async def plan_save(
    request: Request, upload_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    upload = await _upload(request.user, upload_id)
    content, course_dir = bytes(upload.content), get_settings().course_dir
    document = _document(upload.filename, content)
    prefix = slug_prefix(upload.filename, content)
    draft = read_form(parts_of(document), data, prefix, existing_modules(course_dir))
    if draft.problems:
        return _plan_page(upload, document, draft, 400)
    if data.get("action") != "publish":
        return _plan_page(upload, document, draft)
    name = source_name(course_dir, upload.filename, content)
    meta = document.meta
    source = SourceInfo(meta.title or upload.filename, meta.doc_number or "", f"sources/{name}")
    written = []
    try:
        modules = build_lessons(document, *draft.plan(), source)
        async with write_transaction():
            # Taken out first: a second publication of the same upload finds nothing.
            if await take_upload(upload.id, upload.uploaded_by, KIND) is None:
                raise NotFoundException("这次上传已经发布过了。")
            written = write_new_modules(modules, course_dir, content, course_dir / "sources" / name)
            published = {module.slug for module in modules}
            await sync_course(read_course_dir(course_dir), published=published)
            await note_new_versions(course_dir)
            titles = "、".join(f"“{m.title}”" for m in modules)
            await audit.record(
                request, "course.import", None, f"从“{upload.filename}”发布模块 {titles}"
            )
    except Exception as error:
        for path in written:  # the database is rolled back; the files go too
            path.unlink(missing_ok=True)
        if isinstance(error, NotFoundException):
            raise
        if not isinstance(error, ImportRefused | CourseFileError | PlanError):
            logger.exception("发布课程模块失败：%s", upload.filename)
            error = ImportRefused("系统出错了。")
        problem = f"没有发布，课程和数据库都没有改动：{error}"
        return _plan_page(upload, document, Draft(draft.rows, draft.modules, (problem,)), 409)
    flash(request, f"已发布 {len(modules)} 个模块（来自“{upload.filename}”）。", "success")
    amendment = (
        await Amendment.select(Amendment.id).where(Amendment.new_source == source.file).first()
    )
    if amendment is not None:
        flash(request, "这份文件是之前导入文件的新版本，下面是本次修改的对比。", "info")
        return Redirect(request.app.route_reverse("amendment", amendment_id=amendment["id"]))
    return Redirect(request.app.route_reverse("course"))


@post("/course/import/{upload_id:int}/discard", name="course_upload_discard")
async def discard(request: Request, upload_id: FromPath[int]) -> Redirect:
    upload = await _upload(request.user, upload_id)
    await discard_upload(upload.id)
    flash(request, f"已取消导入“{upload.filename}”。", "info")
    return Redirect(request.app.route_reverse("course_upload"))


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[upload_form, upload_file, plan_page, plan_save, discard],
)
