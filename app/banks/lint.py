"""The question-bank lint behind `peixun banks lint` (pure core plus a file reader).

`lint_banks` checks parsed banks against the course text; `format_report` prints the
findings as `文件:行: 级别: 消息`, the questions per bank and type, and as its last line
`共 N 题，E 个错误，W 个警告`. `lint_paths` reads bank files and the course folder.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.banks.model import LETTERS, QUESTION_TYPES, ParseResult, Question, normalize_answer
from app.banks.own_format import BankHeader, parse_bank

__all__ = [
    "DUPLICATE_STEM",
    "ERROR",
    "FIDELITY",
    "WARNING",
    "Finding",
    "LintReport",
    "bank_files",
    "course_lessons",
    "format_report",
    "lint_banks",
    "lint_paths",
]

ERROR = "错误"
DUPLICATE_STEM = "duplicate_stem"
PARSE_PROBLEM = "parse_problem"  # a problem the file's reader found, passed on
WARNING = "警告"
NEAR_DUPLICATE_RATIO = 0.9
# "第 3 行：" of a line, "第 3 行 " of a cell ("第 3 行 E 列（答案）：…"): the finding has the line.
_LINE_PREFIX = re.compile(r"^第 \d+ 行(?:：|\s+(?=\S+ 列))")
# Evidence may quote several pieces of a passage, one a line or separated by an ellipsis.
_EVIDENCE_SEPARATORS = re.compile(r"\n|……|…|\.\.\.")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    level: str  # ERROR or WARNING
    message: str
    # DUPLICATE_STEM for a stem seen before (imports allow those); PARSE_PROBLEM for what
    # the reader of the file reported (an import lists those already).
    check: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    # bank file → question type → number of questions (every bank is listed, in order).
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def questions(self) -> int:
        return sum(sum(by_type.values()) for by_type in self.counts.values())

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.level == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.level == WARNING)


FIDELITY = "答案与原文核对"  # the check that an answer stands in its source's text
Names = Mapping[str, str]  # question key → how a page names it ("第 3 题"), when not by key


def _where(question: Question, names: Names) -> str:
    return names.get(question.key) or f"题目“{question.key}”"


def _stem_text(stem: str) -> str:
    return normalize_answer(stem)


def evidence_fragments(evidence: str) -> list[str]:
    """The pieces of a 依据 (original words separated by “……”), as answers are compared."""
    return [n for part in _EVIDENCE_SEPARATORS.split(evidence) if (n := normalize_answer(part))]


def anchors(question: Question) -> list[str]:
    """The words of its passage a question rests on: its 依据 where it has one, else its
    right options or the first accepted answer of each blank; none for a 判断题 without
    依据 (its stem may be the passage changed on purpose)."""
    if question.evidence.strip():
        return evidence_fragments(question.evidence)
    if question.type in ("single", "multiple"):
        right = [LETTERS.find(letter) for letter in question.answer]
        return [
            normalize_answer(question.options[i]) for i in right if 0 <= i < len(question.options)
        ]
    if question.type == "fill_blank":
        return [normalize_answer(accepted[0]) for accepted in question.blanks if accepted]
    return []


def lint_banks(
    banks: Sequence[tuple[str, BankHeader, ParseResult]],
    lessons: dict[str, dict[str, str]],
    names: Names | None = None,
) -> LintReport:
    """Every finding about `banks` (file name, header, parsed questions).

    `lessons` maps a module slug to {source_ref: the lesson's passage text}; `names` says
    how the messages name a question (by its key, 题目“q1”, when it has no name there).
    """
    names = names or {}
    findings: list[Finding] = []

    def add(file: str, line: int | None, level: str, message: str, check: str = "") -> None:
        findings.append(Finding(file, line, level, message, check))

    counts: dict[str, dict[str, int]] = {}
    keys: dict[str, tuple[str, int | None]] = {}
    stems: list[tuple[str, str, Question]] = []  # (normalised stem, file, question)
    for file, header, result in banks:
        for problem in result.problems:
            add(file, problem.line, ERROR, _LINE_PREFIX.sub("", problem.message), PARSE_PROBLEM)
        for skipped in result.skipped:
            add(file, skipped.line, WARNING, f"未导入的题目：{skipped.reason}")
        by_type = Counter(question.type for question in result.questions)
        counts[file] = {name: by_type[name] for name in QUESTION_TYPES if by_type[name]}

        passages = lessons.get(header.module) if header.module else None
        if header.module and passages is None:
            add(file, 1, ERROR, f"文件头的 module“{header.module}”不是课程中的模块。")
        normalised_passages = {
            ref: normalize_answer(text) for ref, text in (passages or {}).items()
        }

        for question in result.questions:
            line = question.line
            if question.key in keys:
                first_file, first_line = keys[question.key]
                at = f"{first_file}:{first_line}" if first_line is not None else first_file
                add(file, line, ERROR, f"{_where(question, names)}的题号重复（{at} 已用过）。")
            else:
                keys[question.key] = (file, line)
            stems.append((_stem_text(question.stem), file, question))
            _check_structure(
                question, names, lambda level, msg, f=file, n=line: add(f, n, level, msg)
            )
            if passages is None:
                continue
            _check_source(
                question,
                names,
                normalised_passages,
                header.module,
                lambda level, msg, f=file, n=line: add(f, n, level, msg),
            )

    _check_stems(stems, names, add)
    order = {file: index for index, (file, _header, _result) in enumerate(banks)}
    findings.sort(key=lambda f: (order.get(f.file, len(order)), f.line or 0))
    return LintReport(tuple(findings), counts)


def _check_structure(question: Question, names: Names, add) -> None:
    where = _where(question, names)
    if question.type in ("single", "multiple"):
        letters = LETTERS[: len(question.options)]
        for letter in question.answer:
            if letter not in letters:
                add(ERROR, f"{where}的答案“{letter}”不在选项中。")
        if question.type == "single" and len(question.answer) != 1:
            add(ERROR, f"{where}是单选题，必须有且只有一个答案，现在有 {len(question.answer)} 个。")
        if question.type == "multiple" and not question.answer:
            add(ERROR, f"{where}是多选题，却没有答案。")
        elif question.type == "multiple" and len(question.answer) == 1:
            # Allowed (Moodle's "multiple answers" and 不定项选择 may have one), but often a slip.
            add(
                WARNING,
                f"{where}是多选题，但只有一个正确答案（{question.answer[0]}）；"
                "学员仍按多选作答，如应为单选题请改题型。",
            )
        seen: dict[str, str] = {}
        for letter, option in zip(LETTERS, question.options, strict=False):
            text = normalize_answer(option)
            if text in seen:
                add(ERROR, f"{where}的选项 {letter} 与选项 {seen[text]} 重复：“{option}”。")
            else:
                seen[text] = letter
    if not question.explanation.strip():
        add(WARNING, f"{where}缺少解析。")
    if not question.source_ref.strip():
        add(WARNING, f"{where}缺少出处。")


def _check_source(
    question: Question, names: Names, passages: dict[str, str], module: str, add
) -> None:
    where = _where(question, names)
    ref = question.source_ref.strip()
    if not ref:
        return
    if ref not in passages:
        add(
            ERROR,
            f"{where}的出处“{ref}”在题库所属的课程模块中没有对应的课文，"
            "请改为课文的出处，例如“一、”“（二）”。",
        )
        return
    passage = passages[ref]
    if question.evidence.strip():
        missing = [part for part in evidence_fragments(question.evidence) if part not in passage]
        if missing:
            add(
                WARNING,
                f"{FIDELITY}：{where}“依据”中的“{missing[0]}”在出处“{ref}”的课文里找不到。"
                "请从课文中照抄原话（几处原话之间可用“……”隔开）。",
            )
        return
    if question.type in ("single", "multiple"):
        for letter in question.answer:
            index = LETTERS.find(letter)
            if index < 0 or index >= len(question.options):
                continue
            option = question.options[index]
            if normalize_answer(option) not in passage:
                add(
                    WARNING,
                    f"{FIDELITY}：{where}的正确答案 {letter}“{option}”在出处“{ref}”的课文里"
                    "找不到。请核对答案是否有误；如果答案是对原文的概括，请在“依据”中"
                    "照抄课文的原话。",
                )
    elif question.type == "fill_blank":
        for number, accepted in enumerate(question.blanks, start=1):
            if accepted and normalize_answer(accepted[0]) not in passage:
                add(
                    WARNING,
                    f"{FIDELITY}：{where}第 {number} 个空的答案“{accepted[0]}”在出处“{ref}”"
                    "的课文里找不到。请核对答案是否有误；如果答案是对原文的概括，"
                    "请在“依据”中照抄课文的原话。",
                )


def _check_stems(stems: list[tuple[str, str, Question]], names: Names, add) -> None:
    for index, (text, file, question) in enumerate(stems):
        for other_text, other_file, other in stems[:index]:
            at = f"{other_file}:{other.line}" if other.line is not None else other_file
            if text == other_text:
                message = f"{_where(question, names)}的题干与{at}{_where(other, names)}重复。"
                add(file, question.line, ERROR, message, DUPLICATE_STEM)
                break
            matcher = difflib.SequenceMatcher(None, other_text, text, autojunk=False)
            if (
                matcher.real_quick_ratio() >= NEAR_DUPLICATE_RATIO
                and matcher.quick_ratio() >= NEAR_DUPLICATE_RATIO
                and matcher.ratio() >= NEAR_DUPLICATE_RATIO
            ):
                add(
                    file,
                    question.line,
                    WARNING,
                    f"{_where(question, names)}的题干与{at}{_where(other, names)}几乎相同，"
                    "请检查是否重复。",
                    DUPLICATE_STEM,
                )
                break


def format_report(report: LintReport) -> str:
    lines = [str(finding) for finding in report.findings]
    for file, by_type in report.counts.items():
        parts = "，".join(f"{QUESTION_TYPES[name]} {count}" for name, count in by_type.items())
        total = sum(by_type.values())
        lines.append(f"{file}：{parts or '无题目'}（共 {total} 题）")
    lines.append(f"共 {report.questions} 题，{report.errors} 个错误，{report.warnings} 个警告")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- files


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """The bank files named: folders give every `*.md` in them except README.md."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.md") if p.name.lower() != "readme.md")
        else:
            files.append(path)
    return files


def course_lessons(course_dir: Path) -> dict[str, dict[str, str]]:
    """Module slug → {source_ref: passage}; raises CourseFileError like read_course_dir."""
    from app.course.lessons import read_course_dir

    return {
        module.slug: {lesson.source_ref: "\n".join(lesson.paragraphs) for lesson in module.lessons}
        for module in read_course_dir(course_dir)
    }


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def lint_paths(paths: Iterable[Path], course_dir: Path) -> LintReport:
    """Lint bank files (or folders of them) against the course in `course_dir`."""
    lessons = course_lessons(course_dir)
    banks: list[tuple[str, BankHeader, ParseResult]] = []
    unreadable: list[Finding] = []
    for path in bank_files(paths):
        name = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            unreadable.append(Finding(name, None, ERROR, "不是 UTF-8 编码的文本文件。"))
            continue
        except OSError as error:
            unreadable.append(Finding(name, None, ERROR, f"无法读取：{error.strerror or error}。"))
            continue
        header, result = parse_bank(text, path.name)
        banks.append((name, header, result))
    report = lint_banks(banks, lessons)
    return LintReport((*unreadable, *report.findings), report.counts)
