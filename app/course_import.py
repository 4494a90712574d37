"""Importing an official document into `course/`: outline, module files, and the source kept
beside them. Nothing is written unless the whole import succeeds."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.course_files import CourseFileError, ModuleText, SourceInfo, parse_module, render_module
from app.course_plan import PlanError, build_modules, default_plan, read_plan
from app.documents import Document, DocumentError, parse_document, read_text, source_for


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
