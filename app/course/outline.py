"""Numbered sections of a document built paragraph by paragraph, and the line rejoining
that feeds them for each kind of source (pdf-text, docx, markdown).

Pure code, used by `app.course.documents` (whose module docstring describes the three kinds of
source and when a line break is a paragraph break).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from app.course.text import (
    COMMA_ETC,
    MD_HEADING,
    PARAGRAPH_END,
    SENTENCE_END,
    Line,
    clean_line,
    display_width,
    join_pieces,
)

# ---------------------------------------------------------------- numbers

_DIGITS = "零一二三四五六七八九"
_NUMERAL_CHARS = "零一二三四五六七八九十百"


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
class Numbering:
    style: str  # a key of _RANKS, or "md" for an unnumbered markdown heading
    value: int
    number: str  # exactly as written


def numbering(text: str) -> Numbering | None:
    """The numbering a paragraph starts with, by pattern only (no sequence check)."""
    for style, pattern in _NUMBER_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        if style == "zongze":
            return Numbering(style, 0, "")
        raw = match.group(1)
        value = int(raw) if raw.isdecimal() else _CN_VALUES.get(raw, 0)
        rest = text[match.end() :]
        if not value or (style == "zhang" and (len(rest) > 30 or COMMA_ETC & set(rest))):
            return None
        return Numbering(style, value, match.group(0))
    return None


# ---------------------------------------------------------------- the outline being built


@dataclass(eq=False)
class Node:
    style: str
    value: int
    number: str
    ref: str
    rank: float
    md: int = 0
    paragraphs: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # its own text that follows its children


_ATTACHMENT = re.compile(r"附件 ?\d* ?([：:]|$)")
CLOSING_START = re.compile(
    r"[（(]?(特此|请各|请你|请于|请在|请将|以上|联系人|联系电话|附件"
    r"|本(通知|意见|方案|办法|规定|细则|决定)(自|由|未尽|所称))"
)
_REPORT_REQUEST = re.compile(r"各[^。]{1,80}(报告|报送|反馈)[^。]{0,20}。?$")  # one sentence
_LIST_END = ("。", ".", "！", "!", "？", "?")


class Outline:
    """Numbered sections built paragraph by paragraph, checking every number's sequence."""

    def __init__(self) -> None:
        self.root = Node("root", 0, "", "", rank=-10)
        self.stack = [self.root]
        self.tail: list[str] | None = None  # from “附件：” on: closing material
        self.last_chapter = 0
        self.last_article = 0
        self.zongze_seen = False
        self.current: list[str] = self.root.paragraphs
        self.current_node: Node | None = None  # set while the paragraph is a heading

    def _parent_for(self, found: Numbering) -> int | None:
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

    def _plan(self, text: str, md: int) -> tuple[Numbering, int] | None:
        if self.tail is not None:
            return None
        found = numbering(text)
        if found is not None:
            parent = self._parent_for(found)
            if parent is not None:
                return found, parent
        if md:
            parent = max((i for i, n in enumerate(self.stack) if 0 < n.md < md), default=0)
            return Numbering("md", 0, ""), parent
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
            and not SENTENCE_END & set(self.current[-1])
        )

    def start(self, text: str, md: int = 0) -> None:
        """Begin a new paragraph (a heading if its numbering fits the sequence)."""
        plan = self._plan(text, md)
        if plan is None:
            if self.tail is None and self.root.children and _ATTACHMENT.match(text):
                self.tail = []
            if self.tail is not None:
                self.current = self.tail
            else:
                self._close_items()
                node = self.stack[-1]
                self.current = node.after if node.children else node.paragraphs
            self.current.append(text)
            self.current_node = None
            return
        found, parent_index = plan
        del self.stack[parent_index + 1 :]
        parent = self.stack[-1]
        rank = -1.0 if found.style == "md" else _RANKS[found.style]
        node = Node(found.style, found.value, found.number, _ref(parent, found, text), rank, md)
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

    def _close_items(self) -> None:
        """After the last of an article's items (（一）…；（二）…。) its text goes on.

        An item of a 第X条 is one paragraph, the list ending at a full stop; a paragraph
        after it is the article's (出处 第X条, not 第X条（二）). Any other section goes on
        after its heading.
        """
        article = next(
            (i for i in range(len(self.stack) - 1, 0, -1) if self.stack[i].style == "tiao"), None
        )
        if article is None or article == len(self.stack) - 1:
            return
        last = self.current[-1] if self.current else ""
        if self.current is self.stack[-1].paragraphs and last.endswith(_LIST_END):
            del self.stack[article + 1 :]

    def extend(self, text: str) -> None:
        """Continue the current paragraph with the next line."""
        self.current[-1] = join_pieces(self.current[-1], text)

    def take_closing(self, addressees: str | None) -> list[str]:
        """Move the closing request (and any attachment list) out of the last section."""
        node, closing = self.stack[-1], []
        if node is not self.root:
            while node.after and _is_closing(node.after[-1], addressees):
                closing.insert(0, node.after.pop())
            while (
                not node.after
                and len(node.paragraphs) > 1
                and _is_closing(node.paragraphs[-1], addressees)
            ):
                closing.insert(0, node.paragraphs.pop())
        return closing + (self.tail or [])


def _ref(parent: Node, found: Numbering, text: str) -> str:
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
    return bool(CLOSING_START.match(paragraph) or _REPORT_REQUEST.match(paragraph))


# ---------------------------------------------------------------- lines into paragraphs

_LIST_ITEM = re.compile(r"[-*+•] ?\S|\d+[.)](?!\d)")


def detect_source(text: str) -> str:
    raw_lines = text.splitlines()
    if any(MD_HEADING.match(line) for line in raw_lines):
        return "markdown"
    texts = [t for t in map(clean_line, raw_lines) if t]
    if not texts or max(map(display_width, texts)) > 160:
        return "docx"
    # Printed lines broken mid-sentence at (nearly) the full width of the page.
    full = max(20, 0.85 * max(map(display_width, texts)))
    wrapped = sum(
        1
        for t in texts
        if display_width(t) >= full
        and not unicodedata.category(t[-1]).startswith("P")
        and not numbering(t)
    )
    return "pdf-text" if wrapped >= 3 and wrapped * 5 >= len(texts) else "docx"


def _reference_width(widths: list[int], i: int, span: int = 4) -> int:
    """The full line width around line i: upper quartile of its neighbours' widths."""
    window = range(max(0, i - span), min(len(widths), i + span + 1))
    around = sorted(widths[j] for j in window if j != i)
    return around[len(around) * 3 // 4] if around else widths[i]


def _feed_pdf(outline: Outline, lines: list[Line]) -> None:
    body = [line for line in lines if line.text]
    widths = [line.width for line in body]
    opened = 0  # index of the current paragraph's first line
    for k, line in enumerate(body):
        if k == 0 or _pdf_break(outline, body, widths, k, opened):
            outline.start(line.text)
            opened = k
        else:
            outline.extend(line.text)


def _pdf_break(outline: Outline, body: list[Line], widths: list[int], k: int, opened: int) -> bool:
    """Does a paragraph end between body[k - 1] and body[k]?"""
    reference = _reference_width(widths, k - 1)
    indent = 4 if opened == k - 1 else 0  # a first line may be indented by two characters
    short = widths[k - 1] <= reference - 4 - indent
    full = widths[k - 1] >= reference - 2 - indent
    ends = body[k - 1].text[-1] in PARAGRAPH_END
    heading = outline.in_title()
    if outline.accepts(body[k].text) and (ends or not full or heading):
        return True
    if heading:
        return ends or not full
    return ends and short


def _feed_markdown(outline: Outline, lines: list[Line]) -> None:
    open_paragraph = False
    for line in lines:
        if not line.text:
            open_paragraph = False
        elif line.md:
            outline.start(line.text, line.md)
            open_paragraph = False
        elif (
            not open_paragraph
            or outline.current[-1][-1] in PARAGRAPH_END
            or _LIST_ITEM.match(line.text)
            or outline.accepts(line.text)
        ):
            outline.start(line.text)
            open_paragraph = True
        else:
            outline.extend(line.text)


def _feed_docx(outline: Outline, lines: list[Line]) -> None:
    for line in lines:
        if line.text:
            outline.start(line.text)


FEEDERS = {"pdf-text": _feed_pdf, "docx": _feed_docx, "markdown": _feed_markdown}
