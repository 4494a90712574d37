"""The course: loading module files into the database, lesson pages, and reading progress.

A lesson counts as read when the person presses 我已学完 and the server has seen enough
active reading time. The page sends a heartbeat while it is visible; the server credits at
most the time since the last one it saw (capped), so time is measured by its own clock.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from markdown_it import MarkdownIt
from markupsafe import Markup
from piccolo.query.functions.aggregate import Count

from app.course.files import CourseFileError, ModuleText, parse_module, reading_seconds
from app.course.path import LessonFacts, ModuleFacts, QuizFacts
from app.course.search import rebuild_search_index
from app.db import write_transaction
from app.lib.forms import FormBody
from app.lib.seeding import KEEP, TAKE, TAKE_HINT, choose, fingerprint
from app.quizzes.allowance import allowance, override_of
from app.quizzes.core import IN_PROGRESS, counted_attempt
from app.quizzes.overrides import overrides_of
from app.settings import get_settings
from app.tables import Attempt, Lesson, LessonProgress, Module, Quiz, User
from app.trainings.credits import credit_reading
from app.trainings.progress import refresh_account

# The most a single heartbeat (sent every 15 s while the page is visible) can credit.
HEARTBEAT_CAP = timedelta(seconds=30)
_markdown = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> Markup:
    """Trainer-written Markdown as HTML, with any raw HTML in it escaped."""
    return Markup(_markdown.render(text))


def read_course_dir(course_dir: Path) -> list[ModuleText]:
    """Every module file in the folder; raises CourseFileError listing every bad file."""
    modules, problems = [], []
    for path in sorted(course_dir.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            modules.append(parse_module(path.read_text(encoding="utf-8"), path.name))
        except (CourseFileError, UnicodeDecodeError) as error:
            problems.append(
                str(error)
                if isinstance(error, CourseFileError)
                else f"“{path.name}”不是 UTF-8 编码的文本文件。"
            )
    slugs = [m.slug for m in modules]
    problems += [f"模块 slug“{s}”重复。" for s in sorted({s for s in slugs if slugs.count(s) > 1})]
    if problems:
        raise CourseFileError("\n".join(problems))
    return sorted(modules, key=lambda m: (m.order, m.slug))


def module_fingerprint(module: ModuleText) -> str:
    """The fingerprint of what a module file gives the course, its lessons included."""
    lessons = [asdict(lesson) for lesson in module.lessons]
    return fingerprint([module.title, module.order, asdict(module.source), module.note, lessons])


async def sync_course(
    modules: list[ModuleText],
    *,
    take_files: bool = False,
    published: Collection[str] = (),
) -> tuple[int, int, list[str]]:
    """Make the database match the module files; lessons no longer in them are deactivated,
    never deleted, so nobody's reading record is lost.

    `published` names the modules just published through the course import pages. Such a
    module stays as published when its file is later replaced by a different one, or lost,
    unless `take_files` (`app/lib/seeding.py`). Returns the active modules and lessons, and
    a line in Chinese for each module kept as published. The callers then record new
    versions of documents (`app/course/versions.note_new_versions`)."""
    kept, kept_ids = [], []
    async with write_transaction():
        rows = {
            row["slug"]: row
            for row in await Module.select(
                Module.id,
                Module.slug,
                Module.title,
                Module.active,
                Module.file_hash,
                Module.from_browser,
            )
        }
        files = {module.slug for module in modules}
        for slug, row in rows.items():
            if slug not in files and row["from_browser"] and row["active"] and not take_files:
                kept.append(
                    f"模块“{row['title']}”（{slug}）是在网页上发布的，课程文件夹中没有它的文件，"
                    f"保留网页上发布的内容；{TAKE_HINT}"
                )
                kept_ids.append(row["id"])
        loaded = []
        for module in modules:
            row, file, choice = rows.get(module.slug), module_fingerprint(module), TAKE
            if row is not None and row["from_browser"] and module.slug not in published:
                # Nothing edits a module but its file: the row is what was published.
                recorded = row["file_hash"]
                choice = choose(
                    recorded=recorded,
                    file=file,
                    current=recorded,
                    made_in_browser=True,
                    take_files=take_files,
                )
            if choice == KEEP:
                kept.append(
                    f"模块“{row['title']}”（{module.slug}）是在网页上发布的，与课程文件中的不同，"
                    f"保留网页上发布的内容；{TAKE_HINT}"
                )
                kept_ids.append(row["id"])
            else:
                from_browser = module.slug in published or (
                    row is not None and row["from_browser"] and choice != TAKE
                )
                loaded.append((module, file, from_browser))
        modules_off = Module.update({Module.active: False}, force=True)
        lessons_off = Lesson.update({Lesson.active: False}, force=True)
        if kept_ids:
            modules_off = modules_off.where(Module.id.not_in(kept_ids))
            lessons_off = lessons_off.where(Lesson.module.not_in(kept_ids))
        await modules_off
        await lessons_off
        for module, file, from_browser in loaded:
            await _load_module(module, file, from_browser)
        # Taken off the course with --take-files: a file that comes back is the module's.
        await Module.update({Module.from_browser: False}).where(Module.active.eq(False))
        await rebuild_search_index()
        module_count = await Module.count().where(Module.active.eq(True))
        lesson_count = await Lesson.count().where(Lesson.active.eq(True))
    return module_count, lesson_count, kept


async def _load_module(module: ModuleText, file: str, from_browser: bool) -> None:
    values = {
        Module.title: module.title,
        Module.sort_order: module.order,
        Module.source_title: module.source.title,
        Module.doc_number: module.source.doc_number,
        Module.source_file: module.source.file,
        Module.note: module.note,
        Module.active: True,
        Module.file_hash: file,
        Module.from_browser: from_browser,
    }
    row = await Module.select(Module.id).where(Module.slug == module.slug).first()
    if row is None:
        saved = Module(slug=module.slug, **{c._meta.name: v for c, v in values.items()})
        await saved.save()
        module_id = saved.id
    else:
        module_id = row["id"]
        await Module.update(values).where(Module.id == module_id)
    for n, lesson in enumerate(module.lessons):
        key = f"{module.slug}/{lesson.slug}"
        fields = {
            Lesson.module: module_id,
            Lesson.slug: lesson.slug,
            Lesson.source_ref: lesson.source_ref,
            Lesson.title: lesson.title,
            Lesson.sort_order: n,
            Lesson.body: "\n\n".join(lesson.paragraphs),
            Lesson.key_points: lesson.key_points,
            Lesson.characters: lesson.characters,
            Lesson.active: True,
        }
        if await Lesson.exists().where(Lesson.key == key):
            await Lesson.update(fields).where(Lesson.key == key)
        else:
            await Lesson.insert(Lesson(key=key, **{c._meta.name: v for c, v in fields.items()}))


def required_seconds(characters: int) -> int:
    """The active reading time the server requires before 我已学完 counts."""
    return reading_seconds(characters, get_settings().reading_speed)


def reading_time_text(seconds: int) -> str:
    """A reading time as the pages say it (30 秒, 2 分钟, 2 分 10 秒); app/static/reading.js
    says it the same way."""
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} 分 {rest} 秒" if rest else f"{minutes} 分钟"


@dataclass(frozen=True)
class ModuleProgress:
    module: dict[str, Any]
    lessons: int
    read: int

    @property
    def percent(self) -> int:
        return round(100 * self.read / self.lessons) if self.lessons else 0


async def course_progress(user: User) -> list[ModuleProgress]:
    """Every active module with its lesson count and how many this person has read (in SQL)."""
    modules = await Module.select().where(Module.active.eq(True)).order_by(Module.sort_order)
    totals = await (
        Lesson.select(Lesson.module, Count(Lesson.id).as_alias("n"))
        .where(Lesson.active.eq(True))
        .group_by(Lesson.module)
    )
    read = await (
        LessonProgress.select(
            LessonProgress.lesson.module.as_alias("module"), Count(LessonProgress.id).as_alias("n")
        )
        .where(
            LessonProgress.account == user.id,
            LessonProgress.read_at.is_not_null(),
            LessonProgress.lesson.active.eq(True),
        )
        .group_by(LessonProgress.lesson.module)
    )
    total_by = {r["module"]: r["n"] for r in totals}
    read_by = {r["module"]: r["n"] for r in read}
    return [ModuleProgress(m, total_by.get(m["id"], 0), read_by.get(m["id"], 0)) for m in modules]


# What a quiz's row needs for the path: whether it is open and how often it may be taken.
PATH_QUIZ_COLUMNS = (
    Quiz.id,
    Quiz.slug,
    Quiz.title,
    Quiz.max_attempts,
    Quiz.counted_attempt,
    Quiz.opens_at,
    Quiz.closes_at,
    Quiz.override_count,
)


async def quiz_facts(account_id: int, quizzes: list[dict[str, Any]]) -> dict[int, QuizFacts]:
    """Where the cadre stands with each quiz (rows of PATH_QUIZ_COLUMNS), by quiz id: passed
    by the attempt that counts, and whether it can still be taken (with the cadre's
    补考/延期, `app/quizzes/allowance.py`)."""
    if not quizzes:
        return {}
    rows = await (
        Attempt.select(Attempt.id, Attempt.quiz, Attempt.score, Attempt.passed, Attempt.status)
        .where(
            Attempt.account == account_id,
            Attempt.quiz.is_in([q["id"] for q in quizzes]),
            Attempt.practice.eq(False),
        )
        .order_by(Attempt.finished_at)
        .order_by(Attempt.id)
    )
    now = datetime.now(UTC)
    overrides = await overrides_of(account_id, quizzes)
    facts = {}
    for quiz in quizzes:
        mine = [r for r in rows if r["quiz"] == quiz["id"]]
        finished = [r for r in mine if r["status"] != IN_PROGRESS]
        chosen = counted_attempt(
            [(r["id"], r["score"] or 0) for r in finished], quiz["counted_attempt"]
        )
        passed = any(r["id"] == chosen and r["passed"] for r in finished)
        allowed = allowance(quiz, override_of(overrides.get(quiz["id"])))
        can_take = len(mine) > len(finished) or (
            allowed.may_start(len(finished)) and allowed.is_open(now)
        )
        facts[quiz["id"]] = QuizFacts(quiz["slug"], quiz["title"], passed, can_take)
    return facts


async def path_modules(account_id: int) -> dict[int, ModuleFacts]:
    """Every active module, by id in course order, with each lesson read or not and the
    module's published quizzes: the course part of the path (app/course/path.py)."""
    modules = await (
        Module.select(Module.id, Module.slug, Module.title)
        .where(Module.active.eq(True))
        .order_by(Module.sort_order)
        .order_by(Module.slug)
    )
    lessons = await (
        Lesson.select(Lesson.id, Lesson.module, Lesson.slug, Lesson.title)
        .where(Lesson.active.eq(True))
        .order_by(Lesson.sort_order)
    )
    read = {
        r["lesson"]
        for r in await LessonProgress.select(LessonProgress.lesson).where(
            LessonProgress.account == account_id,
            LessonProgress.read_at.is_not_null(),
            LessonProgress.lesson.active.eq(True),
        )
    }
    quizzes = await (
        Quiz.select(*PATH_QUIZ_COLUMNS, Quiz.module)
        .where(
            Quiz.module.is_in([m["id"] for m in modules] or [0]),
            Quiz.active.eq(True),
            Quiz.published.eq(True),
        )
        .order_by(Quiz.slug)
    )
    states = await quiz_facts(account_id, quizzes)
    return {
        m["id"]: ModuleFacts(
            m["slug"],
            m["title"],
            tuple(
                LessonFacts(r["slug"], r["title"], r["id"] in read)
                for r in lessons
                if r["module"] == m["id"]
            ),
            tuple(states[q["id"]] for q in quizzes if q["module"] == m["id"]),
        )
        for m in modules
    }


async def _module(slug: str) -> Module:
    module = await Module.objects().where(Module.slug == slug, Module.active.eq(True)).first()
    if module is None:
        raise NotFoundException("没有找到这个课程模块。")
    return module


async def _lessons(module: Module) -> list[dict[str, Any]]:
    return await (
        Lesson.select(Lesson.id, Lesson.slug, Lesson.title, Lesson.source_ref, Lesson.characters)
        .where(Lesson.module == module.id, Lesson.active.eq(True))
        .order_by(Lesson.sort_order)
    )


async def _lesson(module_slug: str, lesson_slug: str) -> tuple[Module, Lesson]:
    module = await _module(module_slug)
    lesson = (
        await Lesson.objects()
        .where(Lesson.module == module.id, Lesson.slug == lesson_slug, Lesson.active.eq(True))
        .first()
    )
    if lesson is None:
        raise NotFoundException("没有找到这篇课文。")
    return module, lesson


async def _progress(user: User, lesson: Lesson) -> LessonProgress:
    """This person's record for this lesson, created on first opening."""
    row = (
        await LessonProgress.objects()
        .where(LessonProgress.account == user.id, LessonProgress.lesson == lesson.id)
        .first()
    )
    if row is None:
        now = datetime.now(UTC)
        row = LessonProgress(
            account=user.id, lesson=lesson.id, first_opened_at=now, last_seen_at=now
        )
        try:
            await row.save()
        except Exception:  # opened at the same moment elsewhere: the unique index kept one
            row = (
                await LessonProgress.objects()
                .where(LessonProgress.account == user.id, LessonProgress.lesson == lesson.id)
                .first()
            )
    return row


def opened_token(account_id: int, lesson_id: int, at: datetime) -> str:
    """The page's opening time, signed, so that opening a page needs no write: a later
    heartbeat or 我已学完 counts time from it at the earliest."""
    stamp = str(int(at.timestamp()))
    message = f"{account_id}:{lesson_id}:{stamp}".encode()
    key = (get_settings().secret_key or "").encode()
    return f"{stamp}.{hmac.new(key, message, 'sha256').hexdigest()[:32]}"


def _opened_at(token: str | None, account_id: int, lesson_id: int) -> datetime | None:
    stamp = (token or "").partition(".")[0]
    if not stamp.isdigit() or len(stamp) > 12:
        return None
    at = datetime.fromtimestamp(int(stamp), UTC)
    return at if hmac.compare_digest(opened_token(account_id, lesson_id, at), token) else None


async def _credit(
    progress: LessonProgress, cap: timedelta, opened: datetime | None, module_id: int
) -> int:
    """Add the time since the last heartbeat or the page's opening, whichever is later (at
    most `cap`), and return the new total; the module's reading 学时 follow it
    (`trainings/credits.credit_reading`)."""
    now = datetime.now(UTC)
    elapsed = now - max(progress.last_seen_at, opened or progress.last_seen_at)
    credited = int(max(timedelta(0), min(elapsed, cap)).total_seconds())
    total = progress.active_seconds + credited
    await LessonProgress.update(
        {LessonProgress.active_seconds: total, LessonProgress.last_seen_at: now}
    ).where(LessonProgress.id == progress.id)
    if credited:
        await credit_reading(progress.account, module_id, now)
    return total


@get("/course", name="course")
async def course_page(request: Request) -> Template:
    return Template("lessons/course.html", context={"modules": await course_progress(request.user)})


@get("/course/{module_slug:str}", name="module")
async def module_page(request: Request, module_slug: FromPath[str]) -> Template:
    module = await _module(module_slug)
    lessons = await _lessons(module)
    read = {
        r["lesson"]
        for r in await LessonProgress.select(LessonProgress.lesson).where(
            LessonProgress.account == request.user.id,
            LessonProgress.read_at.is_not_null(),
            LessonProgress.lesson.is_in([lesson["id"] for lesson in lessons] or [0]),
        )
    }
    return Template(
        "lessons/module.html",
        context={
            "module": module,
            "lessons": lessons,
            "read": read,
            "note": render_markdown(module.note) if module.note else "",
            "quizzes": await Quiz.select(Quiz.slug, Quiz.title)
            .where(Quiz.module == module.id, Quiz.active.eq(True), Quiz.published.eq(True))
            .order_by(Quiz.slug),
            "reading_times": {
                lesson["id"]: reading_time_text(required_seconds(lesson["characters"]))
                for lesson in lessons
            },
        },
    )


@get("/course/{module_slug:str}/{lesson_slug:str}", name="lesson")
async def lesson_page(
    request: Request, module_slug: FromPath[str], lesson_slug: FromPath[str]
) -> Template:
    module, lesson = await _lesson(module_slug, lesson_slug)
    progress = await _progress(request.user, lesson)
    lessons = await _lessons(module)
    index = next(i for i, row in enumerate(lessons) if row["id"] == lesson.id)
    needed = required_seconds(lesson.characters)
    return Template(
        "lessons/lesson.html",
        context={
            "module": module,
            "lesson": lesson,
            "paragraphs": lesson.body.split("\n\n") if lesson.body else [],
            "key_points": render_markdown(lesson.key_points) if lesson.key_points else "",
            "previous": lessons[index - 1] if index > 0 else None,
            "next": lessons[index + 1] if index + 1 < len(lessons) else None,
            "position": (index + 1, len(lessons)),
            "progress": progress,
            # Time away from the page is not reading time: the clock starts at this opening.
            "opened": opened_token(request.user.id, lesson.id, datetime.now(UTC)),
            "needed": needed,
            "needed_text": reading_time_text(needed),
            "read_text": reading_time_text(progress.active_seconds),
        },
    )


@post("/course/{module_slug:str}/{lesson_slug:str}/heartbeat", name="lesson_heartbeat")
async def lesson_heartbeat(
    request: Request, module_slug: FromPath[str], lesson_slug: FromPath[str], data: FormBody
) -> Response[dict]:
    _, lesson = await _lesson(module_slug, lesson_slug)
    progress = await _progress(request.user, lesson)
    opened = _opened_at(data.get("opened"), request.user.id, lesson.id)
    total = await _credit(progress, HEARTBEAT_CAP, opened, lesson.module)
    needed = required_seconds(lesson.characters)
    return Response({"active_seconds": total, "needed": needed, "enough": total >= needed})


@post("/course/{module_slug:str}/{lesson_slug:str}/done", name="lesson_done")
async def lesson_done(
    request: Request, module_slug: FromPath[str], lesson_slug: FromPath[str], data: FormBody
) -> Redirect:
    module, lesson = await _lesson(module_slug, lesson_slug)
    progress = await _progress(request.user, lesson)
    needed = required_seconds(lesson.characters)
    # Without JavaScript no heartbeat arrives: the time since the page was opened counts.
    opened = _opened_at(data.get("opened"), request.user.id, lesson.id)
    cap = HEARTBEAT_CAP if data.get("js") == "1" or opened is None else timedelta(seconds=needed)
    total = await _credit(progress, cap, opened, lesson.module)
    here = request.app.route_reverse("lesson", module_slug=module.slug, lesson_slug=lesson.slug)
    if progress.read_at is None and total < needed:
        left = reading_time_text(needed - total)
        flash(request, f"还需要再阅读 {left}，才能标记为已学完。", "error")
        return Redirect(here)
    if progress.read_at is None:
        await LessonProgress.update({LessonProgress.read_at: datetime.now(UTC)}).where(
            LessonProgress.id == progress.id
        )
        await refresh_account(request.user.id)  # the lesson may complete a training
        flash(request, f"已学完“{lesson.title}”。", "success")
    lessons = await _lessons(module)
    index = next(i for i, row in enumerate(lessons) if row["id"] == lesson.id)
    if index + 1 < len(lessons):
        return Redirect(
            request.app.route_reverse(
                "lesson", module_slug=module.slug, lesson_slug=lessons[index + 1]["slug"]
            )
        )
    return Redirect(request.app.route_reverse("module", module_slug=module.slug))


router = Router(
    path="/",
    route_handlers=[course_page, module_page, lesson_page, lesson_heartbeat, lesson_done],
)
