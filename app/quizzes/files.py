"""Quiz definitions in files beside the banks, `question_banks/quizzes/*.yaml` (pure: text
in, data out)::

    slug: xuexi-daodu-quiz        # lowercase letters, digits and -
    title: 学习导读 单元测验
    module: xuexi-daodu           # optional: the course module the quiz belongs to
    time_limit_minutes: 20        # optional; 0 or absent = untimed
    pass_mark: 80                 # out of full_marks
    full_marks: 100               # default 100
    max_attempts: 3               # 0 or absent = unlimited
    counted_attempt: highest      # highest | latest | first
    review: answers               # score_only | answers | after_close
    shuffle_questions: true
    shuffle_options: true
    partial_credit: false
    opens_at: 2023-12-01 08:00    # optional, Beijing time, kept naive
    closes_at: 2023-12-31 18:00
    rules:
      - type: 单选                # 单选/多选/判断/填空 or single/multiple/true_false/fill_blank
        count: 5
        points: 4
        banks: [xuexi-daodu]      # optional
        source_refs: [导语, 一]   # optional
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.banks.model import QUESTION_TYPES
from app.lib import yaml_text
from app.quizzes.core import COUNTED_POLICIES, REVIEW_POLICIES, DrawRule

MAX_CHARACTERS = 100_000
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WHEN = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_TYPE_NAMES = {
    **{name: name for name in QUESTION_TYPES},
    **{label: name for name, label in QUESTION_TYPES.items()},
    **{label + "题": name for name, label in QUESTION_TYPES.items()},
}
_TAG = "tag:yaml.org,2002:"
# Characters that would break a one-line value (line breaks, controls).
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LABELS = {
    "slug": "slug（测验标识）",
    "title": "title（标题）",
    "module": "module（所属课程模块）",
    "time_limit_minutes": "time_limit_minutes（限时分钟数）",
    "pass_mark": "pass_mark（及格分）",
    "full_marks": "full_marks（满分）",
    "max_attempts": "max_attempts（最多作答次数）",
    "counted_attempt": "counted_attempt（计分方式）",
    "review": "review（交卷后显示）",
    "shuffle_questions": "shuffle_questions（打乱题目顺序）",
    "shuffle_options": "shuffle_options（打乱选项顺序）",
    "partial_credit": "partial_credit（多选题部分得分）",
    "opens_at": "opens_at（开始时间）",
    "closes_at": "closes_at（结束时间）",
    "rules": "rules（抽题规则）",
    "type": "type（题型）",
    "count": "count（题数）",
    "points": "points（每题分值）",
    "banks": "banks（题库）",
    "source_refs": "source_refs（出处）",
}
_REQUIRED = ("slug", "title", "pass_mark", "rules")
_RULE_REQUIRED = ("type", "count", "points")


class QuizFileError(ValueError):
    """A quiz file that can't be used; `problems` are Chinese, each starting with
    “第 N 行：” when the line is known."""

    def __init__(self, problems: tuple[str, ...], filename: str = "") -> None:
        self.problems = tuple(problems)
        self.filename = filename
        super().__init__(f"{filename or '测验文件'}有误：\n" + "\n".join(self.problems))


@dataclass(frozen=True)
class QuizSpec:
    slug: str
    title: str
    pass_mark: float
    rules: tuple[DrawRule, ...]
    module: str = ""
    time_limit_minutes: int = 0
    full_marks: float = 100
    max_attempts: int = 0
    counted_attempt: str = "highest"
    review: str = "answers"
    shuffle_questions: bool = True
    shuffle_options: bool = True
    partial_credit: bool = False
    opens_at: datetime | None = None  # Beijing time, naive; the caller localises
    closes_at: datetime | None = None


class _Invalid(Exception):
    """One value that can't be used; the message is Chinese, without the line."""


class _Problems(Exception):
    """Several complete problem lines at once (from the rules)."""


# ------------------------------------------------------------------------------ parsing


def parse_quiz_file(text: str, filename: str = "") -> QuizSpec:
    """The quiz a file defines; raises QuizFileError listing every problem found."""
    problems: list[str] = []
    root = _compose(text, problems)
    values: dict[str, Any] = {}
    if root is not None:
        values, lines = _read_mapping(root, _READERS, problems, 0)
        problems += [f"缺少 {_LABELS[key]}。" for key in _REQUIRED if key not in lines]
        problems += _cross_check(values, lines)
    if problems:
        raise QuizFileError(tuple(problems), filename)
    return QuizSpec(**values)


def _compose(text: str, problems: list[str]) -> MappingNode | None:
    """The file's YAML node tree, or None with the reason added to `problems`."""
    if len(text) > MAX_CHARACTERS:
        problems.append(f"文件太大（超过 {MAX_CHARACTERS} 字符）。")
        return None
    try:
        root = yaml_text.compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f"第 {mark.line + 1} 行：" if mark else ""
        problems.append(f"{line}不是有效的 YAML，请检查缩进、冒号、引号和括号。")
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        problems.append(f"第 {line} 行：含有不能使用的字符（U+{code:04X}）。")
    except yaml.YAMLError:  # yaml_text.TooDeep and TooLarge among them
        problems.append("不是有效的 YAML 文件。")
    else:
        if isinstance(root, MappingNode):
            return root
        problems.append(
            f"第 {_line(root)} 行：测验文件应为“键: 值”的形式。" if root else "文件是空的。"
        )
    return None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _read_mapping(
    node: MappingNode, readers: dict[str, Callable[[Node], Any]], problems: list[str], rule: int
) -> tuple[dict[str, Any], dict[str, int]]:
    """Each known key's value read, and the line of every key met; unknown, repeated and
    unreadable keys become problems (naming the `rule` number unless 0)."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    inside, of = (f"规则 {rule} 中", f"规则 {rule} 的") if rule else ("", "")
    for key_node, value_node in node.value:
        line = _line(key_node)
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        if key not in readers:
            known = "、".join(readers)
            problems.append(f"第 {line} 行：{inside}不认识的键“{key}”，可用的键：{known}。")
        elif key in lines:
            problems.append(f"第 {line} 行：{inside}{key} 重复出现（第 {lines[key]} 行已有）。")
        else:
            lines[key] = line
            try:
                values[key] = readers[key](value_node)
            except _Invalid as error:
                problems.append(f"第 {line} 行：{of}{_LABELS[key]}{error}")
            except _Problems as error:
                problems += error.args[0]
    return values, lines


def _rules(node: Node) -> tuple[DrawRule, ...]:
    if not isinstance(node, SequenceNode) or not node.value:
        raise _Invalid("应列出至少一条规则（每条以“- type:”开头）。")
    problems: list[str] = []
    rules = tuple(_rule(number, item, problems) for number, item in enumerate(node.value, 1))
    if problems:
        raise _Problems(problems)
    return tuple(rule for rule in rules if rule is not None)


def _rule(number: int, node: Node, problems: list[str]) -> DrawRule | None:
    """The rule a `- type: …` item defines, or None with its problems added."""
    if not isinstance(node, MappingNode):
        problems.append(f"第 {_line(node)} 行：规则 {number} 应为“键: 值”的形式。")
        return None
    before = len(problems)
    values, lines = _read_mapping(node, _RULE_READERS, problems, number)
    missing = [_LABELS[key] for key in _RULE_REQUIRED if key not in lines]
    if missing:
        problems.append(f"第 {_line(node)} 行：规则 {number} 缺少 {'、'.join(missing)}。")
    return DrawRule(**values) if len(problems) == before else None


def _numeric(node: Node) -> int | float:
    if isinstance(node, ScalarNode) and node.tag in (_TAG + "int", _TAG + "float"):
        try:
            value = yaml_text.value_of(node)
        except yaml.YAMLError:  # `!!int 0xZZ`, `!!float` with no value
            value = None
        if isinstance(value, int | float) and math.isfinite(value):
            if abs(value) > 1e12:  # also keeps float() of a huge int from overflowing
                raise _Invalid("太大。")
            return value
    raise _Invalid("应为数字。")


def _number(minimum: float, strict: bool = False) -> Callable[[Node], float]:
    """A reader of a number (as float) at least `minimum`, or above it when `strict`."""

    def read(node: Node) -> float:
        value = float(_numeric(node))
        if value < minimum or (strict and value == minimum):
            raise _Invalid(f"应{'大于' if strict else '不小于'} {minimum}。")
        return value

    return read


def _whole(minimum: int) -> Callable[[Node], int]:
    """A reader of a whole number at least `minimum`."""

    def read(node: Node) -> int:
        value = _numeric(node)
        if not isinstance(value, int):
            raise _Invalid("应为整数。")
        if value < minimum:
            raise _Invalid(f"应不小于 {minimum}。")
        return value

    return read


def _flag(node: Node) -> bool:
    if isinstance(node, ScalarNode) and node.value in ("是", "否"):
        return node.value == "是"
    if isinstance(node, ScalarNode) and node.tag == _TAG + "bool":
        try:
            return bool(yaml_text.value_of(node))
        except yaml.YAMLError:  # `!!bool maybe`
            pass
    raise _Invalid("应为 true 或 false。")


def _text(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise _Invalid("应为一行文字。")
    if node.tag == _TAG + "null":
        return ""
    if _BREAKS.search(node.value):
        raise _Invalid("应为一行文字，不能换行或含制表符等控制字符。")
    return node.value.strip()


def _required_text(node: Node) -> str:
    text = _text(node)
    if not text:
        raise _Invalid("不能为空。")
    return text


def _slug(node: Node, required: bool) -> str:
    text = _text(node)
    if (text or required) and not _SLUG.match(text):
        raise _Invalid(f"“{text}”只能由小写字母、数字和“-”组成。")
    return text


def _items(node: Node) -> list[Node]:
    """A list's items; a single value counts as a list of one."""
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, ScalarNode):
        return [] if node.tag == _TAG + "null" else [node]
    raise _Invalid("应为列表，例如 [a, b]。")


def _type(node: Node) -> str:
    text = _text(node)
    if text not in _TYPE_NAMES:
        raise _Invalid(f"“{text}”不存在，可用：{'、'.join(QUESTION_TYPES.values())}。")
    return _TYPE_NAMES[text]


def _policy(node: Node, policies: dict[str, str]) -> str:
    text = _text(node)
    by_label = {label: name for name, label in policies.items()}
    if text in policies or text in by_label:
        return by_label.get(text, text)
    choices = "、".join(f"{name}（{label}）" for name, label in policies.items())
    raise _Invalid(f"“{text}”不存在，可用：{choices}。")


def _when(node: Node) -> datetime | None:
    text = _text(node)
    if not text:
        return None
    match = _WHEN.match(text)
    try:
        if match:
            return datetime(*(int(part or 0) for part in match.groups()))
    except ValueError:
        pass
    raise _Invalid(f"“{text}”不是有效的时间，应写成“2023-12-31 18:00”。")


_READERS: dict[str, Callable[[Node], Any]] = {
    "slug": lambda node: _slug(node, required=True),
    "title": _required_text,
    "module": lambda node: _slug(node, required=False),
    "time_limit_minutes": _whole(0),
    "pass_mark": _number(0),
    "full_marks": _number(0, strict=True),
    "max_attempts": _whole(0),
    "counted_attempt": lambda node: _policy(node, COUNTED_POLICIES),
    "review": lambda node: _policy(node, REVIEW_POLICIES),
    "shuffle_questions": _flag,
    "shuffle_options": _flag,
    "partial_credit": _flag,
    "opens_at": _when,
    "closes_at": _when,
    "rules": _rules,
}
_RULE_READERS: dict[str, Callable[[Node], Any]] = {
    "type": _type,
    "count": _whole(1),
    "points": _number(0, strict=True),
    "banks": lambda node: tuple(_slug(item, required=True) for item in _items(node)),
    "source_refs": lambda node: tuple(_required_text(item) for item in _items(node)),
}


def _cross_check(values: dict[str, Any], lines: dict[str, int]) -> list[str]:
    """Problems between fields: the pass mark within full marks, closing after opening."""
    problems = []
    full_marks = values.get("full_marks", 100.0)
    marks_known = "pass_mark" in values and ("full_marks" in values or "full_marks" not in lines)
    if marks_known and values["pass_mark"] > full_marks:
        problems.append(f"第 {lines['pass_mark']} 行：及格分不能高于满分（{_plain(full_marks)}）。")
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens and closes and closes <= opens:
        problems.append(f"第 {lines['closes_at']} 行：结束时间应晚于开始时间。")
    return problems


# ---------------------------------------------------------------------------- rendering


def render_quiz_file(spec: QuizSpec) -> str:
    """The file text of a quiz; parse_quiz_file gives the same spec back."""
    lines = []
    for key in _LABELS:  # the top-level keys, in the order the module docstring shows
        value = getattr(spec, key)
        if key == "rules":
            break
        if value is not None and value != "":  # only the optional module and times are empty
            lines.append(f"{key}: {_scalar(value)}")
    lines.append("rules:")
    for rule in spec.rules:
        lines.append(f"  - type: {QUESTION_TYPES.get(rule.type, rule.type)}")
        lines += [f"    count: {rule.count}", f"    points: {_scalar(rule.points)}"]
        if rule.banks:
            lines.append(f"    banks: {_scalar(list(rule.banks))}")
        if rule.source_refs:
            lines.append(f"    source_refs: {_scalar(list(rule.source_refs))}")
    return "\n".join(lines) + "\n"


def _plain(value: float) -> int | float:
    """A whole float as an int, so files say 80 rather than 80.0."""
    return int(value) if float(value).is_integer() else value


def _scalar(value: Any) -> str:
    """One value as YAML on one line, quoted where YAML needs it."""
    if isinstance(value, float):
        value = _plain(value)
    elif isinstance(value, datetime):
        value = value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    dumped = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**9)
    return dumped.removesuffix("\n...\n").removesuffix("\n")
