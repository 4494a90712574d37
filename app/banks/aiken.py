"""Moodle's Aiken format (pure): single-choice questions only.

    工会会员大会或者会员代表大会的职权不包括下列哪一项？
    A. 选举工会委员会
    B. 审议工会工作报告
    C. 任命企业经理
    ANSWER: C

One question per block: the question text (one or more lines), then one option per line
(`A.` or `A)`), then `ANSWER: X`, which ends the question. As in Moodle, blank lines may
stand between the question text and its options and between options; a blank line followed
by new question text before any `ANSWER:` means that answer is missing. The ways Chinese
trainers write it are accepted too: `A、` `Ａ．` `Ａ）` for options, `答案：C` `正确答案：C`
`【答案】C` for the answer. An option or answer line written some other way (`A：甲`,
`答案 C`) is named with the way to write it. Every error names its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.banks.model import LETTERS, ParseResult, Problem, Question

_LINES = re.compile(r"\r\n|\r|\n")
# "A. text", "A) text", "Ａ．text", "Ａ）text"; the letter may be any Latin capital so that
# options beyond H are reported rather than taken for question text.
_OPTION = re.compile(r"^([A-ZＡ-Ｚ])\s*[.)．）、]\s*(.*)$")
_ANSWER = re.compile(
    r"^(?:(?:ANSWER|(?:正确|参考|标准)?答案)\s*[:：]|【(?:正确|参考|标准)?答案】)\s*(.*)$",
    re.IGNORECASE,
)
# Lines meant as an option or an answer but written in a way the format does not have.
_NEAR_OPTION = re.compile(r"^([A-Ha-hＡ-Ｈａ-ｈ])\s*[:：,，;；]\s*(\S.*)$")
_NEAR_ANSWER = re.compile(
    r"^(?:ANSWER|(?:正确|参考|标准)?答案)\s*([A-Ha-hＡ-Ｈａ-ｈ]{1,4})\s*$", re.IGNORECASE
)


def _half_width(text: str) -> str:
    """Full-width Latin letters to half-width (Ａ → A), upper case."""
    return "".join(
        chr(ord(ch) - 0xFEE0) if "Ａ" <= ch <= "Ｚ" or "ａ" <= ch <= "ｚ" else ch for ch in text
    ).upper()


def _near_miss(line: str) -> str | None:
    """What to write instead, for a line meant as an option or an answer line."""
    if found := _NEAR_OPTION.match(line):
        letter, text = _half_width(found.group(1)), found.group(2).strip()
        return f"选项“{line}”的写法无法识别，请写成“{letter}. {text}”或“{letter}、{text}”"
    if found := _NEAR_ANSWER.match(line):
        letter = _half_width(found.group(1))
        return f"答案行“{line}”的写法无法识别，请写成“ANSWER: {letter}”或“答案：{letter}”"
    return None


@dataclass
class _Block:
    line: int
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)  # letter, text, line
    gap: bool = False  # a blank line since the question text
    near: list[tuple[int, str]] = field(default_factory=list)  # near-miss lines: line, message


def parse_aiken(text: str) -> ParseResult:
    """Read an Aiken file; every problem is listed with its line, nothing is dropped."""
    questions: list[Question] = []
    problems: list[Problem] = []
    block: _Block | None = None

    def problem(line: int, message: str) -> None:
        problems.append(Problem(line, f"第 {line} 行：{message}"))

    def unfinished(current: _Block) -> None:
        """A block that ended without an ANSWER line."""
        if current.near:
            for line, message in current.near:
                problem(line, message)
        elif current.options:
            problem(current.line, "题目缺少 ANSWER 行（例如 ANSWER: B）")
        else:
            problem(current.line, "题目没有选项，也缺少 ANSWER 行")

    for number, raw in enumerate(_LINES.split(text.removeprefix("\ufeff")), start=1):
        line = raw.strip()
        if not line:
            if block is not None:
                block.gap = True
            continue
        answer = _ANSWER.match(line)
        option = _OPTION.match(line)
        near = None if answer or option else _near_miss(line)
        if answer:
            if block is None:
                problem(number, "ANSWER 行前没有题目")
                continue
            question = _finish(block, answer.group(1), number, problem, len(questions) + 1)
            if question is not None:
                questions.append(question)
            block = None
        elif option:
            if block is None:
                problem(number, f"选项 {_half_width(option.group(1))} 前没有题目文字")
                block = _Block(number)
            block.options.append((_half_width(option.group(1)), option.group(2).strip(), number))
        elif near and block is not None:
            block.stem.append(line)
            block.near.append((number, near))
        else:
            if block is not None and (block.options or block.gap):
                # New question text after options or a blank line: no answer came before it.
                unfinished(block)
                block = None
            if block is None:
                block = _Block(number)
            block.stem.append(line)
            if near:
                block.near.append((number, near))
    if block is not None:
        unfinished(block)
    if not questions and not problems:
        problems.append(Problem(None, "文件中没有找到任何题目"))
    problems.sort(key=lambda found: found.line or 0)
    return ParseResult(tuple(questions), tuple(problems))


def _finish(
    block: _Block, value: str, answer_line: int, problem: Callable[[int, str], None], index: int
) -> Question | None:
    """Check one complete block; report its problems and return the question if it is sound."""
    errors: list[tuple[int, str]] = []
    for position, (letter, option_text, line) in enumerate(block.options):
        if position >= len(LETTERS):
            errors.append((line, f"选项过多，最多 {len(LETTERS)} 个（A–{LETTERS[-1]}）"))
            break
        if letter != LETTERS[position]:
            errors.append((line, f"选项顺序错误：此处应为 {LETTERS[position]}，实为 {letter}"))
        if not option_text:
            errors.append((line, f"选项 {letter} 没有内容"))
    first_option = block.options[0][2] if block.options else 0
    late = [(line, message) for line, message in block.near if line > first_option]
    if len(block.options) < 2 and block.near:
        errors += block.near
    elif late:
        errors += late  # among or after the options: it would end up in the question text
    if len(block.options) < 2 and not block.near:
        count = len(block.options)
        errors.append((block.line, f"选项太少：只有 {count} 个，至少需要 2 个"))
    letters = re.sub(r"[\s,，、]+", "", _half_width(value))
    given = [letter for letter, _text, _line in block.options]
    if not letters:
        errors.append((answer_line, "ANSWER 行没有给出答案字母"))
    elif len(letters) > 1:
        errors.append((answer_line, f"答案“{value.strip()}”不是单个字母；Aiken 只支持单选题"))
    elif letters not in given:
        shown = "、".join(given) if given else "无"
        errors.append((answer_line, f"答案 {letters} 不在选项中（现有选项：{shown}）"))
    for line, message in errors:
        problem(line, message)
    if errors or not block.stem:  # a missing stem was reported at the first option
        return None
    return Question(
        key=f"aiken-{index:03d}",
        type="single",
        stem="\n".join(block.stem),
        options=tuple(text for _letter, text, _line in block.options),
        answer=(letters,),
        line=block.line,
        carried=frozenset(),  # Aiken has no place for 解析, 出处 or the other fields
    )
