"""学习档案: the record's figures are the ledger's and the enrollment, attempt and attendance
rows'; the year filter; the .xlsx and the unit's .zip read back; who may see whose record."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta

import openpyxl
import pytest

from app.settings import get_settings
from app.tables import (
    Attempt,
    Attendance,
    Batch,
    ClassSession,
    Completion,
    CreditEntry,
    CreditRequirement,
    Enrollment,
    Quiz,
    Training,
)
from app.trainings.credits import credit_totals, credit_year
from app.trainings.records import learning_record
from tests.conftest import login

YEAR = credit_year(datetime.now(get_settings().timezone))
LAST = YEAR - 1


def at(year: int, month: int = 6, day: int = 1) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=get_settings().timezone)


async def _credit(account, year, source, key, hours, sequence=1, note="", training=None):
    await CreditEntry(
        account=account.id,
        year=year,
        source=source,
        key=key,
        sequence=sequence,
        hours=hours,
        earned_at=at(year, 6, 2),
        training=training,
        note=note,
    ).save()


@pytest.fixture
async def history(people, tree):
    """孙学员: this year a completed special training with a certificate, a quiz tried twice
    (50 then 90: passed) plus a practice attempt, a class session attended, and ledger rows
    (with a correction); last year a rotation and 2 学时 of reading. 周学员 (another county)
    has a row of her own. The requirement this year: 10 学时."""
    cadre = people["cadre"]
    now_t = Training(title="工会法专题培训", kind="special", unit=tree["city"].id, credit_hours=4)
    await now_t.save()
    now_b = Batch(training=now_t.id, name="第一期")
    await now_b.save()
    old_t = Training(title="往年集中轮训", kind="rotation", unit=tree["city"].id, credit_hours=8)
    await old_t.save()
    old_b = Batch(training=old_t.id, name="第三期")
    await old_b.save()
    now_e = Enrollment(
        training=now_t.id,
        batch=now_b.id,
        account=cadre.id,
        unit=cadre.unit,
        enrolled_at=at(YEAR, 3),
        lessons_required=5,
        lessons_read=5,
        completed_at=at(YEAR, 5),
    )
    await now_e.save()
    await Completion(
        training=now_t.id,
        account=cadre.id,
        enrollment=now_e.id,
        completed_at=at(YEAR, 5),
        hours=4.0,
        score=90.0,
        code="QWERTYUPAS",
    ).save()
    await Enrollment(
        training=old_t.id,
        batch=old_b.id,
        account=cadre.id,
        unit=cadre.unit,
        enrolled_at=at(LAST, 4),
        lessons_required=3,
        lessons_read=1,
        sessions_total=2,
        sessions_attended=1,
    ).save()
    quiz = Quiz(slug="dangan-ceshi", title="档案测验", counted_attempt="highest", pass_mark=60)
    await quiz.save()
    for score, passed, when, practice in (
        (50.0, False, at(YEAR, 4), False),
        (90.0, True, at(YEAR, 4, 2), False),
        (100.0, True, at(YEAR, 4, 3), True),
        (70.0, True, at(LAST, 7), False),
    ):
        await Attempt(
            quiz=quiz.id,
            account=cadre.id,
            practice=practice,
            status="finished",
            started_at=when - timedelta(minutes=20),
            finished_at=when,
            score=score,
            passed=passed,
        ).save()
    for year, batch, topic in ((YEAR, now_b, "本年面授"), (LAST, old_b, "往年面授")):
        session = ClassSession(batch=batch.id, starts_at=at(year, 9), topic=topic, hours=3.0)
        await session.save()
        await Attendance(session=session.id, account=cadre.id, present=True).save()
    await _credit(cadre, YEAR, "reading", "reading:1", 1.5, note="阅读课程模块")
    await _credit(cadre, YEAR, "quiz", "quiz:1", 0.5, note="通过测验")
    await _credit(cadre, YEAR, "session", "session:1", 3.0, note="出席面授")
    await _credit(cadre, YEAR, "session", "session:9", 3.0, note="出席另一课")
    await _credit(cadre, YEAR, "session", "session:9", -3.0, 2, note="更正：取消出席")
    await _credit(cadre, YEAR, "training", f"training:{now_t.id}", 1.0, training=now_t.id)
    await _credit(cadre, LAST, "reading", "reading:1", 2.0, note="往年阅读")
    await _credit(people["other_cadre"], YEAR, "reading", "reading:1", 7.0)
    await CreditRequirement(year=YEAR, hours=10.0).save()
    return {"cadre": cadre, "now_training": now_t, "old_training": old_t, "quiz": quiz}


async def test_the_record_is_the_ledger_and_the_rows(history):
    cadre = history["cadre"]
    record = await learning_record(cadre.id, YEAR)
    totals = await credit_totals(cadre.id, YEAR)
    assert record.totals == totals
    assert record.totals.total == 3.0 + 1.5 + 0.5 + 1.0 == sum(c.hours for c in record.credits)
    assert dict(record.sources) == {"阅读": 1.5, "测验": 0.5, "面授": 3.0, "培训结业": 1.0}
    assert len(record.credits) == 6 and min(c.hours for c in record.credits) == -3.0
    assert [t.title for t in record.trainings] == ["工会法专题培训"]
    line = record.trainings[0]
    assert (line.batch, line.status, line.certificate_code) == ("第一期", "已结业", "QWERTYUPAS")
    assert line.completion_hours == 4.0
    [quiz] = record.quizzes
    assert (quiz.attempts, quiz.counted_score, quiz.passed) == (2, 90.0, True)
    assert [s.topic for s in record.sessions] == ["本年面授"] and record.session_hours == 3.0
    assert (record.standing.required, record.standing.earned, record.standing.missing) == (
        10.0,
        6.0,
        4.0,
    )


async def test_the_year_filter_and_all_years(history):
    cadre = history["cadre"]
    last = await learning_record(cadre.id, LAST)
    assert last.totals.total == 2.0 == (await credit_totals(cadre.id, LAST)).total
    assert [t.title for t in last.trainings] == ["往年集中轮训"]
    assert last.trainings[0].status == "学习中"
    assert [(q.attempts, q.counted_score) for q in last.quizzes] == [(1, 70.0)]
    assert [s.topic for s in last.sessions] == ["往年面授"]
    every = await learning_record(cadre.id, None)
    assert every.totals.total == 8.0
    assert [(t.year, t.total) for t in every.by_year] == [(YEAR, 6.0), (LAST, 2.0)]
    assert len(every.trainings) == 2 and len(every.sessions) == 2 and len(every.credits) == 7
    assert [(q.attempts, q.counted_score) for q in every.quizzes] == [(3, 90.0)]
    assert every.standing_year == YEAR and every.standing.earned == 6.0
    assert await learning_record(999999, YEAR) is None


async def test_the_cadre_sees_the_page_linked_from_home(client, history):
    await login(client, "13800000001")
    home = await client.get("/")
    assert 'href="/my/record"' in home.text
    page = await client.get(f"/my/record?year={YEAR}")
    assert page.status_code == 200
    text = page.text
    assert "我的学习档案" in text and "工会法专题培训" in text and "QWERTYUPAS" in text
    assert "往年集中轮训" not in text
    assert "还差 <strong>4</strong> 学时" in text
    assert "档案测验" in text and "90 分" in text
    every = await client.get("/my/record?year=all")
    assert "往年集中轮训" in every.text and "全部年度" in every.text
    printed = await client.get(f"/my/record/print?year={LAST}")
    assert printed.status_code == 200 and "往年集中轮训" in printed.text
    assert "data-print" in printed.text and "工会法专题培训" not in printed.text


def _sheet_rows(book, name):
    return [list(row) for row in book[name].iter_rows(min_row=4, values_only=True)]


def _check_book(book, record_year=YEAR):
    assert book.sheetnames == ["概况", "培训", "测验", "学时明细", "面授出勤"]
    summary = dict(_sheet_rows(book, "概况"))
    assert summary["姓名"] == "孙学员" and summary["手机号"] == "13800000001"
    assert summary["学时合计"] == 6.0
    assert summary["学时：阅读"] == 1.5 and summary["学时：测验"] == 0.5
    assert summary["学时：面授"] == 3.0 and summary["学时：培训结业"] == 1.0
    assert summary["参加培训"] == 1 and summary["已结业"] == 1 and summary["测验合格"] == 1
    assert summary["出席面授课"] == 1
    assert summary[f"{YEAR} 年学时要求"] == 10 and summary[f"{YEAR} 年还差学时"] == 4
    [training] = _sheet_rows(book, "培训")
    assert training[0] == "工会法专题培训" and training[2] == "第一期"
    assert training[4] == "已结业" and training[5] == "5/5 篇"
    assert isinstance(training[7], datetime) and training[8] == 4 and training[9] == "QWERTYUPAS"
    [quiz] = _sheet_rows(book, "测验")
    assert quiz[:6] == ["档案测验", 2, "最高分", 90, 90, "合格"]
    ledger = _sheet_rows(book, "学时明细")
    assert len(ledger) == 6 and sum(row[2] for row in ledger) == 6.0
    assert {row[1] for row in ledger} == {"阅读", "测验", "面授", "培训结业"}
    [session] = _sheet_rows(book, "面授出勤")
    assert session[3] == "本年面授" and session[5] == 3


async def test_the_xlsx_has_every_figure(client, history):
    await login(client, "13800000001")
    response = await client.get(f"/my/record.xlsx?year={YEAR}")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    _check_book(openpyxl.load_workbook(io.BytesIO(response.content)))


async def test_a_unit_admin_downloads_the_units_records_as_a_zip(client, history, people, tree):
    await login(client, "jf-admin")
    page = await client.get(f"/people/{people['cadre'].id}/record?year={YEAR}")
    assert page.status_code == 200 and "孙学员 的学习档案" in page.text
    one = await client.get(f"/people/{people['cadre'].id}/record.xlsx?year={YEAR}")
    _check_book(openpyxl.load_workbook(io.BytesIO(one.content)))
    listing = await client.get("/people")
    assert f'action="/units/{tree["jiefang"].id}/records.zip"' in listing.text
    assert '<option value="all">全部年度</option>' in listing.text
    response = await client.get(f"/units/{tree['jiefang'].id}/records.zip?year={YEAR}")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["孙学员-0001.xlsx"]  # not 周学员 of another county
    _check_book(openpyxl.load_workbook(io.BytesIO(archive.read("孙学员-0001.xlsx"))))
    every = await client.get(f"/units/{tree['jiefang'].id}/records.zip?year=all")
    book = openpyxl.load_workbook(
        io.BytesIO(zipfile.ZipFile(io.BytesIO(every.content)).read("孙学员-0001.xlsx"))
    )
    assert dict(_sheet_rows(book, "概况"))["学时合计"] == 8


async def test_no_one_sees_a_record_outside_their_scope(client, history, people, tree):
    cadre = people["cadre"].id
    await login(client, "zz-admin")
    for url in (
        f"/people/{cadre}/record",
        f"/people/{cadre}/record/print",
        f"/people/{cadre}/record.xlsx",
        f"/units/{tree['jiefang'].id}/records.zip",
    ):
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "孙学员" not in response.text and "QWERTYUPAS" not in response.text
    assert (await client.get("/people/999999/record")).status_code == 404
    assert (await client.get("/units/999999/records.zip")).status_code == 404
    own = await client.get(f"/people/{people['other_cadre'].id}/record.xlsx?year={YEAR}")
    assert own.status_code == 200
    await client.get("/logout")
    await login(client, "13800000002")
    assert (await client.get(f"/people/{cadre}/record")).status_code == 403
    mine = await client.get("/my/record")
    assert "周学员" in mine.text and "孙学员" not in mine.text and "QWERTYUPAS" not in mine.text
    await client.get("/logout")
    await login(client, "admin")
    assert (await client.get(f"/people/{cadre}/record")).status_code == 200
