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

Paragraph text is the source text with line breaks joined and whitespace removed wherever it
touches a Chinese character (“2023年 10月 9日” → “2023年10月9日”); a space between two Latin
words or numbers (“Word 2016”) stays.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any

import docx
from docx.table import Table


class DocumentError(ValueError):
    """The file or text cannot be read as a document; str(e) says why, in Chinese."""


@dataclass(frozen=True)
class Section:
    source_ref: str  # "一", "二（四）", "三（二）1", "第三章 第十条", "总则"
    number: str  # as written: "一、", "（二)", "1.", "（3）", "第十条", "第三章"
    title: str  # heading without its number; "" for 第X条
    level: int  # depth in the outline, 1 for top-level sections
    paragraphs: tuple[str, ...]  # own text, heading paragraph first (number and all)
    children: tuple[Section, ...] = ()


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

# ---------------------------------------------------------------- characters and numbers

_DIGITS = "零一二三四五六七八九"
_NUMERAL_CHARS = "零一二三四五六七八九十百"
_WIDE_PUNCTUATION = frozenset("“”‘’…—·")
_SENTENCE_END = frozenset("。！？!?")
_PARAGRAPH_END = frozenset("。！？；：”’」』）》…!?;:)")
_COMMA_ETC = frozenset("，、；：。！？,;:!?")


def _cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三, 105 → 一百零五 (standard forms, 1–199)."""
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    head = _DIGITS[hundreds] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + _DIGITS[rest]
    tens, ones = divmod(rest, 10)
    return head + _DIGITS[tens] + "十" + (_DIGITS[ones] if ones else "")


_CN_VALUES = {_cn_numeral(n): n for n in range(1, 200)}


def _is_wide(ch: str) -> bool:
    return ch in _WIDE_PUNCTUATION or unicodedata.east_asian_width(ch) in ("W", "F")


def _width(text: str) -> int:
    """Printed width in half-character units: Chinese characters count 2, Latin ones 1."""
    return sum(2 if _is_wide(ch) else 1 for ch in text)


_SPACES = re.compile(r"\s+")


def _clean(line: str) -> str:
    """Strip a line; drop whitespace touching a Chinese character, keep one between Latin."""
    line = line.strip()

    def replace(match: re.Match[str]) -> str:
        before, after = line[match.start() - 1], line[match.end()]
        return "" if _is_wide(before) or _is_wide(after) else " "

    return _SPACES.sub(replace, line)


def _join(before: str, after: str) -> str:
    """Join two pieces of one paragraph: a space only between two Latin words."""
    a, b = before[-1:], after[:1]
    latin = a.isascii() and b.isascii() and a.isalnum() and b.isalnum()
    if latin and not (a.isdigit() and b.isdigit()):
        return before + " " + after
    return before + after


def _join_all(pieces: list[str]) -> str:
    joined = ""
    for piece in pieces:
        joined = _join(joined, piece) if joined else piece
    return joined


# ---------------------------------------------------------------- numbering

_RANKS = {
    "zongze": 0,
    "zhang": 0,
    "tiao": 1,
    "cn": 2,
    "paren_cn": 3,
    "arabic": 4,
    "paren_arabic": 5,
}
_C = _NUMERAL_CHARS
_NUMBER_PATTERNS = (
    ("zongze", re.compile(r"总则$")),
    ("zhang", re.compile(rf"第([{_C}]+|\d{{1,3}})章")),
    ("tiao", re.compile(rf"第([{_C}]+|\d{{1,3}})条")),
    ("cn", re.compile(rf"([{_C}]+)、")),
    ("paren_cn", re.compile(rf"[（(] ?([{_C}]+) ?[）)]")),
    ("paren_arabic", re.compile(r"[（(] ?(\d{1,2}) ?[）)]")),
    ("arabic", re.compile(r"(\d{1,2})(?: ?[.．](?!\d)|、)")),
)


@dataclass(frozen=True)
class _Numbering:
    style: str  # a key of _RANKS, or "md" for an unnumbered markdown heading
    value: int
    number: str  # exactly as written


def _numbering(text: str) -> _Numbering | None:
    """The numbering a paragraph starts with, by pattern only (no sequence check)."""
    for style, pattern in _NUMBER_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        if style == "zongze":
            return _Numbering(style, 0, "")
        raw = match.group(1)
        value = int(raw) if raw.isdecimal() else _CN_VALUES.get(raw, 0)
        rest = text[match.end() :]
        if not value or (style == "zhang" and (len(rest) > 30 or _COMMA_ETC & set(rest))):
            return None
        return _Numbering(style, value, match.group(0))
    return None


# ---------------------------------------------------------------- the outline being built


@dataclass(eq=False)
class _Node:
    style: str
    value: int
    number: str
    ref: str
    rank: float
    md: int = 0
    paragraphs: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)


_ATTACHMENT = re.compile(r"附件 ?\d* ?([：:]|$)")
_CLOSING_START = re.compile(
    r"[（(]?(特此|请各|请你|请于|请在|请将|以上|联系人|联系电话|附件"
    r"|本(通知|意见|方案|办法|规定|细则|决定)(自|由|未尽|所称))"
)
_REPORT_REQUEST = re.compile(r"各[^。]{1,80}(报告|报送|反馈)[^。]{0,20}。?$")  # one sentence


class _Outline:
    """Numbered sections built paragraph by paragraph, checking every number's sequence."""

    def __init__(self) -> None:
        self.root = _Node("root", 0, "", "", rank=-10)
        self.stack = [self.root]
        self.tail: list[str] | None = None  # from “附件：” on: closing material
        self.last_chapter = 0
        self.last_article = 0
        self.zongze_seen = False
        self.current: list[str] = self.root.paragraphs
        self.current_node: _Node | None = None  # set while the paragraph is a heading

    def _parent_for(self, found: _Numbering) -> int | None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].style == found.style:  # a sibling must continue the sequence
                return i - 1 if found.value == self.stack[i].value + 1 else None
        if found.style == "zongze":
            ok = not self.zongze_seen and not self.last_chapter and not self.last_article
        elif found.style == "zhang":
            ok = found.value == self.last_chapter + 1
        elif found.style == "tiao":  # articles are numbered across chapters
            ok = found.value in (1, self.last_article + 1)
        else:
            ok = found.value == 1
        if not ok:
            return None
        rank = _RANKS[found.style]
        return max(i for i, node in enumerate(self.stack) if node.rank < rank)

    def _plan(self, text: str, md: int) -> tuple[_Numbering, int] | None:
        if self.tail is not None:
            return None
        found = _numbering(text)
        if found is not None:
            parent = self._parent_for(found)
            if parent is not None:
                return found, parent
        if md:
            parent = max((i for i, n in enumerate(self.stack) if 0 < n.md < md), default=0)
            return _Numbering("md", 0, ""), parent
        return None

    def accepts(self, text: str) -> bool:
        """Would a paragraph starting with `text` open a section here?"""
        return self._plan(text, 0) is not None

    def in_title(self) -> bool:
        """Is the current paragraph a heading that has not reached a full stop yet?"""
        node = self.current_node
        return (
            node is not None
            and node.style != "tiao"
            and len(self.current[-1]) <= 80
            and not _SENTENCE_END & set(self.current[-1])
        )

    def start(self, text: str, md: int = 0) -> None:
        """Begin a new paragraph (a heading if its numbering fits the sequence)."""
        plan = self._plan(text, md)
        if plan is None:
            if self.tail is None and self.root.children and _ATTACHMENT.match(text):
                self.tail = []
            self.current = self.tail if self.tail is not None else self.stack[-1].paragraphs
            self.current.append(text)
            self.current_node = None
            return
        found, parent_index = plan
        del self.stack[parent_index + 1 :]
        parent = self.stack[-1]
        rank = -1.0 if found.style == "md" else _RANKS[found.style]
        node = _Node(found.style, found.value, found.number, _ref(parent, found, text), rank, md)
        node.paragraphs.append(text)
        parent.children.append(node)
        self.stack.append(node)
        self.current, self.current_node = node.paragraphs, node
        if found.style == "zhang":
            self.last_chapter = found.value
        elif found.style == "tiao":
            self.last_article = found.value
        elif found.style == "zongze":
            self.zongze_seen = True

    def extend(self, text: str) -> None:
        """Continue the current paragraph with the next line."""
        self.current[-1] = _join(self.current[-1], text)

    def take_closing(self, addressees: str | None) -> list[str]:
        """Move the closing request (and any attachment list) out of the last section."""
        node, closing = self.stack[-1], []
        if node is not self.root:
            while len(node.paragraphs) > 1 and _is_closing(node.paragraphs[-1], addressees):
                closing.insert(0, node.paragraphs.pop())
        return closing + (self.tail or [])


def _ref(parent: _Node, found: _Numbering, text: str) -> str:
    own = {
        "zongze": "总则",
        "zhang": found.number,
        "tiao": found.number,
        "cn": _cn_numeral(found.value),
        "paren_cn": f"（{_cn_numeral(found.value)}）",
        "arabic": str(found.value),
        "paren_arabic": f"（{found.value}）",
    }.get(found.style, text)
    if not parent.ref:
        return own
    spaced = parent.style in ("zongze", "zhang", "md") or found.style in ("tiao", "md")
    return parent.ref + (" " if spaced else "") + own


def _is_closing(paragraph: str, addressees: str | None) -> bool:
    if addressees:
        head = re.split(r"[，,]", addressees)[0]
        if len(head) >= 2 and paragraph.startswith(head):
            return True
    return bool(_CLOSING_START.match(paragraph) or _REPORT_REQUEST.match(paragraph))


def _title(node: _Node) -> str:
    heading = node.paragraphs[0] if node.paragraphs else ""
    if node.style in ("zongze", "md"):
        return heading
    if node.style == "tiao":
        return ""
    rest = heading[len(node.number) :].strip()
    if node.style == "zhang":
        return rest.lstrip("：: ")
    stop = next((i for i, ch in enumerate(rest) if ch in _SENTENCE_END), None)
    if stop is not None:  # a run-in heading: its first sentence
        return rest[:stop]
    return rest.rstrip("：:；;，,、")


def _freeze(node: _Node, level: int) -> Section:
    return Section(
        source_ref=node.ref,
        number=node.number,
        title=_title(node),
        level=level,
        paragraphs=tuple(node.paragraphs),
        children=tuple(_freeze(child, level + 1) for child in node.children),
    )


# ---------------------------------------------------------------- lines and their kinds

_MD_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")
_LIST_ITEM = re.compile(r"[-*+•] ?\S|\d+[.)](?!\d)")


@dataclass(frozen=True)
class _Line:
    text: str  # cleaned
    width: int  # printed width of the line as extracted
    md: int = 0  # markdown heading level


def _lines(text: str, markdown: bool) -> list[_Line]:
    lines = []
    for raw in text.splitlines():
        md = 0
        match = _MD_HEADING.match(raw) if markdown else None
        if match:
            md, raw = len(match.group(1)), match.group(2)
        lines.append(_Line(_clean(raw), _width(raw.strip()), md))
    return lines


def _detect(text: str) -> str:
    raw_lines = text.splitlines()
    if any(_MD_HEADING.match(line) for line in raw_lines):
        return "markdown"
    texts = [t for t in map(_clean, raw_lines) if t]
    if not texts or max(map(_width, texts)) > 160:
        return "docx"
    # Printed lines broken mid-sentence at (nearly) the full width of the page.
    full = max(20, 0.85 * max(map(_width, texts)))
    wrapped = sum(
        1
        for t in texts
        if _width(t) >= full
        and not unicodedata.category(t[-1]).startswith("P")
        and not _numbering(t)
    )
    return "pdf-text" if wrapped >= 3 and wrapped * 5 >= len(texts) else "docx"


def _reference_width(widths: list[int], i: int, span: int = 4) -> int:
    """The full line width around line i: upper quartile of its neighbours' widths."""
    window = range(max(0, i - span), min(len(widths), i + span + 1))
    around = sorted(widths[j] for j in window if j != i)
    return around[len(around) * 3 // 4] if around else widths[i]


def _feed_pdf(outline: _Outline, lines: list[_Line]) -> None:
    body = [line for line in lines if line.text]
    widths = [line.width for line in body]
    opened = 0  # index of the current paragraph's first line
    for k, line in enumerate(body):
        if k == 0 or _pdf_break(outline, body, widths, k, opened):
            outline.start(line.text)
            opened = k
        else:
            outline.extend(line.text)


def _pdf_break(
    outline: _Outline, body: list[_Line], widths: list[int], k: int, opened: int
) -> bool:
    """Does a paragraph end between body[k - 1] and body[k]?"""
    reference = _reference_width(widths, k - 1)
    indent = 4 if opened == k - 1 else 0  # a first line may be indented by two characters
    short = widths[k - 1] <= reference - 4 - indent
    full = widths[k - 1] >= reference - 2 - indent
    ends = body[k - 1].text[-1] in _PARAGRAPH_END
    heading = outline.in_title()
    if outline.accepts(body[k].text) and (ends or not full or heading):
        return True
    if heading:
        return ends or not full
    return ends and short


def _feed_markdown(outline: _Outline, lines: list[_Line]) -> None:
    open_paragraph = False
    for line in lines:
        if not line.text:
            open_paragraph = False
        elif line.md:
            outline.start(line.text, line.md)
            open_paragraph = False
        elif (
            not open_paragraph
            or outline.current[-1][-1] in _PARAGRAPH_END
            or _LIST_ITEM.match(line.text)
            or outline.accepts(line.text)
        ):
            outline.start(line.text)
            open_paragraph = True
        else:
            outline.extend(line.text)


def _feed_docx(outline: _Outline, lines: list[_Line]) -> None:
    for line in lines:
        if line.text:
            outline.start(line.text)


_FEEDERS = {"pdf-text": _feed_pdf, "docx": _feed_docx, "markdown": _feed_markdown}

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


def _starts_section(line: _Line) -> bool:
    return bool(line.md) or _numbering(line.text) is not None


def _read_header(lines: list[_Line]) -> _Header:
    filled = [i for i, line in enumerate(lines) if line.text]
    header, pos = _Header(), 0
    if filled and _DOC_NUMBER.fullmatch(_compact(lines[filled[0]].text)):
        header.doc_number, pos = _compact(lines[filled[0]].text), 1
    header.title, pos = _take_title(lines, filled, pos)
    header.addressees, header.addressee_line, pos = _take_addressees(lines, filled, pos)
    header.end = filled[pos] if pos < len(filled) else len(lines)
    return header


def _take_title(lines: list[_Line], filled: list[int], pos: int) -> tuple[str | None, int]:
    top_headings = [i for i in filled if lines[i].md == 1]
    if pos < len(filled) and top_headings == [filled[pos]]:  # the only “# ” heading, first
        return lines[filled[pos]].text, pos + 1
    parts: list[str] = []
    for k in range(pos, min(pos + 6, len(filled))):
        line = lines[filled[k]]
        if _starts_section(line) or line.text[-1] in "：:" or _SENTENCE_END & set(line.text):
            break
        parts.append(line.text)
        joined = _join_all(parts)
        if len(joined) > 100 or joined.count("，") > 1 or _NOT_TITLE.search(joined):
            break
        if _TITLE_END.search(joined):
            return joined, k + 1
    if pos + 1 < len(filled):  # a short unpunctuated line right before a heading or addressees
        line, following = lines[filled[pos]], lines[filled[pos + 1]]
        if (
            len(line.text) <= 40
            and not _COMMA_ETC & set(line.text)
            and not _starts_section(line)
            and (_starts_section(following) or _take_addressees(lines, filled, pos + 1)[0])
        ):
            return line.text, pos + 1
    return None, pos


def _take_addressees(
    lines: list[_Line], filled: list[int], pos: int
) -> tuple[str | None, str | None, int]:
    parts: list[str] = []
    for k in range(pos, min(pos + 3, len(filled))):
        line = lines[filled[k]]
        if _starts_section(line) or _SENTENCE_END & set(line.text) or "；" in line.text:
            break
        parts.append(line.text)
        if line.text[-1] in "：:":
            joined = _join_all(parts)
            if 3 <= len(joined) <= 150 and not _NOT_ADDRESSEE.search(joined):
                return joined[:-1], joined, k + 1
            break
    return None, None, pos


def _read_signature(lines: list[_Line], start: int) -> tuple[str | None, str | None, int]:
    """Issuer and date at the very end; returns them and the index where they begin."""
    filled = [i for i in range(start, len(lines)) if lines[i].text]
    if not filled or not _DATE.fullmatch(_compact(lines[filled[-1]].text)):
        return None, None, len(lines)
    date, cut = _compact(lines[filled[-1]].text), filled[-1]
    if len(filled) >= 2:
        line = lines[filled[-2]]
        if (
            len(line.text) <= 30
            and not _COMMA_ETC & set(line.text)
            and not _starts_section(line)
            and not _CLOSING_START.match(line.text)
        ):
            return line.text, date, filled[-2]
    return None, date, cut


# ---------------------------------------------------------------- the pipeline


@dataclass
class _Analysis:
    header: _Header
    issuer: str | None
    date: str | None
    outline: _Outline
    closing: list[str]

    def paragraphs(self) -> list[str]:
        """Every paragraph in reading order, metadata included."""
        out = [p for p in (self.header.doc_number, self.header.title) if p]
        if self.header.addressee_line:
            out.append(self.header.addressee_line)

        def walk(node: _Node) -> None:
            out.extend(node.paragraphs)
            for child in node.children:
                walk(child)

        walk(self.outline.root)
        out.extend(self.closing)
        out.extend(p for p in (self.issuer, self.date) if p)
        return out


def _analyse(text: str, source: str | None) -> _Analysis:
    kind = source or _detect(text)
    if kind not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    lines = _lines(text, markdown=kind == "markdown")
    header = _read_header(lines)
    issuer, date, cut = _read_signature(lines, header.end)
    outline = _Outline()
    _FEEDERS[kind](outline, lines[header.end : cut])
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
    }


def outline_json(document: Document) -> dict[str, Any]:
    """The whole outline as plain dicts and lists, ready for json.dumps."""
    return {
        "meta": asdict(document.meta),
        "preamble": list(document.preamble),
        "sections": [_section_json(section) for section in document.sections],
        "closing": list(document.closing),
    }


# ---------------------------------------------------------------- reading files


def read_text(filename: str, content: bytes) -> str:
    """The text of an uploaded .txt, .md or .docx file.

    .txt: UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030. .md: UTF-8.
    .docx: one line per paragraph in document order, empty paragraphs as blank lines, the
    paragraphs of table cells in place of the table. Raises DocumentError with a Chinese
    message for an unknown extension, an empty file, undecodable bytes or a broken .docx.
    """
    suffix = _suffix(filename)
    if suffix == ".doc":
        raise DocumentError(
            f"文件“{filename}”是旧版 Word 格式（.doc），无法读取："
            "请在 Word 中另存为 .docx 后再上传。"
        )
    if suffix not in (".txt", ".md", ".docx"):
        kind = f"“{suffix}”" if suffix else "（没有扩展名）"
        raise DocumentError(
            f"不支持的文件类型{kind}（文件“{filename}”）：请上传 .txt、.md 或 .docx 文件。"
        )
    if not content:
        raise DocumentError(f"文件“{filename}”是空的。")
    if suffix == ".docx":
        text = _docx_text(filename, content)
    else:
        encodings = ("utf-8-sig", "gb18030") if suffix == ".txt" else ("utf-8-sig",)
        text = _decode(filename, content, encodings)
    if not text.strip():
        raise DocumentError(f"文件“{filename}”是空的。")
    return text


def source_for(filename: str) -> str | None:
    """The `source` for parse_document of text read from this file; None means detect."""
    return {".docx": "docx", ".md": "markdown"}.get(_suffix(filename))


def _suffix(filename: str) -> str:
    return PurePath(filename.replace("\\", "/")).suffix.lower()


def _decode(filename: str, content: bytes, encodings: tuple[str, ...]) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) and "gb18030" in encodings:
        encodings = ("utf-16", *encodings)
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    tried = "UTF-8 和 GBK" if "gb18030" in encodings else "UTF-8"
    raise DocumentError(
        f"文件“{filename}”无法读取：文字编码无法识别（已尝试 {tried}），"
        "请另存为 UTF-8 编码的文本文件后再上传。"
    )


def _docx_text(filename: str, content: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(content))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                seen: set[Any] = set()  # cell elements: a merged cell is listed per column
                for row in block.rows:
                    for cell in row.cells:
                        if cell._tc not in seen:
                            seen.add(cell._tc)
                            lines.extend(p.text for p in cell.paragraphs)
            else:
                lines.append(block.text)
    except Exception as error:  # python-docx raises many kinds of error on a broken file
        raise DocumentError(
            f"文件“{filename}”无法读取：它不是有效的 Word 文档（.docx）。"
        ) from error
    return "\n".join(lines)
