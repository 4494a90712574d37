"""Trainers' question pages: writing a question with a live preview (exactly the card a cadre
sees), its versions, how cadres answered it, deactivating and reactivating it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.banks.draft_pages import draft_form, find_draft
from app.banks.editor_form import (
    DIFFICULTIES,
    FORM_FIELDS,
    clean_form,
    form_of,
    next_key,
    preview_of,
    question_from_form,
)
from app.banks.lint import ERROR, WARNING, Finding
from app.banks.merge import NEW, UNCHANGED
from app.banks.model import LETTERS, Question
from app.banks.pages import (
    lint_question,
    load_bank,
    load_question,
    load_version,
    module_lessons,
    question_stats,
)
from app.banks.reviews import open_reviews, resolve_reviews
from app.banks.store import (
    BankImportError,
    question_numbers,
    question_of,
    save_question,
)
from app.db import write_transaction
from app.lib.forms import AnyFormBody
from app.tables import Question as QuestionRow
from app.tables import QuestionVersion

# ---------------------------------------------------------------- questions


async def _fresh_key(bank: Mapping[str, Any]) -> str:
    """The key a new question gets: the bank's next free one (for files and URLs only)."""
    rows = await QuestionRow.select(QuestionRow.key).where(QuestionRow.bank == bank["id"])
    return next_key(bank["slug"], {row["key"] for row in rows})


async def _number(bank: Mapping[str, Any], key: str) -> int | None:
    """The question's number in its bank (第 N 题)."""
    return (await question_numbers([bank["id"]])).get((bank["id"], key))


async def _check(
    bank: Mapping[str, Any], form: Mapping[str, str], key: str | None
) -> tuple[Question, dict[str, str], tuple[Finding, ...]]:
    """The question in the form, its problems by field, and (when there are none) the lint's
    findings; `key` is None for a new question, which gets the bank's next free key."""
    question, errors = question_from_form(form, key or await _fresh_key(bank))
    findings = () if errors else await lint_question(bank, question)
    return question, errors, findings


async def _editor(
    bank: Mapping[str, Any],
    form: Mapping[str, str],
    key: str | None,
    checked: tuple[Question, dict[str, str], tuple[Finding, ...]] | None = None,
    status: int = 200,
) -> Template:
    """The editor beside its preview; `checked` is what `_check` found (None: a fresh form,
    whose problems are not shown yet)."""
    question, errors, findings = checked or (question_from_form(form, key or "新题")[0], {}, ())
    lessons = await module_lessons(bank["module"])
    return Template(
        "banks/editor.html",
        context={
            "bank": bank,
            "form": form,
            "key": key,
            "number": await _number(bank, key) if key else None,
            "errors": errors,
            "findings": findings,
            "lessons": lessons,
            "lesson_refs": [lesson["source_ref"] for lesson in lessons],
            "preview": preview_of(question, errors, findings),
            "difficulties": DIFFICULTIES,
        },
        status_code=status,
    )


async def _save(
    request: Request, bank: Mapping[str, Any], data: Mapping[str, Any], key: str | None
) -> Template | Redirect:
    """Show the form again with every problem (or the preview asked for), or save it: a
    changed question becomes a new version, the old ones are kept as they were."""
    form = clean_form(data)
    checked = question, errors, findings = await _check(bank, form, key)
    refused = bool(errors) or any(f.level == ERROR for f in findings)
    if data.get("action") == "preview":
        return await _editor(bank, form, key, checked)
    if refused:
        return await _editor(bank, form, key, checked, 400)
    for _ in range(5):
        try:
            saved = await save_question(bank["id"], question, request.user.id, new=key is None)
            break
        except BankImportError as error:  # a new key taken meanwhile: the next one
            if key is not None:
                checked = question, {"key": str(error)}, findings
                return await _editor(bank, form, key, checked, 409)
            question = dataclasses.replace(question, key=await _fresh_key(bank))
    else:
        checked = question, {"stem": "暂时无法保存，请再点一次“保存”。"}, findings
        return await _editor(bank, form, key, checked, 409)
    row = await load_question(bank, question.key)
    current = await load_version(row["id"])
    number = await _number(bank, question.key)
    if saved == NEW:
        message = f"已新建第 {number} 题（第 1 版）。"
    elif saved == UNCHANGED:
        message = "没有改动。"
    else:
        version = current["version"] if current else "?"
        message = f"已保存为第 {version} 版（原来的版本保留，已作答的试卷不受影响）。"
    warnings = [f.message for f in findings if f.level == WARNING]
    if warnings:
        message += "请注意：" + "；".join(warnings)
    flash(request, message, "info" if saved == UNCHANGED else "success")
    return Redirect(request.app.route_reverse("question", bank_slug=bank["slug"], key=question.key))


@get("/banks/{bank_slug:str}/questions/new", name="question_new")
async def question_new(bank_slug: FromPath[str], draft: FromQuery[str] = "") -> Template:
    """A blank question, or (`draft`: a drafted question's key, 修改后采用) the draft."""
    bank = await load_bank(bank_slug)
    drafted = await find_draft(bank, draft) if draft else None
    if drafted is not None:
        form = draft_form(drafted)
        return await _editor(bank, form, None, await _check(bank, form, None))
    form = dict.fromkeys(FORM_FIELDS, "")
    return await _editor(bank, {**form, "type": "single"}, None)


@post("/banks/{bank_slug:str}/questions/new", name="question_create")
async def question_create(
    request: Request, bank_slug: FromPath[str], data: AnyFormBody
) -> Template | Redirect:
    return await _save(request, await load_bank(bank_slug), data, None)


@get("/banks/{bank_slug:str}/questions/{key:str}/edit", name="question_edit")
async def question_edit(bank_slug: FromPath[str], key: FromPath[str]) -> Template:
    bank = await load_bank(bank_slug)
    row = await load_question(bank, key)
    current = await load_version(row["id"])
    if current is None:
        raise NotFoundException("这道题目没有内容。")
    form = form_of(question_of(key, current))
    return await _editor(bank, form, key, await _check(bank, form, key))


@post("/banks/{bank_slug:str}/questions/{key:str}/edit", name="question_save")
async def question_save(
    request: Request, bank_slug: FromPath[str], key: FromPath[str], data: AnyFormBody
) -> Template | Redirect:
    bank = await load_bank(bank_slug)
    await load_question(bank, key)
    return await _save(request, bank, data, key)


@post("/banks/{bank_slug:str}/preview", name="question_preview")
async def question_preview(bank_slug: FromPath[str], data: AnyFormBody) -> Template:
    """The live preview: the card as a cadre sees it (200), or with the problems (422)."""
    bank = await load_bank(bank_slug)
    form = clean_form(data)
    question, errors = question_from_form(form, "新题")
    findings = () if errors else await lint_question(bank, question)
    refused = bool(errors) or any(f.level == ERROR for f in findings)
    return Template(
        "banks/_preview.html",
        context={"preview": preview_of(question, errors, findings)},
        status_code=422 if refused else 200,
    )


@get("/banks/{bank_slug:str}/questions/{key:str}", name="question")
async def question_page(
    bank_slug: FromPath[str], key: FromPath[str], version: FromQuery[int | None] = None
) -> Template:
    bank = await load_bank(bank_slug)
    row = await load_question(bank, key)
    current = await load_version(row["id"])
    shown = await load_version(row["id"], version) if version is not None else current
    if current is None or shown is None:
        raise NotFoundException(f"这道题目没有第 {version} 版。")
    versions = await (
        QuestionVersion.select(
            QuestionVersion.version,
            QuestionVersion.created_at,
            QuestionVersion.is_current,
            QuestionVersion.created_by.name.as_alias("author"),
        )
        .where(QuestionVersion.question == row["id"])
        .order_by(QuestionVersion.version, ascending=False)
    )
    stats = await question_stats(row["id"])
    latest = question_of(key, current)
    choice = stats["wrong_choice"] or ""
    if latest.type in ("single", "multiple") and all(
        c in LETTERS[: len(latest.options)] for c in choice
    ):
        stats["wrong_text"] = [f"{c}. {latest.options[LETTERS.index(c)]}" for c in choice]
    else:
        stats["wrong_text"] = [choice] if choice else []
    findings = await lint_question(bank, latest) if shown is current else ()
    return Template(
        "banks/question.html",
        context={
            "bank": bank,
            "row": row,
            "number": await _number(bank, key),
            "shown": shown,
            "preview": preview_of(question_of(key, shown), {}, findings),
            "versions": versions,
            "stats": stats,
            "difficulties": DIFFICULTIES,
            "reviews": await open_reviews(row["id"]),
        },
    )


@post("/banks/{bank_slug:str}/questions/{key:str}/confirm", name="question_confirm")
async def question_confirm(
    request: Request, bank_slug: FromPath[str], key: FromPath[str]
) -> Redirect:
    """The trainer checked a question under review against the new version: it stays as it is
    and new papers may draw it again."""
    bank = await load_bank(bank_slug)
    row = await load_question(bank, key)
    name = f"第 {await _number(bank, key)} 题"
    async with write_transaction():
        if await resolve_reviews(row["id"], request.user.id):
            await audit.record(
                request,
                "question.review_confirm",
                None,
                f"确认题库“{bank['title']}”中的{name}（{key}）与新版相符",
            )
    flash(request, f"已确认{name}无误，测验会重新抽到它。", "success")
    return Redirect(request.app.route_reverse("question", bank_slug=bank_slug, key=key))


async def _set_active(request: Request, bank_slug: str, key: str, active: bool) -> Redirect:
    bank = await load_bank(bank_slug)
    row = await load_question(bank, key)
    name = f"第 {await _number(bank, key)} 题"
    async with write_transaction():
        await QuestionRow.update({QuestionRow.active: active}).where(QuestionRow.id == row["id"])
        word = "启用" if active else "停用"
        await audit.record(
            request,
            "question.activate" if active else "question.deactivate",
            None,
            f"{word}题库“{bank['title']}”中的{name}（{key}）",
        )
    if active:
        flash(request, f"已启用{name}，测验会重新抽到它。", "success")
    else:
        flash(request, f"已停用{name}：测验不再抽到它，已作答的试卷不受影响。", "success")
    return Redirect(request.app.route_reverse("question", bank_slug=bank_slug, key=key))


@post("/banks/{bank_slug:str}/questions/{key:str}/deactivate", name="question_deactivate")
async def question_deactivate(
    request: Request, bank_slug: FromPath[str], key: FromPath[str]
) -> Redirect:
    return await _set_active(request, bank_slug, key, False)


@post("/banks/{bank_slug:str}/questions/{key:str}/activate", name="question_activate")
async def question_activate(
    request: Request, bank_slug: FromPath[str], key: FromPath[str]
) -> Redirect:
    return await _set_active(request, bank_slug, key, True)


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[
        question_new,
        question_create,
        question_edit,
        question_save,
        question_preview,
        question_page,
        question_deactivate,
        question_activate,
        question_confirm,
    ],
)
