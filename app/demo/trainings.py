"""Demo trainings: a city-wide 专题培训 for every demo cadre and a 集中轮训 with two batches
and class sessions, with realistic progress (completed, partway, not started, attendance),
so that the dashboard, every roster and the 催学名单 have something to show.

Progress is made the way cadres make it (lessons marked read, the final quiz taken with the
real grading code) and then stored by the same recompute the site runs.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from app.db import write_transaction
from app.demo.attempts import take_quiz
from app.tables import (
    Attendance,
    Batch,
    ClassSession,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Quiz,
    Training,
    TrainingModule,
    Unit,
    User,
)
from app.trainings.credits import credit_attendance
from app.trainings.progress import recompute

SPECIAL_TITLE = "学习贯彻中国工会十八大精神专题培训"
ROTATION_TITLE = "全市工会干部集中轮训"
ROTATION_COUNTIES = ("解放区总工会", "山阳区总工会")
QUIZ_TAKERS = 160  # demo cadres who get as far as the final quiz


async def _training(title, kind, city_id, quiz_id, modules, hours) -> int:
    training = Training(
        title=title,
        kind=kind,
        unit=city_id,
        final_quiz=quiz_id,
        credit_hours=hours,
        description="根据焦工文〔2023〕93号通知组织。",
    )
    await training.save()
    await TrainingModule.insert(
        *(TrainingModule(training=training.id, module=module) for module in modules)
    )
    return training.id


async def _enroll(training_id: int, batch_id: int, cadres: list[dict]) -> None:
    rows = [
        Enrollment(training=training_id, batch=batch_id, account=c["id"], unit=c["unit"])
        for c in cadres
    ]
    for start in range(0, len(rows), 500):
        await Enrollment.insert(*rows[start : start + 500])


async def _read(cadres: list[int], lessons: list[int], when: datetime) -> None:
    """Mark lessons read, with the reading time it took."""
    rows = [
        LessonProgress(
            account=account,
            lesson=lesson,
            first_opened_at=when,
            last_seen_at=when,
            active_seconds=600,
            read_at=when,
        )
        for account in cadres
        for lesson in lessons
    ]
    for start in range(0, len(rows), 500):
        await LessonProgress.insert(*rows[start : start + 500]).on_conflict(action="DO NOTHING")


async def load_demo_trainings(seed: int = 93) -> str:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    city = await Unit.select(Unit.id).where(Unit.depth == 0).first()
    final = await Quiz.select().where(Quiz.slug == "final-exam").first()
    if city is None or final is None:
        return "没有单位或结业测验，未写入演示培训。"
    modules = [
        m["id"]
        for m in await Module.select(Module.id)
        .where(Module.active.eq(True))
        .order_by(Module.sort_order)
    ]
    lessons = {
        m: [r["id"] for r in await Lesson.select(Lesson.id).where(Lesson.module == m)]
        for m in modules
    }
    cadres = (
        await User.select(User.id, User.unit, User.unit.path.as_alias("path"))
        .where(User.role == "cadre", User.active.eq(True), User.username != "cadre")
        .order_by(User.id)
    )
    demo = await User.select(User.id, User.unit).where(User.username == "cadre").first()

    async with write_transaction():
        special = await _training(SPECIAL_TITLE, "special", city["id"], final["id"], modules, 8)
        batch = Batch(
            training=special, name="全市专题培训", starts_on=date(2023, 12, 1), place="线上学习"
        )
        await batch.save()
        await _enroll(special, batch.id, [*cadres, *([demo] if demo else [])])

        rotation_modules = modules[:3]
        rotation = await _training(
            ROTATION_TITLE, "rotation", city["id"], final["id"], rotation_modules, 16
        )
        counties = await Unit.select(Unit.id, Unit.name, Unit.path).where(
            Unit.name.is_in(list(ROTATION_COUNTIES))
        )
        rotation_cadres = []
        for n, county in enumerate(sorted(counties, key=lambda c: c["name"]), start=1):
            start = now.date() - timedelta(days=10 - 4 * n)
            batch = Batch(
                training=rotation,
                name=f"第{'一二'[n - 1]}期",
                starts_on=start,
                ends_on=start + timedelta(days=2),
                place="焦作市工人文化宫",
                capacity=80,
                open_unit=county["id"],
                sort_order=n,
            )
            await batch.save()
            members = [c for c in cadres if c["path"].startswith(county["path"])][:60]
            await _enroll(rotation, batch.id, members)
            sessions = []
            for day, topic in enumerate(("中国工会十八大报告精神", "《中国工会章程》修正内容")):
                session = ClassSession(
                    batch=batch.id,
                    # 9:00 in Beijing is 1:00 UTC.
                    starts_at=datetime.combine(start + timedelta(days=day), time(1), UTC),
                    hours=3.0,
                    place="焦作市工人文化宫 301 教室",
                    topic=topic,
                )
                await session.save()
                sessions.append((session.id, session.starts_at))
            present: dict[int, list[int]] = {session: [] for session, _ in sessions}
            for member in members:
                for session, _ in sessions:
                    if rng.random() < 0.8:
                        present[session].append(member["id"])
            for session, starts_at in sessions:
                await Attendance.insert(
                    *(
                        Attendance(session=session, account=a, method="code")
                        for a in present[session]
                    )
                )
                await credit_attendance(session, present[session], starts_at)  # as the list does
            rotation_cadres += [m["id"] for m in members]

        # Reading: about a third finished every module, a third are partway, a third not yet.
        shuffled = [c["id"] for c in cadres]
        rng.shuffle(shuffled)
        third = len(shuffled) // 3
        everything = [lesson for m in modules for lesson in lessons[m]]
        await _read(shuffled[:third], everything, now - timedelta(days=3))
        for account in shuffled[third : 2 * third]:
            await _read([account], rng.sample(everything, rng.randint(1, len(everything) - 1)), now)
        if demo:  # the demo cadre has read the first module, whose quiz they passed
            await _read([demo["id"]], lessons[modules[0]], now - timedelta(days=2))
        taking = shuffled[:QUIZ_TAKERS]
        in_rotation = [a for a in rotation_cadres if a not in shuffled[:third]]
        await _read(in_rotation, [x for m in rotation_modules for x in lessons[m]], now)
    taking += [a for a in rotation_cadres[::2] if a not in taking]
    for n, account in enumerate(taking):
        started = now - timedelta(days=2, minutes=n)
        await take_quiz(final, account, rng.uniform(0.7, 1.0), started, rng, finish=True)
    await recompute(special)
    await recompute(rotation)
    done = await Enrollment.count().where(Enrollment.completed_at.is_not_null())
    return f"演示培训 2 个（专题培训、集中轮训两期），已结业 {done} 人次。"
