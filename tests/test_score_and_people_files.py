"""The staff downloads: a quiz's scores (one row per finished attempt) and the people list,
each read back with openpyxl and checked cell by cell against the database, with its scope."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from app.quizzes.score_file import SCORE_HEADERS
from app.settings import get_settings
from app.tables import ROLES, Attempt, Quiz, User
from tests.conftest import login, make_user

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in 焦作


def local(value: datetime) -> datetime:
    """A stored time as the file shows it: the site's local time, no zone, to the minute."""
    return value.astimezone(get_settings().timezone).replace(tzinfo=None, second=0, microsecond=0)


def rows_of(content: bytes, sheet_name: str) -> tuple[list, list[list]]:
    """The header row (row 3, under the title and the info line) and the rows below it."""
    sheet = load_workbook(io.BytesIO(content))[sheet_name]
    rows = [list(r) for r in sheet.iter_rows(min_row=3)]
    header = [c.value for c in rows[0]]
    return header, rows[1:]


async def _attempts(people, tree):
    quiz = Quiz(
        slug="chengji-ceshi", title="成绩导出测验", pass_mark=60.0, counted_attempt="highest"
    )
    await quiz.save()
    cadre, other = people["cadre"], people["other_cadre"]
    second = await make_user("13800000003", tree["jiefang_g"], name="孙学员", phone="13800000003")

    async def attempt(who, minutes, score, status="submitted", practice=False):
        started = T0 + timedelta(minutes=minutes)
        row = Attempt(
            quiz=quiz.id,
            account=who.id,
            practice=practice,
            status=status,
            started_at=started,
            finished_at=None if status == "in_progress" else started + timedelta(minutes=20),
            score=score,
            passed=None if score is None else score >= 60,
        )
        await row.save()
        return row

    made = {
        "c1": await attempt(cadre, 0, 50.0),
        "c2": await attempt(cadre, 60, 85.5, status="expired"),
        "c3": await attempt(cadre, 120, 70.0),
        "o1": await attempt(other, 30, 90.0),
        "s1": await attempt(second, 10, 40.0),
    }
    await attempt(cadre, 200, None, status="in_progress")
    await attempt(other, 300, 100.0, practice=True)
    return quiz, made


async def test_the_score_file_has_one_row_per_finished_attempt(client, people, tree):
    quiz, made = await _attempts(people, tree)
    await login(client, "trainer")
    page = await client.get(f"/admin/quizzes/{quiz.slug}/attempts")
    assert f'href="/admin/quizzes/{quiz.slug}/scores.xlsx?' in page.text
    response = await client.get(f"/admin/quizzes/{quiz.slug}/scores.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    header, rows = rows_of(response.content, "成绩")
    assert tuple(header) == SCORE_HEADERS
    # By unit in tree order (siblings by name: 中站区 before 解放区), then name and cadre
    # (two 孙学员 here), then the order taken.
    expected = [
        ("周学员", made["o1"], 1, "是"),
        ("孙学员", made["c1"], 1, "否"),
        ("孙学员", made["c2"], 2, "是"),  # the highest score counts
        ("孙学员", made["c3"], 3, "否"),
        ("孙学员", made["s1"], 1, "是"),
    ]
    assert len(rows) == len(expected)
    for cells, (name, attempt, number, counted) in zip(rows, expected, strict=True):
        stored = await Attempt.objects(Attempt.account.unit).where(Attempt.id == attempt.id).first()
        values = [c.value for c in cells]
        assert values == [
            name,
            stored.account.unit.name,
            local(stored.started_at),
            local(stored.finished_at),
            stored.score,
            "是" if stored.passed else "否",
            number,
            counted,
        ]
        # Real dates and numbers; text stays text.
        assert [c.data_type for c in cells] == ["s", "s", "d", "d", "n", "s", "n", "s"]
        assert cells[2].is_date and cells[3].is_date


async def test_the_score_file_takes_the_pages_filters(client, people, tree):
    quiz, _ = await _attempts(people, tree)
    await login(client, "admin")
    url = f"/admin/quizzes/{quiz.slug}/scores.xlsx"
    _, rows = rows_of((await client.get(f"{url}?unit={tree['zhongzhan'].id}")).content, "成绩")
    assert [r[0].value for r in rows] == ["周学员"]
    _, rows = rows_of((await client.get(f"{url}?passed=no")).content, "成绩")
    assert [(r[0].value, r[6].value) for r in rows] == [("孙学员", 1), ("孙学员", 1)]
    _, rows = rows_of((await client.get(f"{url}?status=expired")).content, "成绩")
    assert [(r[4].value, r[6].value, r[7].value) for r in rows] == [(85.5, 2, "是")]


async def test_only_those_who_see_the_attempts_page_get_the_score_file(client, people, tree):
    quiz, _ = await _attempts(people, tree)
    for who in ("jf-admin", "13800000001"):
        client.cookies.clear()
        await login(client, who)
        assert (await client.get(f"/admin/quizzes/{quiz.slug}/attempts")).status_code == 403
        assert (await client.get(f"/admin/quizzes/{quiz.slug}/scores.xlsx")).status_code == 403
    client.cookies.clear()
    await login(client, "trainer")
    assert (await client.get("/admin/quizzes/meiyou/scores.xlsx")).status_code == 404


# ------------------------------------------------------------------------------ people


PEOPLE_HEADER = ["姓名", "用户名", "手机号", "工号", "单位", "角色", "状态", "最近登录"]


async def _more_people(tree):
    await make_user(
        "0012",
        tree["jiefang_g"],
        name="郑工号",
        phone="13900000012",
        staff_no="0012",
        must_change_password=True,
    )
    await make_user("13900000013", tree["jiefang"], name="停用者", active=False)
    await User.update({User.last_login_at: T0}).where(User.username == "13800000001")


async def check_people_file(content: bytes, usernames: list[str]) -> None:
    header, rows = rows_of(content, "人员名单")
    assert header == PEOPLE_HEADER
    assert [r[1].value for r in rows] == usernames
    for cells in rows:
        person = await User.objects(User.unit).where(User.username == cells[1].value).first()
        status = (
            "已停用"
            if not person.active
            else ("待首次登录" if person.must_change_password else "启用")
        )
        values = [c.value for c in cells]
        assert values[:7] == [
            person.name,
            person.username,
            person.phone or None,
            person.staff_no or None,
            person.unit.name,
            ROLES[person.role],
            status,
        ]
        if person.last_login_at:
            assert cells[7].is_date and values[7] == local(person.last_login_at)
        else:
            assert values[7] is None
        # Phone and staff numbers stay text (0012 keeps its zeros).
        for cell in cells[:7]:
            assert cell.value is None or cell.data_type == "s"


async def test_the_people_file_is_the_list_as_shown(client, people, tree):
    await _more_people(tree)
    await login(client, "admin")
    page = await client.get("/people?role=cadre&status=all")
    assert 'href="/people.xlsx?role=cadre&amp;status=all"' in page.text
    response = await client.get("/people.xlsx?role=cadre&status=all")
    assert response.status_code == 200
    assert (
        "人员名单" in response.headers["content-disposition"]
        or "%E4%BA%BA" in (response.headers["content-disposition"])
    )
    # In unit order (tree), then as added: every cadre, the inactive one too.
    expected = (
        await User.select(User.username)
        .where(User.role == "cadre")
        .order_by(User.unit.path)
        .order_by(User.id)
    )
    await check_people_file(response.content, [r["username"] for r in expected])
    zero = load_workbook(io.BytesIO(response.content))["人员名单"]
    found = [row for row in zero.iter_rows(min_row=4, values_only=True) if row[1] == "0012"]
    assert found and found[0][3] == "0012" and found[0][2] == "13900000012"

    searched = await client.get("/people.xlsx?q=郑")
    await check_people_file(searched.content, ["0012"])


async def test_a_unit_admin_gets_only_its_subtree(client, people, tree):
    await _more_people(tree)
    await login(client, "jf-admin")
    response = await client.get("/people.xlsx")  # active people, as the page shows first
    assert response.status_code == 200
    expected = (
        await User.select(User.username)
        .where(User.unit.path.like(tree["jiefang"].path + "%"), User.active.eq(True))
        .order_by(User.unit.path)
        .order_by(User.id)
    )
    assert expected
    await check_people_file(response.content, [r["username"] for r in expected])
    assert "13800000002" not in str(response.content)
    refused = await client.get(f"/people.xlsx?unit={tree['zhongzhan'].id}")
    assert refused.status_code == 403
    assert "attachment" not in refused.headers.get("content-disposition", "")
    client.cookies.clear()
    await login(client, "13800000001")
    assert (await client.get("/people.xlsx")).status_code == 403
