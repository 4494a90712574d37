"""Official documents (通知、意见、章程…) turned into an outline of numbered sections.

Pure code: bytes or text in, frozen dataclasses and plain dicts out; no database, no web
framework, no file writes.

Three kinds of text are understood (the ``source`` of `parse_document` and `rejoin_lines`):

``"pdf-text"``
    Text extracted from a PDF: one printed line per line, paragraphs broken mid-sentence,
    blank lines anywhere (also inside a paragraph, so blank lines are ignored). A line break
    is a paragraph break only when the line before it ends a paragraph: it ends with
    sentence-final punctuation (。！？；：”」）…) and is clearly shorter than the full lines
    around it (the width is estimated from the neighbouring lines, since it varies between
    paragraphs; a paragraph's first line may be two characters shorter, for its indent); or
    the next line starts a numbered heading that continues its sequence; or the line before
    closes a heading that stands on its own. Such a heading (“一、…” without a full stop) may
    wrap: it goes on while its lines are full width and ends at its first shorter line.
``"docx"``
    One paragraph per line, as `read_text` returns a .docx (and as plain text is often
    written): lines are never joined; blank lines are ignored.
``"markdown"``
    Blank lines separate paragraphs and “# ”…“###### ” lines are headings (without their
    “#” marks in the outline). Inside a block a line is joined to the one before (soft wrap)
    unless that one ends a sentence or the line starts a numbered heading or a list item.

With ``source=None`` the kind is detected: markdown when a line starts with “# ”, “## ”…;
pdf-text when many lines end mid-sentence and none is longer than a printed line can be;
docx otherwise.

Under an article (第X条) the items （一）（二）… and 1. 2. … are one paragraph each; once the
list has ended (an item ending with a full stop), a following unnumbered paragraph is the
article's own text again (`Section.after`, 出处 “第X条”, not “第X条（二）”).

Paragraph text is the source text with line breaks joined and whitespace removed wherever it
touches a Chinese character (“2023年 10月 9日” → “2023年10月9日”); a space between two Latin
words or numbers (“Word 2016”) stays.

Reading files lives in `app.course.text`; numbering, the outline and the line rejoining of
each kind of source in `app.course.outline`. The public names are all importable from here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from app.course.outline import (
    CLOSING_START,
    FEEDERS,
    Node,
    Outline,
    detect_source,
    numbering,
)
from app.course.text import (
    COMMA_ETC,
    SENTENCE_END,
    DocumentError,
    Line,
    join_all,
    split_lines,
)

__all__ = [
    "SOURCES",
    "Document",
    "DocumentMeta",
    "Section",
    "outline_json",
    "parse_document",
    "rejoin_lines",
]


@dataclass(frozen=True)
class Section:
    source_ref: str  # "一", "二（四）", "三（二）1", "第三章 第十条", "总则"
    number: str  # as written: "一、", "（二)", "1.", "（3）", "第十条", "第三章"
    title: str  # heading without its number; "" for 第X条
    level: int  # depth in the outline, 1 for top-level sections
    paragraphs: tuple[str, ...]  # own text, heading paragraph first (number and all)
    children: tuple[Section, ...] = ()
    # Own text after its children: an article's paragraph following its items (（一）…).
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentMeta:
    doc_number: str | None = None
    title: str | None = None
    addressees: str | None = None
    issuer: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Document:
    meta: DocumentMeta
    preamble: tuple[str, ...]
    sections: tuple[Section, ...]
    closing: tuple[str, ...]


SOURCES = ("pdf-text", "docx", "markdown")

# ---------------------------------------------------------------- sections


def _title(node: Node) -> str:
    heading = node.paragraphs[0] if node.paragraphs else ""
    if node.style in ("zongze", "md"):
        return heading
    if node.style == "tiao":
        return ""
    rest = heading[len(node.number) :].strip()
    if node.style == "zhang":
        return rest.lstrip("：: ")
    stop = next((i for i, ch in enumerate(rest) if ch in SENTENCE_END), None)
    if stop is not None:  # a run-in heading: its first sentence
        return rest[:stop]
    return rest.rstrip("：:；;，,、")


def _freeze(node: Node, level: int) -> Section:
    return Section(
        source_ref=node.ref,
        number=node.number,
        title=_title(node),
        level=level,
        paragraphs=tuple(node.paragraphs),
        children=tuple(_freeze(child, level + 1) for child in node.children),
        after=tuple(node.after),
    )


# ---------------------------------------------------------------- metadata

_DOC_NUMBER = re.compile(r"[^〔\[［【(（]{1,15}[〔\[［【(（]\d{4}[〕\]］】)）]\d{1,5}号")
_TITLE_END = re.compile(
    r"(通知|通报|意见|办法|决定|决议|章程|方案|报告|规定|规则|细则|条例|规划|计划|要点|纲要"
    r"|请示|批复|函|纪要|公告|通告|指引|指南|制度|守则|须知|说明|倡议书|公开信)"
    r"(（[^（）]{1,20}）|\([^()]{1,20}\))?$"
)
_NOT_TITLE = re.compile(r"现将|现就|如下|根据|按照")
_NOT_ADDRESSEE = re.compile(r"现将|现就|如下|通知|根据|按照|为了|为做好")
_CN_DATE_DIGITS = "〇零○一二三四五六七八九"
_DATE = re.compile(
    rf"(\d{{4}}|[{_CN_DATE_DIGITS}]{{4}})年(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})月"
    rf"(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})日"
)


@dataclass
class _Header:
    doc_number: str | None = None
    title: str | None = None
    addressees: str | None = None
    addressee_line: str | None = None  # as written, with its final colon
    end: int = 0  # index of the first body line


def _compact(text: str) -> str:
    return "".join(text.split())


def _starts_section(line: Line) -> bool:
    return bool(line.md) or numbering(line.text) is not None


def _read_header(lines: list[Line]) -> _Header:
    filled = [i for i, line in enumerate(lines) if line.text]
    header, pos = _Header(), 0
    if filled and _DOC_NUMBER.fullmatch(_compact(lines[filled[0]].text)):
        header.doc_number, pos = _compact(lines[filled[0]].text), 1
    header.title, pos = _take_title(lines, filled, pos)
    header.addressees, header.addressee_line, pos = _take_addressees(lines, filled, pos)
    header.end = filled[pos] if pos < len(filled) else len(lines)
    return header


def _take_title(lines: list[Line], filled: list[int], pos: int) -> tuple[str | None, int]:
    top_headings = [i for i in filled if lines[i].md == 1]
    if pos < len(filled) and top_headings == [filled[pos]]:  # the only “# ” heading, first
        return lines[filled[pos]].text, pos + 1
    parts: list[str] = []
    for k in range(pos, min(pos + 6, len(filled))):
        line = lines[filled[k]]
        if _starts_section(line) or line.text[-1] in "：:" or SENTENCE_END & set(line.text):
            break
        parts.append(line.text)
        joined = join_all(parts)
        if len(joined) > 100 or joined.count("，") > 1 or _NOT_TITLE.search(joined):
            break
        if _TITLE_END.search(joined):
            return joined, k + 1
    if pos + 1 < len(filled):  # a short unpunctuated line right before a heading or addressees
        line, following = lines[filled[pos]], lines[filled[pos + 1]]
        if (
            len(line.text) <= 40
            and not COMMA_ETC & set(line.text)
            and not _starts_section(line)
            and (_starts_section(following) or _take_addressees(lines, filled, pos + 1)[0])
        ):
            return line.text, pos + 1
    return None, pos


def _take_addressees(
    lines: list[Line], filled: list[int], pos: int
) -> tuple[str | None, str | None, int]:
    parts: list[str] = []
    for k in range(pos, min(pos + 3, len(filled))):
        line = lines[filled[k]]
        if _starts_section(line) or SENTENCE_END & set(line.text) or "；" in line.text:
            break
        parts.append(line.text)
        if line.text[-1] in "：:":
            joined = join_all(parts)
            if 3 <= len(joined) <= 150 and not _NOT_ADDRESSEE.search(joined):
                return joined[:-1], joined, k + 1
            break
    return None, None, pos


def _read_signature(lines: list[Line], start: int) -> tuple[str | None, str | None, int]:
    """Issuer and date at the very end; returns them and the index where they begin."""
    filled = [i for i in range(start, len(lines)) if lines[i].text]
    if not filled or not _DATE.fullmatch(_compact(lines[filled[-1]].text)):
        return None, None, len(lines)
    date, cut = _compact(lines[filled[-1]].text), filled[-1]
    if len(filled) >= 2:
        line = lines[filled[-2]]
        if (
            len(line.text) <= 30
            and not COMMA_ETC & set(line.text)
            and not _starts_section(line)
            and not CLOSING_START.match(line.text)
        ):
            return line.text, date, filled[-2]
    return None, date, cut


# ---------------------------------------------------------------- the pipeline


@dataclass
class _Analysis:
    header: _Header
    issuer: str | None
    date: str | None
    outline: Outline
    closing: list[str]

    def paragraphs(self) -> list[str]:
        """Every paragraph in reading order, metadata included."""
        out = [p for p in (self.header.doc_number, self.header.title) if p]
        if self.header.addressee_line:
            out.append(self.header.addressee_line)

        def walk(node: Node) -> None:
            out.extend(node.paragraphs)
            for child in node.children:
                walk(child)
            out.extend(node.after)

        walk(self.outline.root)
        out.extend(self.closing)
        out.extend(p for p in (self.issuer, self.date) if p)
        return out


def _analyse(text: str, source: str | None) -> _Analysis:
    kind = source or detect_source(text)
    if kind not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    lines = split_lines(text, markdown=kind == "markdown")
    header = _read_header(lines)
    issuer, date, cut = _read_signature(lines, header.end)
    outline = Outline()
    FEEDERS[kind](outline, lines[header.end : cut])
    closing = outline.take_closing(header.addressees)
    return _Analysis(header, issuer, date, outline, closing)


def rejoin_lines(text: str, source: str | None = None) -> list[str]:
    """The document's paragraphs in order: line breaks inside a paragraph removed.

    The header and signature come out as their own paragraphs (文号, the title joined across
    its lines, the addressee line with its colon, …, issuer, date). See the module docstring
    for what counts as a paragraph break for each kind of `source`.
    """
    if not text.strip():
        return []
    return _analyse(text, source).paragraphs()


def parse_document(text: str, source: str | None = None) -> Document:
    """Split metadata from the body and nest the numbered sections.

    `source` is "pdf-text", "docx" or "markdown" (see the module docstring), or None to
    detect it. Raises DocumentError for empty text or text without any numbered structure.
    """
    if not text.strip():
        raise DocumentError("文件是空的。")
    analysis = _analyse(text, source)
    root = analysis.outline.root
    if not root.children:
        count = len(analysis.paragraphs())
        raise DocumentError(
            "没有在文件中找到可识别的结构：未发现“一、”“（一）”“1.”“第一章”“第一条”等编号"
            f"（共读到 {count} 段文字）。"
        )
    header = analysis.header
    meta = DocumentMeta(
        doc_number=header.doc_number,
        title=header.title,
        addressees=header.addressees,
        issuer=analysis.issuer,
        date=analysis.date,
    )
    return Document(
        meta=meta,
        preamble=tuple(root.paragraphs),
        sections=tuple(_freeze(child, 1) for child in root.children),
        closing=tuple(analysis.closing),
    )


def _section_json(section: Section) -> dict[str, Any]:
    return {
        "source_ref": section.source_ref,
        "number": section.number,
        "title": section.title,
        "level": section.level,
        "paragraphs": list(section.paragraphs),
        "children": [_section_json(child) for child in section.children],
        "after": list(section.after),
    }


def outline_json(document: Document) -> dict[str, Any]:
    """The whole outline as plain dicts and lists, ready for json.dumps."""
    return {
        "meta": asdict(document.meta),
        "preamble": list(document.preamble),
        "sections": [_section_json(section) for section in document.sections],
        "closing": list(document.closing),
    }
