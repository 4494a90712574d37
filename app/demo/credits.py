"""Demo 学时: a year of reading spread over the months, the class sessions attended, the
yearly requirement and a few 补考/延期 grants, so that the cadre home, the 学习档案, the
学时统计表 and the 学时催学名单 have something to show.

Every 学时 is written by the ledger's own writers (`app/trainings/credits.py`), at the
moment the demo says it was earned: reading time grows visit by visit and is credited after
each visit, as the heartbeat would (attendance is credited in `app/demo/trainings.py`, as
the attendance list credits it).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from app.quizzes.override_check import Grant
from app.quizzes.override_grants import grant_one
from app.settings import get_settings
from app.tables import (
    Attempt,
    CreditRequirement,
    Lesson,
    LessonProgress,
    Quiz,
    User,
)
from app.trainings.credits import credit_reading, credit_year

DEMO_NOTE = "演示数据，不是正式规定"
# The year's requirement: city-wide, and a lighter one for grassroots unions' part-time cadres.
REQUIREMENTS = (("", 20.0), ("grassroots_union", 12.0))


async def _requirements(year: int, admin_id: int | None) -> None:
    await CreditRequirement.insert(
        *(
            CreditRequirement(
                year=year, hours=hours, unit_kind=kind, note=DEMO_NOTE, updated_by=admin_id
            )
            for kind, hours in REQUIREMENTS
        )
    )


def _visits(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` moments on different days between start (a midnight in Beijing) and end, in
    order, between 8:00 and 21:00."""
    span = max(1, int((end - start).total_seconds() // 86400))
    days = sorted(rng.sample(range(span), min(count, span)))
    return [start + timedelta(days=d, hours=rng.randint(8, 21)) for d in days]


async def _reading(rng: random.Random, now: datetime) -> int:
    """Every cadre who has read something read it over several visits since February, more
    or less often: each visit adds to the lessons' reading time and is credited at once.
    Returns how many credits were written."""
    zone = get_settings().timezone
    year_start = datetime(credit_year(now), 2, 1, tzinfo=zone).astimezone(UTC)
    module_of = {row["id"]: row["module"] for row in await Lesson.select(Lesson.id, Lesson.module)}
    progress = await LessonProgress.select(
        LessonProgress.account, LessonProgress.lesson, LessonProgress.read_at
    ).order_by(LessonProgress.account)
    by_account: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in progress:
        by_account[row["account"]][module_of[row["lesson"]]].append(row["lesson"])
    written = 0
    for account, modules in by_account.items():
        keen = rng.random()  # how much this cadre reads: some return to the texts often
        for module, lessons in sorted(modules.items()):
            visits = _visits(rng, year_start, now - timedelta(days=4), 1 + int(keen * 4))
            seconds = 0
            for visit in visits:
                seconds += rng.randint(4, 8 + int(keen * 30)) * 60
                await LessonProgress.update(
                    {
                        LessonProgress.active_seconds: seconds,
                        LessonProgress.last_seen_at: visit,
                    }
                ).where(LessonProgress.account == account, LessonProgress.lesson.is_in(lessons))
                if await credit_reading(account, module, visit):
                    written += 1
            await LessonProgress.update({LessonProgress.first_opened_at: visits[0]}).where(
                LessonProgress.account == account, LessonProgress.lesson.is_in(lessons)
            )
    return written


async def _overrides(rng: random.Random) -> int:
    """The trainer's 补考 and 延期: an extra attempt for a few who failed the final quiz,
    more time for two, and more time for the demo cadre, who sees it on the quiz page."""
    trainer = await User.select(User.id).where(User.username == "trainer").first()
    final = await Quiz.select(Quiz.id, Quiz.title).where(Quiz.slug == "final-exam").first()
    if trainer is None or final is None:
        return 0
    columns = (User.id, User.name, User.unit.name.as_alias("unit_name"))
    failed = await (
        User.select(*columns)
        .where(
            User.id.is_in(
                Attempt.select(Attempt.account).where(
                    Attempt.quiz == final["id"], Attempt.passed.eq(False)
                )
            )
        )
        .order_by(User.id)
    )
    grants: list[tuple[dict, Grant]] = [
        (cadre, Grant(1, 0, None, "结业测验未通过，准予补考一次"))
        for cadre in rng.sample(failed, min(5, len(failed)))
    ]
    others = await (
        User.select(*columns)
        .where(User.role == "cadre", User.username != "cadre")
        .order_by(User.id)
        .limit(2)
    )
    grants += [(cadre, Grant(0, 20, None, "视力不便，延长作答时间")) for cadre in others]
    demo = await User.select(*columns).where(User.username == "cadre").first()
    if demo:
        grants.append((demo, Grant(1, 10, None, "因公出差，准予补考并延长作答时间")))
    for cadre, grant in grants:
        await grant_one(None, final, cadre, grant, actor_id=trainer["id"])
    return len(grants)


async def load_demo_credits(seed: int = 50) -> str:
    """After the demo trainings: the year's 学时, requirement and overrides; says what."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    admin = await User.select(User.id).where(User.username == "admin").first()
    await _requirements(credit_year(now), admin["id"] if admin else None)
    reading = await _reading(rng, now)
    overrides = await _overrides(rng)
    return f"阅读学时记录 {reading} 条，补考与延期 {overrides} 人。"
