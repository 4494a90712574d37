"""Trainers' quiz pages: every quiz with how cadres did, and the quiz editor (settings and
draw rules). A quiz whose rules the banks can't fill may be saved, but not published.
The editor's form is read and checked in `app/quizzes/quiz_form.py`; the attempts of a quiz
and its statistics are in `app/quizzes/stats.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Router, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.banks.model import QUESTION_TYPES
from app.db import write_transaction
from app.lib.identifiers import create_with_identifier
from app.quizzes import stats as quiz_stats
from app.quizzes.core import (
    COUNTED_POLICIES,
    REVIEW_POLICIES,
    DrawRule,
    rule_shortages,
    rules_json,
    rules_of,
    total_points,
)
from app.quizzes.definitions import publish_problems
from app.quizzes.quiz_form import (
    DEFAULTS,
    LABELS,
    QUIZ_FALLBACK,
    RESERVED_SLUGS,
    RULE_ROWS,
    TEXT_FIELDS,
    clean_form,
    field_text,
    form_of,
    quiz_problems,
    row_subtotals,
)
from app.tables import Bank, Module, Quiz

# ---------------------------------------------------------------- reading and storing quizzes


QUIZ_FIELDS = (
    Quiz.all_columns(),
    Quiz.module.slug.as_alias("module_slug"),
    Quiz.module.title.as_alias("module_title"),
    Quiz.module.sort_order.as_alias("module_order"),
)
PUBLISH_REFUSED = (
    "题库中的题目不能满足抽题规则，不能发布。请补充题目或修改规则，"
    "也可以取消勾选“发布”，先保存为未发布。"
)


async def _load(slug: str) -> dict[str, Any]:
    quiz = await Quiz.select(*QUIZ_FIELDS).where(Quiz.slug == slug[:80]).first()
    if quiz is None:
        raise NotFoundException("没有找到这个测验。")
    return quiz


async def listed_quizzes() -> list[dict[str, Any]]:
    """Every quiz, active ones first, in module order, with its questions and points."""
    quizzes = await Quiz.select(*QUIZ_FIELDS)
    quizzes.sort(
        key=lambda q: (
            not q["active"],
            q["module_order"] is None,
            q["module_order"] or 0,
            q["slug"],
        )
    )
    for quiz in quizzes:
        rules = rules_of(quiz["rules"] or "[]")
        quiz["question_count"] = sum(rule.count for rule in rules)
        quiz["points"] = total_points(rules)
    return quizzes


async def _quizzes_starting_with(prefix: str) -> list[str]:
    rows = await Quiz.select(Quiz.slug).where(Quiz.slug.like(prefix + "%"))
    return [row["slug"] for row in rows]


async def _choices() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    modules = await Module.select(Module.slug, Module.title, Module.active).order_by(
        Module.sort_order
    )
    banks = await Bank.select(Bank.slug, Bank.title, Bank.active).order_by(Bank.slug)
    banks.sort(key=lambda b: not b["active"])
    return modules, banks


async def _problems_of(rules: tuple[DrawRule, ...]) -> list[str]:
    return await publish_problems(rules) if rules else rule_shortages([], rules)


@dataclass(frozen=True)
class QuizSaveResult:
    """What became of the editor's form: the quiz stored, or the errors to show with it."""

    errors: dict[str, str]  # field → Chinese message; empty when the form is right
    problems: list[str]  # why the banks can't fill the draw rules (checked when no errors)
    saved: Quiz | None = None  # the quiz stored (its id, slug and title); None when not stored


async def save_quiz(
    connection: ASGIConnection[Any, Any, Any, Any] | None,
    form: Mapping[str, Any],
    quiz: dict[str, Any] | None,
    *,
    check_only: bool = False,
) -> QuizSaveResult:
    """Check the cleaned editor form of a new quiz (`quiz` None) or of `quiz`, and store it
    with an audit record (of `connection`'s user) unless it is wrong, only a check was asked
    for, or it would be published with draw rules the banks can't fill."""
    modules, banks = await _choices()
    module_slugs = {m["slug"] for m in modules if m["active"]}
    if quiz is not None and quiz["module_slug"]:
        module_slugs.add(quiz["module_slug"])  # an inactive module it already had may stay
    values, errors = quiz_problems(
        form, module_slugs=module_slugs, bank_slugs={b["slug"] for b in banks}
    )
    if errors:
        return QuizSaveResult(errors, [])
    rules = values.pop("rules")
    problems = await _problems_of(rules)
    if check_only:
        return QuizSaveResult({}, problems)
    if values["published"] and problems:
        return QuizSaveResult({"published": PUBLISH_REFUSED}, problems)
    module_slug = values.pop("module")
    module = None
    if module_slug:
        module = await Module.select(Module.id).where(Module.slug == module_slug).first()
    columns = {**values, "module": module["id"] if module else None, "rules": rules_json(rules)}
    if quiz is None:

        async def create(slug: str) -> Quiz:
            async with write_transaction():
                row = Quiz(slug=slug, active=True, **columns)
                await row.save()
                summary = f"新建测验“{row.title}”"
                await audit.record(connection, "quiz.create", row, summary)
            return row

        made = await create_with_identifier(
            columns["title"],
            fallback=QUIZ_FALLBACK,
            taken=_quizzes_starting_with,
            create=create,
            reserved=RESERVED_SLUGS,
        )
        return QuizSaveResult({}, problems, made)
    async with write_transaction():
        changed = _changed(quiz, columns)
        await Quiz.update({getattr(Quiz, k): v for k, v in columns.items()}).where(
            Quiz.id == quiz["id"]
        )
        row = Quiz(id=quiz["id"], slug=quiz["slug"], title=columns["title"])
        if changed:
            summary = f"修改测验“{row.title}”的{'、'.join(LABELS[k] for k in changed)}"
            await audit.record(connection, "quiz.update", row, summary)
    return QuizSaveResult({}, problems, row)


def _changed(quiz: Mapping[str, Any], columns: Mapping[str, Any]) -> list[str]:
    changed = []
    for key, value in columns.items():
        old = quiz[key]
        same = rules_of(old or "[]") == rules_of(value) if key == "rules" else old == value
        if not same:
            changed.append(key)
    return changed


async def set_quiz_active(
    connection: ASGIConnection[Any, Any, Any, Any] | None, quiz: Mapping[str, Any], active: bool
) -> None:
    """Make `quiz` active or inactive, with an audit record. An inactive quiz is hidden from
    cadres; its attempts are kept."""
    async with write_transaction():
        await Quiz.update({Quiz.active: active}).where(Quiz.id == quiz["id"])
        word = "启用" if active else "停用"
        row = Quiz(id=quiz["id"], slug=quiz["slug"], title=quiz["title"])
        await audit.record(
            connection,
            f"quiz.{'activate' if active else 'deactivate'}",
            row,
            f"{word}测验“{quiz['title']}”",
        )


# ---------------------------------------------------------------- pages


@get("/quizzes", name="quiz_admin")
async def quiz_list() -> Template:
    return Template(
        "quizzes/admin_list.html",
        context={
            "quizzes": await listed_quizzes(),
            "summaries": await quiz_stats.quiz_summaries(),
        },
    )


async def _editor(
    form: dict[str, Any],
    errors: dict[str, str],
    quiz: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Template:
    modules, banks = await _choices()
    rows = list(form["rules"])
    rows += [{"type": "", "count": "", "points": "", "banks": [], "source_refs": ""}] * max(
        0, RULE_ROWS - len(rows)
    )
    subtotals, questions, points = row_subtotals(rows)
    return Template(
        "quizzes/admin_form.html",
        context={
            "quiz": quiz,
            "form": form,
            "errors": errors,
            "rows": list(zip(rows, subtotals, strict=True)),
            "questions": questions,
            "points": points,
            "problems": problems or [],
            "modules": [m for m in modules if m["active"] or m["slug"] == form["module"]],
            "banks": banks,
            "types": QUESTION_TYPES,
            "counted_policies": COUNTED_POLICIES,
            "review_policies": REVIEW_POLICIES,
        },
        status_code=status,
    )


@get("/quizzes/new", name="quiz_new")
async def quiz_new() -> Template:
    form: dict[str, Any] = {**dict.fromkeys(TEXT_FIELDS, ""), **DEFAULTS, "rules": []}
    return await _editor(form, {})


@get("/quizzes/{quiz_slug:str}/edit", name="quiz_edit")
async def quiz_edit(quiz_slug: FromPath[str]) -> Template:
    quiz = await _load(quiz_slug)
    rules = rules_of(quiz["rules"] or "[]")
    return await _editor(form_of(quiz), {}, quiz, await _problems_of(rules))


@post("/quizzes/new", name="quiz_create")
async def quiz_create(request: Request) -> Template | Redirect:
    return await _save(request, None)


@post("/quizzes/{quiz_slug:str}/edit", name="quiz_save")
async def quiz_save(request: Request, quiz_slug: FromPath[str]) -> Template | Redirect:
    return await _save(request, await _load(quiz_slug))


async def _save(request: Request, quiz: dict[str, Any] | None) -> Template | Redirect:
    raw = await request.form()
    form = clean_form(raw)
    result = await save_quiz(request, form, quiz, check_only=field_text(raw, "action") == "check")
    if result.saved is None:
        status = 400 if result.errors else 200
        return await _editor(form, result.errors, quiz, result.problems, status=status)
    state = "已发布" if form["published"] else "未发布"
    flash(request, f"已保存测验“{result.saved.title}”（{state}）。", "success")
    if result.problems:
        flash(request, "注意：" + " ".join(result.problems), "info")
    return Redirect(request.app.route_reverse("quiz_admin"))


async def _set_active(request: Request, slug: str, active: bool) -> Redirect:
    quiz = await _load(slug)
    await set_quiz_active(request, quiz, active)
    if active:
        flash(request, f"已启用测验“{quiz['title']}”。", "success")
    else:
        flash(
            request,
            f"已停用测验“{quiz['title']}”：学员不再看到它，已有的答题记录全部保留。",
            "success",
        )
    return Redirect(request.app.route_reverse("quiz_admin"))


@post("/quizzes/{quiz_slug:str}/deactivate", name="quiz_deactivate")
async def quiz_deactivate(request: Request, quiz_slug: FromPath[str]) -> Redirect:
    return await _set_active(request, quiz_slug, False)


@post("/quizzes/{quiz_slug:str}/activate", name="quiz_activate")
async def quiz_activate(request: Request, quiz_slug: FromPath[str]) -> Redirect:
    return await _set_active(request, quiz_slug, True)


router = Router(
    path="/admin",
    guards=[requires_role("trainer")],
    route_handlers=[
        quiz_list,
        quiz_new,
        quiz_create,
        quiz_edit,
        quiz_save,
        quiz_deactivate,
        quiz_activate,
        *quiz_stats.route_handlers,
    ],
)
