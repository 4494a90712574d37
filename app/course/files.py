"""Course files: one Markdown file per module in `course/` (pure: text in, data out).

A module file has YAML front matter, an optional trainer's note, and one section per
lesson. A lesson's heading carries its `source_ref` as an anchor; its paragraphs are the
official text, word for word; a `::: 学习要点` block holds the trainer's own notes, kept
apart from the official text::

    ---
    slug: xuexi-daodu
    title: 学习导读
    order: 1
    source:
      title: 焦作市总工会关于……的通知
      doc_number: 焦工文〔2023〕93号
      file: sources/notice-jiaozuo-2023-93.txt
    ---

    ::: 说明
    培训管理员写给学员的话（Markdown）。
    :::

    ## 提高政治站位 {#一}

    一、提高政治站位，……

    ::: 学习要点
    - 培训管理员提炼的要点（Markdown）。
    :::
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from app.lib import yaml_text

READING_SPEED = 300  # characters a minute
_HEADING = re.compile(r"^## (?P<title>.+?) \{#(?P<ref>[^}]+)\}\s*$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BLOCK_START = re.compile(r"^:::\s*(?P<kind>学习要点|说明)\s*$")
_BLOCK_END = ":::"


class CourseFileError(ValueError):
    """A course file that can't be read; the message names the file and line in Chinese."""


@dataclass(frozen=True)
class SourceInfo:
    title: str = ""
    doc_number: str = ""
    file: str = ""


@dataclass(frozen=True)
class LessonText:
    source_ref: str
    title: str
    paragraphs: tuple[str, ...]
    key_points: str = ""  # the trainer's 学习要点, Markdown

    @property
    def slug(self) -> str:
        """The lesson's place in URLs and anchors: its source_ref, spaces as hyphens."""
        return lesson_slug(self.source_ref)

    @property
    def characters(self) -> int:
        return sum(len(p) for p in self.paragraphs)


@dataclass(frozen=True)
class ModuleText:
    slug: str
    title: str
    order: int
    source: SourceInfo
    lessons: tuple[LessonText, ...]
    note: str = ""  # the trainer's 说明, Markdown
    extra: dict = field(default_factory=dict)

    @property
    def characters(self) -> int:
        return sum(lesson.characters for lesson in self.lessons)


def lesson_slug(source_ref: str) -> str:
    return re.sub(r"\s+", "-", source_ref.strip())


def reading_seconds(characters: int, speed: int = READING_SPEED) -> int:
    """Active reading time a text needs at `speed` characters a minute (at least 30 s)."""
    return max(30, round(characters * 60 / speed))


def estimated_minutes(characters: int, speed: int = READING_SPEED) -> int:
    return max(1, round(characters / speed))


def render_module(module: ModuleText) -> str:
    """The file text of a module; `parse_module(render_module(m)) == m`."""
    front = {
        "slug": module.slug,
        "title": module.title,
        "order": module.order,
        "source": {
            "title": module.source.title,
            "doc_number": module.source.doc_number,
            "file": module.source.file,
        },
        "minutes": estimated_minutes(module.characters),
        **module.extra,
    }
    parts = ["---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(), "---", ""]
    if module.note:
        parts += ["::: 说明", module.note.strip(), ":::", ""]
    for lesson in module.lessons:
        parts += [f"## {lesson.title} {{#{lesson.source_ref}}}", ""]
        for paragraph in lesson.paragraphs:
            parts += [paragraph, ""]
        if lesson.key_points:
            parts += ["::: 学习要点", lesson.key_points.strip(), ":::", ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def parse_module(text: str, filename: str = "") -> ModuleText:
    """Read a module file; raises CourseFileError naming the file and line."""
    where = f"“{filename}”" if filename else "课程文件"
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise CourseFileError(f"{where}第 1 行：文件应以“---”开头的文件头开始。")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise CourseFileError(f"{where}：文件头没有以“---”结束。") from None
    try:
        front = yaml_text.load("\n".join(lines[1:end])) or {}
    except (yaml_text.BadValue, yaml_text.TooMuch) as error:  # the header starts on line 2
        raise CourseFileError(f"{where}第 {error.line + 1} 行：文件头中的{error.message}") from None
    except yaml.YAMLError as error:
        raise CourseFileError(f"{where}文件头格式有误：{error}") from None
    if not isinstance(front, dict):
        raise CourseFileError(f"{where}：文件头应为“键: 值”的形式。")
    slug = str(front.get("slug", ""))
    if not _SLUG.match(slug):
        raise CourseFileError(f"{where}文件头：slug 应由小写字母、数字和“-”组成，现在是“{slug}”。")
    title = str(front.get("title", "")).strip()
    if not title:
        raise CourseFileError(f"{where}文件头：缺少 title（模块名称）。")
    order = front.get("order", 0)
    if not isinstance(order, int):
        raise CourseFileError(f"{where}文件头：order 应为整数。")
    source = front.get("source") or {}
    if not isinstance(source, dict):
        raise CourseFileError(f"{where}文件头：source 应包含 title、doc_number、file。")
    note, lessons = _body(lines, end + 1, where)
    known = {"slug", "title", "order", "source", "minutes"}
    return ModuleText(
        slug=slug,
        title=title,
        order=order,
        source=SourceInfo(
            title=str(source.get("title") or ""),
            doc_number=str(source.get("doc_number") or ""),
            file=str(source.get("file") or ""),
        ),
        lessons=tuple(lessons),
        note=note,
        extra={k: v for k, v in front.items() if k not in known},
    )


def _body(lines: list[str], start: int, where: str) -> tuple[str, list[LessonText]]:
    note = ""
    lessons: list[LessonText] = []
    current: dict | None = None
    paragraph: list[str] = []
    paragraph_line = 0
    block: tuple[str, int, list[str]] | None = None

    def end_paragraph() -> None:
        if paragraph:
            if current is None:
                raise CourseFileError(
                    f"{where}第 {paragraph_line} 行：正文应写在“## 课文标题 {{#出处}}”之下。"
                )
            current["paragraphs"].append("\n".join(paragraph))
            paragraph.clear()

    for n in range(start, len(lines)):
        line = lines[n]
        if block is not None:
            if line.strip() == _BLOCK_END:
                kind, _, content = block
                text = "\n".join(content).strip()
                if kind == "说明":
                    if current is not None:
                        raise CourseFileError(f"{where}第 {block[1]} 行：“说明”应写在第一课之前。")
                    note = text
                else:
                    if current is None:
                        raise CourseFileError(
                            f"{where}第 {block[1]} 行：“学习要点”应写在课文之下。"
                        )
                    current["key_points"] = text
                block = None
            else:
                block[2].append(line)
            continue
        if match := _BLOCK_START.match(line.strip()):
            end_paragraph()
            block = (match["kind"], n + 1, [])
        elif line.startswith("## "):
            end_paragraph()
            heading = _HEADING.match(line)
            if not heading:
                raise CourseFileError(
                    f"{where}第 {n + 1} 行：课文标题应写成“## 标题 {{#出处}}”，"
                    "例如“## 认真学习党中央致词精神 {#二（二）}”。"
                )
            if any(
                lesson["source_ref"] == heading["ref"].strip() for lesson in _all(lessons, current)
            ):
                raise CourseFileError(f"{where}第 {n + 1} 行：出处“{heading['ref']}”重复。")
            if current is not None:
                lessons.append(_lesson(current))
            current = {
                "source_ref": heading["ref"].strip(),
                "title": heading["title"].strip(),
                "paragraphs": [],
                "key_points": "",
            }
        elif line.strip():
            if not paragraph:
                paragraph_line = n + 1
            paragraph.append(line.strip())
        else:
            end_paragraph()
    if block is not None:
        raise CourseFileError(f"{where}第 {block[1]} 行：“::: {block[0]}”没有以“:::”结束。")
    n = len(lines)
    end_paragraph()
    if current is not None:
        lessons.append(_lesson(current))
    if not lessons:
        raise CourseFileError(f"{where}：没有课文（“## 标题 {{#出处}}”）。")
    return note, lessons


def _all(done: list[LessonText], current: dict | None) -> list[dict]:
    rows = [{"source_ref": lesson.source_ref} for lesson in done]
    return rows + ([current] if current else [])


def _lesson(fields: dict) -> LessonText:
    return LessonText(
        source_ref=fields["source_ref"],
        title=fields["title"],
        paragraphs=tuple(fields["paragraphs"]),
        key_points=fields["key_points"],
    )
