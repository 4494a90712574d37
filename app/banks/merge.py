"""How an imported file changes a bank (pure): new questions, new versions, unchanged ones.

Keys are stable. A file that names its questions (the own format, GIFT `::name::`, the Excel
编号 column) is matched by key. Questions without a name get a key made up while parsing
(`gift-001`, `aiken-001`, `text-001`, `xlsx-001`), which depends on their position; they are
matched by stem instead, and a new one gets the bank's next free `{bank}-NNN` key.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.banks.model import Question, normalize_answer

GENERATED_KEY = re.compile(r"(?:gift|aiken|text|xlsx)-\d{3}(?:-\d+)?")
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
STATUS_NAMES = {NEW: "新题", CHANGED: "修改（存为新版本）", UNCHANGED: "未变"}


@dataclass(frozen=True)
class Change:
    key: str
    question: Question  # with its key in the bank
    status: str  # NEW, CHANGED or UNCHANGED
    previous: Question | None = None


def content(question: Question) -> Question:
    """The question without where it was read from, for comparing versions."""
    return dataclasses.replace(question, line=None)


def _next_key(bank_slug: str, taken: set[str]) -> str:
    n = 1
    while f"{bank_slug}-{n:03d}" in taken:
        n += 1
    key = f"{bank_slug}-{n:03d}"
    taken.add(key)
    return key


def plan_merge(
    existing: Mapping[str, Question], incoming: Sequence[Question], bank_slug: str
) -> tuple[Change, ...]:
    """What importing `incoming` into a bank whose current versions are `existing` does."""
    by_stem: dict[str, list[str]] = {}
    for key, question in existing.items():
        by_stem.setdefault(normalize_answer(question.stem), []).append(key)
    taken = set(existing) | {q.key for q in incoming if not GENERATED_KEY.fullmatch(q.key)}
    changes = []
    for question in incoming:
        key = question.key
        if GENERATED_KEY.fullmatch(key):
            same_stem = by_stem.get(normalize_answer(question.stem))
            key = same_stem.pop(0) if same_stem else _next_key(bank_slug, taken)
        keyed = content(dataclasses.replace(question, key=key))
        before = existing.get(key)
        if before is None:
            status = NEW
        elif content(before) == keyed:
            status = UNCHANGED
        else:
            status = CHANGED
        changes.append(Change(key, keyed, status, before))
    return tuple(changes)


def summary(changes: Sequence[Change]) -> dict[str, int]:
    return {status: sum(1 for c in changes if c.status == status) for status in STATUS_NAMES}
