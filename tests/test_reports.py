"""The report pages and downloads: what each role sees, scoping, and the files read back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from app.tables import Batch, Enrollment, Training
from tests.conftest import login, make_user

TITLE = "学习贯彻工会十八大精神集中轮训"
# Names in the order of 姓氏笔画: 丁 2, 王 4, 刘 6, 李 7, 张 7 (li < zhang), 欧阳 (欧 8).
JIEFANG_G_NAMES = ["欧阳修", "张三", "李四", "王五", "刘一", "丁七"]
STROKE_ORDER = ["丁七", "王五", "刘一", "李四", "张三", "欧阳修"]
PINYIN_ORDER = ["丁七", "李四", "刘一", "欧阳修", "王五", "张三"]


async def _enroll(training, batch, person, unit, **progress) -> Enrollment:
    values = {
        "lessons_required": 8,
        "lessons_read": 8,
        "quiz_score": 92.0,
        "quiz_passed": True,
        "sessions_total": 5,
        "sessions_attended": 5,
        "hours": 12.0,
        "completed_at": datetime(2026, 11, 20, 6, 30, tzinfo=UTC),
        **progress,
    }
    enrollment = Enrollment(
        training=training.id, batch=batch.id, account=person.id, unit=unit.id, **values
    )
    await enrollment.save()
    return enrollment


UNFINISHED = {
    "lessons_read": 5,
    "quiz_score": 55.0,
    "quiz_passed": False,
    "sessions_attended": 2,
    "hours": 4.0,
    "completed_at": None,
}


@pytest.fixture
async def rotation(tree, people):
    """A city-wide 集中轮训 with two batches; cadres in both counties, some unfinished."""
    training = Training(
        title=TITLE,
        kind="rotation",
        unit=tree["city"].id,
        credit_hours=8.0,
        attendance_share=0.8,
        final_quiz=None,
    )
    await training.save()
    first = Batch(training=training.id, name="第一期", sort_order=1)
    await first.save()
    second = Batch(training=training.id, name="第二期", sort_order=2)
    await second.save()
    for n, name in enumerate(JIEFANG_G_NAMES):
        person = await make_user(f"1390000010{n}", tree["jiefang_g"], name=name, position="委员")
        progress = UNFINISHED if name in ("李四", "王五") else {}
        await _enroll(training, first if n % 2 else second, person, tree["jiefang_g"], **progress)
    chair = await make_user("13900000200", tree["jiefang"], name="赵主席", position="主席")
    await _enroll(training, first, chair, tree["jiefang"])
    await _enroll(training, first, people["other_cadre"], tree["zhongzhan_g"], **UNFINISHED)
    teacher = await make_user("13900000300", tree["zhongzhan_g"], name="陈老师")
    await _enroll(training, second, teacher, tree["zhongzhan_g"])
    return {"training": training, "first": first, "second": second}


def _url(rotation, page: str, **query) -> str:
    base = f"/reports/trainings/{rotation['training'].id}/{page}"
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _csv(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_dashboard_shows_the_city_and_drills_down(client, people, tree, rotation):
    await login(client, "admin")
    page = await client.get("/reports", params={"training": rotation["training"].id})
    assert page.status_code == 200
    text = page.text
    assert "完成情况总览" in text
    assert "<svg" in text and "rate-bar" in text
    assert "style=" not in text  # CSP: no inline styles, SVG attributes only
    assert "解放区总工会" in text and "中站区总工会" in text
    assert ">9<" in text  # 应训 9 in the whole city
    assert "66.7%" in text  # 6 of 9 completed
    down = await client.get(
        "/reports",
        params={"training": rotation["training"].id, "unit": tree["jiefang"].id},
    )
    assert down.status_code == 200
    assert "解放区人民医院工会" in down.text
    assert "中站区第一中学工会" not in down.text
    assert "解放区总工会（本级）" in down.text


async def test_a_unit_admin_sees_only_its_subtree(client, people, tree, rotation):
    await login(client, "jf-admin")
    page = await client.get("/reports", params={"training": rotation["training"].id})
    assert page.status_code == 200
    assert "中站区" not in page.text
    assert "71.4%" in page.text  # 5 of the 7 in 解放区 completed
    for url in (
        _url(rotation, "summary"),
        _url(rotation, "roster"),
        _url(rotation, "reminders"),
    ):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert "中站区" not in response.text and "周学员" not in response.text


@pytest.mark.parametrize(
    "page", ["summary", "summary.xlsx", "summary.csv", "roster", "roster.xlsx", "reminders.csv"]
)
async def test_another_countys_unit_is_refused(client, people, tree, rotation, page):
    await login(client, "jf-admin")
    response = await client.get(_url(rotation, page, unit=tree["zhongzhan_g"].id))
    assert response.status_code == 403
    assert "不在您的管理范围内" in response.text
    assert "周学员" not in response.text


async def test_the_dashboard_refuses_another_countys_unit(client, people, tree, rotation):
    await login(client, "jf-admin")
    response = await client.get("/reports", params={"unit": tree["zhongzhan"].id})
    assert response.status_code == 403


async def test_a_training_of_another_county_is_refused(client, people, tree):
    training = Training(title="中站区专题培训", kind="special", unit=tree["zhongzhan"].id)
    await training.save()
    await login(client, "jf-admin")
    for url in (
        f"/reports/trainings/{training.id}/summary",
        f"/reports?training={training.id}",
    ):
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "中站区专题培训" not in response.text


async def test_unknown_training_batch_or_unit_is_not_found(client, people, tree, rotation):
    await login(client, "admin")
    other = Training(title="另一项培训", kind="special", unit=tree["city"].id)
    await other.save()
    foreign_batch = Batch(training=other.id, name="第九期")
    await foreign_batch.save()
    assert (await client.get("/reports/trainings/999999/summary")).status_code == 404
    assert (await client.get(_url(rotation, "roster", batch=foreign_batch.id))).status_code == 404
    assert (await client.get(_url(rotation, "roster", batch="abc"))).status_code == 404
    assert (await client.get(_url(rotation, "roster", unit=99999999))).status_code == 404


async def test_the_roster_xlsx_reads_back(client, people, tree, rotation):
    await login(client, "jf-admin")
    response = await client.get(_url(rotation, "roster.xlsx"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["汇总", "明细"]
    detail = book["明细"]
    rows = [[c.value for c in row] for row in detail.iter_rows()]
    assert rows[0][0] == f"{TITLE}完成情况花名册"
    assert rows[1][0].startswith("填报单位：解放区总工会")
    assert "填报日期：" in rows[1][0]
    assert rows[2] == [
        "序号",
        "单位",
        "姓名",
        "职务",
        "培训类别",
        "期次",
        "学习进度",
        "测验成绩",
        "是否合格",
        "完成时间",
        "学时",
        "签到次数",
    ]
    assert detail.freeze_panes == "A4"
    assert detail.page_setup.orientation == "landscape"
    assert int(detail.page_setup.paperSize) == 9  # A4
    assert detail.print_title_rows in ("$3:$3", "3:3")
    data = rows[3:]
    assert [r[0] for r in data] == list(range(1, 8))
    # The county's own cadre first (tree order), then its union's, by 姓氏笔画.
    assert [r[2] for r in data] == ["赵主席", *STROKE_ORDER]
    assert {r[1] for r in data} == {"解放区总工会", "解放区人民医院工会"}
    wang = next(r for r in data if r[2] == "王五")
    assert wang[4:] == ["集中轮训", "第一期", "5/8 篇", 55, None, "未完成", 4, "2/5 次"]
    ding = next(r for r in data if r[2] == "丁七")
    assert ding[9] == datetime(2026, 11, 20, 14, 30)  # stored in UTC, shown in Beijing time
    assert detail.cell(row=4 + data.index(ding), column=10).number_format == "yyyy-mm-dd hh:mm"
    assert ding[10] == 12
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert summary[0][0] == f"{TITLE}完成情况汇总表"
    assert summary[3][:4] == ["解放区总工会（小计）", 7, 5, 2]
    assert summary[-1][:4] == ["合计", 7, 5, 2]
    assert not any("中站区" in str(v) for row in summary + rows for v in row)


async def test_the_summary_xlsx_holds_the_summary_sheet(client, people, tree, rotation):
    await login(client, "admin")
    response = await client.get(_url(rotation, "summary.xlsx"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["汇总"]
    sheet = book["汇总"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[2] == ["单位", "应训人数", "已完成", "未完成", "完成率", "平均成绩", "参训学时"]
    names = [r[0] for r in rows[3:]]
    # Tree order: siblings by sort_order (all 0 here), then by name.
    assert names == [
        "焦作市总工会（小计）",
        "中站区总工会（小计）",
        "中站区第一中学工会",
        "解放区总工会（小计）",
        "解放区总工会（本级）",
        "解放区人民医院工会",
        "合计",
    ]
    city = rows[3]
    assert city[1:5] == [9, 6, 3, pytest.approx(6 / 9, abs=1e-4)]
    assert rows[-1][1:4] == [9, 6, 3]
    assert sheet.freeze_panes == "A4"
    assert sheet.page_setup.orientation == "landscape"


async def test_the_roster_csv_has_a_bom_and_only_the_subtree(client, people, tree, rotation):
    await login(client, "jf-admin")
    response = await client.get(_url(rotation, "roster.csv"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"  # the charset once
    rows = _csv(response)
    assert rows[0][:3] == ["序号", "单位", "姓名"]
    assert [r[2] for r in rows[1:]] == ["赵主席", *STROKE_ORDER]
    assert all("中站区" not in cell for row in rows for cell in row)
    assert "周学员" not in response.content.decode("utf-8-sig")


async def test_the_roster_in_pinyin_order_and_by_batch(client, people, tree, rotation):
    await login(client, "admin")
    response = await client.get(
        _url(rotation, "roster.csv", unit=tree["jiefang_g"].id, order="pinyin")
    )
    assert [r[2] for r in _csv(response)[1:]] == PINYIN_ORDER
    first = await client.get(_url(rotation, "roster.csv", batch=rotation["first"].id))
    names = [r[2] for r in _csv(first)[1:]]
    assert set(names) == {"张三", "王五", "丁七", "赵主席", "周学员"}
    assert all(r[5] == "第一期" for r in _csv(first)[1:])


async def test_the_reminders_say_what_each_still_lacks(client, people, tree, rotation):
    await login(client, "jf-admin")
    page = await client.get(_url(rotation, "reminders"))
    assert page.status_code == 200
    assert "还有 3 篇课文未学完；签到 2/5 次，需至少 4 次" in page.text
    assert "王五" in page.text and "李四" in page.text
    assert "张三" not in page.text  # completed
    rows = _csv(await client.get(_url(rotation, "reminders.csv")))
    assert rows[0] == ["序号", "单位", "姓名", "职务", "手机号", "期次", "学习进度", "尚需完成"]
    assert [r[2] for r in rows[1:]] == ["王五", "李四"]
    xlsx = await client.get(_url(rotation, "reminders.xlsx"))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["催学名单"]


async def test_the_quiz_shows_in_the_lacks_when_the_training_has_one(
    client, people, tree, rotation
):
    from app.tables import Quiz

    quiz = Quiz(slug="jieye", title="结业测验")
    await quiz.save()
    await Training.update({Training.final_quiz: quiz.id}).where(
        Training.id == rotation["training"].id
    )
    await login(client, "admin")
    rows = _csv(await client.get(_url(rotation, "reminders.csv", unit=tree["jiefang_g"].id)))
    assert rows[1][7] == "还有 3 篇课文未学完；结业测验未通过；签到 2/5 次，需至少 4 次"


async def test_the_print_view_has_the_buttons_and_no_inline_script(client, people, rotation):
    await login(client, "admin")
    page = await client.get(_url(rotation, "roster"))
    text = page.text
    for label in ("下载汇总表（Excel）", "下载花名册（Excel）", "下载 CSV", "打印"):
        assert label in text
    assert "/static/print.js" in text
    assert "<script>" not in text and "style=" not in text and "onclick" not in text
    assert "填报单位：焦作市总工会" in text
    static = await client.get("/static/print.js")
    assert static.status_code == 200 and "window.print" in static.text


async def test_an_inactive_enrollment_is_not_counted(client, people, tree, rotation):
    await Enrollment.update({Enrollment.active: False}).where(
        Enrollment.account == people["other_cadre"].id
    )
    await login(client, "admin")
    rows = _csv(await client.get(_url(rotation, "summary.csv")))
    assert rows[-1][:4] == ["合计", "8", "6", "2"]


async def test_an_empty_training_gives_empty_reports(client, people, tree):
    training = Training(title="尚无人报名的培训", kind="special", unit=tree["city"].id)
    await training.save()
    await login(client, "admin")
    for page in ("summary", "roster", "reminders", "roster.csv", "roster.xlsx"):
        response = await client.get(f"/reports/trainings/{training.id}/{page}")
        assert response.status_code == 200, page
    rows = _csv(await client.get(f"/reports/trainings/{training.id}/roster.csv"))
    assert len(rows) == 1
    dashboard = await client.get("/reports", params={"training": training.id})
    assert "还没有报名人员" in dashboard.text


async def test_a_unit_admin_dashboard_without_a_training(client, people, tree, rotation):
    await login(client, "jf-admin")
    page = await client.get("/reports", params={"kind": "rotation"})
    assert page.status_code == 200
    assert "解放区人民医院工会" in page.text and "中站区" not in page.text
    special = await client.get("/reports", params={"kind": "special"})
    assert "还没有报名人员" in special.text


async def test_a_long_roster_page_shows_the_first_rows_and_points_to_the_download(
    client, people, tree, rotation, monkeypatch
):
    from app.reports import pages

    monkeypatch.setattr(pages, "PAGE_LIMIT", 3)
    await login(client, "admin")
    page = await client.get(_url(rotation, "roster"))
    assert "共 9 人；网页上只列出前 3 人" in page.text
    # Tree order (中站区 before 解放区: same sort_order, then by name), strokes within a unit.
    assert page.text.index("陈老师") < page.text.index("周学员") < page.text.index("赵主席")
    assert "丁七" not in page.text
