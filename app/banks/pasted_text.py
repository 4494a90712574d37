"""Questions pasted from Word as Chinese trainers write them (pure).

    一、单项选择题（每题2分）
    1. 工会会员代表大会的代表由（ B ）产生。
    A. 上级指定  B. 会员选举  C. 行政任命  D. 自愿报名
    解析：……
    二、判断题
    1. 【判断题】工会小组是工会的基层组织单元。（√）
    四、填空题
    1. 工会会员大会每______至少召开一次。
    答案：年

- A question starts at a numbered stem (`1.`, `1、`, `1．`, `1)`, `（1）`) or at a type
  marker (【单选题】, （多选题）) before or after the number.
- A section heading (`一、单项选择题`, `二、多项选择题（每题2分）`, `三、判断题`, `四、填空题`)
  sets the type of the questions below it; a marker on a stem overrides it. Questions under
  a heading or marker of a type the platform does not have (简答题, 论述题…) are skipped
  with their line.
- Options `A.` `A、` `A．` `A)` `A）`, one per line or several on a line.
- The answer comes from `答案：` (`B`, `ABD`, `对`/`错`/`正确`/`错误`/`√`/`×`; for
  fill-in-the-blank `甲；乙`, alternatives of one blank separated by `/`) or from brackets in
  the stem (`（ B ）`, `（ABD）`, `（√）`), which are then emptied to `（ ）`. For 填空, blanks
  are underlines or empty brackets (answers in the `答案：` line), or, with no `答案：`
  line, brackets holding the answers (`（维护）`); each blank becomes `___`.
- `解析：` runs until the next question, heading or label; `出处：` gives `source_ref`.
- Without a type: options and one answer → single, two or more → multiple; no options and a
  对/错 answer → true/false; no options, blanks in the stem and an answer → fill-in-the-blank.

Every problem is reported with its line; a stem without an answer is a problem, never
dropped. Text before the first question of a section (titles, instructions) is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.banks.model import LETTERS, ParseResult, Problem, Question, Skipped, blank_count

_LINES = re.compile(r"\r\n|\r|\n")
_INVISIBLE = re.compile(r"[\x00\u200b\u200c\u200d\u2060\ufeff]")

_CN_NUMERAL = "一二三四五六七八九十百"
_HEADING = re.compile(
    rf"^(?:第\s*)?[{_CN_NUMERAL}]+\s*(?:部分|大题)?\s*(?:[、.．:：]|\s)\s*(?P<label>.+)$"
)
_NOTE = re.compile(r"[（(][^（）()]*[)）]")
_BARE_HEADING = re.compile(r"^(?:单项选择|多项选择|不定项选择|单选|多选|选择|判断|是非|填空)题?$")
_MARKER = re.compile(r"^[【\[（(]\s*(?P<label>[^】\]（）()]{1,12}?)\s*[】\]）)]\s*")
_NUMBER = re.compile(
    r"^(?:(?P<n1>\d{1,4})\s*(?:[.．](?!\d)|[、)）])|[（(]\s*(?P<n2>\d{1,4})\s*[)）])\s*"
)
# "1．2023年……": a question number followed at once by a stem that begins with a number
# (not "1.1 节" or "1.2.3"); "2.5倍" is read this way only where a new question fits.
_NUMBER_THEN_DIGITS = re.compile(r"^(?P<n1>\d{1,4})(?P<dot>[.．])(?=\d+[^\d.．\s])")
_SENTENCE_END = ("。", "？", "?", "！", "!", "）", ")", "；", ";")
_SCORE = re.compile(r"^[（(]\s*\d+(?:\.\d+)?\s*分\s*[)）]\s*")
_OPTION_MARK = re.compile(r"([A-HＡ-Ｈ])\s*[.、．)）]")
_ANSWER = re.compile(
    r"^(?:【\s*(?:参考|正确|标准)?答案\s*】|(?:参考|正确|标准)?答案\s*[:：])\s*(?P<value>.*)$"
)
_EXPLANATION = re.compile(
    r"^(?:【\s*(?:答案|试题)?解析\s*】|(?:答案|试题)?解析\s*[:：])\s*(?P<value>.*)$"
)
_SOURCE = re.compile(r"^(?:【\s*(?:出处|来源)\s*】|(?:出处|来源)\s*[:：])\s*(?P<value>.*)$")
# A label in the middle of a line ("……（ ）。 答案：B 解析：……") starts a new segment.
_LABEL_INSIDE = re.compile(
    r"(?<=[\s。）)])(?=(?:【\s*)?(?:参考答案|正确答案|标准答案|答案|解析|出处|来源)\s*(?:】|[:：]))"
)

_LETTER_BRACKET = re.compile(r"[（(]\s*([A-HＡ-Ｈ](?:[\s,，、]*[A-HＡ-Ｈ])*)\s*[)）]")
_TF_WORDS = {
    "对": "对",
    "正确": "对",
    "√": "对",
    "✓": "对",
    "✔": "对",
    "T": "对",
    "TRUE": "对",
    "是": "对",
    "错": "错",
    "错误": "错",
    "×": "错",
    "✗": "错",
    "✘": "错",
    "╳": "错",
    "X": "错",
    "F": "错",
    "FALSE": "错",
    "否": "错",
}
_TF_BRACKET = re.compile(r"[（(]\s*(对|错|正确|错误|√|×|✓|✔|✗|✘|╳|[TtFf])\s*[)）]")
_UNDERLINE = re.compile(r"_{2,}|＿+")
_EMPTY_BRACKET = re.compile(r"[（(][\s\u3000]*[)）]")
_FILLED_BRACKET = re.compile(r"[（(]\s*([^（）()\s][^（）()]*?)\s*[)）]")
_PLACEHOLDER = "\x00"
# Question types the platform does not have; their questions are listed as skipped.
_UNSUPPORTED = (
    "简答",
    "问答",
    "论述",
    "名词解释",
    "分析",
    "计算",
    "辨析",
    "连线",
    "匹配",
    "排序",
    "写作",
    "作文",
    "阅读",
    "思考",
    "讨论",
    "主观",
)
EMPTY = "（ ）"


def _half_width(text: str) -> str:
    """Full-width ASCII (Ａ, ，, ；) to half-width; other characters unchanged."""
    return "".join(chr(ord(ch) - 0xFEE0) if "！" <= ch <= "～" else ch for ch in text)


def _type_of(label: str) -> str | None:
    """The type a heading or marker names: a platform type, "choice", "skip:…" or None."""
    core = _NOTE.sub("", label).strip().rstrip("：:。.")
    if not core or len(core) > 20:
        return None
    if ("多" in core and "选" in core) or "不定项" in core:
        return "multiple"
    if "单" in core and "选" in core:
        return "single"
    if "判断" in core or "是非" in core:
        return "true_false"
    if "填空" in core:
        return "fill_blank"
    if "选择" in core:
        return "choice"
    if core.endswith("题") and any(word in core for word in _UNSUPPORTED):
        return f"skip:{core}"
    return None


def _tf_value(text: str) -> str | None:
    word = _half_width(text).strip().rstrip("。.，,；;！!").strip().upper()
    return _TF_WORDS.get(word)


def _letters(text: str) -> str | None:
    """ "ABD", "A、B、D", "ａ,ｂ" → "ABD"; None when it is not a list of option letters."""
    squeezed = re.sub(r"[\s,，、;；.。]+", "", _half_width(text)).upper()
    if squeezed and all(ch in LETTERS for ch in squeezed):
        return "".join(sorted(set(squeezed)))
    return None


@dataclass
class _Draft:
    line: int
    number: int | None
    style: str
    marker: str | None
    section: str | None
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)  # letter, text, line
    answer: str | None = None
    answer_line: int = 0
    explanation: list[str] = field(default_factory=list)
    source: str = ""
    state: str = "stem"  # stem, options, answer, explanation, source

    @property
    def label(self) -> str:
        return f"第 {self.number} 题" if self.number is not None else "题目"


def _segments(line: str) -> list[str]:
    parts = _LABEL_INSIDE.split(line)
    return [part.strip() for part in parts if part.strip()]


@dataclass(frozen=True)
class _Start:
    number: int | None
    style: str  # "dot" for 1. 1、 1), "paren" for （1）, "" when unnumbered
    marker: str | None
    rest: str
    digits: str = ""  # the dot of "1．2023年……" when the stem begins with a number


def _question_start(segment: str) -> _Start | None:
    """Number, marker type and the rest of the stem when the segment starts a question."""
    rest = segment
    marker: str | None = None
    found = _MARKER.match(rest)
    if found and _type_of(found.group("label")):
        marker = _type_of(found.group("label"))
        rest = rest[found.end() :]
    number: int | None = None
    style = ""
    digits = ""
    numbered = _NUMBER.match(rest)
    tight = None if numbered else _NUMBER_THEN_DIGITS.match(rest)
    if numbered:
        number = int(numbered.group("n1") or numbered.group("n2"))
        style = "dot" if numbered.group("n1") else "paren"
        rest = rest[numbered.end() :]
    elif tight:
        number, style, digits = int(tight.group("n1")), "dot", tight.group("dot")
        rest = rest[tight.end() :]
    if marker is None:
        found = _MARKER.match(rest)
        if found and _type_of(found.group("label")):
            marker = _type_of(found.group("label"))
            rest = rest[found.end() :]
    if number is None and marker is None:
        return None
    rest = _SCORE.sub("", rest, count=1)
    return _Start(number, style, marker, rest.strip(), digits)


def _starts_with_digits(draft: _Draft | None, start: _Start) -> bool:
    """Whether "1．2023年……" / "2.5倍……" starts a question rather than going on a line.

    A full-width "．" is never a decimal point; after a half-width "." the line starts the
    next question only where one fits: no question yet, or the next number after a question
    whose options or answer are given or whose last line ends a sentence.
    """
    if start.digits == "．" or draft is None or draft.number is None:
        return True
    if start.number != draft.number + 1:
        return False
    if draft.state in ("options", "answer", "source"):
        return True
    last = (draft.explanation if draft.state == "explanation" else draft.stem) or [""]
    return last[-1].endswith(_SENTENCE_END)


def _split_options(segment: str) -> list[tuple[str, str]] | None:
    """ "A.甲 B.乙 C.丙" → [("A", "甲"), ("B", "乙"), ("C", "丙")]; None if not an option line."""
    first = _OPTION_MARK.match(segment)
    if not first:
        return None
    marks = [(0, first.end(), _half_width(first.group(1)))]
    for found in _OPTION_MARK.finditer(segment, first.end()):
        letter = _half_width(found.group(1))
        before = segment[found.start() - 1]
        expected = LETTERS.index(marks[-1][2]) + 1
        if (
            expected < len(LETTERS)
            and letter == LETTERS[expected]
            and (before.isspace() or not before.isascii())
        ):
            marks.append((found.start(), found.end(), letter))
    options = []
    for index, (_start, end, letter) in enumerate(marks):
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(segment)
        options.append((letter, segment[end:stop].strip()))
    return options


def _heading(segment: str) -> str | None:
    """The section type a heading line sets, or None when the line is not a heading."""
    numbered = _HEADING.match(segment)
    if numbered:
        return _type_of(numbered.group("label"))
    marker = _MARKER.fullmatch(segment)
    if marker:
        return _type_of(marker.group("label"))
    if _BARE_HEADING.match(_NOTE.sub("", segment).strip()):
        return _type_of(segment)
    return None


def parse_pasted_text(text: str) -> ParseResult:
    """Read questions pasted from Word; every problem is listed with its line."""
    questions: list[Question] = []
    problems: list[Problem] = []
    skipped: list[Skipped] = []
    section: str | None = None
    draft: _Draft | None = None

    def problem(line: int, message: str) -> None:
        problems.append(Problem(line, f"第 {line} 行：{message}"))

    def finish() -> None:
        nonlocal draft
        if draft is not None:
            built = _build(draft, len(questions) + 1, problem)
            if isinstance(built, Question):
                questions.append(built)
            elif isinstance(built, Skipped):
                skipped.append(built)
        draft = None

    lines = _LINES.split(text)
    for number, raw in enumerate(lines, start=1):
        line = _INVISIBLE.sub("", raw).strip()
        for segment in _segments(line):
            kind = _heading(segment)
            if kind is not None:
                finish()
                section = kind
                continue
            if found := _ANSWER.match(segment):
                if draft is None:
                    problem(number, "“答案”前没有题目（题干需以题号开头，如“1.”）")
                elif draft.answer is not None:
                    problem(number, f"{draft.label}有重复的“答案”行（题号可能有误）")
                else:
                    draft.answer, draft.answer_line = found.group("value").strip(), number
                    draft.state = "answer"
                continue
            if found := _EXPLANATION.match(segment):
                if draft is None:
                    problem(number, "“解析”前没有题目（题干需以题号开头，如“1.”）")
                elif draft.explanation:
                    problem(number, f"{draft.label}有重复的“解析”")
                else:
                    draft.explanation = [found.group("value").strip()]
                    draft.state = "explanation"
                continue
            if found := _SOURCE.match(segment):
                if draft is None:
                    problem(number, "“出处”前没有题目（题干需以题号开头，如“1.”）")
                elif draft.source:
                    problem(number, f"{draft.label}有重复的“出处”")
                else:
                    draft.source = found.group("value").strip()
                    draft.state = "source"
                continue
            start = _question_start(segment)
            if start is not None and start.digits and not _starts_with_digits(draft, start):
                start = None
            if start is not None and not _continues(draft, start):
                finish()
                draft = _Draft(number, start.number, start.style, start.marker, section)
                if start.rest:
                    draft.stem.append(start.rest)
                continue
            options = _split_options(segment)
            if options is not None and (draft is None or draft.state != "explanation"):
                if draft is None:
                    problem(number, "选项前没有题目（题干需以题号开头，如“1.”）")
                elif draft.state in ("answer", "source"):
                    problem(number, f"{draft.label}的“答案”之后又出现选项（可能缺少题号）")
                else:
                    draft.options.extend((letter, body, number) for letter, body in options)
                    draft.state = "options"
                continue
            if draft is None:
                continue  # a title or an instruction before the first question
            if draft.state == "stem":
                draft.stem.append(segment)
            elif draft.state == "explanation":
                if options is not None:
                    problem(number, f"{draft.label}的“解析”之后出现选项（可能缺少题号）")
                else:
                    draft.explanation.append(segment)
            else:
                shown = segment if len(segment) <= 20 else segment[:20] + "…"
                problem(number, f"无法识别的内容“{shown}”（不属于{draft.label}的题干或选项）")
    finish()
    if not questions and not problems and not skipped:
        problems.append(Problem(None, "没有找到任何题目（题干需以题号开头，如“1.”“1、”“（1）”）"))
    problems.sort(key=lambda found: found.line or 0)
    return ParseResult(tuple(questions), tuple(problems), tuple(skipped))


def _continues(draft: _Draft | None, start: _Start) -> bool:
    """Whether a numbered line belongs to the stem or 解析 of the question before it.

    "（1）……" under a question numbered "5." lists points of its stem or 解析; inside a 解析 a
    line numbered like the questions continues it unless it is the next question's number.
    Anything swallowed this way that has options or an answer is reported, never lost.
    """
    if draft is None or start.marker is not None or start.number is None:
        return False
    if draft.state not in ("stem", "explanation") or draft.number is None:
        return False
    if start.style != draft.style:
        return True
    return draft.state == "explanation" and start.number != draft.number + 1


Report = Callable[[int, str], None]


def _build(draft: _Draft, index: int, report: Report) -> Question | Skipped | None:
    declared = draft.marker or draft.section
    if declared and declared.startswith("skip:"):
        return Skipped(draft.line, f"{draft.label}：平台不支持的题型“{declared[5:]}”")
    errors: list[tuple[int, str]] = []
    stem = "\n".join(draft.stem).strip()
    if not stem:
        errors.append((draft.line, f"{draft.label}没有题干"))
    if declared == "fill_blank":
        built = _fill(draft, stem, errors)
    elif declared == "true_false":
        built = _true_false(draft, stem, errors)
    elif declared in ("single", "multiple", "choice") or draft.options:
        built = _choice(draft, stem, declared, errors)
    elif (draft.answer is not None and _tf_value(draft.answer)) or (
        draft.answer is None and _TF_BRACKET.search(stem)
    ):
        built = _true_false(draft, stem, errors)
    elif draft.answer and (_UNDERLINE.search(stem) or _EMPTY_BRACKET.search(stem)):
        built = _fill(draft, stem, errors)
    elif draft.answer is None:
        errors.append((draft.line, f"{draft.label}缺少答案（如“答案：B”或题干括号内的答案）"))
        built = None
    else:
        errors.append(
            (
                draft.answer_line,
                f"{draft.label}无法判断题型：没有选项，答案“{draft.answer}”也不是对/错；"
                "请加题型标记（如【单选题】）或小标题（如“一、单项选择题”）",
            )
        )
        built = None
    for line, message in errors:
        report(line, message)
    if errors or built is None:
        return None
    kind, stem, fields = built
    return Question(
        key=f"text-{index:03d}",
        type=kind,
        stem=stem,
        explanation="\n".join(draft.explanation).strip(),
        source_ref=draft.source,
        line=draft.line,
        **fields,
    ).as_read()


Built = tuple[str, str, dict] | None


def _check_options(draft: _Draft, errors: list[tuple[int, str]]) -> None:
    if not draft.options:
        errors.append((draft.line, f"{draft.label}是选择题，但没有选项（如“A. ……”）"))
    elif len(draft.options) < 2:
        errors.append((draft.line, f"{draft.label}选项太少：只有 1 个，至少需要 2 个"))
    for position, (letter, body, line) in enumerate(draft.options):
        if position >= len(LETTERS):
            errors.append((line, f"{draft.label}选项过多，最多 {len(LETTERS)} 个"))
            break
        if letter != LETTERS[position]:
            errors.append(
                (line, f"{draft.label}选项顺序错误：此处应为 {LETTERS[position]}，实为 {letter}")
            )
        if not body:
            errors.append((line, f"{draft.label}选项 {letter} 没有内容"))


def _choice(draft: _Draft, stem: str, declared: str | None, errors: list) -> Built:
    _check_options(draft, errors)
    stem = _EMPTY_BRACKET.sub(EMPTY, stem)
    in_stem: str | None = None
    brackets = list(_LETTER_BRACKET.finditer(stem))
    if len(brackets) > 1:
        errors.append((draft.line, f"{draft.label}题干中有多个带字母的括号，无法确定答案"))
    elif brackets:
        in_stem = _letters(brackets[0].group(1))
        stem = stem[: brackets[0].start()] + EMPTY + stem[brackets[0].end() :]
    given: str | None = None
    if draft.answer is not None:
        given = _letters(draft.answer)
        if given is None:
            errors.append(
                (
                    draft.answer_line,
                    f"{draft.label}的答案“{draft.answer}”不是选项字母（如 B 或 ABD）",
                )
            )
            return None
    if given and in_stem and given != in_stem:
        errors.append(
            (draft.answer_line, f"{draft.label}“答案：{given}”与题干括号中的 {in_stem} 不一致")
        )
        return None
    answer = given or in_stem
    if not answer:
        errors.append((draft.line, f"{draft.label}缺少答案（如“答案：B”或题干中的“（ B ）”）"))
        return None
    line = draft.answer_line if given else draft.line
    present = {letter for letter, _body, _line in draft.options}
    missing = [letter for letter in answer if letter not in present]
    if draft.options and missing:
        errors.append((line, f"{draft.label}的答案 {''.join(missing)} 不在选项中"))
    kind = declared if declared in ("single", "multiple") else None
    if kind is None:
        kind = "single" if len(answer) == 1 else "multiple"
    if kind == "single" and len(answer) != 1:
        errors.append((line, f"{draft.label}是单选题，但答案有 {len(answer)} 个（{answer}）"))
    options = tuple(body for _letter, body, _line in draft.options)
    return kind, stem, {"options": options, "answer": tuple(answer)}


def _true_false(draft: _Draft, stem: str, errors: list) -> Built:
    stem = _EMPTY_BRACKET.sub(EMPTY, stem)
    in_stem: str | None = None
    brackets = list(_TF_BRACKET.finditer(stem))
    if len(brackets) > 1:
        errors.append((draft.line, f"{draft.label}题干中有多个带对/错的括号，无法确定答案"))
    elif brackets:
        in_stem = _tf_value(brackets[0].group(1))
        stem = stem[: brackets[0].start()] + EMPTY + stem[brackets[0].end() :]
    if draft.options and not _true_false_options(draft):
        errors.append((draft.options[0][2], f"{draft.label}是判断题，不应有选项"))
        return None
    given: str | None = None
    if draft.answer is not None:
        given = _tf_value(draft.answer)
        if given is None and draft.options:
            letter = _letters(draft.answer)
            given = _true_false_options(draft).get(letter or "")
        if given is None:
            errors.append(
                (
                    draft.answer_line,
                    f"{draft.label}是判断题，答案应为 对/错（或 正确/错误、√/×），"
                    f"现为“{draft.answer}”",
                )
            )
            return None
    if given and in_stem and given != in_stem:
        errors.append(
            (draft.answer_line, f"{draft.label}“答案：{given}”与题干括号中的“{in_stem}”不一致")
        )
        return None
    answer = given or in_stem
    if not answer:
        errors.append((draft.line, f"{draft.label}缺少答案（如“答案：对”或题干末尾的“（√）”）"))
        return None
    return "true_false", stem, {"answer": (answer,)}


def _true_false_options(draft: _Draft) -> dict[str, str]:
    """A 判断题 written as "A. 正确  B. 错误": letter → 对/错; empty for any other options."""
    values = {letter: _tf_value(body) for letter, body, _line in draft.options}
    if [*values] != ["A", "B"] or len(draft.options) != 2:
        return {}
    return (
        {letter: value for letter, value in values.items() if value} if all(values.values()) else {}
    )


def _fill(draft: _Draft, stem: str, errors: list) -> Built:
    if draft.options:
        errors.append((draft.options[0][2], f"{draft.label}是填空题，不应有选项"))
        return None
    marked = _EMPTY_BRACKET.sub(_PLACEHOLDER, _UNDERLINE.sub(_PLACEHOLDER, stem))
    answers: list[str]
    if draft.answer is not None:
        if _PLACEHOLDER not in marked:
            marked = _FILLED_BRACKET.sub(_PLACEHOLDER, marked)
        count = marked.count(_PLACEHOLDER)
        answers = _split_blanks(draft.answer, count)
        line = draft.answer_line
    else:
        found = [match.group(1) for match in _FILLED_BRACKET.finditer(marked)]
        marked = _FILLED_BRACKET.sub(_PLACEHOLDER, marked)
        count = marked.count(_PLACEHOLDER)
        answers = [value.strip() for value in found]
        line = draft.line
    if count == 0:
        errors.append(
            (draft.line, f"{draft.label}是填空题，但题干中没有空（下划线“___”或括号“（ ）”）")
        )
        return None
    if not answers:
        errors.append((draft.line, f"{draft.label}缺少答案（如“答案：甲；乙”）"))
        return None
    if len(answers) != count:
        errors.append((line, f"{draft.label}有 {count} 个空，但给出了 {len(answers)} 个答案"))
        return None
    blanks = []
    for position, value in enumerate(answers, start=1):
        accepted = tuple(part.strip() for part in re.split(r"[/／]", value) if part.strip())
        if not accepted:
            errors.append((line, f"{draft.label}第 {position} 个空的答案为空"))
        blanks.append(accepted)
    stem = marked.replace(_PLACEHOLDER, "___")
    if blank_count(stem) != count:
        errors.append((draft.line, f"{draft.label}的空相连，无法区分（请在两个空之间加文字）"))
    return "fill_blank", stem, {"blanks": tuple(blanks)}


def _split_blanks(value: str, count: int) -> list[str]:
    """ "甲；乙" → ["甲", "乙"]; "甲、乙" too when that gives exactly as many as blanks."""
    cleaned = value.strip().rstrip("。.")
    parts = [part.strip() for part in re.split(r"[；;|｜]", cleaned)]
    if len(parts) == 1 and count > 1:
        loose = [part for part in re.split(r"[、，,\s]+", cleaned) if part]
        if len(loose) == count:
            return loose
    return [part for part in parts if part] if any(parts) else []
