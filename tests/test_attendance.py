"""Class sessions, check-in codes, checking in and the trainer's attendance list."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.asgi import create_app
from app.settings import get_settings
from app.tables import (
    Attendance,
    AuditEvent,
    Batch,
    ClassSession,
    Completion,
    Enrollment,
    Training,
    User,
)
from app.trainings.attendance import parse_session_form
from app.trainings.certificates import qr_svg
from app.trainings.checkin import (
    CHECKIN_FAILURE_LIMIT,
    attendance_changes,
    new_code,
    normalize_code,
)
from tests.conftest import csrf, login, post_form

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass
class Rotation:
    training: Training
    batch: Batch
    session: ClassSession


async def make_rotation(
    tree,
    enrolled: list[User],
    *,
    code: str = "123456",
    minutes: int = 15,
    title: str = "集中轮训测试",
    sessions: int = 1,
) -> Rotation:
    """A 集中轮训 with one batch, its cadres enrolled, and `sessions` class sessions; the
    first has `code`, valid for `minutes` (negative: already expired)."""
    training = Training(
        title=title, kind="rotation", unit=tree["city"].id, credit_hours=8, attendance_share=0.8
    )
    await training.save()
    batch = Batch(training=training.id, name="第一期", place="市工人文化宫")
    await batch.save()
    for person in enrolled:
        await Enrollment(
            training=training.id, batch=batch.id, account=person.id, unit=person.unit
        ).save()
    now = datetime.now(UTC)
    # Sessions start now, or at 20:00 Beijing time late in the evening: a class ends on the
    # day it starts (the session form asks for the end as a time of that day).
    local = now.astimezone(get_settings().timezone)
    start = (local if local.hour < 20 else local.replace(hour=20, minute=0)).astimezone(UTC)
    first = None
    for n in range(sessions):
        session = ClassSession(
            batch=batch.id,
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, hours=3),
            place="市工人文化宫",
            topic=f"学习十八大报告（第{n + 1}讲）",
            hours=3.0,
            checkin_code=code if n == 0 else "",
            code_expires_at=now + timedelta(minutes=minutes) if n == 0 else None,
        )
        await session.save()
        first = first or session
    return Rotation(training, batch, first)


async def enrollment_of(user: User) -> dict:
    return await Enrollment.select().where(Enrollment.account == user.id).first()


async def checkin(client, code: str):
    await client.get("/checkin")
    return await post_form(client, "/checkin", {"code": code})


async def failed_checkins() -> int:
    return await AuditEvent.count().where(AuditEvent.action == "checkin.failed")


# ---------------------------------------------------------------- pure helpers


def test_new_codes_are_six_digits():
    codes = {new_code() for _ in range(200)}
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert len(codes) > 150


def test_full_width_digits_and_spaces_are_accepted():
    assert normalize_code(" １２３ ４５６ ") == "123456"


def test_session_form_stores_beijing_time_as_utc():
    values, errors = parse_session_form(
        {
            "starts_at": "2024-03-01T09:00",
            "ends_at": "11:30",
            "topic": "学习新修改的工会章程",
            "place": "",
            "hours": "2.5",
        },
        BEIJING,
    )
    assert errors == {}
    assert values["starts_at"] == datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    assert values["ends_at"] == datetime(2024, 3, 1, 3, 30, tzinfo=UTC)
    assert values["hours"] == 2.5


def test_session_form_reports_every_problem():
    _, errors = parse_session_form(
        {"starts_at": "明天上午", "ends_at": "", "topic": "", "hours": "三"}, BEIJING
    )
    assert set(errors) == {"starts_at", "topic", "hours"}
    _, errors = parse_session_form(
        {"starts_at": "2024-03-01T09:00", "ends_at": "08:00", "topic": "x", "hours": "25"},
        BEIJING,
    )
    assert errors["ends_at"] == "下课时间应晚于上课时间。"
    assert "hours" in errors


def test_only_the_boxes_the_trainer_changed_count():
    shown = {1: False, 2: True, 3: False, 4: True, 99: False}
    # 1 newly ticked, 2 unticked, 3 left unticked (though they checked in meanwhile),
    # 4 left ticked; 99 is not enrolled in the batch.
    assert attendance_changes({1, 4, 99}, shown, {1, 2, 3, 4}) == {1: True, 2: False}


# ---------------------------------------------------------------- checking in


async def test_a_good_code_checks_in_once_and_recomputes_progress(client, tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre], sessions=2)
    await login(client, cadre.username)
    page = await client.get("/checkin?code=123456")
    assert page.status_code == 200
    assert 'value="123456"' in page.text

    response = await checkin(client, "123456")
    assert response.status_code == 200
    assert "签到成功" in response.text
    assert "学习十八大报告（第1讲）" in response.text
    rows = await Attendance.select().where(Attendance.account == cadre.id)
    assert len(rows) == 1
    assert rows[0]["method"] == "code" and rows[0]["present"] is True
    assert rows[0]["session"] == rotation.session.id
    enrollment = await enrollment_of(cadre)
    assert enrollment["sessions_attended"] == 1
    assert enrollment["sessions_total"] == 2
    assert enrollment["hours"] == 3.0

    again = await checkin(client, "１２３４５６")
    assert again.status_code == 200
    assert "您已经签到过了" in again.text
    assert await Attendance.count().where(Attendance.account == cadre.id) == 1


async def test_attending_every_session_completes_the_training(client, tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre])
    await login(client, cadre.username)
    await checkin(client, "123456")
    completion = await Completion.select().where(Completion.account == cadre.id).first()
    assert completion is not None
    assert completion["training"] == rotation.training.id
    assert completion["hours"] == 3.0 + 8


async def test_an_expired_code_is_refused_and_nothing_is_written(client, tree, people):
    cadre = people["cadre"]
    await make_rotation(tree, [cadre], minutes=-1)
    await login(client, cadre.username)
    response = await checkin(client, "123456")
    assert response.status_code == 400
    assert "签到码已过期，请向培训老师索取新的签到码" in response.text
    assert await Attendance.count() == 0
    assert await failed_checkins() == 0
    assert (await enrollment_of(cadre))["sessions_attended"] == 0


async def test_a_wrong_code_is_refused(client, tree, people):
    cadre = people["cadre"]
    await make_rotation(tree, [cadre])
    await login(client, cadre.username)
    for code in ("654321", "12345", "abcdef", ""):
        response = await checkin(client, code)
        assert response.status_code == 400
        assert "签到码不正确" in response.text
    assert await Attendance.count() == 0
    assert (await enrollment_of(cadre))["sessions_attended"] == 0


async def test_a_code_of_another_batch_is_refused(client, tree, people):
    cadre, other = people["cadre"], people["other_cadre"]
    await make_rotation(tree, [cadre], code="111111", title="第一个轮训")
    await make_rotation(tree, [other], code="222222", title="第二个轮训")
    await login(client, cadre.username)
    response = await checkin(client, "222222")
    assert response.status_code == 400
    assert "您没有报名这一期培训，不能签到" in response.text
    assert await Attendance.count() == 0
    assert await failed_checkins() == 0


async def test_an_inactive_enrollment_cannot_check_in(client, tree, people):
    cadre = people["cadre"]
    await make_rotation(tree, [cadre])
    await Enrollment.update({Enrollment.active: False}).where(Enrollment.account == cadre.id)
    await login(client, cadre.username)
    response = await checkin(client, "123456")
    assert "您没有报名这一期培训" in response.text
    assert await Attendance.count() == 0


async def test_guessing_codes_is_throttled(client, tree, people):
    cadre, other = people["cadre"], people["other_cadre"]
    await make_rotation(tree, [cadre, other])
    await login(client, cadre.username)
    for n in range(CHECKIN_FAILURE_LIMIT):
        response = await checkin(client, f"{900000 + n}")
        assert "签到码不正确" in response.text
    assert await failed_checkins() == CHECKIN_FAILURE_LIMIT
    # Even the right code is refused now, without looking at it.
    response = await checkin(client, "123456")
    assert response.status_code == 429
    assert "输错的次数太多" in response.text
    assert await Attendance.count() == 0
    assert await failed_checkins() == CHECKIN_FAILURE_LIMIT
    # The count is per person: another cadre still checks in.
    await post_form(client, "/logout")
    await login(client, other.username)
    assert "签到成功" in (await checkin(client, "123456")).text
    # Failures older than the window no longer count.
    await AuditEvent.update(
        {AuditEvent.created_at: datetime.now(UTC) - timedelta(minutes=11)}
    ).where(AuditEvent.action == "checkin.failed")
    await post_form(client, "/logout")
    await login(client, cadre.username)
    assert "签到成功" in (await checkin(client, "123456")).text


async def test_simultaneous_wrong_codes_cannot_slip_past_the_limit(tree, people):
    cadre = people["cadre"]
    await make_rotation(tree, [cadre])
    burst = 8 * CHECKIN_FAILURE_LIMIT
    app = create_app()
    # In the app's lifespan, so PostgreSQL serves the burst from its pool as in production;
    # through httpx's own transport, which (unlike the test client's) runs requests at once.
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as phone,
    ):
        await login(phone, cadre.username)
        await phone.get("/checkin")
        form = {"_csrf_token": csrf(phone)}
        responses = await asyncio.gather(
            *(phone.post("/checkin", data={**form, "code": f"{900000 + n}"}) for n in range(burst))
        )
    wrong = [r for r in responses if r.status_code == 400 and "签到码不正确" in r.text]
    throttled = [r for r in responses if r.status_code == 429 and "输错的次数太多" in r.text]
    assert (len(wrong), len(throttled)) == (CHECKIN_FAILURE_LIMIT, burst - CHECKIN_FAILURE_LIMIT)
    assert await failed_checkins() == CHECKIN_FAILURE_LIMIT
    assert await Attendance.count() == 0


async def test_checking_in_needs_signing_in(client, tree, people):
    response = await client.get("/checkin?code=123456")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?next=")
    assert "code%3D123456" in response.headers["location"]


# ---------------------------------------------------------------- trainer pages


async def test_trainer_adds_lists_and_deletes_sessions(client, tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre])
    base = f"/trainings/{rotation.training.id}/batches/{rotation.batch.id}/sessions"
    await login(client, "trainer")
    page = await client.get(base)
    assert page.status_code == 200
    assert "学习十八大报告（第1讲）" in page.text

    bad = await post_form(client, base, {"starts_at": "", "topic": "", "hours": "3"})
    assert bad.status_code == 400
    assert "请填写上课时间" in bad.text
    assert await ClassSession.count().where(ClassSession.batch == rotation.batch.id) == 1

    response = await post_form(
        client,
        base,
        {
            "starts_at": "2030-05-06T14:30",
            "ends_at": "17:00",
            "place": "解放区职工之家",
            "topic": "学习新修改的工会章程",
            "hours": "2.5",
        },
    )
    assert response.status_code in (302, 303)
    added = await ClassSession.select().where(ClassSession.topic == "学习新修改的工会章程").first()
    assert added["starts_at"] == datetime(2030, 5, 6, 6, 30, tzinfo=UTC)
    assert added["hours"] == 2.5
    assert (await enrollment_of(cadre))["sessions_total"] == 2
    assert await AuditEvent.exists().where(AuditEvent.action == "session.create")
    page = await client.get(base)
    assert "2030-05-06 14:30–17:00" in page.text

    # A session with attendance stays; one without may go.
    await Attendance(session=rotation.session.id, account=cadre.id, method="code").save()
    await post_form(client, f"{base}/{rotation.session.id}/delete")
    assert await ClassSession.exists().where(ClassSession.id == rotation.session.id)
    await post_form(client, f"{base}/{added['id']}/delete")
    assert not await ClassSession.exists().where(ClassSession.id == added["id"])
    assert (await enrollment_of(cadre))["sessions_total"] == 1
    assert await AuditEvent.exists().where(AuditEvent.action == "session.delete")


async def test_sessions_belong_to_their_training_and_batch(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]])
    other = await make_rotation(tree, [people["other_cadre"]], code="222222")
    await login(client, "trainer")
    wrong = f"/trainings/{other.training.id}/batches/{rotation.batch.id}/sessions"
    assert (await client.get(wrong)).status_code == 404
    url = (
        f"/trainings/{other.training.id}/batches/{other.batch.id}/sessions/"
        f"{rotation.session.id}/delete"
    )
    assert (await post_form(client, url)).status_code == 404
    assert await ClassSession.exists().where(ClassSession.id == rotation.session.id)
    special = Training(title="专题培训", kind="special", unit=tree["city"].id)
    await special.save()
    batch = Batch(training=special.id, name="第一期")
    await batch.save()
    response = await client.get(f"/trainings/{special.id}/batches/{batch.id}/sessions")
    assert response.status_code == 404
    assert "只有集中轮训" in response.text


async def test_trainer_makes_a_code_and_shows_it_with_a_qr_code(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]], code="", minutes=-60)
    await make_rotation(tree, [people["other_cadre"]], code="222222")
    await login(client, "trainer")
    url = f"/sessions/{rotation.session.id}/code"
    page = await client.get(url)
    assert "还没有生成签到码" in page.text
    response = await post_form(client, url, {"minutes": "20"})
    assert response.status_code in (302, 303)
    session = await ClassSession.select().where(ClassSession.id == rotation.session.id).first()
    code = session["checkin_code"]
    assert re.fullmatch(r"[0-9]{6}", code) and code != "222222"
    left = session["code_expires_at"] - datetime.now(UTC)
    assert timedelta(minutes=19) < left <= timedelta(minutes=20)
    page = await client.get(url)
    assert page.status_code == 200
    assert code in page.text
    assert "<svg" in page.text and 'class="qr"' in page.text
    # The QR code encodes the absolute address of the check-in page with the code.
    assert qr_svg(f"http://testserver.local/checkin?code={code}", "扫码签到") in page.text
    assert "已签到 <strong>0</strong> / 1 人" in page.text
    assert "data-refresh-seconds" in page.text

    bad = await post_form(client, url, {"minutes": "0"})
    assert bad.status_code in (302, 303)
    assert (await ClassSession.select().where(ClassSession.id == rotation.session.id).first())[
        "checkin_code"
    ] == code

    await post_form(client, url, {"stop": "1"})
    page = await client.get(url)
    assert "签到码已失效" in page.text
    await post_form(client, "/logout")
    await login(client, people["cadre"].username)
    assert "签到码已过期" in (await checkin(client, code)).text


async def test_a_new_code_is_not_one_still_valid(client, tree, people, monkeypatch):
    from app.trainings import checkin

    rotation = await make_rotation(tree, [people["cadre"]], code="", minutes=-60)
    await make_rotation(tree, [people["other_cadre"]], code="222222")
    codes = iter(["222222", "222222", "333333"])
    monkeypatch.setattr(checkin, "new_code", lambda: next(codes))
    await login(client, "trainer")
    await post_form(client, f"/sessions/{rotation.session.id}/code", {"minutes": "15"})
    session = await ClassSession.select().where(ClassSession.id == rotation.session.id).first()
    assert session["checkin_code"] == "333333"


async def test_trainer_marks_and_unmarks_attendance_with_an_audit_trail(client, tree, people):
    cadre, other = people["cadre"], people["other_cadre"]
    rotation = await make_rotation(tree, [cadre, other], sessions=2)
    url = f"/sessions/{rotation.session.id}/attendance"
    await login(client, "trainer")
    page = await client.get(url)
    assert page.status_code == 200
    assert "孙学员" in page.text and "周学员" in page.text
    assert "未到" in page.text

    await post_form(
        client, url, {"present": [str(cadre.id)], "shown": [f"{cadre.id}:0", f"{other.id}:0"]}
    )
    row = await Attendance.select().where(Attendance.account == cadre.id).first()
    assert row["present"] is True and row["method"] == "trainer"
    assert row["marked_by"] == people["trainer"].id
    assert not await Attendance.exists().where(Attendance.account == other.id)
    event = await AuditEvent.select().where(AuditEvent.action == "attendance.mark").first()
    assert event["summary"].startswith("标记 孙学员 出席")
    assert event["actor"] == people["trainer"].id and event["target_id"] == cadre.id
    assert (await enrollment_of(cadre))["sessions_attended"] == 1
    page = await client.get(url)
    assert "老师标记" in page.text and "李培训" in page.text

    await post_form(client, url, {"shown": [f"{cadre.id}:1", f"{other.id}:0"]})
    row = await Attendance.select().where(Attendance.account == cadre.id).first()
    assert row["present"] is False  # kept, not deleted
    event = await AuditEvent.select().where(AuditEvent.action == "attendance.unmark").first()
    assert event["summary"].startswith("取消 孙学员 的出席")
    assert (await enrollment_of(cadre))["sessions_attended"] == 0

    # Saving the same page again changes nothing and records nothing.
    before = await AuditEvent.count()
    await post_form(client, url, {"shown": [f"{cadre.id}:0", f"{other.id}:0"]})
    assert await AuditEvent.count() == before


async def test_a_check_in_while_the_list_is_open_is_kept(client, tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre])
    await login(client, "trainer")
    url = f"/sessions/{rotation.session.id}/attendance"
    await client.get(url)
    # The cadre checks in after the trainer opened the list (shown unticked).
    await Attendance(session=rotation.session.id, account=cadre.id, method="code").save()
    await post_form(client, url, {"shown": [f"{cadre.id}:0"]})
    row = await Attendance.select().where(Attendance.account == cadre.id).first()
    assert row["present"] is True and row["method"] == "code"


async def test_cadres_and_unit_admins_cannot_open_trainer_pages(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]])
    urls = [
        f"/trainings/{rotation.training.id}/batches/{rotation.batch.id}/sessions",
        f"/sessions/{rotation.session.id}/code",
        f"/sessions/{rotation.session.id}/attendance",
    ]
    for account in (people["cadre"].username, "jf-admin"):
        await login(client, account)
        for url in urls:
            response = await client.get(url)
            assert response.status_code == 403, url
            assert "123456" not in response.text
            response = await post_form(client, url, {"minutes": "15", "present": "1"})
            assert response.status_code == 403, url
        await post_form(client, "/logout")
    assert await Attendance.count() == 0
