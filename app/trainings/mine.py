"""The cadre's own trainings (我的培训): each enrollment with its stored progress, what it
still lacks, and the one next step the card offers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app.settings import get_settings
from app.tables import TRAINING_KINDS, Completion, Enrollment, Quiz, TrainingModule, User
from app.trainings.progress import enrollment_lacks, progress_columns


async def cadre_trainings(user: User) -> list[dict[str, Any]]:
    """The person's active enrollments with their stored progress, what each still lacks,
    the required modules, the final quiz, the next step and the completion (certificate)."""
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
            await Quiz.select(Quiz.id, Quiz.slug, Quiz.title).where(Quiz.id.is_in(quiz_ids))
            if quiz_ids
            else []
        )
    }
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
        row["next"] = _next_step(row)
    return rows


def _next_step(row: dict[str, Any]) -> dict[str, str] | None:
    """The one button a cadre's card offers: certificate, reading, quiz (label, kind, target)."""
    if row["completed_at"] is not None:
        if row["completion_id"]:
            return {"label": "查看证书", "href": f"/my/certificates/{row['completion_id']}"}
        return None
    if row["lessons_read"] < row["lessons_required"] and row["modules"]:
        label = "继续学习" if row["lessons_read"] else "开始学习"
        return {"label": label, "module": row["modules"][0]["slug"]}
    if row["quiz"] and not row["quiz_passed"]:
        return {"label": "开始测验", "quiz": row["quiz"]["slug"]}
    return None


@get("/my/trainings", name="my_trainings")
async def my_trainings(request: Request) -> Template:
    return Template("trainings/my.html", context={"trainings": await cadre_trainings(request.user)})


route_handlers = [my_trainings]
