"""Moodle's GIFT format (pure): import with `parse_gift`, export with `render_gift`.

Reading (`parse_gift`)
----------------------
Questions are separated by blank lines; lines starting with `//` are comments. A question
may start with `::title::` (the title becomes the key when it is a safe slug such as
`m1-q01`, otherwise the key is `gift-NNN` after the question's place in the file; the
title never enters the stem) and a text format `[markdown]`, `[html]`, `[plain]` or
`[moodle]`. As in Moodle, each answer and each feedback takes the question's format unless
it starts with a format of its own (`=[html]<p>甲</p>#[moodle]对`). HTML is read as text
(tags dropped, entities decoded, paragraphs and `<br>` as line breaks, scripts and styles
left out); the other formats are kept as written. A text written over several lines is
joined with a space, except where the break falls next to a Chinese character or full-width
punctuation, which are joined directly. The escapes `\\~ \\= \\# \\{ \\} \\:` give the
literal character, `\\n` a line break and `\\\\` a backslash. A `$CATEGORY: name` line sets
the category of the questions after it, recorded as the tag `category:name`.

Moodle writes a question's ID number and tags in a comment above it
(`// [id:ghzs-001] [tag:会员] [tag:权利]`): the ID becomes the key when it can be one
(letters, digits, `-` `_` `.`, at most 64, starting with a letter or digit; otherwise the
title or the question's place gives it, as above) and the tags are added to its tags.

How the answers in braces are read:

- `{T}` `{TRUE}` `{F}` `{FALSE}` → 判断 (对 / 错).
- answers with `~` → choice. When an `=` answer is present (Moodle's single choice) the
  answer is the option(s) worth 100%: exactly one → 单选; partial-credit options
  (`~%50%…`) count as wrong, the platform has no partial credit. Without `=` (Moodle's
  multiple answers, `~%50%a ~%50%b ~%-100%c`) the answer is every option of positive
  weight and the question is 多选, also with only one such option (the trainee still
  ticks boxes).
- only `=` answers → 填空 with one blank whose accepted answers are those worth 100%
  (`=%75%…` answers are not accepted). The blank `___` stands where the braces were, so
  `Two plus two equals {=four =4}.` → `Two plus two equals ___.`
- missing word: text after the braces puts `___` in their place for every type.
- feedback: `####…` is the general feedback → 解析. Per-answer feedback `#…` is appended
  to 解析, one line each (`A：…` for an option, `“答案”：…` for an accepted answer,
  `答错时：…` / `答对时：…` for true/false).
- matching (`->`), numerical (`{#…}`), essay (`{}`) and description (no braces) are not
  platform types: they are listed in `skipped` with their line and a reason.

Every question's `line` is the line where it starts (its first line that is not a
comment); every problem and skipped question names that line.

The peixun comment
------------------
GIFT has no place for 出处, difficulty, tags and evidence, so `render_gift` writes them in a
comment line right above the question (Moodle ignores it) and `parse_gift` reads it back::

    // peixun: 出处=二（四）; 难度=2; 标签=选举,会员大会; 依据=每届任期三年或者五年
    ::m1-q01::工会委员会每届任期几年？{
    =三年或者五年
    ~两年
    ####见第二部分第（四）项。
    }

Fields are separated by `;`, tags by `,`; inside a value `\\;` `\\,` `\\\\` and `\\n` stand
for a semicolon, a comma, a backslash and a line break. Tags written there replace the
category tag unless they leave it out, in which case the category tag comes first.

Writing (`render_gift`)
-----------------------
Each question becomes `::key::stem{answers}` with 解析 as `####` general feedback; single
choice as `=right ~wrong`, multiple choice as `~%50%a ~%50%b ~%-100%c` (the correct ones
share 100%), true/false as `{T}`/`{F}`, fill-in-the-blank with the braces in place of its
one blank. A text that itself starts like a format (`[html]…`) is written after the
question's format so that it is read back as written. `parse_gift(render_gift(qs))` gives
back the same questions when their keys are safe slugs (a blank is always read back as
exactly `___`). GIFT holds one blank per
question: `gift_export_problem` names what cannot be written, and `render_gift` refuses
(BankFormatError) rather than drop anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from app.banks.model import (
    BLANK,
    LETTERS,
    QUESTION_TYPES,
    TRUE_FALSE,
    BankFormatError,
    ParseResult,
    Problem,
    Question,
    Skipped,
    blank_count,
)

SAFE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_BLANK_MARK = "___"
_LINES = re.compile(r"\r\n|\r|\n")
_CATEGORY = re.compile(r"^\s*\$CATEGORY:\s*(.*)$")
_PEIXUN = re.compile(r"^\s*//\s*peixun\s*[:：](.*)$")
_FORMAT = re.compile(r"^\s*\[(html|markdown|plain|moodle)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"T": "对", "TRUE": "对", "F": "错", "FALSE": "错"}
# Moodle's comment above a question: `// [id:…] [tag:…] [tag:…]`, "]" escaped as "\]".
_MOODLE_ID = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f])+)\]")
_MOODLE_TAG = re.compile(r"\[tag:((?:\\\]|[^\]\x00-\x1f])+)\]")
_ID_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Escaped characters are swapped for private-use placeholders while the structure is read,
# and swapped back for the literal characters at the end (Moodle does the same).
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004"}
_ESCAPES |= {"}": "\ue005", ":": "\ue006", "n": "\ue007"}
_RESTORE = {v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()}
_ESCAPE = re.compile(r"\\([\\~=#{}:n])")
# A line break in the file with the indentation around it.
_RAW_BREAK = re.compile(r"[ \t]*\n\s*")
_HTML_BLOCKS = frozenset(
    {"address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure"}
    | {"footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre"}
    | {"section", "table", "tr", "ul"}
)
_HTML_HIDDEN = frozenset({"script", "style", "template"})

_TYPE_NAMES = {
    "matching": "配对题（matching）",
    "numerical": "数值题（numerical）",
    "essay": "问答题（essay）",
    "description": "描述（description，没有答案的说明文字）",
}


def _protect(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text)


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(ch, ch) for ch in text)


def _wide(ch: str) -> bool:
    """A Chinese character or full-width punctuation: lines are joined to it without a space."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _join_lines(text: str) -> str:
    """Lines of one text as one line: "工会\n委员会" → "工会委员会", "of\nThanksgiving" →
    "of Thanksgiving"."""

    def joined(found: re.Match[str]) -> str:
        start, end = found.start(), found.end()
        before = start > 0 and _wide(text[start - 1])
        after = end < len(text) and _wide(text[end])
        return "" if before or after else " "

    return _RAW_BREAK.sub(joined, text)


class _HtmlText(HTMLParser):
    """The text of a piece of HTML: paragraphs and `<br>` as line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_HIDDEN:
            self.hidden += 1
        elif tag == "br" or tag in _HTML_BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _HTML_BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = (re.sub(r"[^\S\n]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _clean(raw: str, fmt: str) -> str:
    """A protected piece of text as the platform keeps it."""
    text = _join_lines(raw.strip())
    if fmt == "html":
        text = _html_text(text)
    return _restore(text)


def _text(raw: str, fmt: str) -> str:
    """An answer or a feedback: in the question's format `fmt` unless it names its own."""
    found = _FORMAT.match(raw)
    if found:
        return _clean(raw[found.end() :], found.group(1).lower())
    return _clean(raw, fmt)


@dataclass
class _Block:
    line: int  # where the question starts
    lines: list[str] = field(default_factory=list)
    meta: list[tuple[int, str]] = field(default_factory=list)  # peixun comments
    category: str = ""
    comments: list[str] = field(default_factory=list)  # other comments: Moodle's id and tags

    def moodle_id(self) -> str:
        for comment in self.comments:
            if found := _MOODLE_ID.search(comment):
                return found.group(1).replace("\\]", "]").strip()
        return ""

    def moodle_tags(self) -> list[str]:
        found = (m.group(1) for c in self.comments for m in _MOODLE_TAG.finditer(c))
        return [tag for raw in found if (tag := raw.replace("\\]", "]").strip())]


@dataclass
class _Answer:
    marker: str  # "=" or "~"
    weight: float
    text: str
    feedback: str


class _Bad(Exception):
    """A malformed question; the message is Chinese, without the line."""


class _Skip(Exception):
    """A question of a type the platform does not have."""

    def __init__(self, kind: str, title: str) -> None:
        self.kind, self.title = kind, title


def _blocks(text: str) -> list[_Block]:
    """Split into question blocks, dropping comments and reading `$CATEGORY:` lines."""
    blocks: list[_Block] = []
    category = ""
    current: _Block | None = None
    pending_meta: list[tuple[int, str]] = []
    pending_comments: list[str] = []
    for number, raw in enumerate(_LINES.split(text.removeprefix("\ufeff")), start=1):
        if not raw.strip():
            if current is not None:
                blocks.append(current)
            current, pending_meta, pending_comments = None, [], []
            continue
        meta = _PEIXUN.match(raw)
        if meta:
            (current.meta if current else pending_meta).append((number, meta.group(1)))
            continue
        if raw.lstrip().startswith("//"):
            (current.comments if current else pending_comments).append(raw)
            continue
        found = _CATEGORY.match(raw)
        if found and current is None:
            category = _category(found.group(1))
            continue
        if current is None:
            current = _Block(number, meta=pending_meta, category=category)
            current.comments = pending_comments
            pending_meta, pending_comments = [], []
        current.lines.append(raw)
    if current is not None:
        blocks.append(current)
    return blocks


def _category(raw: str) -> str:
    name = raw.strip()
    name = re.sub(r"^\$[a-z0-9]+\$/", "", name)
    return name.removeprefix("top/").strip()


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split a peixun comment value on `sep` not preceded by a backslash, then unescape."""
    parts, buf, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(ch + text[i + 1])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _meta_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text).strip()


def _meta_escape(text: str) -> str:
    out = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return out.replace("\r", "").replace("\n", "\\n")


_META_FIELDS = {"出处": "source_ref", "难度": "difficulty", "标签": "tags", "依据": "evidence"}


def _read_meta(entries: list[tuple[int, str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for _line, body in entries:
        for part in _split_unescaped(body, ";"):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in _META_FIELDS:
                known = "、".join(_META_FIELDS)
                raise _Bad(f"peixun 注释里的“{part.strip()}”无法识别（可写的项：{known}）")
            attr = _META_FIELDS[name]
            if attr == "tags":
                tags = [_meta_unescape(t) for t in _split_unescaped(value, ",")]
                values[attr] = tuple(t for t in tags if t)
            elif attr == "difficulty":
                try:
                    values[attr] = int(_meta_unescape(value))
                except ValueError:
                    raise _Bad(f"peixun 注释里的难度“{value.strip()}”不是整数") from None
            else:
                values[attr] = _meta_unescape(value)
    return values


def _answers(area: str, fmt: str) -> tuple[str, list[_Answer]]:
    """Split a protected answer area (general feedback removed) into answers."""
    pieces = re.split(r"([~=])", area)
    lead = pieces[0]
    if lead.strip():
        raise _Bad(f"答案“{_clean(lead, fmt)}”前面缺少“=”或“~”")
    answers = []
    for marker, body in zip(pieces[1::2], pieces[2::2], strict=True):
        weight = 100.0 if marker == "=" else 0.0
        found = _WEIGHT.match(body)
        if found:
            weight = float(found.group(1))
            body = body[found.end() :]
            if not -100 <= weight <= 100:
                raise _Bad(f"分值 {found.group(1)}% 超出 -100%～100%")
        text, _, feedback = body.partition("#")
        answers.append(_Answer(marker, weight, _text(text, fmt), _text(feedback, fmt)))
    return lead, answers


def _read_question(block: _Block) -> tuple[str, dict[str, Any]]:
    """Read one block; returns (title, Question fields) or raises _Bad / _Skip."""
    body = _protect("\n".join(block.lines)).strip()
    title = ""
    if body.startswith("::"):
        end = body.find("::", 2)
        if end < 0:
            raise _Bad("题目名称缺少结尾的“::”")
        title = _clean(body[2:end], "plain")
        body = body[end + 2 :]
    fmt = "moodle"
    found = _FORMAT.match(body)
    if found:
        fmt = found.group(1).lower()
        body = body[found.end() :]
    opened = body.find("{")
    if opened < 0:
        if "}" in body:
            raise _Bad("有“}”却没有对应的“{”")
        raise _Skip("description", title)
    closed = body.find("}", opened)
    if closed < 0:
        raise _Bad("答案的大括号“{”没有闭合（缺少“}”）")
    area = body[opened + 1 : closed]
    if "{" in area:
        raise _Bad("答案的大括号里又出现了“{”（要写字面的“{”请用“\\{”）")
    before, after = body[:opened], body[closed + 1 :]
    if "{" in after or "}" in after:
        raise _Bad("一道题只能有一组大括号答案（字面的大括号请写成“\\{”“\\}”）")

    area, _, general = area.partition("####")
    explanation = [_text(general, fmt)] if general.strip() else []
    head = area.strip()
    if not head:
        raise _Skip("essay", title)
    if head.startswith("#"):
        raise _Skip("numerical", title)

    def stem(blank: bool) -> str:
        if blank or after.strip():
            text = _clean(before + "\ue100" + after, fmt).replace("\ue100", _BLANK_MARK)
        else:
            text = _clean(before, fmt)
        if not text.replace(_BLANK_MARK, "").strip():
            raise _Bad("题干为空")
        return text

    fields: dict[str, Any] = {}
    tf_word, *tf_feedback = head.split("#")
    if tf_word.strip().upper() in _TRUE_FALSE:
        labels = ("答错时", "答对时")
        for label, text in zip(labels, tf_feedback, strict=False):
            if text.strip():
                explanation.append(f"{label}：{_text(text, fmt)}")
        fields = {"type": "true_false", "stem": stem(False)}
        fields["answer"] = (_TRUE_FALSE[tf_word.strip().upper()],)
    elif "~" in head:
        fields = _choice(head, fmt, explanation)
        fields["stem"] = stem(False)
    elif "->" in head:
        raise _Skip("matching", title)
    elif "=" in head:
        _lead, answers = _answers(head, fmt)
        accepted = [a for a in answers if a.weight == 100]
        if not accepted:
            raise _Bad("填空题没有满分（100%）的答案")
        if any(not a.text for a in accepted):
            raise _Bad("有空白的答案")
        explanation += [f"“{a.text}”：{a.feedback}" for a in accepted if a.feedback]
        fields = {"type": "fill_blank", "stem": stem(True)}
        fields["blanks"] = (tuple(a.text for a in accepted),)
    else:
        raise _Bad("大括号里的答案无法识别（应为 =正确 ~错误、T/F 或 =答案）")
    fields["explanation"] = "\n".join(explanation)
    return title, fields


def _choice(head: str, fmt: str, explanation: list[str]) -> dict[str, Any]:
    _lead, answers = _answers(head, fmt)
    if len(answers) < 2:
        raise _Bad("选择题至少要有两个选项")
    if len(answers) > len(LETTERS):
        raise _Bad(f"选择题最多 {len(LETTERS)} 个选项，这里有 {len(answers)} 个")
    for letter, option in zip(LETTERS, answers, strict=False):
        if not option.text:
            raise _Bad(f"选项 {letter} 是空的")
    if any(a.marker == "=" for a in answers):
        right = [i for i, a in enumerate(answers) if a.weight == 100]
        if not right:
            raise _Bad("选择题没有满分（100%）的正确答案")
        if len(right) > 1:
            raise _Bad(
                "单选题（用“=”标出正确答案）有不止一个满分答案；多选题请用“~%50%”这样的分值标出"
            )
        kind = "single"
    else:
        right = [i for i, a in enumerate(answers) if a.weight > 0]
        if not right:
            raise _Bad("选择题没有正确答案（用“=”或正分值“~%50%”标出）")
        kind = "multiple"
    explanation += [f"{LETTERS[i]}：{a.feedback}" for i, a in enumerate(answers) if a.feedback]
    return {
        "type": kind,
        "options": tuple(a.text for a in answers),
        "answer": tuple(LETTERS[i] for i in right),
    }


def parse_gift(text: str) -> ParseResult:
    """Read a GIFT file; every question is imported, skipped or reported with its line."""
    blocks = _blocks(text)
    problems: list[Problem] = []
    read: list[tuple[_Block, str | None, dict[str, Any]]] = []
    skipped: list[Skipped] = []
    for block in blocks:
        where = f"第 {block.line} 行："
        try:
            meta = _read_meta(block.meta)
            title, fields = _read_question(block)
        except _Bad as bad:
            problems.append(Problem(block.line, f"{where}{bad}。"))
            continue
        except _Skip as skip:
            named = f"“{skip.title}”" if skip.title else ""
            reason = f"{where}{_TYPE_NAMES[skip.kind]}{named}，本平台没有这种题型，已跳过。"
            skipped.append(Skipped(block.line, reason))
            continue
        tags: tuple[str, ...] = tuple(meta.pop("tags", ()))
        if block.category and f"category:{block.category}" not in tags:
            tags = (f"category:{block.category}", *tags)
        tags += tuple(t for t in dict.fromkeys(block.moodle_tags()) if t not in tags)
        ident = block.moodle_id()
        wanted: str | None = None  # the key the question names itself
        if _ID_KEY.fullmatch(ident):
            wanted = ident
        elif SAFE_SLUG.fullmatch(title):
            wanted = title
        read.append((block, wanted, {**fields, **meta, "tags": tags}))

    keys: dict[str, int] = {}
    for block, wanted, _fields in read:
        if wanted is None:
            continue
        if wanted in keys:
            what = "Moodle 的 ID" if wanted == block.moodle_id() else "题目名称"
            message = f"第 {block.line} 行：{what}“{wanted}”与第 {keys[wanted]} 行的重复。"
            problems.append(Problem(block.line, message))
        else:
            keys[wanted] = block.line
    questions: list[Question] = []
    for number, (block, wanted, fields) in enumerate(read, start=1):
        key = wanted or f"gift-{number:03d}"
        if wanted is None:
            suffix = 1
            while key in keys:
                key, suffix = f"gift-{number:03d}-{suffix}", suffix + 1
            keys[key] = block.line
        questions.append(Question(key=key, line=block.line, **fields).as_read())
    problems.sort(key=lambda p: p.line or 0)
    return ParseResult(tuple(questions), tuple(problems), tuple(skipped))


# --- writing -------------------------------------------------------------------------------


def _escape(text: str) -> str:
    out = re.sub(r"([\\~=#{}:])", r"\\\1", text)
    return out.replace("\r", "").replace("\n", "\\n")


def gift_export_problem(question: Question) -> str | None:
    """Why `question` cannot be written as GIFT without losing something, or None."""
    name = f"题目“{question.key}”"
    if question.type not in QUESTION_TYPES:
        return f"{name}的题型“{question.type}”无法写成 GIFT"
    if not question.stem.strip():
        return f"{name}的题干为空"
    if question.type in ("single", "multiple"):
        n = len(question.options)
        if not 2 <= n <= len(LETTERS) or any(not o.strip() for o in question.options):
            return f"{name}的选项应为 2～{len(LETTERS)} 个且不能为空"
        if any(a not in LETTERS[:n] for a in question.answer) or len(set(question.answer)) != len(
            question.answer
        ):
            return f"{name}的答案不在选项之中"
        if question.type == "single" and len(question.answer) != 1:
            return f"{name}是单选题，却不是恰好一个答案"
        if question.type == "multiple" and not question.answer:
            return f"{name}是多选题，却没有答案"
    elif question.type == "true_false":
        if question.answer not in ((TRUE_FALSE[0],), (TRUE_FALSE[1],)):
            return f"{name}是判断题，答案应为“对”或“错”"
    else:
        if blank_count(question.stem) != 1 or len(question.blanks) != 1:
            return f"{name}有 {blank_count(question.stem)} 个空，GIFT 每题只能有一个空"
        if not BLANK.sub("", question.stem).strip():
            return f"{name}的题干除了空没有别的文字"
        if not question.blanks[0] or any(not a.strip() for a in question.blanks[0]):
            return f"{name}的空缺少可接受的答案"
        if any("->" in a for a in question.blanks[0]):
            return f"{name}的答案含“->”，GIFT 会把它当作配对题"
    return None


def _as_written(text: str, plain: bool) -> str:
    """`text` with the question's format in front when it itself starts like a format."""
    return ("[plain]" if plain else "[moodle]") + text if _FORMAT.match(text) else text


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _render_one(q: Question) -> str:
    lines: list[str] = []
    meta = []
    if q.source_ref:
        meta.append(f"出处={_meta_escape(q.source_ref)}")
    if q.difficulty is not None:
        meta.append(f"难度={q.difficulty}")
    if q.tags:
        meta.append("标签=" + ",".join(_meta_escape(t) for t in q.tags))
    if q.evidence:
        meta.append(f"依据={_meta_escape(q.evidence)}")
    if meta:
        lines.append("// peixun: " + "; ".join(meta))
    texts = [q.stem, *q.options, q.explanation, *(a for b in q.blanks for a in b)]
    plain = any(ch in t for t in texts for ch in "<>&") or q.stem.startswith(("[", "/"))
    head = (f"::{_escape(q.key)}::" if q.key else "") + ("[plain]" if plain else "")
    general = [f"####{_escape(_as_written(q.explanation, plain))}"] if q.explanation else []
    if q.type in ("single", "multiple"):
        right = set(q.answer)
        share = 100 / len(right)
        answers = []
        for letter, option in zip(LETTERS, q.options, strict=False):
            text = _escape(_as_written(option, plain))
            if q.type == "multiple":
                answers.append(f"~%{_weight(share if letter in right else -100)}%{text}")
            elif _WEIGHT.match(option):
                answers.append(f"{'=%100%' if letter in right else '~%0%'}{text}")
            else:
                answers.append(f"{'=' if letter in right else '~'}{text}")
        lines += [f"{head}{_escape(q.stem)}{{", *answers, *general, "}"]
    elif q.type == "true_false":
        mark = "T" if q.answer == (TRUE_FALSE[0],) else "F"
        if general:
            lines += [f"{head}{_escape(q.stem)}{{{mark}", *general, "}"]
        else:
            lines.append(f"{head}{_escape(q.stem)}{{{mark}}}")
    else:
        before, after = re.split(r"_{3,}", q.stem, maxsplit=1)
        answers = [
            f"={'%100%' if _WEIGHT.match(a) else ''}{_escape(_as_written(a, plain))}"
            for a in q.blanks[0]
        ]
        lines += [f"{head}{_escape(before)}{{", *answers, *general, f"}}{_escape(after)}"]
    return "\n".join(lines)


def render_gift(questions: Iterable[Question]) -> str:
    """Write questions as GIFT; raises BankFormatError naming any GIFT cannot hold."""
    questions = list(questions)
    refused = [reason for q in questions if (reason := gift_export_problem(q))]
    if refused:
        raise BankFormatError("以下题目无法导出为 GIFT：" + "；".join(refused) + "。")
    return "".join(_render_one(q) + "\n\n" for q in questions)
