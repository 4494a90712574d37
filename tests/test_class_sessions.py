"""Class sessions edited and cancelled; the projector view and its count; the 签到表."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from app.settings import get_settings
from app.tables import (
    Attendance,
    AuditEvent,
    ClassSession,
    Completion,
    Enrollment,
    Training,
)
from tests.conftest import login, make_user, post_form
from tests.test_attendance import checkin, enrollment_of, make_rotation


async def audit_rows(action: str) -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action)


async def session_row(session_id: int) -> dict:
    return await ClassSession.select().where(ClassSession.id == session_id).first()


async def logout(client) -> None:
    await post_form(client, "/logout")


# ---------------------------------------------------------------- editing


async def test_trainer_edits_a_session_and_it_is_audited(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]])
    session = rotation.session
    await login(client, "trainer")
    form = await client.get(f"/sessions/{session.id}/edit")
    assert form.status_code == 200
    # The form shows the session as it is, in Beijing time.
    local = session.starts_at.astimezone(get_settings().timezone)
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in form.text
    assert 'value="学习十八大报告（第1讲）"' in form.text

    response = await post_form(
        client,
        f"/sessions/{session.id}/edit",
        {
            "starts_at": "2030-05-06T14:30",
            "ends_at": "17:00",
            "topic": "学习新修改的工会章程",
            "place": "市总工会三楼会议室",
            "hours": "2.5",
        },
    )
    assert response.status_code in (302, 303), response.text
    row = await session_row(session.id)
    assert row["topic"] == "学习新修改的工会章程"
    assert row["place"] == "市总工会三楼会议室"
    assert row["hours"] == 2.5
    assert row["starts_at"] == datetime(2030, 5, 6, 6, 30, tzinfo=UTC)
    assert row["ends_at"] == datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    [event] = await audit_rows("session.update")
    assert "学习十八大报告（第1讲）" in event["summary"]
    assert "学习新修改的工会章程" in event["summary"]
    assert "2030-05-06 14:30–17:00" in event["summary"]
    # The stored progress counts the new hours.
    listing = await client.get(
        f"/trainings/{rotation.training.id}/batches/{rotation.batch.id}/sessions"
    )
    assert "学习新修改的工会章程" in listing.text
    assert f"/sessions/{session.id}/edit" in listing.text


async def test_a_bad_edit_names_the_field_and_changes_nothing(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]])
    await login(client, "trainer")
    await client.get(f"/sessions/{rotation.session.id}/edit")
    response = await post_form(
        client,
        f"/sessions/{rotation.session.id}/edit",
        {"starts_at": "明天", "ends_at": "", "topic": "", "place": "", "hours": "3"},
    )
    assert response.status_code == 400
    assert "上课时间的格式不正确" in response.text
    assert "请填写课程内容" in response.text
    assert (await session_row(rotation.session.id))["topic"] == "学习十八大报告（第1讲）"
    assert await audit_rows("session.update") == []


# ---------------------------------------------------------------- cancelling


async def test_cancelling_keeps_attendance_stops_check_in_and_leaves_completion_fair(
    client, tree, people
):
    first_cadre, second_cadre = people["cadre"], people["other_cadre"]
    third = await make_user("13800000003", tree["jiefang_g"], name="吴学员")
    rotation = await make_rotation(tree, [first_cadre, second_cadre, third], sessions=2)
    second = (
        await ClassSession.objects()
        .where(ClassSession.batch == rotation.batch.id, ClassSession.id != rotation.session.id)
        .first()
    )
    # Session 1 (code 123456): both cadres check in. Session 2 (code 654321): only the first.
    for cadre in (first_cadre, second_cadre):
        await login(client, cadre.username)
        assert (await checkin(client, "123456")).status_code == 200
        await logout(client)
    await ClassSession.update(
        {
            ClassSession.checkin_code: "654321",
            ClassSession.code_expires_at: datetime.now(UTC) + timedelta(minutes=15),
        }
    ).where(ClassSession.id == second.id)
    await login(client, first_cadre.username)
    assert (await checkin(client, "654321")).status_code == 200
    await logout(client)
    assert (await enrollment_of(second_cadre))["sessions_total"] == 2
    assert await Completion.count().where(Completion.account == second_cadre.id) == 0

    await login(client, "trainer")
    await client.get(f"/sessions/{second.id}/edit")
    response = await post_form(
        client, f"/sessions/{second.id}/cancel", {"reason": "授课老师临时有事"}
    )
    assert response.status_code in (302, 303)
    row = await session_row(second.id)
    assert row["cancelled_at"] is not None and row["cancel_reason"] == "授课老师临时有事"
    [event] = await audit_rows("session.cancel")
    assert "学习十八大报告（第2讲）" in event["summary"] and "授课老师临时有事" in event["summary"]
    # The attendance recorded stays.
    assert await Attendance.count().where(Attendance.session == second.id) == 1
    # Nobody lacks the cancelled session: the second cadre, at every session that took
    # place, has completed; everyone's total is one session now.
    assert (await enrollment_of(second_cadre))["sessions_total"] == 1
    assert await Completion.count().where(Completion.account == second_cadre.id) == 1
    assert (await enrollment_of(third))["sessions_total"] == 1
    assert await Completion.count().where(Completion.account == third.id) == 0

    # Staff see 已取消 on the list, the code page and the attendance list.
    listing = await client.get(
        f"/trainings/{rotation.training.id}/batches/{rotation.batch.id}/sessions"
    )
    assert "已取消" in listing.text and "授课老师临时有事" in listing.text
    code_page = await client.get(f"/sessions/{second.id}/code")
    assert "已取消" in code_page.text and "654321" not in code_page.text
    sheet = await client.get(f"/sessions/{second.id}/attendance")
    assert "已取消" in sheet.text and "保存考勤" not in sheet.text
    # No new code, no trainer's marks on a cancelled session.
    await post_form(client, f"/sessions/{second.id}/code", {"minutes": "15"})
    assert (await session_row(second.id))["code_expires_at"] <= datetime.now(UTC)
    await post_form(
        client,
        f"/sessions/{second.id}/attendance",
        {"present": str(third.id), "shown": f"{third.id}:0"},
    )
    assert await Attendance.count().where(Attendance.session == second.id) == 1
    await logout(client)

    # A cadre with the old code is told the class is cancelled, and nothing is recorded.
    await login(client, third.username)
    refused = await checkin(client, "654321")
    assert refused.status_code == 400
    assert "已取消" in refused.text
    assert await Attendance.count().where(Attendance.session == second.id) == 1
    await logout(client)

    # Restoring counts the session again; a completion once earned stays.
    await login(client, "trainer")
    await post_form(client, f"/sessions/{second.id}/restore")
    assert (await session_row(second.id))["cancelled_at"] is None
    assert len(await audit_rows("session.restore")) == 1
    assert (await enrollment_of(second_cadre))["sessions_total"] == 2
    assert await Completion.count().where(Completion.account == second_cadre.id) == 1


async def test_a_valid_code_stops_working_when_its_session_is_cancelled(client, tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre])
    await login(client, "trainer")
    await client.get(f"/sessions/{rotation.session.id}/edit")
    await post_form(client, f"/sessions/{rotation.session.id}/cancel")
    await logout(client)
    await login(client, cadre.username)
    response = await checkin(client, "123456")
    assert response.status_code == 400
    assert "这次面授课程（学习十八大报告（第1讲））已取消" in response.text
    assert await Attendance.count() == 0


async def test_others_cannot_edit_or_cancel(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]])
    sid = rotation.session.id
    for account in (people["cadre"].username, "jf-admin"):
        await login(client, account)
        assert (await client.get(f"/sessions/{sid}/edit")).status_code == 403
        for url in (f"/sessions/{sid}/edit", f"/sessions/{sid}/cancel"):
            response = await post_form(
                client, url, {"topic": "改掉", "starts_at": "2030-01-01T09:00", "hours": "1"}
            )
            assert response.status_code == 403, url
        await logout(client)
    row = await session_row(sid)
    assert row["cancelled_at"] is None and row["topic"] == "学习十八大报告（第1讲）"


# ---------------------------------------------------------------- the projector view


async def test_projector_view_and_its_count(client, tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre, people["other_cadre"]])
    sid = rotation.session.id
    await login(client, "trainer")
    page = await client.get(f"/sessions/{sid}/projector")
    assert page.status_code == 200
    assert "123456" in page.text and "<svg" in page.text
    assert 'class="mainnav"' not in page.text and "topbar" not in page.text
    assert re.search(r'data-count="present">0<', page.text)
    assert "/static/session_count.js" in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    count = await client.get(f"/sessions/{sid}/count")
    assert count.status_code == 200
    assert count.json()["present"] == 0 and count.json()["enrolled"] == 2
    state = count.json()["state"]
    assert f'data-state="{state}"' in page.text
    await logout(client)

    await login(client, cadre.username)
    await checkin(client, "123456")
    await logout(client)

    await login(client, "trainer")
    count = await client.get(f"/sessions/{sid}/count")
    assert count.json() == {"present": 1, "enrolled": 2, "state": state}
    page = await client.get(f"/sessions/{sid}/projector")  # without JavaScript, a reload
    assert re.search(r'data-count="present">1<', page.text)


async def test_the_count_is_for_staff_who_see_the_training(client, tree, people):
    rotation = await make_rotation(tree, [people["cadre"]])
    sid = rotation.session.id
    for account in (people["cadre"].username, "jf-admin", "zz-admin"):
        await login(client, account)
        for url in (f"/sessions/{sid}/count", f"/sessions/{sid}/projector"):
            response = await client.get(url)
            assert response.status_code == 403, (account, url)
            assert "123456" not in response.text and '"present"' not in response.text
        await logout(client)
    await login(client, "trainer")
    assert (await client.get("/sessions/999999/count")).status_code == 404


# ---------------------------------------------------------------- the 签到表


async def sheet_setup(tree, people):
    """Cadres of two counties enrolled; some checked in, one marked by the trainer."""
    ding = await make_user("13800000011", tree["jiefang_g"], name="丁一")
    wang = await make_user("13800000012", tree["jiefang_g"], name="王五")
    cadres = [people["cadre"], people["other_cadre"], ding, wang]
    rotation = await make_rotation(tree, cadres)
    return rotation, {"ding": ding, "wang": wang}


async def test_the_sheet_as_xlsx_is_the_database_in_unit_and_stroke_order(client, tree, people):
    rotation, extra = await sheet_setup(tree, people)
    for cadre in (people["cadre"], people["other_cadre"]):
        await login(client, cadre.username)
        await checkin(client, "123456")
        await logout(client)
    await login(client, "trainer")
    await client.get(f"/sessions/{rotation.session.id}/attendance")
    await post_form(
        client,
        f"/sessions/{rotation.session.id}/attendance",
        {"present": str(extra["wang"].id), "shown": f"{extra['wang'].id}:0"},
    )
    response = await client.get(f"/sessions/{rotation.session.id}/sheet.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert "%E7%AD%BE%E5%88%B0%E8%A1%A8" in response.headers["content-disposition"]  # 签到表
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "集中轮训测试 第一期 签到表"
    assert [c.value for c in sheet[3]] == ["序号", "姓名", "单位", "签到时间", "状态"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]

    marks = {
        row["account"]: row
        for row in await Attendance.select().where(Attendance.session == rotation.session.id)
    }
    zone = get_settings().timezone

    def when(account: int):
        mark = marks.get(account)
        if mark is None:
            return None
        return mark["created_at"].astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)

    # Units in the reports' tree order (siblings by sort order, then name: 中站区 before
    # 解放区); in a unit by surname strokes: 丁 2, 王 4, 孙 6.
    assert [r[:3] for r in rows] == [
        [1, "周学员", "中站区第一中学工会"],
        [2, "丁一", "解放区人民医院工会"],
        [3, "王五", "解放区人民医院工会"],
        [4, "孙学员", "解放区人民医院工会"],
    ]
    accounts = [people["other_cadre"].id, extra["ding"].id, extra["wang"].id, people["cadre"].id]
    for row, account in zip(rows, accounts, strict=True):
        assert row[3] == when(account), row
        assert row[3] is None or isinstance(row[3], datetime)
    assert [r[4] for r in rows] == ["已签到", "未签到", "老师标记出席", "已签到"]
    assert sheet["D4"].number_format == "yyyy-mm-dd hh:mm"
    enrolled = await Enrollment.count().where(Enrollment.batch == rotation.batch.id)
    assert len(rows) == enrolled


async def test_a_unit_admin_gets_the_sheet_of_their_own_cadres_only(client, tree, people):
    rotation, _ = await sheet_setup(tree, people)
    sid = rotation.session.id
    await login(client, "jf-admin")
    page = await client.get(f"/sessions/{sid}/sheet")
    assert page.status_code == 200
    assert "孙学员" in page.text and "丁一" in page.text and "周学员" not in page.text
    book = load_workbook(io.BytesIO((await client.get(f"/sessions/{sid}/sheet.xlsx")).content))
    names = [r[1].value for r in book.worksheets[0].iter_rows(min_row=4)]
    assert names == ["丁一", "王五", "孙学员"]
    await logout(client)

    await login(client, "zz-admin")
    book = load_workbook(io.BytesIO((await client.get(f"/sessions/{sid}/sheet.xlsx")).content))
    assert [r[1].value for r in book.worksheets[0].iter_rows(min_row=4)] == ["周学员"]
    await logout(client)

    # A training a unit admin does not see: 403, and no names.
    other = await make_rotation(tree, [people["other_cadre"]], code="222333", title="中站区轮训")
    await Training.update({Training.unit: tree["zhongzhan"].id}).where(
        Training.id == other.training.id
    )
    await login(client, "jf-admin")
    for url in (f"/sessions/{other.session.id}/sheet", f"/sessions/{other.session.id}/sheet.xlsx"):
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "周学员" not in response.text
    await logout(client)

    await login(client, people["cadre"].username)
    assert (await client.get(f"/sessions/{sid}/sheet.xlsx")).status_code == 403
    assert (await client.get(f"/sessions/{sid}/sheet")).status_code == 403


async def test_the_print_view_has_a_print_button_and_a_signature_column(client, tree, people):
    rotation, _ = await sheet_setup(tree, people)
    await login(client, people["cadre"].username)
    await checkin(client, "123456")
    await logout(client)
    await login(client, "trainer")
    page = await client.get(f"/sessions/{rotation.session.id}/sheet")
    assert page.status_code == 200
    assert '<th class="sign-col">签字</th>' in page.text
    assert "data-print" in page.text and "打印" in page.text
    assert "/static/print.js" in page.text
    assert f"/sessions/{rotation.session.id}/sheet.xlsx" in page.text
    rows = re.findall(
        r"<tr>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"nowrap\">([^<]+)<", page.text
    )
    assert [name for _, name in rows] == ["周学员", "丁一", "王五", "孙学员"]
    assert "应到 4 人，已到 1 人" in page.text
