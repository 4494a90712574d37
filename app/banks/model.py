"""The question model shared by every bank format (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

QUESTION_TYPES = {"single": "单选", "multiple": "多选", "true_false": "判断", "fill_blank": "填空"}
TRUE_FALSE = ("对", "错")
LETTERS = "ABCDEFGH"
# A blank in a fill-in-the-blank stem: three or more underscores.
BLANK = re.compile(r"_{3,}")
_TRAILING_PUNCTUATION = "。.，,；;：:！!？?、"


@dataclass(frozen=True)
class Question:
    """One question as a bank holds it.

    - single / multiple: `options` in order (A, B, …); `answer` holds letters ("A", "C").
    - true_false: no options; `answer` is ("对",) or ("错",).
    - fill_blank: the stem marks each blank with "___"; `blanks` holds, per blank, the
      accepted answers; `answer` is empty.
    `evidence` is the words of the cited passage a paraphrased answer relies on (the
    fidelity marker); `line` is where the question starts in its file (line or row).
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

    def same_content(self, other: Question) -> bool:
        """Equal apart from where it was read from."""
        return {**self.__dict__, "line": None} == {**other.__dict__, "line": None}


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
