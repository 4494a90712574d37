"""How an imported file changes a bank (pure): new questions, new versions, unchanged ones.

Keys are stable. A file that names its questions (the own format, GIFT `::name::`, the Excel
编号 column) is matched by key. Questions without a name get a key made up while parsing
(`gift-001`, `aiken-001`, `text-001`, `xlsx-001`), which depends on their position; they are
matched by stem instead, and a new one gets the bank's next free `{bank}-NNN` key.

An import never erases what a trainer wrote: an optional field the imported question does
not carry (`Question.carried`: no 解析 in a pasted question, no 出处 column in a sheet…)
takes the matched question's current value before the two are compared, so importing the
same file again changes nothing. For a matched question that differs, the trainer may
choose to add it as a new question instead (`as_new`); the matched one is then left alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

from app.banks.model import (
    FIELD_LABELS,
    LETTERS,
    OPTIONAL_FIELDS,
    QUESTION_TYPES,
    Question,
    answer_lines,
    has_value,
    normalize_answer,
)

GENERATED_KEY = re.compile(r"(?:gift|aiken|text|xlsx)-\d{3}(?:-\d+)?")
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
STATUS_NAMES = {NEW: "新题", CHANGED: "修改（存为新版本）", UNCHANGED: "未变"}
# What to do with an imported question that matches an existing one and differs from it.
UPDATE, ADD = "update", "new"
CHOICE_NAMES = {UPDATE: "更新原题，存为新版本", ADD: "作为新题添加"}
# The fields compared field by field; "answer" stands for the answer and the blanks.
COMPARED = ("type", "stem", "options", "answer", *OPTIONAL_FIELDS)
EMPTY = "（未填写）"


@dataclass(frozen=True)
class Difference:
    """One field of a question before and after an import, as trainers read it."""

    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    """What importing one question does.

    `question` is what will be saved, with its key in the bank and the fields it does not
    carry filled in from `previous` (its `carried` stays as the file gave it, so planning it
    again against a newer current version fills from that one). `previous` is the current
    version of the question it matches, also when the trainer chose to add it as a new
    question (`added_as_new`). `kept` names the optional fields taken from `previous`;
    `position` is the question's place in the file, from 1.
    """

    key: str
    question: Question
    status: str  # NEW, CHANGED or UNCHANGED
    previous: Question | None = None
    kept: tuple[str, ...] = ()
    position: int = 0

    @property
    def added_as_new(self) -> bool:
        return self.status == NEW and self.previous is not None

    @property
    def choosable(self) -> bool:
        """Whether the trainer may choose between updating the matched question and adding."""
        return self.previous is not None and self.status != UNCHANGED

    @property
    def differences(self) -> tuple[Difference, ...]:
        """The fields whose value differs from the matched question's, old → new."""
        if self.previous is None:
            return ()
        return differences(self.previous, self.question)

    @property
    def kept_labels(self) -> tuple[str, ...]:
        return tuple(FIELD_LABELS[name] for name in self.kept)


def content(question: Question) -> Question:
    """The question without where it was read from, for comparing versions."""
    return dataclasses.replace(question, line=None)


def field_text(question: Question, name: str) -> str:
    """A field's value as trainers read it (one of COMPARED)."""
    if name == "type":
        return QUESTION_TYPES.get(question.type, question.type)
    if name == "options":
        pairs = zip(LETTERS, question.options, strict=False)
        return "\n".join(f"{letter}. {text}" for letter, text in pairs) or EMPTY
    if name == "answer":
        return "\n".join(answer_lines(question)) or EMPTY
    if name == "tags":
        return "、".join(question.tags) or EMPTY
    if name == "difficulty":
        return EMPTY if question.difficulty is None else str(question.difficulty)
    text = str(getattr(question, name))
    return text if text.strip() else EMPTY


def differences(old: Question, new: Question) -> tuple[Difference, ...]:
    """The fields in which two versions of a question differ, in the order of COMPARED."""
    found = []
    for name in COMPARED:
        if name == "answer":
            same = (old.answer, old.blanks) == (new.answer, new.blanks)
        else:
            same = getattr(old, name) == getattr(new, name)
        if not same:
            before, after = field_text(old, name), field_text(new, name)
            found.append(Difference(name, FIELD_LABELS[name], before, after))
    return tuple(found)


def fill_not_carried(question: Question, current: Question) -> tuple[Question, tuple[str, ...]]:
    """The question with the optional fields it does not carry taken from `current`, and
    the names of those that hold something there (the fields kept)."""
    missing = [name for name in OPTIONAL_FIELDS if name not in question.carried]
    filled = dataclasses.replace(question, **{name: getattr(current, name) for name in missing})
    return filled, tuple(name for name in missing if has_value(getattr(current, name)))


def _next_key(bank_slug: str, taken: set[str]) -> str:
    n = 1
    while f"{bank_slug}-{n:03d}" in taken:
        n += 1
    key = f"{bank_slug}-{n:03d}"
    taken.add(key)
    return key


def plan_merge(
    existing: Mapping[str, Question],
    incoming: Sequence[Question],
    bank_slug: str,
    as_new: Container[int] = (),
) -> tuple[Change, ...]:
    """What importing `incoming` into a bank whose current versions are `existing` does.

    `as_new` holds the positions (from 1) of the questions to add as new questions when they
    match an existing question and differ from it."""
    by_stem: dict[str, list[str]] = {}
    for key, question in existing.items():
        by_stem.setdefault(normalize_answer(question.stem), []).append(key)
    taken = set(existing) | {q.key for q in incoming if not GENERATED_KEY.fullmatch(q.key)}
    changes = []
    for position, question in enumerate(incoming, start=1):
        key = question.key
        if GENERATED_KEY.fullmatch(key):
            same_stem = by_stem.get(normalize_answer(question.stem))
            key = same_stem.pop(0) if same_stem else _next_key(bank_slug, taken)
        before = existing.get(key)
        keyed = dataclasses.replace(question, key=key)
        if before is None:
            changes.append(Change(key, keyed, NEW, position=position))
            continue
        filled, kept = fill_not_carried(keyed, before)
        if content(before) == content(filled):
            changes.append(Change(key, filled, UNCHANGED, before, kept, position))
        elif position in as_new:
            key = _next_key(bank_slug, taken)
            added = dataclasses.replace(question, key=key)
            changes.append(Change(key, added, NEW, before, position=position))
        else:
            changes.append(Change(key, filled, CHANGED, before, kept, position))
    return tuple(changes)


def summary(changes: Sequence[Change]) -> dict[str, int]:
    return {status: sum(1 for c in changes if c.status == status) for status in STATUS_NAMES}
