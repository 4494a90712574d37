"""The question model shared by every bank format (pure)."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field

QUESTION_TYPES = {"single": "单选", "multiple": "多选", "true_false": "判断", "fill_blank": "填空"}
TRUE_FALSE = ("对", "错")
LETTERS = "ABCDEFGH"
# A blank in a fill-in-the-blank stem: three or more underscores.
BLANK = re.compile(r"_{3,}")
_TRAILING_PUNCTUATION = "。.，,；;：:！!？?、"
# The fields a question may leave out; an import keeps the current value of those its file
# does not carry (see `Question`).
OPTIONAL_FIELDS = ("explanation", "source_ref", "difficulty", "tags", "evidence")
# How the fields of a question are named to trainers.
FIELD_LABELS = {
    "type": "题型", "stem": "题干", "options": "选项", "answer": "答案", "blanks": "答案",
    "explanation": "解析", "source_ref": "出处", "difficulty": "难度", "tags": "标签",
    "evidence": "依据",
}  # fmt: skip


@dataclass(frozen=True)
class Question:
    """One question as a bank holds it.

    - single / multiple: `options` in order (A, B, …); `answer` holds letters ("A", "C").
    - true_false: no options; `answer` is ("对",) or ("错",).
    - fill_blank: the stem marks each blank with "___"; `blanks` holds, per blank, the
      accepted answers; `answer` is empty.
    `evidence` is the words of the cited passage a paraphrased answer relies on (the
    fidelity marker); `line` is where the question starts in its file (line or row).

    `carried` names the OPTIONAL_FIELDS the question really gives. A question built in the
    editor or read from the database carries them all; a question read from a file carries
    only those the file writes with a value (`as_read`), so that importing it over an
    existing question keeps that question's other fields (app/banks/merge.py). Per format:

    - own format (.md): a field line (解析、出处、难度、标签、依据) with a value; a missing
      line or an empty value carries nothing.
    - GIFT: 解析 from the general or per-answer feedback; 出处、难度、标签、依据 from the
      `// peixun:` comment; 标签 also from `$CATEGORY`. A question without feedback carries
      no 解析.
    - Aiken: none of them (the format has no place for them).
    - Excel (.xlsx): a column that is there with a cell that is not blank; a missing column
      or a blank cell carries nothing.
    - pasted text and .docx: 解析 from a `解析：` label with text, 出处 from `出处：`; other
      fields only if the text has labels for them.

    An empty value is never carried: an import does not erase; clearing a field is done in
    the editor. `carried` takes no part in comparing questions.
    """

    key: str
    type: str
    stem: str
    options: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    blanks: tuple[tuple[str, ...], ...] = ()
    explanation: str = ""
    source_ref: str = ""
    difficulty: int | None = None
    tags: tuple[str, ...] = ()
    evidence: str = ""
    line: int | None = None
    carried: frozenset[str] = field(default=frozenset(OPTIONAL_FIELDS), compare=False)

    def same_content(self, other: Question) -> bool:
        """Equal apart from where it was read from (and what its file carried)."""
        ignored = {"line": None, "carried": None}
        return {**self.__dict__, **ignored} == {**other.__dict__, **ignored}

    def as_read(self) -> Question:
        """The question as a file gives it: it carries the optional fields that have a value."""
        return dataclasses.replace(self, carried=written_fields(self))


def has_value(value: object) -> bool:
    """Whether a field holds something: not None, not empty, not only spaces."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != ()


def written_fields(question: Question) -> frozenset[str]:
    """The optional fields of a question that hold a value."""
    return frozenset(name for name in OPTIONAL_FIELDS if has_value(getattr(question, name)))


@dataclass(frozen=True)
class Problem:
    """Something wrong in a file; `message` is Chinese and names the line, row or cell."""

    line: int | None
    message: str


@dataclass(frozen=True)
class Skipped:
    """A question of a type the platform does not have, listed rather than dropped."""

    line: int
    reason: str


@dataclass(frozen=True)
class ParseResult:
    questions: tuple[Question, ...]
    problems: tuple[Problem, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.questions)


class BankFormatError(ValueError):
    """A whole file that can't be read (encoding, size, not the format); message in Chinese."""


def normalize_answer(text: str) -> str:
    """Text as answers are compared: full-width folded to half-width, spaces removed,
    trailing punctuation dropped, Latin letters in lower case."""
    folded = unicodedata.normalize("NFKC", text)
    squeezed = re.sub(r"\s+", "", folded)
    return squeezed.rstrip(_TRAILING_PUNCTUATION).lower()


def blank_count(stem: str) -> int:
    return len(BLANK.findall(stem))


def answer_lines(question: Question) -> list[str]:
    """The right answer in words: the chosen options, 对/错, or each blank's answers."""
    if question.type == "true_false":
        return [("√ " if question.answer == ("对",) else "× ") + "".join(question.answer)]
    if question.type == "fill_blank":
        return [f"第 {n} 空：" + " 或 ".join(g) for n, g in enumerate(question.blanks, start=1)]
    return [
        f"{letter}. {question.options[LETTERS.index(letter)]}"
        for letter in question.answer
        if letter in LETTERS and LETTERS.index(letter) < len(question.options)
    ]
