"""Drafting questions for a module of the database: its lessons, the other passages of the
same document, and its bank's questions, handed to the pure drafter (`app/banks/drafting.py`).
`peixun banks draft` calls `draft_module`; pages that review drafts call it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.banks.drafting import Draft, Passage, draft_questions
from app.banks.model import Question
from app.banks.own_format import BankHeader
from app.banks.store import current_questions
from app.tables import Bank, Lesson, Module


class ModuleNotFound(LookupError):
    """No active module has this slug; the message is Chinese."""


@dataclass(frozen=True)
class DraftSource:
    """What drafting a module needs from the database."""

    module_slug: str
    module_title: str
    bank: BankHeader  # the module's bank, or the one its drafts would make
    lessons: tuple[Passage, ...]
    document: tuple[Passage, ...]  # the other modules of the same document
    existing: tuple[Question, ...]  # the bank's questions (current versions, all of them)


async def _passages(module_ids: Sequence[int]) -> dict[int, list[Passage]]:
    rows = await (
        Lesson.select(Lesson.module, Lesson.source_ref, Lesson.title, Lesson.body)
        .where(Lesson.module.is_in(list(module_ids) or [0]), Lesson.active.eq(True))
        .order_by(Lesson.sort_order)
    )
    by_module: dict[int, list[Passage]] = {}
    for row in rows:
        paragraphs = tuple(p for p in row["body"].split("\n\n") if p.strip())
        by_module.setdefault(row["module"], []).append(
            Passage(row["source_ref"], paragraphs, row["title"])
        )
    return by_module


async def _bank_of(module: dict[str, Any]) -> tuple[BankHeader, int | None]:
    bank = (
        await Bank.select(Bank.id, Bank.slug, Bank.title)
        .where(Bank.module == module["id"])
        .order_by(Bank.id)
        .first()
    )
    if bank is not None:
        return BankHeader(bank["slug"], bank["title"], module["slug"]), bank["id"]
    slug = module["slug"]
    if await Bank.exists().where(Bank.slug == slug):  # a bank of another module has the name
        slug = f"{slug}-draft"
    return BankHeader(slug, f"{module['title']}题库", module["slug"]), None


async def load_draft_source(module_slug: str) -> DraftSource:
    """The module's lessons, its document's other passages and its bank's questions;
    raises ModuleNotFound."""
    module = await (
        Module.select(Module.id, Module.slug, Module.title, Module.doc_number, Module.source_title)
        .where(Module.slug == module_slug, Module.active.eq(True))
        .first()
    )
    if module is None:
        raise ModuleNotFound(f"没有找到课程模块“{module_slug}”（请写模块标识，例如 xuexi-daodu）。")
    siblings: list[int] = []
    for column, value in (
        (Module.doc_number, module["doc_number"]),
        (Module.source_title, module["source_title"]),
    ):
        if value and not siblings:
            rows = await Module.select(Module.id).where(
                column == value, Module.active.eq(True), Module.id != module["id"]
            )
            siblings = [row["id"] for row in rows]
    passages = await _passages([module["id"], *siblings])
    header, bank_id = await _bank_of(module)
    existing = await current_questions(bank_id) if bank_id is not None else {}
    return DraftSource(
        module_slug=module["slug"],
        module_title=module["title"],
        bank=header,
        lessons=tuple(passages.get(module["id"], [])),
        document=tuple(p for sibling in siblings for p in passages.get(sibling, [])),
        existing=tuple(existing.values()),
    )


async def draft_module(
    module_slug: str, per_lesson: int | None = None
) -> tuple[DraftSource, list[Draft]]:
    """The drafts for a module of the database (raises ModuleNotFound)."""
    source = await load_draft_source(module_slug)
    drafts = draft_questions(
        source.lessons,
        bank_slug=source.bank.slug,
        document=source.document,
        existing=source.existing,
        per_lesson=per_lesson,
    )
    return source, drafts
