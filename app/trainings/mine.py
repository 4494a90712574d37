"""The cadre's own trainings (我的培训): each enrollment with its stored progress, what it
still lacks, and the one next step the card offers (app/course/path.py decides it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app.course.lessons import PATH_QUIZ_COLUMNS, path_modules, quiz_facts
from app.course.path import ModuleFacts, PathFacts, QuizFacts, Step, next_step
from app.settings import get_settings
from app.tables import TRAINING_KINDS, Completion, Enrollment, Quiz, TrainingModule, User
from app.trainings.progress import enrollment_lacks, progress_columns


def step_link(step: Step | None, reverse: Callable[..., str]) -> dict[str, str] | None:
    """The button for a next step: its words, where it goes, and what it opens."""
    if step is None:
        return None
    return {
        "label": step.label,
        "href": reverse(step.route, **step.path_params),
        "title": step.title,
        "kind": step.kind,
    }


async def cadre_trainings(
    user: User, reverse: Callable[..., str], course: dict[int, ModuleFacts] | None = None
) -> list[dict[str, Any]]:
    """The person's active enrollments with their stored progress, what each still lacks,
    the required modules, the final quiz, the next step and the completion (certificate).

    `reverse` builds URLs from route names (the app's `route_reverse`); `course` is what
    `path_modules` gives for this person, when the caller already has it."""
    rows = await (
        Enrollment.select(*progress_columns())
        .where(Enrollment.account == user.id, Enrollment.active.eq(True))
        .order_by(Enrollment.enrolled_at, ascending=False)
    )
    if not rows:
        return []
    trainings = sorted({r["training"] for r in rows})
    modules: dict[int, list[dict]] = {}
    for m in (
        await TrainingModule.select(
            TrainingModule.training,
            TrainingModule.module,
            TrainingModule.module.slug.as_alias("slug"),
            TrainingModule.module.title.as_alias("title"),
        )
        .where(TrainingModule.training.is_in(trainings))
        .order_by(TrainingModule.module.sort_order)
    ):
        modules.setdefault(m["training"], []).append(m)
    quiz_ids = sorted({r["final_quiz"] for r in rows if r["final_quiz"]})
    quizzes = {
        q["id"]: q
        for q in (
            await Quiz.select(*PATH_QUIZ_COLUMNS, Quiz.active, Quiz.published).where(
                Quiz.id.is_in(quiz_ids)
            )
            if quiz_ids
            else []
        )
    }
    final_facts = await quiz_facts(
        user.id, [q for q in quizzes.values() if q["active"] and q["published"]]
    )
    if course is None:
        course = await path_modules(user.id)
    completions = {
        c["enrollment"]: c["id"]
        for c in await Completion.select(Completion.id, Completion.enrollment).where(
            Completion.enrollment.is_in([r["id"] for r in rows])
        )
    }
    today = datetime.now(get_settings().timezone).date()
    for row in rows:
        row["kind_name"] = TRAINING_KINDS.get(row["kind"], row["kind"])
        row["lacks"] = enrollment_lacks(row)
        row["modules"] = modules.get(row["training"], [])
        row["quiz"] = quizzes.get(row["final_quiz"])
        row["completion_id"] = completions.get(row["id"])
        row["percent"] = (
            100 * row["lessons_read"] // row["lessons_required"] if row["lessons_required"] else 0
        )
        ends = row["ends_on"]
        row["days_left"] = (ends - today).days if ends and ends >= today else None
        row["next"] = step_link(next_step(_path(row, course, final_facts)), reverse)
    return rows


def _path(
    row: dict[str, Any], course: dict[int, ModuleFacts], final_facts: dict[int, QuizFacts]
) -> PathFacts:
    """One enrollment's path: its training's modules in course order, its final quiz (passed
    as stored with the enrollment), its completion."""
    final = final_facts.get(row["final_quiz"])
    if final is not None:
        final = replace(final, passed=bool(row["quiz_passed"]))
    required = {m["module"] for m in row["modules"]}
    return PathFacts(
        modules=tuple(facts for module, facts in course.items() if module in required),
        final_quiz=final,
        completed=row["completed_at"] is not None,
        certificate=row["completion_id"],
    )


@get("/my/trainings", name="my_trainings")
async def my_trainings(request: Request) -> Template:
    trainings = await cadre_trainings(request.user, request.app.route_reverse)
    return Template("trainings/my.html", context={"trainings": trainings})


route_handlers = [my_trainings]
