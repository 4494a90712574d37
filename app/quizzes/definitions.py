"""Quizzes: definitions (from files beside the banks, or made in the browser), the question
pool they draw from, and starting or resuming an attempt.

An attempt's paper is drawn and frozen on the server when it starts: the question versions,
their order and their option order are stored with it, so later edits change nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.db import Prepared, Statement, write_transaction
from app.lib.seeding import KEEP, TAKE, TAKE_HINT, choose, fingerprint
from app.quizzes.allowance import Allowance
from app.quizzes.answering import close_practice, finish_if_expired
from app.quizzes.core import (
    COUNTED_POLICIES,
    IN_PROGRESS,
    REVIEW_POLICIES,
    DrawError,
    DrawRule,
    PoolQuestion,
    counted_attempt,
    draw_paper,
    paper_json,
    rule_shortages,
    rules_json,
    rules_of,
    total_points,
)
from app.quizzes.files import QuizFileError, QuizSpec, parse_quiz_file
from app.quizzes.overrides import allowance_for
from app.settings import get_settings
from app.tables import (
    Attempt,
    AuditEvent,
    ContentGeneration,
    Module,
    QuestionVersion,
    Quiz,
    User,
)


class QuizRefused(Exception):
    """A quiz that can't be started now; the message says why, in Chinese."""


# ---------------------------------------------------------------- the pool


_POOL_GENERATION = Statement(
    ContentGeneration, 'SELECT "generation" FROM "content_generation" WHERE "name" = {}'
)
# (banks named, with questions under review) → (generation read, the pool read with it)
_POOLS: dict[tuple[tuple[str, ...], bool], tuple[int, tuple[PoolQuestion, ...]]] = {}


async def quiz_pool(
    rules: tuple[DrawRule, ...], *, with_under_review: bool = False
) -> list[PoolQuestion]:
    """Current versions of the active questions of active banks that the rules may draw;
    questions under review (`app/banks/reviews.py`) only `with_under_review`.

    Every paper drawn reads the pool, and a whole region starts a quiz within a minute. A
    process keeps the pool it read beside the pool counter it read just before: triggers
    raise the counter in the transaction of any change to questions, versions, banks or
    reviews, from any process, so an unchanged counter means an unchanged pool."""
    named = tuple(sorted({slug for rule in rules for slug in rule.banks}))
    if not (rules and all(rule.banks for rule in rules)):
        named = ()
    key = (named, with_under_review)
    counter = await _POOL_GENERATION.rows("question_pool")
    generation = counter[0]["generation"] if counter else None
    kept = _POOLS.get(key)
    if kept is not None and generation is not None and kept[0] == generation:
        return list(kept[1])
    pool = await _read_pool(named, with_under_review)
    if generation is not None:
        if len(_POOLS) >= 64:
            _POOLS.clear()
        _POOLS[key] = (generation, tuple(pool))
    return pool


async def _read_pool(named: tuple[str, ...], with_under_review: bool) -> list[PoolQuestion]:
    from app.banks.reviews import under_review
    from app.banks.store import VERSION_COLUMNS, question_of

    query = QuestionVersion.select(
        *VERSION_COLUMNS, QuestionVersion.question.bank.slug.as_alias("bank")
    ).where(
        QuestionVersion.is_current.eq(True),
        QuestionVersion.question.active.eq(True),
        QuestionVersion.question.bank.active.eq(True),
    )
    if named:
        query = query.where(QuestionVersion.question.bank.slug.is_in(list(named)))
    rows = await query.order_by(QuestionVersion.question.bank, QuestionVersion.question.sort_order)
    held = set() if with_under_review else await under_review()
    return [
        PoolQuestion(row["id"], row["bank"], question_of(row["key"], row))
        for row in rows
        if row["question_id"] not in held
    ]


async def publish_problems(
    rules: tuple[DrawRule, ...], *, with_under_review: bool = False
) -> list[str]:
    """Why a quiz with these rules can't be published (each short rule by how many)."""
    return rule_shortages(await quiz_pool(rules, with_under_review=with_under_review), rules)


# ---------------------------------------------------------------- quiz files


def read_quiz_dir(folder: Path) -> list[tuple[str, QuizSpec]]:
    """Every quiz file (`*.yaml`) in the folder; QuizFileError lists every problem by file."""
    specs, problems = [], []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            specs.append((path.name, parse_quiz_file(path.read_text(encoding="utf-8"), path.name)))
        except QuizFileError as error:
            problems += [f"{path.name}：{p}" for p in error.problems]
        except UnicodeDecodeError:
            problems.append(f"{path.name}：不是 UTF-8 编码的文本文件。")
    if problems:
        raise QuizFileError(tuple(problems))
    return specs


def _local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=get_settings().timezone)
    return moment.astimezone(UTC)


def quiz_values(spec: QuizSpec, module_id: int | None) -> dict[str, Any]:
    return {
        "title": spec.title,
        "module": module_id,
        "rules": rules_json(spec.rules),
        "time_limit_minutes": spec.time_limit_minutes,
        "full_marks": round(spec.full_marks),
        "pass_mark": float(spec.pass_mark),
        "max_attempts": spec.max_attempts,
        "counted_attempt": spec.counted_attempt,
        "review": spec.review,
        "shuffle_questions": spec.shuffle_questions,
        "shuffle_options": spec.shuffle_options,
        "partial_credit": spec.partial_credit,
        "opens_at": _local(spec.opens_at),
        "closes_at": _local(spec.closes_at),
    }


def _utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def quiz_fingerprint(values: dict[str, Any], module_slug: str | None) -> str:
    """The fingerprint of what a quiz file defines, from `quiz_values` or a quiz row alike."""
    return fingerprint(
        {
            "title": values["title"],
            "module": module_slug or "",
            "rules": rules_json(rules_of(values["rules"])),
            "time_limit_minutes": int(values["time_limit_minutes"] or 0),
            "full_marks": int(values["full_marks"]),
            "pass_mark": float(values["pass_mark"]),
            "max_attempts": int(values["max_attempts"] or 0),
            "counted_attempt": values["counted_attempt"],
            "review": values["review"],
            "shuffle_questions": bool(values["shuffle_questions"]),
            "shuffle_options": bool(values["shuffle_options"]),
            "partial_credit": bool(values["partial_credit"]),
            "opens_at": _utc_text(values["opens_at"]),
            "closes_at": _utc_text(values["closes_at"]),
        }
    )


async def _edited_before_files_were_remembered(quiz_ids: list[int]) -> set[int]:
    """Quizzes loaded before their files' fingerprints were kept that the audit log shows
    were edited in the browser."""
    if not quiz_ids:
        return set()
    rows = await AuditEvent.select(AuditEvent.target_id).where(
        AuditEvent.action == "quiz.update",
        AuditEvent.target_type == "quiz",
        AuditEvent.target_id.is_in(quiz_ids),
    )
    return {row["target_id"] for row in rows}


async def sync_quizzes(
    specs: list[tuple[str, QuizSpec]], *, take_files: bool = False
) -> tuple[int, list[str]]:
    """Load quiz files into the database (by slug); all or nothing. A quiz whose rules the
    banks can't fill is refused, naming the rule and how many questions it lacks.

    Files seed what is new (`app/lib/seeding.py`): a quiz made or changed in the browser is
    not overwritten by a changed file unless `take_files`. Returns the number of quiz
    files and a line (in Chinese) for each quiz kept as the browser left it."""
    problems, rows = [], []
    for filename, spec in specs:
        module_id = None
        if spec.module:
            module = await Module.select(Module.id).where(Module.slug == spec.module).first()
            if module is None:
                problems.append(f"{filename}：module“{spec.module}”不是课程中的模块。")
            module_id = module["id"] if module else None
        # A file's rules are checked against the whole bank: questions under review come back.
        problems += [
            f"{filename}：{p}" for p in await publish_problems(spec.rules, with_under_review=True)
        ]
        rows.append((filename, spec, module_id))
    if problems:
        raise QuizFileError(tuple(problems))
    kept = []
    async with write_transaction():
        existing = {
            row["slug"]: row
            for row in await Quiz.select(*QUIZ_COLUMNS, Quiz.source_file, Quiz.file_hash).where(
                Quiz.slug.is_in([spec.slug for _, spec, _ in rows] or [""])
            )
        }
        unrecorded = [row["id"] for row in existing.values() if not row["file_hash"]]
        edited = await _edited_before_files_were_remembered(unrecorded)
        for filename, spec, module_id in rows:
            values = quiz_values(spec, module_id)
            file = quiz_fingerprint(values, spec.module)
            row = existing.get(spec.slug)
            if row is None:
                await Quiz.insert(
                    Quiz(slug=spec.slug, source_file=filename, file_hash=file, **values)
                )
                continue
            choice = choose(
                recorded=row["file_hash"],
                file=file,
                current=quiz_fingerprint(row, row["module_slug"]),
                made_in_browser=not row["source_file"] or row["id"] in edited,
                take_files=take_files,
            )
            if choice == KEEP:
                kept.append(f"测验“{row['title']}”在网页上修改过，保留网页上的设置；{TAKE_HINT}")
                continue
            if choice == TAKE:
                values.update(source_file=filename, file_hash=file)
            elif row["file_hash"] != file:
                values = {"file_hash": file}  # the row already says what the file says
            else:
                continue
            await Quiz.update({getattr(Quiz, k): v for k, v in values.items()}).where(
                Quiz.id == row["id"]
            )
    return len(rows), kept


# ---------------------------------------------------------------- attempts: starting


def window_problem(
    quiz: dict[str, Any], now: datetime, allowed: Allowance | None = None
) -> str | None:
    """Why the quiz is not open at `now`, or None; `allowed`, the cadre's allowance
    (`app/quizzes/allowance.py`), may close it later than the quiz's own closing."""
    tz = get_settings().timezone
    closes_at = allowed.closes_at if allowed is not None else quiz["closes_at"]
    if quiz["opens_at"] and now < quiz["opens_at"]:
        return f"测验将于 {quiz['opens_at'].astimezone(tz):%Y-%m-%d %H:%M} 开放。"
    if closes_at and now >= closes_at:
        return f"测验已于 {closes_at.astimezone(tz):%Y-%m-%d %H:%M} 关闭。"
    return None


# Read when a quiz starts, by a whole region within a minute: built once (`app/db.Prepared`).
_FINISHED = Prepared(
    lambda quiz_id, account_id: (
        Attempt.select(
            Attempt.id, Attempt.score, Attempt.passed, Attempt.finished_at, Attempt.finished_by
        )
        .where(
            Attempt.quiz == quiz_id,
            Attempt.account == account_id,
            Attempt.practice.eq(False),
            Attempt.status != IN_PROGRESS,
        )
        .order_by(Attempt.finished_at)
    ),
    int,
    int,
)
_IN_PROGRESS = Prepared(
    lambda quiz_id, account_id: (
        Attempt.select(Attempt.id, Attempt.deadline_at)
        .where(
            Attempt.quiz == quiz_id,
            Attempt.account == account_id,
            Attempt.practice.eq(False),
            Attempt.status == IN_PROGRESS,
        )
        .first()
    ),
    int,
    int,
)


# The other columns take their defaults (in progress, not practice, no result yet).
_NEW_ATTEMPT = Statement(
    Attempt,
    'INSERT INTO "attempt" ("quiz", "account", "paper", "started_at", "deadline_at") '
    'VALUES ({}, {}, {}, {}, {}) RETURNING "id"',
)


async def finished_attempts(quiz_id: int, account_id: int) -> list[dict[str, Any]]:
    return await _FINISHED.rows(quiz_id, account_id)


async def in_progress(quiz_id: int, account_id: int) -> dict[str, Any] | None:
    return await _IN_PROGRESS.first(quiz_id, account_id)


async def start_attempt(quiz: dict[str, Any], user: User) -> int:
    """The cadre's attempt in progress, or a new one with a freshly drawn paper. Practice
    still open is closed: it would show answers while the quiz is answered.

    A database constraint allows one attempt in progress per cadre and quiz, so two taps
    (or two devices) starting at once end up on the same attempt."""
    now = datetime.now(UTC)
    attempt_id = await _open_attempt(quiz, user, now)
    await close_practice(user.id, now)
    return attempt_id


async def _open_attempt(quiz: dict[str, Any], user: User, now: datetime) -> int:
    current = await in_progress(quiz["id"], user.id)
    if current is not None and not await finish_if_expired(
        current["id"], now, current["deadline_at"]
    ):
        return current["id"]
    # The cadre's 补考/延期, read only when the quiz has any (`app/quizzes/overrides.py`).
    allowed, _ = await allowance_for(quiz, user.id)
    if problem := window_problem(quiz, now, allowed):
        raise QuizRefused(problem)
    done = await finished_attempts(quiz["id"], user.id)
    if not allowed.may_start(len(done)):
        raise QuizRefused(f"这个测验最多可以作答 {allowed.max_attempts} 次，您已经用完了。")
    rules = rules_of(quiz["rules"])
    try:
        paper = draw_paper(
            await quiz_pool(rules),
            rules,
            random.Random(),
            quiz["shuffle_questions"],
            quiz["shuffle_options"],
        )
    except DrawError as error:
        raise QuizRefused(f"题库中的题目不够，暂时无法开始：{error}") from None
    deadline = allowed.deadline(now)  # fixed now: a deadline never changes afterwards
    try:
        async with write_transaction():
            (row,) = await _NEW_ATTEMPT.rows(quiz["id"], user.id, paper_json(paper), now, deadline)
    except Exception:
        # Most likely the one-in-progress constraint: another request started it first.
        again = await in_progress(quiz["id"], user.id)
        if again is None:
            raise
        return again["id"]
    return row["id"]


# ---------------------------------------------------------------- pages


QUIZ_COLUMNS = (
    Quiz.id,
    Quiz.slug,
    Quiz.title,
    Quiz.rules,
    Quiz.time_limit_minutes,
    Quiz.full_marks,
    Quiz.pass_mark,
    Quiz.max_attempts,
    Quiz.counted_attempt,
    Quiz.review,
    Quiz.shuffle_questions,
    Quiz.shuffle_options,
    Quiz.partial_credit,
    Quiz.opens_at,
    Quiz.closes_at,
    Quiz.published,
    Quiz.override_count,
    Quiz.module.slug.as_alias("module_slug"),
    Quiz.module.title.as_alias("module_title"),
)


_QUIZ = Prepared(
    lambda slug: (
        Quiz.select(*QUIZ_COLUMNS)
        .where(Quiz.slug == slug, Quiz.active.eq(True), Quiz.published.eq(True))
        .first()
    ),
    str,
)


async def load_quiz(slug: str) -> dict[str, Any]:
    """A published, active quiz by slug; 404 otherwise."""
    quiz = await _QUIZ.first(slug[:80])
    if quiz is None:
        raise NotFoundException("没有找到这个测验，它可能已经停用。")
    return quiz


@get("/quizzes/{quiz_slug:str}", name="quiz")
async def quiz_page(request: Request, quiz_slug: FromPath[str]) -> Template:
    quiz = await load_quiz(quiz_slug)
    user: User = request.user
    rules = rules_of(quiz["rules"])
    done = await finished_attempts(quiz["id"], user.id)
    counted = counted_attempt([(a["id"], a["score"] or 0) for a in done], quiz["counted_attempt"])
    current = await in_progress(quiz["id"], user.id)
    allowed, override = await allowance_for(quiz, user.id)
    return Template(
        "quizzes/quiz.html",
        context={
            "quiz": quiz,
            "rules": rules,
            "question_count": sum(rule.count for rule in rules),
            "points": total_points(rules),
            "attempts": done,
            "counted": counted,
            "current": current,
            "closed": window_problem(quiz, datetime.now(UTC), allowed),
            "attempts_left": allowed.attempts_left(len(done)),
            "allowed": allowed,
            "override": override if allowed.extended else None,
            "review_policies": REVIEW_POLICIES,
            "counted_policies": COUNTED_POLICIES,
        },
    )


@post("/quizzes/{quiz_slug:str}", name="quiz_start")
async def quiz_start(request: Request, quiz_slug: FromPath[str]) -> Redirect:
    quiz = await load_quiz(quiz_slug)
    try:
        attempt_id = await start_attempt(quiz, request.user)
    except QuizRefused as refused:
        flash(request, str(refused), "error")
        return Redirect(request.app.route_reverse("quiz", quiz_slug=quiz["slug"]))
    return Redirect(request.app.route_reverse("attempt", attempt_id=attempt_id))


router = Router(path="/", route_handlers=[quiz_page, quiz_start])
