"""From a document's outline to course modules (pure).

A plan says which parts of the document make which module; every part is used exactly
once, so nothing of the official text is lost or repeated. Without a plan, each top-level
part is a module (a charter: each chapter, 总则 its own), and each part below it a lesson;
short articles of a charter are grouped into one lesson.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from app.course.documents import Document, Section
from app.course.files import LessonText, ModuleText, SourceInfo
from app.lib import yaml_text

OPENING = "导语"  # the document's paragraphs before its first numbered part
CLOSING = "结语"  # its closing request after the last part
SHORT_ARTICLE = 120  # characters: shorter articles of a charter are read together
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class PlanError(ValueError):
    """A plan that does not fit the document; the message lists every problem in Chinese."""


@dataclass(frozen=True)
class PlannedModule:
    slug: str
    title: str
    parts: tuple[str, ...]  # source_refs, plus 导语 / 结语
    note: str = ""


@dataclass(frozen=True)
class Part:
    """One piece of the document that can become a lesson."""

    source_ref: str
    title: str
    paragraphs: tuple[str, ...]


def parts_of(document: Document) -> list[Part]:
    """Every piece in reading order: the opening, each part's own text (with anything
    numbered below its second level folded in, and the parts below a section whose text
    goes on after them, such as an article's items), the closing."""
    parts = [Part(OPENING, OPENING, document.preamble)] if document.preamble else []
    for section in document.sections:
        parts += list(_parts(section, depth=1))
    if document.closing:
        parts.append(Part(CLOSING, CLOSING, document.closing))
    return parts


def _parts(section: Section, depth: int) -> Iterator[Part]:
    title = section.title or section.number or section.source_ref
    if depth >= 2 or section.after:
        yield Part(section.source_ref, title, tuple(_all_paragraphs(section)))
        return
    children = [part for child in section.children for part in _parts(child, depth + 1)]
    if children and len(section.paragraphs) == 1:
        # A bare heading such as "第一章 会员" is read with the first lesson under it.
        first = children[0]
        children[0] = Part(first.source_ref, first.title, (*section.paragraphs, *first.paragraphs))
    elif section.paragraphs:
        yield Part(section.source_ref, title, section.paragraphs)
    yield from children


def _all_paragraphs(section: Section) -> Iterator[str]:
    yield from section.paragraphs
    for child in section.children:
        yield from _all_paragraphs(child)
    yield from section.after


def default_plan(document: Document, prefix: str = "module") -> list[PlannedModule]:
    """One module per top-level part; the opening joins the first, the closing the last."""
    modules = []
    for n, section in enumerate(document.sections, start=1):
        refs = [p.source_ref for p in _parts(section, depth=1)]
        modules.append(
            PlannedModule(
                slug=f"{prefix}-{n}", title=section.title or section.source_ref, parts=tuple(refs)
            )
        )
    if modules and document.preamble:
        first = modules[0]
        modules[0] = PlannedModule(first.slug, first.title, (OPENING, *first.parts), first.note)
    if modules and document.closing:
        last = modules[-1]
        modules[-1] = PlannedModule(last.slug, last.title, (*last.parts, CLOSING), last.note)
    return modules


def read_plan(text: str, filename: str = "plan") -> list[PlannedModule]:
    """A plan file: `modules:` a list of {slug, title, parts, note}."""
    try:
        data = yaml_text.load(text) or {}
    except yaml_text.BadValue as error:
        raise PlanError(f"“{filename}”第 {error.line} 行的{error.message}") from None
    except yaml_text.TooMuch as error:
        raise PlanError(f"“{filename}”格式有误：{error.message}") from None
    except yaml.YAMLError as error:
        raise PlanError(f"“{filename}”格式有误：{error}") from None
    rows = data.get("modules") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise PlanError(f"“{filename}”中没有 modules 列表。")
    modules, problems = [], []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"第 {n} 个模块应包含 slug、title、parts。")
            continue
        slug, title, parts = str(row.get("slug", "")), str(row.get("title", "")), row.get("parts")
        if not _SLUG.match(slug):
            problems.append(f"第 {n} 个模块的 slug“{slug}”应由小写字母、数字和“-”组成。")
        if not title.strip():
            problems.append(f"第 {n} 个模块缺少 title。")
        if not isinstance(parts, list) or not parts:
            problems.append(f"第 {n} 个模块缺少 parts（出处列表）。")
            parts = []
        modules.append(
            PlannedModule(
                slug,
                title.strip(),
                tuple(str(p) for p in parts),
                str(row.get("note") or "").strip(),
            )
        )
    if problems:
        raise PlanError("\n".join(problems))
    return modules


def build_modules(
    document: Document, plan: list[PlannedModule], source: SourceInfo
) -> list[ModuleText]:
    """The module files a plan makes of a document; every part used exactly once."""
    parts = {p.source_ref: p for p in parts_of(document)}
    used: dict[str, str] = {}
    problems = []
    for module in plan:
        for ref in module.parts:
            if ref not in parts:
                problems.append(f"模块“{module.title}”：文件中没有出处“{ref}”。")
            elif ref in used:
                problems.append(f"出处“{ref}”同时用在“{used[ref]}”和“{module.title}”中。")
            else:
                used[ref] = module.title
    missing = [ref for ref in parts if ref not in used]
    if missing:
        problems.append(f"以下部分没有放进任何模块：{'、'.join(missing)}。")
    slugs = [m.slug for m in plan]
    problems += [f"模块 slug“{s}”重复。" for s in sorted({s for s in slugs if slugs.count(s) > 1})]
    if problems:
        raise PlanError("\n".join(problems))
    return [
        ModuleText(
            slug=module.slug,
            title=module.title,
            order=n,
            source=source,
            note=module.note,
            lessons=tuple(
                lesson for group in _lessons([parts[r] for r in module.parts]) for lesson in group
            ),
        )
        for n, module in enumerate(plan, start=1)
    ]


def _lessons(parts: list[Part]) -> Iterator[list[LessonText]]:
    """Parts as lessons; runs of short charter articles (第X条) are read together."""
    run: list[Part] = []
    for part in parts:
        if _is_article(part) and sum(len(p) for p in part.paragraphs) < SHORT_ARTICLE:
            run.append(part)
            continue
        if run:
            yield [_grouped(run)]
            run = []
        yield [LessonText(part.source_ref, part.title, part.paragraphs)]
    if run:
        yield [_grouped(run)]


def _is_article(part: Part) -> bool:
    return re.search(r"第[〇一二三四五六七八九十百]+条$", part.source_ref) is not None


def _grouped(run: list[Part]) -> LessonText:
    if len(run) == 1:
        part = run[0]
        return LessonText(part.source_ref, part.title, part.paragraphs)
    first, last = run[0].source_ref, run[-1].source_ref.split()[-1]
    ref = f"{first}至{last}"
    title = f"{first.split()[-1]}至{last}"
    return LessonText(ref, title, tuple(p for part in run for p in part.paragraphs))
