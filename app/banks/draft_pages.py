"""出题助手 in the browser: a bank's drafted questions (`app/banks/draft_store.py`) lesson by
lesson, each accepted into the bank (a new question with its first version, audited) or
rejected (remembered in `DraftRejection`, so it is not offered again).

The page shows one lesson at a time (query `lesson`: its 出处; by default the first lesson
that still has drafts) under a short list of every lesson of the module with its count.
After an action the page comes back to the same lesson, or to the next one with drafts.

Forms name a draft by its stable key (`draft_key`); the server drafts again and finds it,
never taking a question's content from the form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
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


async def module_drafts(bank: Mapping[str, Any]) -> tuple[str | None, list[LessonDrafts]]:
    """Every lesson of the bank's module in order, each with its drafts not yet rejected
    (none for a lesson fully dealt with); or a Chinese reason there are none."""
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
        LessonDrafts(p.source_ref, p.title, tuple(by_ref.get(p.source_ref, ())))
        for p in source.lessons
    ]
    return None, lessons


async def bank_drafts(bank: Mapping[str, Any]) -> tuple[str | None, list[LessonDrafts]]:
    """The bank's drafts not yet rejected, by lesson (lessons with drafts only); or a Chinese
    reason there are none."""
    reason, lessons = await module_drafts(bank)
    return reason, [lesson for lesson in lessons if lesson.drafts]


async def find_draft(bank: Mapping[str, Any], key: str) -> Draft | None:
    """The bank's draft named `key` as drafted now (None: gone, accepted or rejected)."""
    _, lessons = await bank_drafts(bank)
    return next((d for lesson in lessons for k, d in lesson.drafts if k == key), None)


def _field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def lesson_url(request: Request, bank: Mapping[str, Any], source_ref: str | None) -> str:
    """The page of one lesson's drafts (None: the default lesson)."""
    url = request.app.route_reverse("bank_drafts", bank_slug=bank["slug"])
    return f"{url}?{urlencode({'lesson': source_ref})}" if source_ref else url


def next_with_drafts(lessons: Sequence[LessonDrafts], source_ref: str) -> str | None:
    """Where to go after dealing with drafts of lesson `source_ref`: that lesson while it
    has drafts, else the next lesson after it with drafts (None: the default lesson)."""
    refs = [lesson.source_ref for lesson in lessons]
    if source_ref not in refs:
        return None
    at = refs.index(source_ref)
    return next((lesson.source_ref for lesson in lessons[at:] if lesson.drafts), None)


async def _back(request: Request, bank: Mapping[str, Any], source_ref: str) -> Redirect:
    """Back to the lesson the action came from (drafted again: it may have none left)."""
    target = None
    if source_ref:
        _, lessons = await module_drafts(bank)
        target = next_with_drafts(lessons, source_ref)
    return Redirect(lesson_url(request, bank, target))


@get("/banks/{bank_slug:str}/drafts", name="bank_drafts")
async def drafts_page(
    request: Request, bank_slug: FromPath[str], lesson: FromQuery[str] = ""
) -> Template:
    """One lesson's drafts (`lesson`: its 出处), under the list of the module's lessons."""
    bank = await load_bank(bank_slug)
    reason, lessons = await module_drafts(bank)
    pending = [item for item in lessons if item.drafts]
    wanted = lesson.strip()
    shown = next((item for item in lessons if item.source_ref == wanted), None)
    notice = ""
    if wanted and shown is None and lessons:
        notice = f"没有找到课文“{wanted[:40]}”。"
        if pending:
            notice = f"没有找到课文“{wanted[:40]}”，下面是第一篇还有草稿的课文。"
    if shown is None:
        shown = pending[0] if pending else None
    previous = following = None
    if shown is not None:
        at = next(n for n, item in enumerate(lessons) if item is shown)
        previous = next((item for item in reversed(lessons[:at]) if item.drafts), None)
        following = next((item for item in lessons[at + 1 :] if item.drafts), None)
    return Template(
        "banks/drafts.html",
        context={
            "bank": bank,
            "reason": reason,
            "lessons": lessons,
            "pending": pending,
            "shown": shown,
            "previous": previous,
            "following": following,
            "notice": notice,
            "lesson_url": lambda ref: lesson_url(request, bank, ref),
            "total": sum(len(item.drafts) for item in lessons),
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
    back = lesson or _field(data, "shown")
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
    return await _back(request, bank, chosen[0].question.source_ref if chosen else back)


@post("/banks/{bank_slug:str}/drafts/reject", name="bank_drafts_reject")
async def drafts_reject(request: Request, bank_slug: FromPath[str], data: AnyFormBody) -> Redirect:
    """Reject one draft (field `draft`: its key): it is not offered for this bank again."""
    bank = await load_bank(bank_slug)
    key = _field(data, "draft")
    draft = await find_draft(bank, key) if key else None
    if draft is None:
        flash(request, "没有找到这道题：它可能已被采用或不采用，请看下面的列表。", "info")
        return await _back(request, bank, _field(data, "shown"))
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
    return await _back(request, bank, draft.question.source_ref)


def draft_form(draft: Draft) -> dict[str, str]:
    """The question editor's form filled in with a draft (修改后采用), as a new question."""
    return {**form_of(draft.question), "key": ""}


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[drafts_page, drafts_accept, drafts_reject],
)
