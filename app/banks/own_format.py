"""The project's own question-bank format (pure: text in, data out).

One Markdown-like file per course module in `question_banks/`: YAML front matter, then one
block per question that starts with a `## 题号 题型` heading and holds one field a line::

    ---
    slug: xuexi-daodu
    title: 学习导读
    module: xuexi-daodu
    ---

    ## xuexi-daodu-001 单选
    题干：中国工会第十八次全国代表大会于哪一年召开？
    A. 2022年
    B. 2023年
    答案：B
    解析：通知开头写明……
    出处：导语
    难度：1
    标签：大会、时间
    依据：2023年10月9日至12日

Rules (the full specification, in Chinese, is `question_banks/README.md`):

- Fields are `名称：内容` (or `名称:内容`) at the start of a line; options are `A.`/`A、`/`A．`.
- A value continues on the following lines that are indented (spaces, tab or full-width
  space); blank lines between indented lines belong to the value.
- Whitespace at both ends of a line is not significant; a `\\` at the very start or end of
  a line's content protects it (and a literal `\\` there is written twice). A line that is
  only `\\` is an empty line that counts (used at the ends of a value).
- 判断 answers are 对/错; 多选 answers are letters (`ABD`); 填空 answers separate blanks by
  `；` (or `;`, or a new indented line) and alternatives by `|`.
Every problem is reported with its line; a question with problems is left out of
`questions` and the file is then not `ok`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import yaml

from app.banks.model import (
    LETTERS,
    QUESTION_TYPES,
    TRUE_FALSE,
    ParseResult,
    Problem,
    Question,
    blank_count,
)
from app.lib import yaml_text

__all__ = ["FIELDS", "BankHeader", "parse_bank", "render_bank"]

# Field names in the order they are written.
FIELDS = ("题干", "答案", "解析", "出处", "难度", "标签", "依据")
_TYPE_NAMES = {label: name for name, label in QUESTION_TYPES.items()}
_TYPE_NAMES.update({f"{label}题": name for name, label in QUESTION_TYPES.items()})
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEADING = re.compile(r"^##(?:\s+(?P<rest>.*))?$")
# A field: a short name without spaces or punctuation, then a colon.
_FIELD = re.compile(r"^(?P<name>[^\s:：.、．()（）\\]{1,10})\s*[:：](?P<value>.*)$")
# Any Latin capital is taken for an option letter so that options beyond H are reported.
_OPTION = re.compile(r"^(?P<letter>[A-ZＡ-Ｚ])\s*[.、．)）](?P<value>.*)$")
_LETTER_SEPARATORS = re.compile(r"[\s,，、;；]+")
_BLANK_SEPARATORS = re.compile(r"[；;\n]")
_TAG_SEPARATORS = re.compile(r"[,，、\n]")
_INDENT = "  "
_HEADER_KEYS = ("slug", "title", "module")


@dataclass(frozen=True)
class BankHeader:
    slug: str
    title: str
    module: str


# ---------------------------------------------------------------------------- rendering


def _escape(line: str) -> str:
    """One line of a value as written: `\\` guards whitespace or `\\` at either end."""
    if line and (line[0].isspace() or line[0] == "\\"):
        line = "\\" + line
    if line and (line[-1].isspace() or line[-1] == "\\"):
        line += "\\"
    return line


def _value_lines(value: str) -> list[str]:
    """The written lines of a value: the first follows the field name, the rest indented."""
    lines = value.split("\n")
    out = []
    for index, line in enumerate(lines):
        # An empty line at an end of the value is written as "\\" so that it shows.
        at_end = index in (0, len(lines) - 1)
        text = "\\" if line == "" and at_end else _escape(line)
        out.append(text if index == 0 or not text else _INDENT + text)
    return out


def _field(name: str, value: str) -> list[str]:
    lines = _value_lines(value)
    return [f"{name}：{lines[0]}", *lines[1:]]


def _render_question(question: Question) -> list[str]:
    label = QUESTION_TYPES.get(question.type)
    if label is None:
        raise ValueError(f"未知题型：{question.type}")
    if len(question.options) > len(LETTERS):
        raise ValueError(f"选项最多 {len(LETTERS)} 个：{question.key}")
    parts = [f"## {question.key} {label}", *_field("题干", question.stem)]
    for letter, option in zip(LETTERS, question.options, strict=False):  # checked above
        lines = _value_lines(option)
        parts += [f"{letter}. {lines[0]}", *lines[1:]]
    if question.type == "fill_blank":
        answer = "；".join("|".join(group) for group in question.blanks)
    else:
        answer = "".join(question.answer)
    parts += _field("答案", answer)
    if question.explanation:
        parts += _field("解析", question.explanation)
    if question.source_ref:
        parts += _field("出处", question.source_ref)
    if question.difficulty is not None:
        parts.append(f"难度：{question.difficulty}")
    if question.tags:
        parts += _field("标签", "、".join(question.tags))
    if question.evidence:
        parts += _field("依据", question.evidence)
    return parts


def render_bank(header: BankHeader, questions: Sequence[Question]) -> str:
    """The file text of a bank; `parse_bank(render_bank(h, qs))` gives back `h` and `qs`."""
    front = {"slug": header.slug, "title": header.title, "module": header.module}
    parts = ["---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(), "---"]
    for question in questions:
        parts += ["", *_render_question(question)]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------ parsing


@dataclass
class _Value:
    """A field's or option's text as read, line by line."""

    line: int
    # (text, counts): `counts` is False for blank lines, which are dropped at the ends.
    lines: list[tuple[str, bool]] = field(default_factory=list)
    pending_blanks: int = 0

    def add(self, raw: str) -> None:
        self.lines += [("", False)] * self.pending_blanks
        self.pending_blanks = 0
        self.lines.append(_unescape(raw))

    @property
    def text(self) -> str:
        lines = list(self.lines)
        while lines and not lines[0][1]:
            lines.pop(0)
        while lines and not lines[-1][1]:
            lines.pop()
        return "\n".join(text for text, _counts in lines)


def _unescape(raw: str) -> tuple[str, bool]:
    text = raw.strip()
    counts = bool(text)
    if text.startswith("\\"):
        text = text[1:]
    if text.endswith("\\"):
        text = text[:-1]
    return text, counts


@dataclass
class _Block:
    line: int
    key: str | None
    type: str | None
    fields: dict[str, _Value] = field(default_factory=dict)
    options: list[tuple[str, _Value]] = field(default_factory=list)
    broken: bool = False  # a problem was found while reading its lines


def _half_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def parse_bank(text: str, filename: str = "") -> tuple[BankHeader, ParseResult]:
    """Read a bank file. Every problem is listed with its line; nothing is dropped silently."""
    problems: list[Problem] = []

    def problem(line: int | None, message: str) -> None:
        prefix = f"第 {line} 行：" if line is not None else ""
        problems.append(Problem(line, prefix + message))

    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header, body_start = _front_matter(lines, problem)
    blocks = _blocks(lines, body_start, problem)

    questions: list[Question] = []
    seen: dict[str, int] = {}
    for block in blocks:
        before = len(problems)
        if block.key is not None:
            if block.key in seen:
                problem(block.line, f"题号“{block.key}”重复（第 {seen[block.key]} 行已用过）。")
            else:
                seen[block.key] = block.line
        question = _question(block, problem)
        if question is not None and len(problems) == before and not block.broken:
            questions.append(question)
    if not blocks:
        where = f"“{filename}”" if filename else "文件"
        problem(None, f"{where}中没有题目（每道题以“## 题号 题型”开头）。")
    return header, ParseResult(tuple(questions), tuple(problems))


def _front_matter(lines: list[str], problem: Callable) -> tuple[BankHeader, int]:
    """The header and the index of the first body line."""
    empty = BankHeader("", "", "")
    if not lines or lines[0].strip() != "---":
        problem(1, "文件应以“---”开头的文件头开始（含 slug、title、module）。")
        return empty, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        problem(1, "文件头没有以“---”结束。")
        return empty, len(lines)
    try:
        front = yaml_text.load("\n".join(lines[1:end]))
    except yaml_text.BadValue as error:
        problem(error.line + 1, f"文件头中的{error.message}")  # the header starts on line 2
        return empty, end + 1
    except yaml.YAMLError as error:  # TooDeep and TooLarge have no problem_mark: line 1
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem(line, "文件头不是有效的“键: 值”格式。")
        return empty, end + 1
    if front is None:
        front = {}
    if not isinstance(front, dict):
        problem(2, "文件头应为“键: 值”的形式（slug、title、module）。")
        return empty, end + 1

    def line_of(key: str) -> int:
        for index in range(1, end):
            if lines[index].startswith(f"{key}:"):
                return index + 1
        return 1

    for key in front:
        if key not in _HEADER_KEYS:
            problem(line_of(str(key)), f"文件头中有未知的键“{key}”（只允许 slug、title、module）。")
    values = {key: front.get(key) for key in _HEADER_KEYS}
    for key, what in (("slug", "题库标识"), ("module", "所属课程模块")):
        value = values[key]
        if value is None:
            problem(1, f"文件头缺少 {key}（{what}）。")
        elif not isinstance(value, str) or not _SLUG.match(value):
            problem(
                line_of(key),
                f"文件头的 {key} 应由小写字母、数字和“-”组成，现在是“{value}”。",
            )
    title = values["title"]
    if title is None or not str(title).strip():
        problem(line_of("title") if title is not None else 1, "文件头缺少 title（题库名称）。")
    header = BankHeader(
        slug=str(values["slug"] or ""),
        title=str(title or "").strip(),
        module=str(values["module"] or ""),
    )
    return header, end + 1


def _blocks(lines: list[str], start: int, problem: Callable) -> list[_Block]:
    blocks: list[_Block] = []
    block: _Block | None = None
    value: _Value | None = None  # the field or option that indented lines continue

    def fail(number: int, message: str) -> None:
        problem(number, message)
        if block is not None:
            block.broken = True

    for index in range(start, len(lines)):
        number = index + 1
        raw = lines[index]
        if not raw.strip():
            if value is not None:
                value.pending_blanks += 1
            continue
        if raw[0].isspace():
            if value is None:
                fail(number, "缩进的续行前面没有可接续的字段；字段应顶格书写。")
            else:
                value.add(raw)
            continue
        value = None
        if heading := _HEADING.match(raw):
            block = _heading(heading["rest"] or "", number, problem)
            blocks.append(block)
            continue
        if block is None:
            fail(number, "题目之前不能有其他内容；每道题以“## 题号 题型”开头。")
            continue
        if option := _OPTION.match(raw):
            value = _Value(number)
            value.add(option["value"])
            block.options.append((_half_width(option["letter"]), value))
        elif found := _FIELD.match(raw):
            name = found["name"]
            value = _Value(number)
            value.add(found["value"])
            if name not in FIELDS:
                fail(number, f"未知的字段“{name}”（可用字段：{'、'.join(FIELDS)}）。")
            elif name in block.fields:
                earlier = block.fields[name].line
                fail(number, f"字段“{name}”重复（第 {earlier} 行已有）。")
            else:
                block.fields[name] = value
        else:
            problem(
                number,
                "无法识别这一行：字段应写成“名称：内容”，选项写成“A. 内容”，"
                "多行内容的后续行要缩进。",
            )
    return blocks


def _heading(rest: str, number: int, problem: Callable) -> _Block:
    words = rest.split()
    if len(words) != 2:
        problem(number, "题目标题应写成“## 题号 题型”，例如“## xuexi-daodu-001 单选”。")
        return _Block(number, None, None)
    key: str | None
    key, label = words
    if not _KEY.match(key):
        problem(number, f"题号“{key}”只能由字母、数字和“-”“_”“.”组成。")
        key = None
    kind = _TYPE_NAMES.get(label)
    if kind is None:
        problem(number, f"未知题型“{label}”，应为单选、多选、判断、填空之一。")
    return _Block(number, key, kind)


def _question(block: _Block, problem: Callable) -> Question | None:
    """Check a block; report its problems and return its question (None if it can't be built)."""
    fields = {name: value.text for name, value in block.fields.items()}
    stem = fields.get("题干", "")
    if not stem.strip():
        problem(block.line, "缺少题干（“题干：……”）。")
    difficulty = None
    if "难度" in block.fields:
        written = _half_width(fields["难度"]).strip()
        if written in ("1", "2", "3"):
            difficulty = int(written)
        else:
            problem(block.fields["难度"].line, f"难度应为 1、2 或 3，现在是“{fields['难度']}”。")
    options = _options(block, problem)
    answer_value = block.fields.get("答案")
    if answer_value is None or not answer_value.text.strip():
        problem(answer_value.line if answer_value else block.line, "缺少答案（“答案：……”）。")
        answer_value = None
    if block.type is None or block.key is None:
        return None
    answer: tuple[str, ...] = ()
    blanks: tuple[tuple[str, ...], ...] = ()
    label = QUESTION_TYPES[block.type]
    if block.type in ("single", "multiple"):
        if answer_value is not None:
            answer = _letters(answer_value, block, options, problem)
    else:
        if block.options:
            problem(block.options[0][1].line, f"{label}题不应有选项。")
        if answer_value is not None and block.type == "true_false":
            written = answer_value.text.strip()
            if written not in TRUE_FALSE:
                problem(answer_value.line, f"判断题的答案应为“对”或“错”，现在是“{written}”。")
            answer = (written,)
        elif answer_value is not None:
            blanks = _blanks(answer_value, stem, problem)
    tags = tuple(
        tag.strip() for tag in _TAG_SEPARATORS.split(fields.get("标签", "")) if tag.strip()
    )
    return Question(
        key=block.key,
        type=block.type,
        stem=stem,
        options=tuple(options),
        answer=answer,
        blanks=blanks,
        explanation=fields.get("解析", ""),
        source_ref=fields.get("出处", ""),
        difficulty=difficulty,
        tags=tags,
        evidence=fields.get("依据", ""),
        line=block.line,
    ).as_read()


def _options(block: _Block, problem: Callable) -> list[str]:
    options: list[str] = []
    for position, (letter, value) in enumerate(block.options):
        if letter not in LETTERS:
            problem(value.line, f"选项最多到 {LETTERS[-1]}（8 个），“{letter}”超出范围。")
            continue
        if position >= len(LETTERS) or letter != LETTERS[position]:
            expected = LETTERS[position] if position < len(LETTERS) else "（无）"
            problem(value.line, f"选项顺序有误：此处应为 {expected}，实为 {letter}。")
        text = value.text
        if not text.strip():
            problem(value.line, f"选项 {letter} 没有内容。")
        options.append(text)
    if block.type in ("single", "multiple") and len(block.options) < 2:
        label = QUESTION_TYPES[block.type]
        problem(block.line, f"{label}题至少要有两个选项，现在有 {len(block.options)} 个。")
    return options


def _letters(value: _Value, block: _Block, options: list[str], problem: Callable):
    written = value.text.strip()
    letters = _LETTER_SEPARATORS.sub("", _half_width(written))
    given = LETTERS[: len(options)]
    shown = f"A–{given[-1]}" if given else "无"
    for letter in dict.fromkeys(letters):
        if letter not in given:
            problem(value.line, f"答案中的“{letter}”不在选项中（现有选项：{shown}）。")
    if len(set(letters)) != len(letters):
        problem(value.line, f"答案“{written}”中有重复的字母。")
    count = len(set(letters))
    if block.type == "single" and count != 1:
        problem(value.line, f"单选题必须有且只有一个答案，现在是“{written}”。")
    if block.type == "multiple" and count == 0:
        problem(value.line, f"多选题至少要有一个答案，现在是“{written}”。")
    return tuple(sorted(set(letters)))


def _blanks(value: _Value, stem: str, problem: Callable) -> tuple[tuple[str, ...], ...]:
    groups = []
    for number, group in enumerate(_BLANK_SEPARATORS.split(value.text), start=1):
        alternatives = tuple(text.strip() for text in group.split("|"))
        if not all(alternatives):
            problem(value.line, f"第 {number} 个空的答案中有空白项（检查“|”和“；”）。")
        groups.append(alternatives)
    expected = blank_count(stem)
    if expected == 0:
        problem(value.line, f"填空题的题干中没有空（用“{'_' * 3}”标出每个空）。")
    elif expected != len(groups):
        problem(
            value.line,
            f"题干中有 {expected} 个空，答案却有 {len(groups)} 组（各空的答案用“；”分隔）。",
        )
    return tuple(groups)
