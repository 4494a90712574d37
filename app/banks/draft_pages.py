"""出题助手 in the browser: a bank's drafted questions (`app/banks/draft_store.py`) lesson by
lesson, each accepted into the bank (a new question with its first version, audited) or
rejected (remembered in `DraftRejection`, so it is not offered again).

Forms name a draft by its stable key (`draft_key`); the server drafts again and finds it,
never taking a question's content from the form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.banks.draft_store import ModuleNotFound, load_draft_source
from app.banks.drafting import Draft, draft_questions
from app.banks.editor_form import DIFFICULTIES, form_of
from app.banks.merge import NEW, plan_merge
from app.banks.model import LETTERS, QUESTION_TYPES
from app.banks.pages import load_bank
from app.banks.store import apply_changes, current_questions
from app.db import write_transaction
from app.lib.forms import AnyFormBody
from app.lib.identifiers import is_unique_violation
from app.tables import DraftRejection


def draft_key(draft: Draft) -> str:
    """A draft's stable name: sha256 of its type, stem and answer (blanks for 填空)."""
    q = draft.question
    text = json.dumps(
        [q.type, q.stem, list(q.answer), [list(b) for b in q.blanks]], ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LessonDrafts:
    source_ref: str
    title: str
    drafts: tuple[tuple[str, Draft], ...]  # (key, draft)


async def bank_drafts(bank: Mapping[str, Any]) -> tuple[str | None, list[LessonDrafts]]:
    """The bank's drafts not yet rejected, by lesson; or a Chinese reason there are none."""
    if not bank["module_slug"]:
        return "这个题库没有关联课程模块，出题助手无从出题。", []
    try:
        source = await load_draft_source(bank["module_slug"])
    except ModuleNotFound:
        return "这个题库的课程模块已停用，出题助手无从出题。", []
    existing = await current_questions(bank["id"])
    drafts = draft_questions(
        source.lessons,
        bank_slug=bank["slug"],
        document=source.document,
        existing=tuple(existing.values()),
    )
    rejected = {
        row["draft_key"]
        for row in await DraftRejection.select(DraftRejection.draft_key).where(
            DraftRejection.bank == bank["id"]
        )
    }
    by_ref: dict[str, list[tuple[str, Draft]]] = {}
    for draft in drafts:
        key = draft_key(draft)
        if key not in rejected:
            by_ref.setdefault(draft.question.source_ref, []).append((key, draft))
    lessons = [
        LessonDrafts(p.source_ref, p.title, tuple(by_ref[p.source_ref]))
        for p in source.lessons
        if p.source_ref in by_ref
    ]
    return None, lessons


async def find_draft(bank: Mapping[str, Any], key: str) -> Draft | None:
    """The bank's draft named `key` as drafted now (None: gone, accepted or rejected)."""
    _, lessons = await bank_drafts(bank)
    return next((d for lesson in lessons for k, d in lesson.drafts if k == key), None)


def _field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _back(request: Request, bank: Mapping[str, Any]) -> Redirect:
    return Redirect(request.app.route_reverse("bank_drafts", bank_slug=bank["slug"]))


@get("/banks/{bank_slug:str}/drafts", name="bank_drafts")
async def drafts_page(bank_slug: FromPath[str]) -> Template:
    bank = await load_bank(bank_slug)
    reason, lessons = await bank_drafts(bank)
    return Template(
        "banks/drafts.html",
        context={
            "bank": bank,
            "reason": reason,
            "lessons": lessons,
            "total": sum(len(lesson.drafts) for lesson in lessons),
            "QUESTION_TYPES": QUESTION_TYPES,
            "LETTERS": LETTERS,
            "difficulties": DIFFICULTIES,
        },
    )


async def _accept(request: Request, bank: Mapping[str, Any], chosen: Sequence[Draft]) -> int:
    """Write the chosen drafts as new questions of the bank (first versions), audited; the
    caller holds the write transaction. Returns how many were added."""
    existing = await current_questions(bank["id"])
    planned = plan_merge(existing, [d.question for d in chosen], bank["slug"])
    changes = [change for change in planned if change.status == NEW]
    if not changes:
        return 0
    await apply_changes(bank["id"], changes, request.user.id)
    keys = "、".join(change.key for change in changes)
    await audit.record(
        request,
        "bank.draft_accept",
        None,
        f"在题库“{bank['title']}”中采用出题助手的 {len(changes)} 道题（{keys}）",
    )
    return len(changes)


@post("/banks/{bank_slug:str}/drafts/accept", name="bank_drafts_accept")
async def drafts_accept(request: Request, bank_slug: FromPath[str], data: AnyFormBody) -> Redirect:
    """Accept one draft (field `draft`: its key) or every draft of a lesson (`lesson`: its
    出处)."""
    bank = await load_bank(bank_slug)
    key, lesson = _field(data, "draft"), _field(data, "lesson")
    async with write_transaction():
        _, lessons = await bank_drafts(bank)
        if key:
            chosen = [d for group in lessons for k, d in group.drafts if k == key]
        elif lesson:
            chosen = [d for group in lessons if group.source_ref == lesson for _, d in group.drafts]
        else:
            chosen = []
        added = await _accept(request, bank, chosen) if chosen else 0
    if added:
        flash(request, f"已采用 {added} 道题，已加入题库“{bank['title']}”（第 1 版）。", "success")
    else:
        flash(request, "没有可以采用的题目：这道题可能已被采用或不采用，请看下面的列表。", "info")
    return _back(request, bank)


@post("/banks/{bank_slug:str}/drafts/reject", name="bank_drafts_reject")
async def drafts_reject(request: Request, bank_slug: FromPath[str], data: AnyFormBody) -> Redirect:
    """Reject one draft (field `draft`: its key): it is not offered for this bank again."""
    bank = await load_bank(bank_slug)
    key = _field(data, "draft")
    draft = await find_draft(bank, key) if key else None
    if draft is None:
        flash(request, "没有找到这道题：它可能已被采用或不采用，请看下面的列表。", "info")
        return _back(request, bank)
    try:
        async with write_transaction():
            taken = await DraftRejection.exists().where(
                DraftRejection.bank == bank["id"], DraftRejection.draft_key == key
            )
            if not taken:
                await DraftRejection.insert(
                    DraftRejection(bank=bank["id"], draft_key=key, rejected_by=request.user.id)
                )
                await audit.record(
                    request,
                    "bank.draft_reject",
                    None,
                    f"在题库“{bank['title']}”中不采用出题助手的一道题：{draft.question.stem[:40]}",
                )
    except Exception as error:  # rejected at the same moment elsewhere: the same outcome
        if not is_unique_violation(error):
            raise
    flash(request, "已不采用这道题，它不会再出现。", "success")
    return _back(request, bank)


def draft_form(draft: Draft) -> dict[str, str]:
    """The question editor's form filled in with a draft (修改后采用), as a new question."""
    return {**form_of(draft.question), "key": ""}


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[drafts_page, drafts_accept, drafts_reject],
)
