"""Trainers' question-bank pages: the banks, a bank's questions, its coverage of the course,
and the exports. Questions are in `app/banks/question_pages.py`, imports in
`app/banks/import_pages.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import requires_role
from app.banks.editor_form import (
    BANK_FALLBACK,
    DIFFICULTIES,
    RESERVED_SLUGS,
    STATUSES,
    TITLE_MAX,
)
from app.banks.exporting import EXPORTS, export_bytes
from app.banks.lint import Finding, lint_banks
from app.banks.model import QUESTION_TYPES, ParseResult, Question
from app.banks.own_format import BankHeader
from app.banks.reviews import under_review
from app.banks.store import (
    VERSION_COLUMNS,
    bank_for_export,
    module_passages,
    question_numbers,
)
from app.banks.xlsx import template_xlsx
from app.db import write_transaction
from app.lib.downloads import XLSX, download
from app.lib.forms import AnyFormBody
from app.lib.identifiers import create_with_identifier
from app.lib.pagination import Page
from app.lib.parsing import valid_id
from app.tables import Answer, Bank, Lesson, Module, QuestionVersion
from app.tables import Question as QuestionRow

# ---------------------------------------------------------------- loading


async def load_bank(slug: str) -> dict[str, Any]:
    bank = (
        await Bank.select(
            Bank.id,
            Bank.slug,
            Bank.title,
            Bank.module,
            Bank.module.slug.as_alias("module_slug"),
            Bank.module.title.as_alias("module_title"),
        )
        .where(Bank.slug == slug)
        .first()
    )
    if bank is None:
        raise NotFoundException("没有找到这个题库。")
    return bank


async def load_question(bank: Mapping[str, Any], key: str) -> dict[str, Any]:
    row = (
        await QuestionRow.select(QuestionRow.id, QuestionRow.key, QuestionRow.active)
        .where(QuestionRow.bank == bank["id"], QuestionRow.key == key)
        .first()
    )
    if row is None:
        raise NotFoundException(f"题库“{bank['title']}”中没有题号为“{key}”的题目。")
    return row


async def load_version(question_id: int, version: int | None = None) -> dict[str, Any] | None:
    query = QuestionVersion.select(*VERSION_COLUMNS).where(QuestionVersion.question == question_id)
    if version is None:
        return await query.where(QuestionVersion.is_current.eq(True)).first()
    if not valid_id(version):
        return None
    return await query.where(QuestionVersion.version == version).first()


async def module_lessons(module_id: int | None) -> list[dict[str, Any]]:
    if module_id is None:
        return []
    return await (
        Lesson.select(Lesson.source_ref, Lesson.title, Lesson.slug, Lesson.module.slug)
        .where(Lesson.module == module_id, Lesson.active.eq(True))
        .order_by(Lesson.sort_order)
    )


async def lint_question(bank: Mapping[str, Any], question: Question) -> tuple[Finding, ...]:
    """The lint's findings on one question, checked against the bank's module's lessons."""
    module = bank["module_slug"] or ""
    lessons = {module: await module_passages(bank["module"])} if module else {}
    header = BankHeader(bank["slug"], bank["title"], module)
    names = {question.key: "这道题"}
    report = lint_banks([(bank["slug"], header, ParseResult((question,)))], lessons, names)
    return report.findings


def _contains(column: str, text: str) -> WhereRaw:
    """`column` of the question version contains `text` literally, ignoring ASCII case."""
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text.lower()) + "%"
    table = QuestionVersion._meta.tablename
    return WhereRaw(f'lower("{table}"."{column}") LIKE {{}} ESCAPE \'\\\'', pattern)


async def question_stats(question_id: int) -> dict[str, Any]:
    """How cadres answered any version of a question in finished, counted attempts: times
    answered, how many right, and the wrong choice made most often (with its count)."""
    counted = (
        Answer.question_version.question == question_id,
        Answer.attempt.status != "in_progress",
        Answer.attempt.practice.eq(False),
        Answer.response != "[]",  # a cleared answer is no answer
    )
    by_result = (
        await Answer.select(Answer.correct, Count(alias="n"))
        .where(*counted)
        .group_by(Answer.correct)
    )
    wrong = await (
        Answer.select(Answer.choice, Count(alias="n"))
        .where(*counted, Answer.correct.eq(False), Answer.choice != "")
        .group_by(Answer.choice)
    )
    answered = sum(row["n"] for row in by_result)
    correct = sum(row["n"] for row in by_result if row["correct"])
    top = min(wrong, key=lambda row: (-row["n"], row["choice"]), default=None)
    return {
        "answered": answered,
        "correct": correct,
        "rate": correct / answered if answered else None,
        "wrong_choice": top["choice"] if top else None,
        "wrong_count": top["n"] if top else 0,
    }


# ---------------------------------------------------------------- banks


async def _list_page(form: Mapping[str, str] | None = None, errors=None, status=200) -> Template:
    banks = await Bank.select(
        Bank.id, Bank.slug, Bank.title, Bank.module.title.as_alias("module_title")
    ).order_by(Bank.slug)
    active = await (
        QuestionVersion.select(
            QuestionVersion.question.bank.as_alias("bank"), QuestionVersion.type, Count(alias="n")
        )
        .where(QuestionVersion.is_current.eq(True), QuestionVersion.question.active.eq(True))
        .group_by(QuestionVersion.question.bank, QuestionVersion.type)
    )
    inactive = await (
        QuestionRow.select(QuestionRow.bank, Count(alias="n"))
        .where(QuestionRow.active.eq(False))
        .group_by(QuestionRow.bank)
    )
    counts: dict[int, dict[str, int]] = {}
    for row in active:
        counts.setdefault(row["bank"], {})[row["type"]] = row["n"]
    modules = (
        await Module.select(Module.slug, Module.title)
        .where(Module.active.eq(True))
        .order_by(Module.sort_order, Module.slug)
    )
    return Template(
        "banks/list.html",
        context={
            "banks": banks,
            "counts": counts,
            "inactive": {row["bank"]: row["n"] for row in inactive},
            "modules": modules,
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/banks", name="banks")
async def bank_list() -> Template:
    return await _list_page()


async def banks_starting_with(prefix: str) -> list[str]:
    """The identifiers of the banks whose identifier starts with `prefix`."""
    rows = await Bank.select(Bank.slug).where(Bank.slug.like(prefix + "%"))
    return [row["slug"] for row in rows]


async def create_bank(request: Request, title: str, module_id: int | None) -> str:
    """A new empty bank named `title`, with an identifier peixun makes from it (for URLs and
    files; never changed afterwards). Returns the identifier."""

    async def create(slug: str) -> str:
        async with write_transaction():
            await Bank.insert(Bank(slug=slug, title=title, module=module_id))
            await audit.record(request, "bank.create", None, f"新建题库“{title}”")
        return slug

    return await create_with_identifier(
        title,
        fallback=BANK_FALLBACK,
        taken=banks_starting_with,
        create=create,
        reserved=RESERVED_SLUGS,
    )


@post("/banks", name="bank_create")
async def bank_create(request: Request, data: AnyFormBody) -> Template | Redirect:
    form = {k: v.strip() if isinstance(v := data.get(k), str) else "" for k in ("title", "module")}
    errors = {}
    if not form["title"] or len(form["title"]) > TITLE_MAX:
        errors["title"] = f"请填写题库名称（最多 {TITLE_MAX} 个字）。"
    module = None
    if form["module"]:
        module = await Module.select(Module.id).where(Module.slug == form["module"]).first()
        if module is None:
            errors["module"] = "没有这个课程模块，请重新选择。"
    if errors:
        return await _list_page(form, errors, 400)
    slug = await create_bank(request, form["title"], module["id"] if module else None)
    flash(request, f"已新建题库“{form['title']}”，现在可以添加或导入题目。", "success")
    return Redirect(request.app.route_reverse("bank", bank_slug=slug))


@get("/banks/template.xlsx", name="bank_template")
async def bank_template() -> Response[bytes]:
    return download(template_xlsx(), "题库导入模板.xlsx", XLSX)


@get("/banks/{bank_slug:str}", name="bank")
async def bank_page(
    bank_slug: FromPath[str],
    kind: Annotated[str, QueryParameter(name="type")] = "",
    ref: FromQuery[str] = "",
    tag: FromQuery[str] = "",
    difficulty: FromQuery[str] = "",
    q: FromQuery[str] = "",
    status: FromQuery[str] = "active",
    page: FromQuery[int] = 1,
) -> Template:
    bank = await load_bank(bank_slug)
    in_bank = (QuestionVersion.question.bank == bank["id"], QuestionVersion.is_current.eq(True))
    conditions = list(in_bank)
    if kind in QUESTION_TYPES:
        conditions.append(QuestionVersion.type == kind)
    if ref:
        conditions.append(QuestionVersion.source_ref == ref)
    if difficulty in ("1", "2", "3"):
        conditions.append(QuestionVersion.difficulty == int(difficulty))
    if tag:
        conditions.append(_contains("tags", json.dumps(tag, ensure_ascii=False)))
    if q.strip():
        conditions.append(_contains("stem", q.strip()))
    status = status if status in STATUSES else "active"
    held = await under_review(bank["id"])
    if status == "review":
        conditions.append(QuestionVersion.question.is_in(sorted(held) or [0]))
    elif status != "all":
        conditions.append(QuestionVersion.question.active.eq(status == "active"))
    pager = Page(number=page, total=await QuestionVersion.count().where(*conditions))
    rows = await (
        QuestionVersion.select(
            QuestionVersion.version,
            QuestionVersion.type,
            QuestionVersion.stem,
            QuestionVersion.source_ref,
            QuestionVersion.difficulty,
            QuestionVersion.question.key.as_alias("key"),
            QuestionVersion.question.active.as_alias("active"),
            QuestionVersion.question.id.as_alias("question_id"),
        )
        .where(*conditions)
        .order_by(QuestionVersion.question.sort_order, QuestionVersion.question.id)
        .offset(pager.offset)
        .limit(pager.size)
    )
    summary = await (
        QuestionVersion.select(
            QuestionVersion.type,
            QuestionVersion.question.active.as_alias("active"),
            Count(alias="n"),
        )
        .where(*in_bank)
        .group_by(QuestionVersion.type, QuestionVersion.question.active)
    )
    refs = await QuestionVersion.select(QuestionVersion.source_ref).where(*in_bank).distinct()
    tag_lists = await QuestionVersion.select(QuestionVersion.tags).where(*in_bank).distinct()
    filters = {"type": kind, "ref": ref, "tag": tag, "difficulty": difficulty, "q": q}
    numbers = await question_numbers([bank["id"]])
    return Template(
        "banks/bank.html",
        context={
            "bank": bank,
            "rows": rows,
            "numbers": {key: n for (_bank, key), n in numbers.items()},
            "pager": pager,
            "filters": {**filters, "status": status},
            "by_type": {(row["type"], bool(row["active"])): row["n"] for row in summary},
            "refs": sorted(r["source_ref"] for r in refs if r["source_ref"]),
            "tags": sorted({t for r in tag_lists for t in json.loads(r["tags"])}),
            "statuses": STATUSES,
            "difficulties": DIFFICULTIES,
            "held": held,
        },
    )


@get("/banks/{bank_slug:str}/coverage", name="bank_coverage")
async def bank_coverage(bank_slug: FromPath[str]) -> Template:
    bank = await load_bank(bank_slug)
    lessons = await module_lessons(bank["module"])
    active = (
        QuestionVersion.question.bank == bank["id"],
        QuestionVersion.is_current.eq(True),
        QuestionVersion.question.active.eq(True),
    )
    cited = await (
        QuestionVersion.select(QuestionVersion.source_ref, QuestionVersion.type, Count(alias="n"))
        .where(*active)
        .group_by(QuestionVersion.source_ref, QuestionVersion.type)
    )
    counts: dict[str, dict[str, int]] = {}
    for row in cited:
        counts.setdefault(row["source_ref"], {})[row["type"]] = row["n"]
    refs = [lesson["source_ref"] for lesson in lessons]
    elsewhere = QuestionVersion.select(
        QuestionVersion.question.key.as_alias("key"),
        QuestionVersion.type,
        QuestionVersion.stem,
        QuestionVersion.source_ref,
    ).where(*active)
    if refs:
        elsewhere = elsewhere.where(QuestionVersion.source_ref.not_in(refs))
    numbers = await question_numbers([bank["id"]])
    return Template(
        "banks/coverage.html",
        context={
            "bank": bank,
            "numbers": {key: n for (_bank, key), n in numbers.items()},
            "lessons": lessons,
            "counts": counts,
            "uncovered": sum(1 for ref in refs if ref not in counts),
            "elsewhere": await elsewhere.order_by(QuestionVersion.question.sort_order),
        },
    )


async def _export(request: Request, bank_slug: str, fmt: str) -> Response[bytes] | Redirect:
    found = await bank_for_export(bank_slug)
    if found is None:
        raise NotFoundException("没有找到这个题库。")
    header, questions = found
    try:
        body = export_bytes(header, questions, fmt)
    except ValueError as error:  # e.g. a character Excel can't hold
        flash(request, f"无法导出：{error}", "error")
        return Redirect(request.app.route_reverse("bank", bank_slug=bank_slug))
    title = re.sub(r'[\\/:*?"<>|\s]+', "_", header.title).strip("_")
    name = f"{title}_{header.slug}" if title else header.slug
    return download(body, name + EXPORTS[fmt][0], EXPORTS[fmt][1])


@get("/banks/{bank_slug:str}/export.md", name="bank_export_own")
async def export_own(request: Request, bank_slug: FromPath[str]) -> Response[bytes] | Redirect:
    return await _export(request, bank_slug, "own")


@get("/banks/{bank_slug:str}/export.gift.txt", name="bank_export_gift")
async def export_gift(request: Request, bank_slug: FromPath[str]) -> Response[bytes] | Redirect:
    return await _export(request, bank_slug, "gift")


@get("/banks/{bank_slug:str}/export.xlsx", name="bank_export_xlsx")
async def export_xlsx(request: Request, bank_slug: FromPath[str]) -> Response[bytes] | Redirect:
    return await _export(request, bank_slug, "xlsx")


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[
        bank_list,
        bank_create,
        bank_template,
        bank_page,
        bank_coverage,
        export_own,
        export_gift,
        export_xlsx,
    ],
)
