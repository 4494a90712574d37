"""年度学时要求: federation staff set it (audited, CSRF-checked, refused to everyone else),
and the cadre's home shows this year's 学时 against it with what earns more."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.settings import get_settings
from app.tables import AuditEvent, CreditEntry, CreditRequirement
from app.trainings.credits import credit_year
from tests.conftest import login, post_form
from tests.test_attendance import make_rotation

URL = "/credits/requirements"


def this_year() -> int:
    return credit_year(datetime.now(UTC))


async def test_federation_staff_add_edit_and_delete_a_requirement_audited(client, people):
    await login(client, "admin")
    page = await client.get(URL)
    assert page.status_code == 200 and "还没有设置年度学时要求" in page.text
    response = await post_form(client, URL, {"year": "2026", "hours": "50", "role": ""})
    assert response.status_code in (302, 303)
    row = await CreditRequirement.select().first()
    assert (row["year"], row["hours"], row["role"], row["unit_kind"]) == (2026, 50.0, "", "")
    event = (
        await AuditEvent.select().where(AuditEvent.action == "credit_requirement.create").first()
    )
    assert "2026 年 · 全市：50 学时" in event["summary"]
    page = await client.get(URL)
    assert "2026 年" in page.text and "全市" in page.text

    duplicate = await post_form(client, URL, {"year": "2026", "hours": "40"})
    assert duplicate.status_code == 400 and "已有同样范围的要求" in duplicate.text
    bad = await post_form(client, URL, {"year": "明年", "hours": "-1", "role": "boss"})
    assert bad.status_code == 400
    assert "请填写年度" in bad.text and "大于 0" in bad.text and "请选择角色" in bad.text
    assert await CreditRequirement.count() == 1

    edit = await client.get(f"{URL}/{row['id']}")
    assert edit.status_code == 200 and 'value="2026"' in edit.text
    await post_form(
        client, f"{URL}/{row['id']}", {"year": "2026", "hours": "48", "unit_kind": "zone_union"}
    )
    row = await CreditRequirement.select().first()
    assert (row["hours"], row["unit_kind"]) == (48.0, "zone_union")
    assert await AuditEvent.exists().where(AuditEvent.action == "credit_requirement.update")

    await post_form(client, f"{URL}/{row['id']}/delete")
    assert await CreditRequirement.count() == 0
    event = (
        await AuditEvent.select().where(AuditEvent.action == "credit_requirement.delete").first()
    )
    assert "高新区工会" in event["summary"]


async def test_cadres_unit_admins_and_trainers_cannot_set_requirements(client, people):
    await CreditRequirement(year=2026, hours=50).save()
    row = await CreditRequirement.select(CreditRequirement.id).first()
    for username in ("13800000001", "jf-admin", "trainer"):
        await login(client, username)
        assert (await client.get(URL)).status_code == 403
        assert (await post_form(client, URL, {"year": "2027", "hours": "1"})).status_code == 403
        assert (await post_form(client, f"{URL}/{row['id']}/delete")).status_code == 403
    assert await CreditRequirement.count() == 1


async def test_the_forms_refuse_a_request_without_csrf_token(client, people):
    await CreditRequirement(year=2026, hours=50).save()
    row = await CreditRequirement.select(CreditRequirement.id).first()
    await login(client, "admin")
    for url in (URL, f"{URL}/{row['id']}", f"{URL}/{row['id']}/delete"):
        response = await client.post(url, data={"year": "2030", "hours": "1"})
        assert response.status_code == 403 and "页面已过期" in response.text
    assert [r["year"] for r in await CreditRequirement.select()] == [2026]


async def test_the_cadres_home_shows_this_years_hours_against_the_requirement(
    client, tree, people, content
):
    cadre = people["cadre"]
    year = this_year()
    await CreditRequirement(year=year, hours=50).save()
    # A narrower requirement for the cadre's own unit kind wins over the city-wide one.
    await CreditRequirement(year=year, hours=40, unit_kind="grassroots_union").save()
    await CreditRequirement(year=year, hours=99, role="unit_admin").save()
    now = datetime.now(UTC)
    for source, key, hours in (("reading", "reading:1", 1.5), ("quiz", "quiz:1", 0.5)):
        await CreditEntry(
            account=cadre.id, year=year, source=source, key=key, hours=hours, earned_at=now
        ).save()
    await CreditEntry(
        account=cadre.id, year=year - 1, source="quiz", key="quiz:2", hours=9.0, earned_at=now
    ).save()  # another year's: not counted
    rotation = await make_rotation(tree, [cadre], sessions=2)
    await login(client, cadre.username)
    page = await client.get("/")
    assert page.status_code == 200
    card = re.search(r'<section class="card credit-card".*?</section>', page.text, re.S).group(0)
    text = re.sub(r"<[^>]+>", "", card)
    assert f"{year} 年学时" in text
    assert "已获 2 / 要求 40 学时" in text and "还差 38 学时" in text
    assert "阅读 1.5 · 测验 0.5 · 面授 0 · 培训结业 0" in text
    assert 'role="progressbar"' in card and 'aria-valuenow="5"' in card  # 2 of 40: 5 %
    # What earns more: short links, one per line, no table to scroll sideways at 360 px.
    assert "<table" not in card and 'class="lesson-list credit-more"' in card
    assert 'href="/course/' in card and "阅读：" in text
    assert 'href="/quizzes/' in card and "通过可得 0.5 学时" in text
    second = (rotation.session.starts_at + timedelta(days=1)).astimezone(get_settings().timezone)
    assert "面授：学习十八大报告（第2讲）" in text and "出席可得 3 学时" in text
    assert second.strftime("%Y-%m-%d") in text


async def test_without_a_requirement_the_home_says_so(client, people, content):
    await login(client, people["cadre"].username)
    text = re.sub(r"<[^>]+>", "", (await client.get("/")).text)
    assert "已获 0 学时" in text and "本年尚未设置学时要求" in text
