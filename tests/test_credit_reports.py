"""学时 by unit: figures from the ledger, the roll-up with subtotals, the 学时催学名单 and its
order, the files read back, the JSON API, and scope."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from app.tables import CreditEntry, CreditRequirement
from tests.conftest import login, make_user
from tests.test_api import bearer, make_token

YEAR = 2026
# Each cadre's ledger rows of 2026 (source, hours); a correction is a negative row.
LEDGER = {
    "丁七": [("reading", 12.0), ("quiz", 0.5)],
    "王五": [("session", 8.0), ("training", 16.0)],
    "刘一": [("reading", 5.0), ("reading", -2.0)],
    "李四": [],
    "张三": [("quiz", 0.5), ("reading", 20.0)],
    "欧阳修": [("reading", 19.5)],
    "赵主席": [("reading", 25.0)],
    "陈老师": [],
}
# Below the requirement (city-wide 20; 30 for cadres of a county federation), by unit in tree
# order (siblings by name: 中站区 before 解放区) and by 姓氏笔画 within a unit: 丁 2, 刘 6
# (点 first), 孙 6 (折 first), 李 7, 欧阳 8.
BELOW = [
    ("中站区第一中学工会", "陈老师", 0, 20, 20),
    ("解放区总工会", "赵主席", 25, 30, 5),
    ("解放区人民医院工会", "丁七", 12.5, 20, 7.5),
    ("解放区人民医院工会", "刘一", 3, 20, 17),
    ("解放区人民医院工会", "孙学员", 0, 20, 20),
    ("解放区人民医院工会", "李四", 0, 20, 20),
    ("解放区人民医院工会", "欧阳修", 19.5, 20, 0.5),
]


async def _credit(person, source: str, hours: float, year: int = YEAR, n: int = 1) -> None:
    await CreditEntry(
        account=person.id,
        year=year,
        source=source,
        key=f"{source}:{n}",
        sequence=n,
        hours=hours,
        earned_at=datetime(year, 6, 1, tzinfo=UTC),
    ).save()


@pytest.fixture
async def credits(tree, people):
    units = {"赵主席": tree["jiefang"], "陈老师": tree["zhongzhan_g"]}
    cadres = {"孙学员": people["cadre"], "周学员": people["other_cadre"]}
    for n, (name, rows) in enumerate(LEDGER.items()):
        unit = units.get(name, tree["jiefang_g"])
        cadres[name] = await make_user(f"1390000010{n}", unit, name=name, position="委员")
        for k, (source, hours) in enumerate(rows, 1):
            await _credit(cadres[name], source, hours, n=k)
    await _credit(people["other_cadre"], "reading", 20.0)
    await _credit(people["other_cadre"], "reading", 30.0, year=YEAR - 1)  # another year
    await _credit(people["jiefang_admin"], "reading", 3.0)  # staff are not listed
    await CreditRequirement(year=YEAR, hours=20.0).save()
    await CreditRequirement(year=YEAR, hours=30.0, unit_kind="county_federation").save()
    await CreditRequirement(year=YEAR - 1, hours=99.0).save()
    return cadres


async def _ledger_total(person_id: int, year: int = YEAR) -> float:
    rows = await CreditEntry.select(CreditEntry.hours).where(
        CreditEntry.account == person_id, CreditEntry.year == year
    )
    return round(sum(r["hours"] for r in rows), 2)


def _rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _num(value) -> float:
    return float(value) if value not in ("", None) else 0.0


async def test_each_cadre_and_each_unit_adds_up_to_the_ledger(client, people, tree, credits):
    await login(client, "admin")
    response = await client.get(f"/reports/credits.csv?year={YEAR}")
    assert response.status_code == 200
    rows = _rows_of(response.text)
    assert rows[0] == [
        "序号", "单位", "姓名", "职务", "阅读学时", "测验学时", "面授学时", "培训结业学时",
        "学时合计", "年度要求", "尚差学时",
    ]  # fmt: skip
    by_name = {r[2]: r for r in rows[1:]}
    # every active cadre of the city, and nobody else (staff with a ledger row left out)
    assert set(by_name) == set(credits)
    for name, person in credits.items():
        row = by_name[name]
        assert _num(row[8]) == await _ledger_total(person.id), name
        assert round(sum(_num(v) for v in row[4:8]), 2) == _num(row[8]), name
    assert by_name["王五"][4:9] == ["0", "0", "8", "16", "24"]
    assert by_name["刘一"][4] == "3"  # 5 less a correction of 2
    assert by_name["周学员"][8] == "20"  # 2025's 30 are not counted in 2026
    assert by_name["赵主席"][9:] == ["30", "5"]  # the county federation's requirement
    assert by_name["张三"][9:] == ["20", "0"]

    # The summary by unit: subtotals roll the units' own figures up the tree.
    xlsx = await client.get(f"/reports/credits.xlsx?year={YEAR}")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["汇总", "明细"]
    summary = {
        r[0]: r[1:] for r in book["汇总"].iter_rows(min_row=4, values_only=True) if r[0] is not None
    }
    hospital = [12.5, 24, 3, 0, 20.5, 19.5, 0]
    assert summary["解放区人民医院工会"] == (7, sum(hospital), 11.36, 5)
    assert summary["解放区总工会（本级）"] == (1, 25, 25, 1)
    assert summary["解放区总工会（小计）"] == (8, 104.5, 13.06, 6)
    assert summary["中站区第一中学工会"] == (2, 20, 10, 1)
    assert summary["中站区总工会（小计）"] == (2, 20, 10, 1)
    assert summary["合计"] == (10, 124.5, 12.45, 7)
    ledger_sum = sum([await _ledger_total(p.id) for p in credits.values()])
    assert summary["合计"][1] == ledger_sum
    detail = list(book["明细"].iter_rows(min_row=4, values_only=True))
    assert len([r for r in detail if r[0] is not None]) == len(credits)

    page = await client.get(f"/reports/credits?year={YEAR}")
    assert page.status_code == 200
    assert "2026年度学时统计表" in page.text
    assert "解放区总工会（小计）" in page.text and "124.5" in page.text


async def test_the_reminder_list_is_below_the_requirement_by_unit_and_strokes(
    client, people, credits
):
    await login(client, "admin")
    response = await client.get(f"/reports/credits/reminders.csv?year={YEAR}")
    assert response.status_code == 200
    rows = _rows_of(response.text)
    assert rows[0] == ["序号", "单位", "姓名", "职务", "手机号", "学时合计", "年度要求", "尚差学时"]
    got = [(r[1], r[2], _num(r[5]), _num(r[6]), _num(r[7])) for r in rows[1:]]
    assert got == [tuple(b) for b in BELOW]
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, len(BELOW) + 1)]
    assert rows[5][4].rstrip("\u200b") == "13800000001"  # 孙学员, kept as text

    book = load_workbook(
        io.BytesIO((await client.get(f"/reports/credits/reminders.xlsx?year={YEAR}")).content)
    )
    sheet = book["学时催学名单"]
    names = [r[2] for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert names == [b[1] for b in BELOW]

    page = await client.get(f"/reports/credits/reminders?year={YEAR}")
    assert page.status_code == 200
    assert "未达到年度学时要求的共 7 人" in page.text
    assert (
        page.text.index("陈老师")
        < page.text.index("丁七")
        < page.text.index("刘一")
        < page.text.index("欧阳修")
    )
    assert "王五" not in page.text and "张三" not in page.text

    # Another year: its own requirement (99) and its own rows.
    rows = _rows_of((await client.get(f"/reports/credits/reminders.csv?year={YEAR - 1}")).text)
    assert ("周学员", "30", "99", "69") in {(r[2], r[5], r[6], r[7]) for r in rows[1:]}


async def test_a_unit_admin_sees_only_its_subtree(client, people, tree, credits):
    await login(client, "jf-admin")
    rows = _rows_of((await client.get(f"/reports/credits.csv?year={YEAR}")).text)
    names = {r[2] for r in rows[1:]}
    assert "赵主席" in names and "丁七" in names
    assert not names & {"周学员", "陈老师"}
    reminders = (await client.get(f"/reports/credits/reminders?year={YEAR}")).text
    assert "陈老师" not in reminders and "中站区" not in reminders
    outside = tree["zhongzhan"].id
    for url in (
        "/reports/credits",
        "/reports/credits/reminders",
        "/reports/credits.xlsx",
        "/reports/credits.csv",
        "/reports/credits/reminders.xlsx",
        "/reports/credits/reminders.csv",
    ):
        response = await client.get(f"{url}?year={YEAR}&unit={outside}")
        assert response.status_code == 403, url
        assert "陈老师" not in response.text
        inside = await client.get(f"{url}?year={YEAR}&unit={tree['jiefang_g'].id}")
        assert inside.status_code == 200, url
    bad_year = await client.get("/reports/credits?year=abc")
    assert bad_year.status_code == 400
    await login(client, "13800000001")
    assert (await client.get("/reports/credits")).status_code == 403


async def test_the_api_gives_the_same_figures_within_the_token_scope(client, people, tree, credits):
    token = await make_token(tree["jiefang"], people["admin"])
    response = await client.get(f"/api/v1/credits/summary?year={YEAR}", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["year"] == YEAR
    units = {u["name"]: u for u in body["units"]}
    assert set(units) == {"解放区总工会", "解放区人民医院工会"}
    assert units["解放区总工会"]["cadres"] == 1 and units["解放区总工会"]["below"] == 1
    assert units["解放区总工会"]["subtree"] == {
        "cadres": 8,
        "hours": 104.5,
        "average_hours": 13.06,
        "below": 6,
    }
    assert body["total"]["hours"] == 104.5 and body["total"]["below"] == 6

    below = await client.get(
        f"/api/v1/credits/cadres?year={YEAR}&below=true", headers=bearer(token)
    )
    items = below.json()["items"]
    assert [i["name"] for i in items] == [b[1] for b in BELOW if b[0] != "中站区第一中学工会"]
    first = items[0]
    assert first["unit"]["name"] == "解放区总工会"
    assert first["required"] == 30 and first["missing"] == 5 and first["below"] is True
    assert "phone" not in first
    everyone = await client.get(
        f"/api/v1/credits/cadres?year={YEAR}&page_size=2&page=2", headers=bearer(token)
    )
    listed = everyone.json()
    assert listed["total"] == 8 and listed["pages"] == 4 and len(listed["items"]) == 2
    wang = await client.get(f"/api/v1/credits/cadres?year={YEAR}", headers=bearer(token))
    by_name = {i["name"]: i for i in wang.json()["items"]}
    assert by_name["王五"]["by_source"] == {
        "reading": 0.0,
        "quiz": 0.0,
        "session": 8.0,
        "training": 16.0,
    }
    assert by_name["王五"]["hours"] == await _ledger_total(credits["王五"].id)

    outside = tree["zhongzhan_g"].id
    for path in ("summary", "cadres"):
        refused = await client.get(
            f"/api/v1/credits/{path}?year={YEAR}&unit={outside}", headers=bearer(token)
        )
        assert refused.status_code == 403
        assert "陈老师" not in refused.text
    assert (await client.get(f"/api/v1/credits/summary?year={YEAR}")).status_code == 401


def test_the_report_sums_every_source_of_the_ledger():
    from app.reports.queries import CREDIT_SOURCES
    from app.trainings.credit_rules import SOURCES

    assert tuple(SOURCES) == CREDIT_SOURCES


async def test_long_lists_on_a_phone_page_stop_at_the_limit_and_say_where_the_rest_is(
    client, people, credits
):
    """The city-wide pages are read on phones: past the limit the cadres are left to the
    files and to the unit pages, and the page says so; the files still carry everyone."""
    from app.reports import credit_pages

    assert credit_pages.PAGE_LIMIT <= 500  # a weak network: about 150 KB of rows at most
    await login(client, "admin")
    full = _rows_of((await client.get(f"/reports/credits.csv?year={YEAR}")).text)
    credit_pages.PAGE_LIMIT, limit = 3, credit_pages.PAGE_LIMIT
    try:
        page = (await client.get(f"/reports/credits?year={YEAR}")).text
        reminders = (await client.get(f"/reports/credits/reminders?year={YEAR}")).text
        files = _rows_of((await client.get(f"/reports/credits.csv?year={YEAR}")).text)
    finally:
        credit_pages.PAGE_LIMIT = limit
    assert "网页上只列出前 3 人，完整名单请选择单位" in page
    assert page.count('<tr><td class="num">') == 3
    assert "未达到年度学时要求的共 7 人；网页上只列出前 3 人" in reminders
    assert "陈老师" in reminders and "欧阳修" not in reminders
    assert files == full
