"""Trainers' question-bank pages: the banks, a bank's questions, its coverage of the course,
writing a question with a live preview (exactly the card a cadre sees), its versions and how
cadres answered it. Imports are in `app/banks/import_pages.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import requires_role
from app.accounts.people_import import attachment
from app.banks.exporting import EXPORTS, export_bytes
from app.banks.lint import ERROR, WARNING, Finding, lint_banks
from app.banks.merge import NEW, UNCHANGED
from app.banks.model import LETTERS, QUESTION_TYPES, TRUE_FALSE, ParseResult, Question, blank_count
from app.banks.own_format import BankHeader
from app.banks.store import (
    VERSION_COLUMNS,
    BankImportError,
    bank_for_export,
    module_passages,
    question_of,
    save_question,
)
from app.banks.xlsx import template_xlsx
from app.db import write_transaction
from app.lib.pagination import Page
from app.tables import Answer, Bank, Lesson, Module, QuestionVersion
from app.tables import Question as QuestionRow

XLSX = EXPORTS["xlsx"][1]
# The editor's form, with repeated or odd fields tolerated: the live preview must never fail.
AnyForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
RESERVED_SLUGS = ("import",)  # /banks/import is the import page
KEY_MAX, SLUG_MAX, TITLE_MAX, REF_MAX = 64, 80, 200, 100  # what the tables hold
TEXT_MAX, OPTION_MAX = 5000, 500
DIFFICULTIES = {1: "易", 2: "中", 3: "难"}
STATUSES = {"active": "启用", "inactive": "已停用", "all": "全部"}
OPTION_FIELDS = tuple(f"option_{letter}" for letter in LETTERS)
CORRECT_FIELDS = tuple(f"correct_{letter}" for letter in LETTERS)
FORM_FIELDS = (
    "key", "type", "stem", *OPTION_FIELDS, *CORRECT_FIELDS, "tf", "blanks", "explanation",
    "source_ref", "source_ref_other", "difficulty", "tags", "evidence",
)  # fmt: skip
FIELD_LABELS = {
    "key": "题号", "type": "题型", "stem": "题干", "options": "选项", "answer": "答案",
    "tf": "答案", "blanks": "答案", "explanation": "解析", "source_ref": "出处",
    "difficulty": "难度", "tags": "标签", "evidence": "依据",
}  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # Excel can't hold them
_TAG_SEPARATORS = re.compile(r"[,，、\n]")
_ALTERNATIVES = re.compile(r"(?<!\\)/")
_NOT_IN_BLANKS = ("|", "；", ";")  # the bank file format separates answers with them


# ---------------------------------------------------------------- the editor's form (pure)


def clean_form(data: Mapping[str, Any]) -> dict[str, str]:
    """The editor's fields as text: one kind of newline, no control characters."""
    form = {}
    for name in FORM_FIELDS:
        value = data.get(name, "")
        text = value if isinstance(value, str) else ""
        form[name] = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return form


def key_problem(key: str) -> str | None:
    if not key:
        return "请填写题号。"
    if len(key) > KEY_MAX or not KEY.match(key):
        return f"题号只能由字母、数字和“-”“_”“.”组成，最多 {KEY_MAX} 个字符。"
    if key == "new":
        return "题号“new”是系统保留的，请换一个。"
    return None


def _choices(form: Mapping[str, str], kind: str, errors: dict[str, str]):
    """The filled options (blank ones dropped) and the answer in the letters they end up with."""
    options: list[str] = []
    answer: list[str] = []
    on_blank: list[str] = []
    for letter in LETTERS:
        text = form.get(f"option_{letter}", "").strip()
        marked = bool(form.get(f"correct_{letter}", "").strip())
        if not text:
            if marked:
                on_blank.append(letter)
            continue
        if marked:
            answer.append(LETTERS[len(options)])
        options.append(text)
    label = QUESTION_TYPES[kind]
    if len(options) < 2:
        errors["options"] = f"{label}题至少要有两个选项，现在有 {len(options)} 个。"
    elif any(len(option) > OPTION_MAX for option in options):
        errors["options"] = f"每个选项最多 {OPTION_MAX} 个字。"
    if on_blank:
        letters = "、".join(on_blank)
        errors["answer"] = f"答案“{letters}”不在选项中：选项 {letters} 没有填写。"
    elif not answer:
        errors["answer"] = "请勾选正确答案。"
    elif kind == "single" and len(answer) != 1:
        errors["answer"] = f"单选题只能有一个正确答案，现在勾选了 {len(answer)} 个。"
    elif kind == "multiple" and len(answer) < 2:
        errors["answer"] = "多选题至少要有两个正确答案。"
    return tuple(options), tuple(answer)


def _blanks(text: str, stem: str, errors: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    lines = text.strip("\n").split("\n") if text.strip() else []
    groups = []
    for number, line in enumerate(lines, start=1):
        alternatives = tuple(a.strip().replace("\\/", "/") for a in _ALTERNATIVES.split(line))
        if not all(alternatives):
            errors["blanks"] = f"第 {number} 行（第 {number} 空）有空白的答案。"
        elif any(mark in a for a in alternatives for mark in _NOT_IN_BLANKS):
            errors["blanks"] = f"第 {number} 空的答案中不能有“|”“；”。"
        groups.append(alternatives)
    count = blank_count(stem)
    if count == 0:
        errors.setdefault("stem", "填空题的题干中没有空：请用三个下划线 ___ 标出每个空。")
    elif not groups:
        errors["blanks"] = "请填写每个空的答案，一行一个空。"
    elif count != len(groups):
        errors.setdefault(
            "blanks", f"题干中有 {count} 个空，答案却有 {len(groups)} 行（一行一个空）。"
        )
    return tuple(groups)


def question_from_form(form: Mapping[str, str], key: str) -> tuple[Question, dict[str, str]]:
    """The question the editor's form describes, and every problem by field (in Chinese).
    The question is built even when there are problems, for the preview."""
    errors: dict[str, str] = {}
    kind = form.get("type", "")
    stem = form.get("stem", "").strip()
    if kind not in QUESTION_TYPES:
        errors["type"] = "请选择题型。"
    if not stem:
        errors["stem"] = "请填写题干。"
    elif len(stem) > TEXT_MAX:
        errors["stem"] = f"题干太长（最多 {TEXT_MAX} 个字）。"
    options: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    blanks: tuple[tuple[str, ...], ...] = ()
    if kind in ("single", "multiple"):
        options, answer = _choices(form, kind, errors)
    elif kind == "true_false":
        if form.get("tf", "").strip() in TRUE_FALSE:
            answer = (form["tf"].strip(),)
        else:
            errors["tf"] = "请选择“对”或“错”。"
    elif kind == "fill_blank":
        blanks = _blanks(form.get("blanks", ""), stem, errors)
    source_ref = form.get("source_ref_other", "").strip() or form.get("source_ref", "").strip()
    if len(source_ref) > REF_MAX:
        errors["source_ref"] = f"出处太长（最多 {REF_MAX} 个字）。"
    difficulty = form.get("difficulty", "").strip()
    if difficulty not in ("", "1", "2", "3"):
        errors["difficulty"] = "难度请选择 1、2 或 3。"
    explanation, evidence = form.get("explanation", "").strip(), form.get("evidence", "").strip()
    tags = tuple(dict.fromkeys(t.strip() for t in _TAG_SEPARATORS.split(form.get("tags", ""))))
    for name, value in (("explanation", explanation), ("evidence", evidence), ("tags", tags)):
        if len(str(value)) > TEXT_MAX:
            errors[name] = f"{FIELD_LABELS[name]}太长（最多 {TEXT_MAX} 个字）。"
    question = Question(
        key=key,
        type=kind,
        stem=stem,
        options=options,
        answer=answer,
        blanks=blanks,
        explanation=explanation,
        source_ref=source_ref,
        difficulty=int(difficulty) if difficulty in ("1", "2", "3") else None,
        tags=tuple(t for t in tags if t),
        evidence=evidence,
    )
    return question, errors


def form_of(question: Question) -> dict[str, str]:
    """The editor's form filled in with a question; `question_from_form` gives it back."""
    form = dict.fromkeys(FORM_FIELDS, "")
    form.update(
        key=question.key,
        type=question.type,
        stem=question.stem,
        explanation=question.explanation,
        source_ref=question.source_ref,
        difficulty="" if question.difficulty is None else str(question.difficulty),
        tags="、".join(question.tags),
        evidence=question.evidence,
    )
    for letter, option in zip(LETTERS, question.options, strict=False):
        form[f"option_{letter}"] = option
    if question.type == "true_false":
        form["tf"] = question.answer[0] if question.answer else ""
    elif question.type != "fill_blank":
        form.update({f"correct_{letter}": "1" for letter in question.answer})
    form["blanks"] = "\n".join(
        "/".join(a.replace("/", "\\/") for a in group) for group in question.blanks
    )
    return form


def next_key(bank_slug: str, taken: set[str]) -> str:
    n = 1
    while f"{bank_slug}-{n:03d}" in taken:
        n += 1
    return f"{bank_slug}-{n:03d}"


def answer_lines(question: Question) -> list[str]:
    """The right answer in words, for the box trainers see under the preview."""
    if question.type == "true_false":
        return [("√ " if question.answer == ("对",) else "× ") + "".join(question.answer)]
    if question.type == "fill_blank":
        return [f"第 {n} 空：" + " 或 ".join(g) for n, g in enumerate(question.blanks, start=1)]
    return [
        f"{letter}. {question.options[LETTERS.index(letter)]}"
        for letter in question.answer
        if LETTERS.index(letter) < len(question.options)
    ]


def preview_of(
    question: Question,
    errors: Mapping[str, str] | None = None,
    findings: tuple[Finding, ...] = (),
) -> dict[str, Any]:
    """What `banks/_preview.html` shows: the card (when there is one to show) and the answer."""
    shown = question.type in QUESTION_TYPES and bool(question.stem)
    item = {"position": 1, "type": question.type, "stem": question.stem}
    return {
        "question": question,
        "item": {**item, "options": question.options} if shown else None,
        "answer": answer_lines(question),
        "errors": [(FIELD_LABELS.get(f, f), text) for f, text in (errors or {}).items()],
        "findings": findings,
    }


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


async def _version(question_id: int, version: int | None = None) -> dict[str, Any] | None:
    query = QuestionVersion.select(*VERSION_COLUMNS).where(QuestionVersion.question == question_id)
    if version is None:
        return await query.where(QuestionVersion.is_current.eq(True)).first()
    if not 0 < version < 2**31:
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
    report = lint_banks([(bank["slug"], header, ParseResult((question,)))], lessons)
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


@post("/banks", name="bank_create")
async def bank_create(request: Request, data: AnyForm) -> Template | Redirect:
    form = {k: v.strip() if isinstance(v := data.get(k), str) else "" for k in ("slug", "title")}
    form["slug"] = form["slug"].lower()
    module_slug = data.get("module") if isinstance(data.get("module"), str) else ""
    form["module"] = module_slug
    errors = {}
    if not SLUG.match(form["slug"]) or len(form["slug"]) > SLUG_MAX:
        errors["slug"] = f"题库标识只能由小写字母、数字和“-”组成，最多 {SLUG_MAX} 个字符。"
    elif form["slug"] in RESERVED_SLUGS:
        errors["slug"] = f"题库标识“{form['slug']}”是系统保留的，请换一个。"
    elif await Bank.exists().where(Bank.slug == form["slug"]):
        errors["slug"] = f"已有题库使用标识“{form['slug']}”，请换一个。"
    if not form["title"] or len(form["title"]) > TITLE_MAX:
        errors["title"] = f"请填写题库名称（最多 {TITLE_MAX} 个字）。"
    module = None
    if module_slug:
        module = await Module.select(Module.id).where(Module.slug == module_slug).first()
        if module is None:
            errors["module"] = "没有这个课程模块。"
    if errors:
        return await _list_page(form, errors, 400)
    async with write_transaction():
        await Bank.insert(
            Bank(slug=form["slug"], title=form["title"], module=module["id"] if module else None)
        )
        await audit.record(request, "bank.create", None, f"新建题库“{form['title']}”")
    flash(request, f"已新建题库“{form['title']}”，现在可以添加或导入题目。", "success")
    return Redirect(request.app.route_reverse("bank", bank_slug=form["slug"]))


@get("/banks/template.xlsx", name="bank_template")
async def bank_template() -> Response[bytes]:
    headers = {"Content-Disposition": attachment("题库导入模板.xlsx")}
    return Response(template_xlsx(), media_type=XLSX, headers=headers)


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
    if status != "all":
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
    return Template(
        "banks/bank.html",
        context={
            "bank": bank,
            "rows": rows,
            "pager": pager,
            "filters": {**filters, "status": status},
            "by_type": {(row["type"], bool(row["active"])): row["n"] for row in summary},
            "refs": sorted(r["source_ref"] for r in refs if r["source_ref"]),
            "tags": sorted({t for r in tag_lists for t in json.loads(r["tags"])}),
            "statuses": STATUSES,
            "difficulties": DIFFICULTIES,
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
    return Template(
        "banks/coverage.html",
        context={
            "bank": bank,
            "lessons": lessons,
            "counts": counts,
            "uncovered": sum(1 for ref in refs if ref not in counts),
            "elsewhere": await elsewhere.order_by(QuestionVersion.question.sort_order),
        },
    )


def _download(body: bytes, name: str, media_type: str) -> Response[bytes]:
    return Response(body, media_type=media_type, headers={"Content-Disposition": attachment(name)})


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
    return _download(body, name + EXPORTS[fmt][0], EXPORTS[fmt][1])


@get("/banks/{bank_slug:str}/export.md", name="bank_export_own")
async def export_own(request: Request, bank_slug: FromPath[str]) -> Response[bytes] | Redirect:
    return await _export(request, bank_slug, "own")


@get("/banks/{bank_slug:str}/export.gift.txt", name="bank_export_gift")
async def export_gift(request: Request, bank_slug: FromPath[str]) -> Response[bytes] | Redirect:
    return await _export(request, bank_slug, "gift")


@get("/banks/{bank_slug:str}/export.xlsx", name="bank_export_xlsx")
async def export_xlsx(request: Request, bank_slug: FromPath[str]) -> Response[bytes] | Redirect:
    return await _export(request, bank_slug, "xlsx")


# ---------------------------------------------------------------- questions


async def _check(
    bank: Mapping[str, Any], form: Mapping[str, str], key: str | None
) -> tuple[Question, dict[str, str], tuple[Finding, ...]]:
    """The question in the form, its problems by field, and (when there are none) the lint's
    findings; `key` is None for a new question, whose key is in the form."""
    question, errors = question_from_form(form, key or form.get("key", "").strip())
    if key is None:
        if problem := key_problem(question.key):
            errors = {"key": problem, **errors}
        elif await QuestionRow.exists().where(
            QuestionRow.bank == bank["id"], QuestionRow.key == question.key
        ):
            errors = {"key": f"题号“{question.key}”已经有了，请换一个。", **errors}
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
    try:
        saved = await save_question(bank["id"], question, request.user.id, new=key is None)
    except BankImportError as error:  # someone else took the key meanwhile
        checked = question, {"key": str(error)}, findings
        return await _editor(bank, form, key, checked, 409)
    row = await load_question(bank, question.key)
    current = await _version(row["id"])
    if saved == NEW:
        message = f"已新建题目“{question.key}”（第 1 版）。"
    elif saved == UNCHANGED:
        message = "没有改动。"
    else:
        number = current["version"] if current else "?"
        message = f"已保存为第 {number} 版（原来的版本保留，已作答的试卷不受影响）。"
    warnings = [f.message for f in findings if f.level == WARNING]
    if warnings:
        message += "请注意：" + "；".join(warnings)
    flash(request, message, "info" if saved == UNCHANGED else "success")
    return Redirect(request.app.route_reverse("question", bank_slug=bank["slug"], key=question.key))


@get("/banks/{bank_slug:str}/questions/new", name="question_new")
async def question_new(bank_slug: FromPath[str]) -> Template:
    bank = await load_bank(bank_slug)
    keys = await QuestionRow.select(QuestionRow.key).where(QuestionRow.bank == bank["id"])
    taken = {row["key"] for row in keys}
    form = {**dict.fromkeys(FORM_FIELDS, ""), "key": next_key(bank["slug"], taken)}
    return await _editor(bank, {**form, "type": "single"}, None)


@post("/banks/{bank_slug:str}/questions/new", name="question_create")
async def question_create(
    request: Request, bank_slug: FromPath[str], data: AnyForm
) -> Template | Redirect:
    return await _save(request, await load_bank(bank_slug), data, None)


@get("/banks/{bank_slug:str}/questions/{key:str}/edit", name="question_edit")
async def question_edit(bank_slug: FromPath[str], key: FromPath[str]) -> Template:
    bank = await load_bank(bank_slug)
    row = await load_question(bank, key)
    current = await _version(row["id"])
    if current is None:
        raise NotFoundException("这道题目没有内容。")
    form = form_of(question_of(key, current))
    return await _editor(bank, form, key, await _check(bank, form, key))


@post("/banks/{bank_slug:str}/questions/{key:str}/edit", name="question_save")
async def question_save(
    request: Request, bank_slug: FromPath[str], key: FromPath[str], data: AnyForm
) -> Template | Redirect:
    bank = await load_bank(bank_slug)
    await load_question(bank, key)
    return await _save(request, bank, data, key)


@post("/banks/{bank_slug:str}/preview", name="question_preview")
async def question_preview(bank_slug: FromPath[str], data: AnyForm) -> Template:
    """The live preview: the card as a cadre sees it (200), or with the problems (422)."""
    bank = await load_bank(bank_slug)
    form = clean_form(data)
    question, errors = question_from_form(form, form["key"].strip()[:KEY_MAX] or "新题")
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
    current = await _version(row["id"])
    shown = await _version(row["id"], version) if version is not None else current
    if current is None or shown is None:
        raise NotFoundException(f"题目“{key}”没有第 {version} 版。")
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
            "shown": shown,
            "preview": preview_of(question_of(key, shown), {}, findings),
            "versions": versions,
            "stats": stats,
            "difficulties": DIFFICULTIES,
        },
    )


async def _set_active(request: Request, bank_slug: str, key: str, active: bool) -> Redirect:
    bank = await load_bank(bank_slug)
    row = await load_question(bank, key)
    async with write_transaction():
        await QuestionRow.update({QuestionRow.active: active}).where(QuestionRow.id == row["id"])
        word = "启用" if active else "停用"
        await audit.record(
            request,
            "question.activate" if active else "question.deactivate",
            None,
            f"{word}题库“{bank['title']}”中的题目“{key}”",
        )
    if active:
        flash(request, f"已启用题目“{key}”，测验会重新抽到它。", "success")
    else:
        flash(request, f"已停用题目“{key}”：测验不再抽到它，已作答的试卷不受影响。", "success")
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
        bank_list,
        bank_create,
        bank_template,
        bank_page,
        bank_coverage,
        export_own,
        export_gift,
        export_xlsx,
        question_new,
        question_create,
        question_edit,
        question_save,
        question_preview,
        question_page,
        question_deactivate,
        question_activate,
    ],
)
