"""Importing an official document into `course/`: outline, module files, and the source kept
beside them. Nothing is written unless the whole import succeeds."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app.course.amendment import is_new_version
from app.course.documents import Document, DocumentMeta, parse_document
from app.course.files import (
    CourseFileError,
    LessonText,
    ModuleText,
    SourceInfo,
    parse_module,
    render_module,
)
from app.course.plan import (
    PlanError,
    PlannedModule,
    build_modules,
    default_plan,
    parts_of,
    read_plan,
)
from app.course.text import DocumentError, read_text, source_for


class ImportRefused(ValueError):
    """The document can't become course modules; the message says why in Chinese."""


@dataclass(frozen=True)
class ImportResult:
    document: Document
    modules: list[ModuleText]
    written: list[Path]


def _prefix(path: Path, content: bytes) -> str:
    ascii_stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return ascii_stem or f"doc-{hashlib.sha1(content).hexdigest()[:6]}"


def _existing(course_dir: Path) -> dict[str, ModuleText]:
    modules = {}
    for file in course_dir.glob("*.md"):
        if file.name.lower() == "readme.md":
            continue
        try:
            module = parse_module(file.read_text(encoding="utf-8"), file.name)
        except (CourseFileError, UnicodeDecodeError):
            continue
        modules[module.slug] = module
    return modules


def import_document(
    path: Path, course_dir: Path, plan_path: Path | None = None, write: bool = False
) -> ImportResult:
    """Read, outline and (with `write`) write a document's modules; raises ImportRefused."""
    content = path.read_bytes()
    try:
        document = parse_document(read_text(path.name, content), source_for(path.name))
        plan = (
            read_plan(plan_path.read_text(encoding="utf-8"), plan_path.name)
            if plan_path
            else default_plan(document, prefix=_prefix(path, content))
        )
    except (DocumentError, PlanError) as error:
        raise ImportRefused(str(error)) from None
    kept = course_dir / "sources" / path.name
    source = SourceInfo(
        title=document.meta.title or path.stem,
        doc_number=document.meta.doc_number or "",
        file=f"sources/{path.name}",
    )
    try:
        modules = build_modules(document, plan, source)
    except PlanError as error:
        raise ImportRefused(str(error)) from None
    # New modules go after the ones already there, unless they replace them.
    others = [
        m.order
        for slug, m in _existing(course_dir).items()
        if slug not in {module.slug for module in modules}
    ]
    start = max(others, default=0)
    modules = [ModuleText(**{**m.__dict__, "order": start + m.order}) for m in modules]
    if not write:
        return ImportResult(document, modules, [])
    if kept.exists() and kept.read_bytes() != content:
        raise ImportRefused(
            f"course/sources 中已有同名但内容不同的文件“{path.name}”，请改名后再导入。"
        )
    texts = {course_dir / f"{m.slug}.md": render_module(m) for m in modules}
    return ImportResult(document, modules, _write_all(texts, content, kept))


def _write_all(texts: dict[Path, str], source: bytes, kept: Path) -> list[Path]:
    """Write every file to a temporary name first, then move them all into place."""
    kept.parent.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in texts.items():
            handle, name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            staged.append((Path(name), target))
        if not kept.exists():
            handle, name = tempfile.mkstemp(dir=kept.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as file:
                file.write(source)
            staged.append((Path(name), kept))
    except OSError as error:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise ImportRefused(f"无法写入课程文件夹：{error}") from None
    for temporary, target in staged:
        shutil.move(temporary, target)
    return [target for _, target in staged]


# ---------------------------------------------------------------- the trainer's plan, from the web


@dataclass(frozen=True)
class LessonPlan:
    """Consecutive parts of a document read as one lesson, under the trainer's title."""

    parts: tuple[str, ...]
    title: str


def joined_ref(refs: Sequence[str]) -> str:
    """The source_ref of a lesson of several parts: “三（一）至三（二）”,
    “第一章 第一条至第三条” (the chapter once, when both parts are in it)."""
    first, last = refs[0], refs[-1]
    if len(refs) == 1:
        return first
    head, _, tail = last.rpartition(" ")
    return f"{first}至{tail if head and first.startswith(head + ' ') else last}"


def build_lessons(
    document: Document,
    plan: Sequence[PlannedModule],
    lessons: Sequence[Sequence[LessonPlan]],
    source: SourceInfo,
) -> list[ModuleText]:
    """`build_modules` with the trainer's lessons: each module's lessons take its parts in
    order, several parts to a lesson where merged; the official paragraphs are not touched."""
    modules = build_modules(document, list(plan), source)  # every part exactly once
    parts = {p.source_ref: p for p in parts_of(document)}
    built = []
    for module, planned, grouped in zip(modules, plan, lessons, strict=True):
        if not all(g.parts for g in grouped) or planned.parts != tuple(
            ref for g in grouped for ref in g.parts
        ):
            raise PlanError(f"模块“{module.title}”的课文与它包含的部分不一致。")
        texts = tuple(
            LessonText(
                joined_ref(g.parts), g.title, tuple(p for r in g.parts for p in parts[r].paragraphs)
            )
            for g in grouped
        )
        built.append(replace(module, lessons=texts))
    return built


def default_lessons(document: Document, plan: Sequence[PlannedModule]) -> list[list[LessonPlan]]:
    """The lessons `build_modules` makes of each planned module (a part each, short articles
    of a charter together), as the parts each one reads."""
    parts = {p.source_ref: p for p in parts_of(document)}
    modules = build_modules(document, list(plan), SourceInfo())
    grouped = []
    for planned, module in zip(plan, modules, strict=True):
        refs, lessons = iter(planned.parts), []
        for lesson in module.lessons:
            read: list[str] = []
            while sum(len(parts[r].paragraphs) for r in read) < len(lesson.paragraphs):
                read.append(next(refs))
            lessons.append(LessonPlan(tuple(read), lesson.title))
        grouped.append(lessons)
    return grouped


SLUG_MAX = 60  # module slugs: the lesson keys "slug/lesson" must fit the table
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RESERVED = {"import", "readme"}  # /course/import is the import page; README.md no module


def slug_problem(slug: str, taken: Mapping[str, str]) -> str | None:
    """Why a new module can't have this slug (in Chinese), or None; `taken`: slug → title."""
    if not slug:
        return "请填写 slug（网址中的英文名，例如 xuexi-daodu）。"
    if not _SLUG.match(slug) or len(slug) > SLUG_MAX:
        return (
            f"slug“{slug}”不可用：只能由小写英文字母、数字和“-”组成，"
            f"不能以“-”开头或结尾，最多 {SLUG_MAX} 个字符，例如 xuexi-daodu。"
        )
    if slug in _RESERVED:
        return f"slug“{slug}”是系统保留的，请换一个。"
    if slug in taken:
        return f"课程中已有模块“{taken[slug]}”使用 slug“{slug}”，请换一个。"
    return None


def upload_name(filename: str) -> str:
    """A browser-sent file name as a plain file name: no folder, no characters a file name
    can't hold, at most about 210 characters."""
    name = re.sub(r'[\x00-\x1f<>:"|?*]', "_", re.split(r"[\\/]", filename)[-1]).strip()
    stem, dot, ext = name.rpartition(".")
    return stem[:200] + dot + ext[:10] if dot else name[:200]


def source_name(course_dir: Path, filename: str, content: bytes) -> str:
    """The name to keep an uploaded file under in course/sources: its own, or “名称-2.txt”…
    when a different file already has it."""
    stem, suffix = Path(filename).stem, Path(filename).suffix
    n = 1
    while True:
        name = filename if n == 1 else f"{stem}-{n}{suffix}"
        kept = course_dir / "sources" / name
        if not kept.exists() or (kept.is_file() and kept.read_bytes() == content):
            return name
        n += 1


def slug_prefix(filename: str, content: bytes) -> str:
    """The start of the slugs of a document's modules: its file name in ASCII, or a hash."""
    return _prefix(Path(filename), content)


def earlier_version(course_dir: Path, meta: DocumentMeta, filename: str) -> str | None:
    """The title of a document in the course folder that this one is a new version of
    (`amendment.is_new_version`), kept under another file name; None if there is none."""
    for module in _existing(course_dir).values():
        source = module.source
        if source.file != f"sources/{filename}" and is_new_version(source, meta):
            return source.title or source.file
    return None


def existing_modules(course_dir: Path) -> dict[str, str]:
    """Slug → title of the modules in the course folder (files that can't be read left out)."""
    return {slug: module.title for slug, module in _existing(course_dir).items()}


def write_new_modules(
    modules: Sequence[ModuleText], course_dir: Path, content: bytes, kept: Path
) -> list[Path]:
    """Add modules to the course after the ones there and keep their source; all or nothing.

    Refuses a slug already in the course (nothing is replaced) and a module whose file would
    not read back exactly as it is. Returns the files written; raises ImportRefused.
    """
    existing = _existing(course_dir)
    taken = [
        m.slug for m in modules if m.slug in existing or (course_dir / f"{m.slug}.md").exists()
    ]
    if taken:
        raise ImportRefused(f"课程中已有模块使用 slug“{'”“'.join(taken)}”，请换一个。")
    start = max((m.order for m in existing.values()), default=0)
    texts = {}
    for n, module in enumerate(modules, start=1):
        placed = replace(module, order=start + n)
        text = render_module(placed)
        try:
            same = parse_module(text) == placed
        except CourseFileError:
            same = False
        if not same:
            raise ImportRefused(f"模块“{module.title}”无法原样写成课程文件，请检查标题中的符号。")
        texts[course_dir / f"{module.slug}.md"] = text
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImportRefused(f"无法写入课程文件夹：{error}") from None
    return _write_all(texts, content, kept)
