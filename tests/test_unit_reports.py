"""Reporting back to the city federation (报送): a unit's figures against the rows they come
from, the page and the draft .docx; submitting freezes figures, ledger and document until
the report is returned; the unit's own .docx; scope; photos; the city's status page, roll-up
and draft; the forms; and the pure parts."""

from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import docx
import lxml.html
import pytest
from openpyxl import load_workbook
from PIL import Image

from app.accounts.units import create_unit
from app.reports.report import today
from app.tables import (
    ActivityPhoto,
    AuditEvent,
    Batch,
    CreditEntry,
    CreditRequirement,
    Enrollment,
    ReportRound,
    ReturnedReport,
    Training,
    Unit,
    UnitReport,
    User,
    WorkActivity,
)
from app.unit_reports.figures import (
    ActivityFigures,
    ActivityItem,
    ReportFigures,
    TrainingFigures,
    activity_figures,
)
from app.unit_reports.forms import parse_activity_form, parse_round_form
from app.unit_reports.photos import PhotoRefused, prepare_photo
from app.unit_reports.rounds import days_left, frozen
from tests.conftest import login, make_user, post_form

NOTICE = "焦作市总工会关于认真学习宣传贯彻中国工会十八大精神的通知"
DOC_NUMBER = "焦工文〔2023〕93号"
FOUR_KINDS = ["county_federation", "zone_union", "industry_union", "municipal_grassroots_union"]
KIND_LABELS = {"special": "专题培训", "rotation": "集中轮训", "": "合计"}
ACTIVITY_LABELS = {
    "publicity": "舆论宣传",
    "study": "学习培训",
    "lecture": "理论宣讲",
    "implementation": "落地见效",
}
REDIRECT = (302, 303)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _today() -> date:
    return today().date()


YEAR = _today().year


# ------------------------------------------------------------------------------ the world


@dataclass
class World:
    """What a test made, kept so that the expected figures are computed from it alone."""

    units: dict[str, Any]
    people: dict[str, Any]
    round_id: int
    trainings: dict[str, Any]
    round_trainings: set[int]
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    credits: list[tuple[int, int, float]] = field(default_factory=list)  # account, year, hours
    # account → (unit id, unit kind, role, active)
    accounts: dict[int, tuple[int, str, str, bool]] = field(default_factory=dict)
    requirements: dict[str, float] = field(default_factory=dict)  # unit kind ("" any) → hours

    def subtree(self, unit: Any) -> set[int]:
        return {u.id for u in self.units.values() if u.path.startswith(unit.path)}

    def training_line(self, unit: Any, kind: str) -> dict[str, Any]:
        ids = self.subtree(unit)
        rows = [
            e
            for e in self.enrollments
            if e["unit"] in ids
            and e["active"]
            and e["training"] in self.round_trainings
            and (not kind or e["kind"] == kind)
        ]
        scores = [e["score"] for e in rows if e["score"] is not None]
        completed = sum(1 for e in rows if e["completed"])
        return {
            "trainings": len({e["training"] for e in rows}),
            "enrolled": len(rows),
            "completed": completed,
            "rate": completed / len(rows) if rows else None,
            "scored": len(scores),
            "score_sum": sum(scores),
            "average": round(sum(scores) / len(scores), 1) if scores else None,
        }

    def credit_figures(self, unit: Any) -> tuple[int, float, int]:
        """(cadres, 学时, cadres meeting the requirement) of the unit's subtree."""
        ids = self.subtree(unit)
        cadres = [
            a
            for a, (u, _, role, active) in self.accounts.items()
            if u in ids and role == "cadre" and active
        ]
        hours = {a: 0.0 for a in cadres}
        for account, year, h in self.credits:
            if account in hours and year == YEAR:
                hours[account] += h
        meeting = 0
        for a in cadres:
            need = self.requirements.get(self.accounts[a][1], self.requirements.get(""))
            if need is None or hours[a] >= need:
                meeting += 1
        return len(cadres), round(sum(hours.values()), 2), meeting


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


async def _add_cadre(world: World, username: str, unit: Any, name: str, **fields) -> Any:
    person = await make_user(username, unit, "cadre", name, **fields)
    world.accounts[person.id] = (unit.id, unit.kind, "cadre", fields.get("active", True))
    return person


async def _enroll(
    world: World,
    training: Any,
    batch: Any,
    person: Any,
    completed: bool,
    score: float | None,
    active: bool = True,
) -> Enrollment:
    unit = world.accounts[person.id][0]
    row = Enrollment(
        training=training.id,
        batch=batch.id,
        account=person.id,
        unit=unit,
        active=active,
        quiz_score=score,
        quiz_passed=score is not None and score >= 60,
        completed_at=datetime(YEAR, 3, 1, tzinfo=UTC) if completed else None,
    )
    await row.save()
    world.enrollments.append(
        {
            "id": row.id,
            "training": training.id,
            "kind": training.kind,
            "unit": unit,
            "active": active,
            "completed": completed,
            "score": score,
        }
    )
    return row


async def _credit(world: World, person: Any, hours: float, year: int = YEAR) -> None:
    n = sum(1 for c in world.credits if c[0] == person.id) + 1
    await CreditEntry(
        account=person.id,
        year=year,
        source="reading",
        key=f"reading:{n}",
        sequence=1,
        hours=hours,
        earned_at=datetime(year, 5, 1, tzinfo=UTC),
    ).save()
    world.credits.append((person.id, year, hours))


async def _entry(
    round_id: int,
    unit: Any,
    kind: str,
    form: str,
    title: str,
    participants: int = 0,
    days_ago: int = 3,
    removed: bool = False,
) -> WorkActivity:
    row = WorkActivity(
        round=round_id,
        unit=unit.id,
        kind=kind,
        form=form,
        held_on=_today() - timedelta(days=days_ago),
        title=title,
        participants=participants,
        removed_at=datetime.now(UTC) if removed else None,
    )
    await row.save()
    return row


@pytest.fixture
async def world(tree, people) -> World:
    """The tree with a unit of each of the notice's kinds (and a closed county), a round
    of the four kinds counting T1 and T2 (not T3), enrollments, 学时 and requirements."""
    city = tree["city"]
    units = dict(tree)
    units["zone"] = await create_unit("高新区工会", "zone_union", city)
    units["edu"] = await create_unit("焦作市教育工会", "industry_union", city)
    units["power"] = await create_unit("焦作市供电公司工会", "municipal_grassroots_union", city)
    closed = await create_unit("已撤销区总工会", "county_federation", city)
    await Unit.update({Unit.active: False}).where(Unit.id == closed.id)
    closed.active = False
    units["closed"] = closed

    await User.update({User.phone: "13900000023"}).where(User.id == people["zhongzhan_admin"].id)
    staff = dict(people)
    staff["zone_admin"] = await make_user(
        "gx-admin", units["zone"], "unit_admin", "高新管理员", phone="13900000021"
    )
    staff["edu_admin"] = await make_user(
        "edu-admin", units["edu"], "unit_admin", "教育管理员", phone="13900000022"
    )

    t1 = Training(title="解放区专题培训", kind="special", unit=tree["jiefang"].id)
    t2 = Training(title="全市集中轮训", kind="rotation", unit=city.id)
    t3 = Training(title="不计入本次报送的培训", kind="special", unit=city.id)
    t4 = Training(title="中站区专题培训", kind="special", unit=tree["zhongzhan"].id)
    for t in (t1, t2, t3, t4):
        await t.save()
    trainings = {"t1": t1, "t2": t2, "t3": t3, "t4": t4}
    batches = {}
    for key, t in trainings.items():
        batch = Batch(training=t.id, name="第一期")
        await batch.save()
        batches[key] = batch

    round_row = ReportRound(
        title=NOTICE,
        doc_number=DOC_NUMBER,
        unit_kinds=json.dumps(FOUR_KINDS),
        trainings=json.dumps([t1.id, t2.id, t4.id]),
        credit_year=YEAR,
        deadline=_today() + timedelta(days=20),
        created_by=people["admin"].id,
    )
    await round_row.save()

    w = World(
        units=units,
        people=staff,
        round_id=round_row.id,
        trainings=trainings,
        round_trainings={t1.id, t2.id, t4.id},
    )
    for key in ("cadre", "other_cadre"):
        p = people[key]
        unit = tree["jiefang_g"] if key == "cadre" else tree["zhongzhan_g"]
        w.accounts[p.id] = (unit.id, unit.kind, "cadre", True)
    for key in ("jiefang_admin", "zhongzhan_admin"):
        p = people[key]
        unit = tree["jiefang"] if key == "jiefang_admin" else tree["zhongzhan"]
        w.accounts[p.id] = (unit.id, unit.kind, "unit_admin", True)

    cadre = people["cadre"]
    wu = await _add_cadre(w, "13900000101", tree["jiefang_g"], "吴二")
    zheng = await _add_cadre(w, "13900000102", tree["jiefang_g"], "郑三")
    feng = await _add_cadre(w, "13900000103", tree["jiefang"], "冯主席")
    gone = await _add_cadre(w, "13900000104", tree["jiefang_g"], "停用者", active=False)
    other = people["other_cadre"]
    chen = await _add_cadre(w, "13900000105", tree["zhongzhan_g"], "陈老师")
    teacher = await _add_cadre(w, "13900000106", units["edu"], "教育学员")
    w.people.update(wu=wu, zheng=zheng, feng=feng, gone=gone, chen=chen, teacher=teacher)

    b = batches
    # 解放区: T1 (special) and T2 (rotation) count, T3 does not.
    await _enroll(w, t1, b["t1"], cadre, True, 90.0)
    await _enroll(w, t1, b["t1"], wu, True, 80.0)
    await _enroll(w, t1, b["t1"], zheng, False, 55.0)
    await _enroll(w, t1, b["t1"], feng, False, None)
    await _enroll(w, t2, b["t2"], cadre, True, 70.0)
    await _enroll(w, t2, b["t2"], feng, True, 88.0)
    await _enroll(w, t2, b["t2"], wu, False, None)
    await _enroll(w, t2, b["t2"], zheng, True, 100.0, active=False)  # withdrawn
    await _enroll(w, t3, b["t3"], cadre, True, 100.0)
    await _enroll(w, t3, b["t3"], wu, True, 60.0)
    # 中站区: its own figures, which 解放区 must not count.
    await _enroll(w, t2, b["t2"], other, True, 99.0)
    await _enroll(w, t4, b["t4"], chen, True, 50.0)
    await _enroll(w, t4, b["t4"], other, False, None)
    # 教育工会
    await _enroll(w, t2, b["t2"], teacher, True, 95.0)

    for person, hours in (
        (cadre, 12.0),
        (cadre, 10.0),
        (wu, 5.0),
        (zheng, 20.0),
        (feng, 25.0),
        (gone, 50.0),
        (people["jiefang_admin"], 3.0),
        (other, 30.0),
        (chen, 4.0),
        (teacher, 21.0),
    ):
        await _credit(w, person, hours)
    await _credit(w, wu, 40.0, year=YEAR - 1)
    await CreditRequirement(year=YEAR, hours=20.0).save()
    await CreditRequirement(year=YEAR, hours=30.0, unit_kind="county_federation").save()
    await CreditRequirement(year=YEAR - 1, hours=99.0).save()
    w.requirements = {"": 20.0, "county_federation": 30.0}
    return w


# ------------------------------------------------------------------------------ reading back


def _text(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


def _page_tables(html: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The report page's training table and activity table: row label → cells."""
    page = lxml.html.fromstring(html)

    def rows(css: str) -> dict[str, list[str]]:
        out = {}
        for tr in page.xpath(f"//table[contains(@class, '{css}')]/tbody/tr"):
            cells = [" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")]
            out[cells[0]] = cells[1:]
        return out

    return rows("report-figures"), rows("report-activities")


def _field_error(html: str, name: str) -> str:
    found = lxml.html.fromstring(html).xpath(f"//p[@id='{name}-error']")
    return found[0].text_content().strip() if found else ""


def _docx(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """Paragraph texts and table cell texts of a .docx."""
    document = docx.Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return paragraphs, tables


def _expected_training_rows(world: World, unit: Any) -> dict[str, list[str]]:
    out = {}
    for kind, label in KIND_LABELS.items():
        e = world.training_line(unit, kind)
        out[label] = [
            str(e["trainings"]),
            str(e["enrolled"]),
            str(e["completed"]),
            _percent(e["rate"]),
            "—" if e["average"] is None else f"{e['average']:.1f}",
        ]
    return out


def _report_url(world: World, unit_key: str, what: str = "") -> str:
    url = f"/reporting/{world.round_id}/units/{world.units[unit_key].id}"
    return f"{url}/{what}" if what else url


async def _add_entry_by_form(client, world: World, **fields) -> Any:
    data = {
        "unit": str(world.units["jiefang"].id),
        "kind": "study",
        "form": "",
        "held_on": (_today() - timedelta(days=5)).isoformat(),
        "title": "学习会",
        "place": "",
        "participants": "",
        "speaker": "",
        "summary": "",
    }
    data.update({k: str(v) for k, v in fields.items()})
    return await post_form(client, f"/reporting/{world.round_id}/ledger/new", data)


def _activity_id(response) -> int:
    assert response.status_code in REDIRECT, response.text[:500]
    found = re.fullmatch(r"/reporting/activities/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def _photo_url(client, photo_id: int) -> str:
    return client.app.route_reverse("activity_photo", photo_id=photo_id)


def _docx_bytes(*lines: str) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "应训人次"
    table.rows[0].cells[1].text = "7"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rollup_rows(content: bytes) -> tuple[Any, dict[str, tuple], tuple]:
    book = load_workbook(io.BytesIO(content))
    sheet = book["汇总"]
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if any(v for v in r)]
    by_unit = {r[2]: r for r in rows if r[1] != "合计"}
    total = next(r for r in rows if r[1] == "合计")
    return book, by_unit, total


# ------------------------------------------------------------------------------ 1. figures


async def test_a_county_report_shows_the_figures_of_its_subtree_only(client, world):
    jiefang, jiefang_g, zhongzhan = (world.units[k] for k in ("jiefang", "jiefang_g", "zhongzhan"))
    rid = world.round_id
    assert (await login(client, "jf-admin")).status_code in (302, 303)

    ago = {"days_ago": 10}
    made = [
        ("study", "专题学习会", "解放区学习贯彻专题学习会", "40", jiefang, 10),
        ("study", "研讨会", "人民医院工会章程修正案研讨会", "25", jiefang_g, 8),
        ("publicity", "新媒体", "公众号开设学习专栏", "", jiefang, 5),
        ("lecture", "微宣讲", "微宣讲进病房", "30", jiefang_g, 3),
        ("implementation", "维权服务", "走访慰问困难职工（已删除）", "12", jiefang, 2),
    ]
    ids = []
    for kind, form, title, participants, unit, days in made:
        response = await _add_entry_by_form(
            client,
            world,
            unit=unit.id,
            kind=kind,
            form=form,
            title=title,
            participants=participants,
            held_on=(_today() - timedelta(days=days)).isoformat(),
        )
        ids.append(_activity_id(response))
    removed = await post_form(client, f"/reporting/activities/{ids[-1]}/remove")
    assert removed.status_code in REDIRECT
    # A sibling county's entry, and an entry of another round, count for nobody here.
    await _entry(rid, zhongzhan, "study", "专题学习会", "中站区专题学习会", 100, **ago)
    other_round = ReportRound(
        title="另一次报送", unit_kinds=json.dumps(FOUR_KINDS), credit_year=YEAR, deadline=_today()
    )
    await other_round.save()
    await _entry(other_round.id, jiefang, "study", "专题学习会", "另一次报送的活动", 500)

    expected_training = _expected_training_rows(world, jiefang)
    # The fixture's rows, by hand: T1 4 enrolled (2 done; 90, 80, 55), T2 3 (2 done; 70, 88).
    assert expected_training["专题培训"] == ["1", "4", "2", "50.0%", "75.0"]
    assert expected_training["集中轮训"] == ["1", "3", "2", "66.7%", "79.0"]
    assert expected_training["合计"] == ["2", "7", "4", "57.1%", "76.6"]
    cadres, hours, meeting = world.credit_figures(jiefang)
    assert (cadres, hours, meeting) == (4, 72.0, 2)
    expected_activities = {
        "舆论宣传": ["1", "0", "新媒体 1"],
        "学习培训": ["2", "65", "专题学习会 1、研讨会 1"],
        "理论宣讲": ["1", "30", "微宣讲 1"],
        "落地见效": ["0", "0", "—"],
    }

    page = await client.get(_report_url(world, "jiefang"))
    assert page.status_code == 200
    trainings, activities = _page_tables(page.text)
    assert trainings == expected_training
    assert activities == expected_activities
    text = _text(page.text)
    assert f"{YEAR} 年：干部 {cadres} 人，学时合计 {hours:g}，人均 18.0 学时" in text
    assert f"达到年度学时要求 {meeting} 人" in text
    assert "未报送" in text

    draft = await client.get(_report_url(world, "jiefang", "draft.docx"))
    assert draft.status_code == 200
    assert draft.headers["content-type"].startswith(DOCX_TYPE)
    paragraphs, tables = _docx(draft.content)
    body = "\n".join(paragraphs)
    assert paragraphs[0] == "解放区总工会关于学习贯彻情况的报告"
    assert f"《{NOTICE}》（{DOC_NUMBER}）" in body
    training_table = next(t for t in tables if t[0][0] == "培训类别")
    assert {row[0]: row[1:] for row in training_table[1:]} == expected_training
    assert f"共有干部{cadres}人，累计获得学时72学时，人均18学时" in body
    assert f"达到年度学时要求的{meeting}人" in body
    assert "组织开展1个" in body  # T1 organised by 解放区; T2 by the city, T4 by 中站区
    assert "工作台账共记录学习培训活动2次，参加人数合计65人次，其中专题学习会1次、研讨会1次" in body
    assert "工作台账共记录舆论宣传活动1次，其中" in body  # no participants: none said
    assert "工作台账共记录理论宣讲活动1次，参加人数合计30人次" in body
    assert "暂无落地见效活动记录" in body
    for title in ("解放区学习贯彻专题学习会", "人民医院工会章程修正案研讨会", "微宣讲进病房"):
        assert title in body
    for title in ("中站区专题学习会", "另一次报送的活动", "走访慰问困难职工"):
        assert title not in body, title
    assert "不计入本次报送的培训" not in body

    # The sibling county, seen by federation staff, has its own figures.
    await login(client, "admin")
    other_page = await client.get(_report_url(world, "zhongzhan"))
    assert other_page.status_code == 200
    other_trainings, other_activities = _page_tables(other_page.text)
    assert other_trainings == _expected_training_rows(world, zhongzhan)
    assert other_trainings["合计"][:3] == ["2", "3", "2"]
    assert other_activities["学习培训"][:2] == ["1", "100"]


# ------------------------------------------------------------------------------ 2. freezing


async def test_submitting_freezes_the_figures_the_ledger_and_the_document(client, world):
    jiefang, jiefang_g = world.units["jiefang"], world.units["jiefang_g"]
    rid = world.round_id
    study = await _entry(rid, jiefang, "study", "专题学习会", "专题学习会", 40)
    await login(client, "jf-admin")
    before = await client.get(_report_url(world, "jiefang"))
    assert _page_tables(before.text)[0]["专题培训"][2] == "2"

    submitted = await post_form(client, _report_url(world, "jiefang", "submit"))
    assert submitted.status_code in REDIRECT
    report = (
        await UnitReport.select()
        .where(UnitReport.round == rid, UnitReport.unit == jiefang.id)
        .first()
    )
    assert report["status"] == "submitted"
    stored = ReportFigures.from_json(report["figures"])
    assert stored.training("special").completed == 2
    assert stored.activity("study").count == 1

    # The ledger of the subtree is closed: a new entry, an edit, a removal, a photo.
    refused = await _add_entry_by_form(client, world, unit=jiefang_g.id, title="报送后补登的活动")
    assert refused.status_code == 400
    assert "报告已经报送" in _field_error(refused.text, "unit")
    edit = await post_form(
        client,
        f"/reporting/activities/{study.id}",
        {
            "unit": str(jiefang.id),
            "kind": "study",
            "held_on": study.held_on.isoformat(),
            "title": "改过的名称",
            "participants": "41",
        },
    )
    assert edit.status_code == 409
    assert "报告已经报送" in edit.text
    assert (await post_form(client, f"/reporting/activities/{study.id}/remove")).status_code == 409
    photo = await post_form(
        client,
        f"/reporting/activities/{study.id}/photos",
        files={"file": ("a.png", _png(20, 20), "image/png")},
    )
    assert photo.status_code == 409
    rows = await WorkActivity.select(WorkActivity.title, WorkActivity.removed_at).where(
        WorkActivity.round == rid
    )
    assert rows == [{"title": "专题学习会", "removed_at": None}]
    assert await ActivityPhoto.count() == 0
    again = await post_form(client, _report_url(world, "jiefang", "submit"))
    assert again.status_code in REDIRECT  # "已经报送过了", nothing changes
    assert (
        await UnitReport.select(UnitReport.submitted_at)
        .where(UnitReport.id == report["id"])
        .first()
    )["submitted_at"] == report["submitted_at"]

    # A completion after submitting changes neither the page nor the roll-up.
    zheng_t1 = next(
        e
        for e in world.enrollments
        if e["training"] == world.trainings["t1"].id
        and e["unit"] == jiefang_g.id
        and e["score"] == 55
    )
    await Enrollment.update({Enrollment.completed_at: datetime.now(UTC)}).where(
        Enrollment.id == zheng_t1["id"]
    )
    page = await client.get(_report_url(world, "jiefang"))
    assert "已报送" in page.text and "报送时的数据" in page.text
    assert _page_tables(page.text)[0]["专题培训"][2] == "2", "the page shows the figures of now"
    assert _page_tables(page.text)[0]["合计"][2] == "4"

    # The stored document is what report.docx gives, with the figures as submitted.
    document = await client.get(_report_url(world, "jiefang", "report.docx"))
    assert document.status_code == 200
    assert document.content == bytes(report["document"])
    _, tables = _docx(document.content)
    special = next(
        r for r in next(t for t in tables if t[0][0] == "培训类别") if r[0] == "专题培训"
    )
    assert special[3] == "2"

    await login(client, "admin")
    _, by_unit, _ = _rollup_rows((await client.get(f"/reporting/{rid}/rollup.xlsx")).content)
    assert by_unit["解放区总工会"][3] == "已报送"
    assert by_unit["解放区总工会"][7] == 4, "the roll-up shows the figures of now"

    # Federation staff return it, saying why; the unit sees why and the ledger opens again.
    no_reason = await post_form(client, _report_url(world, "jiefang", "return"), {"note": " "})
    assert no_reason.status_code == 400
    assert "请写明退回的原因" in no_reason.text
    returned = await post_form(
        client, _report_url(world, "jiefang", "return"), {"note": "请补充落地见效工作情况"}
    )
    assert returned.status_code in REDIRECT
    not_again = await post_form(
        client, _report_url(world, "jiefang", "return"), {"note": "再退一次"}
    )
    assert not_again.status_code == 409

    await login(client, "jf-admin")
    page = await client.get(_report_url(world, "jiefang"))
    assert "已退回修改" in page.text
    assert "退回：请补充落地见效工作情况" in _text(page.text)
    # The draft frozen at submission went back with it: no stale document is served.
    stale = await client.get(_report_url(world, "jiefang", "report.docx"))
    assert stale.status_code == 404
    later = await _add_entry_by_form(
        client, world, unit=jiefang_g.id, kind="implementation", form="维权服务",
        title="走访慰问困难职工", participants="12",
    )  # fmt: skip
    _activity_id(later)
    assert (
        await post_form(client, _report_url(world, "jiefang", "submit"))
    ).status_code in REDIRECT
    report2 = await UnitReport.select().where(UnitReport.id == report["id"]).first()
    assert report2["status"] == "submitted"
    new = ReportFigures.from_json(report2["figures"])
    assert new.training("special").completed == 3
    assert new.activity("implementation").count == 1
    assert new.activity("implementation").participants == 12
    _, tables = _docx(bytes(report2["document"]))
    special = next(
        r for r in next(t for t in tables if t[0][0] == "培训类别") if r[0] == "专题培训"
    )
    assert special[3] == "3"

    events = await AuditEvent.select(AuditEvent.action, AuditEvent.target_id).where(
        AuditEvent.action.is_in(["unit_report.submit", "unit_report.return"])
    )
    assert sorted(e["action"] for e in events) == [
        "unit_report.return",
        "unit_report.submit",
        "unit_report.submit",
    ]
    assert {e["target_id"] for e in events} == {report["id"]}


async def test_moving_an_entry_into_a_submitted_subtree_is_refused(client, world):
    """Federation staff may edit any entry; moving one of an open unit into the subtree of a
    submitted report would put an entry in a frozen ledger that its report does not count."""
    rid = world.round_id
    entry = await _entry(rid, world.units["zhongzhan"], "study", "研讨会", "中站区研讨会", 20)
    await login(client, "jf-admin")
    assert (
        await post_form(client, _report_url(world, "jiefang", "submit"))
    ).status_code in REDIRECT
    await login(client, "admin")
    moved = await post_form(
        client,
        f"/reporting/activities/{entry.id}",
        {
            "unit": str(world.units["jiefang_g"].id),
            "kind": "study",
            "form": "研讨会",
            "held_on": entry.held_on.isoformat(),
            "title": "中站区研讨会",
            "participants": "20",
        },
    )
    row = await WorkActivity.select(WorkActivity.unit).where(WorkActivity.id == entry.id).first()
    assert moved.status_code == 400 and "不能把记录移到它名下" in moved.text
    assert row["unit"] == world.units["zhongzhan"].id, (
        "an entry was moved into 解放区's subtree after its report was submitted "
        f"(status {moved.status_code}); ledger_pages.activity_update checks only the entry's "
        "old unit against the submitted reports"
    )


# ------------------------------------------------------------------------------ 3. upload


async def test_the_uploaded_version_is_kept_and_submitted(client, world):
    await login(client, "jf-admin")
    mine = _docx_bytes("解放区总工会关于学习贯彻情况的报告（修改稿）", "我们补充了下一步工作打算。")
    url = _report_url(world, "jiefang", "upload")
    uploaded = await post_form(
        client, url, files={"file": ("解放区报告修改稿.docx", mine, DOCX_TYPE)}
    )
    assert uploaded.status_code in REDIRECT
    page = await client.get(_report_url(world, "jiefang"))
    assert "已上传，未报送" in page.text and "解放区报告修改稿.docx" in page.text
    assert (await client.get(_report_url(world, "jiefang", "report.docx"))).content == mine

    # A file that is not a .docx, or a broken one: a message naming it, nothing stored.
    for name, content, says in (
        ("会议纪要.pdf", b"%PDF-1.4 not a word file", "“会议纪要.pdf”不是 Word 文档"),
        ("坏掉的报告.docx", b"PK\x03\x04 this is not a zip", "“坏掉的报告.docx”无法读取"),
        ("旧格式报告.doc", b"\xd0\xcf\x11\xe0 old word", "“旧格式报告.doc”是旧版 Word 格式"),
    ):
        refused = await post_form(client, url, files={"file": (name, content, "application/x")})
        assert refused.status_code == 400, name
        assert says in refused.text, name
        assert (await client.get(_report_url(world, "jiefang", "report.docx"))).content == mine
    row = await UnitReport.select(UnitReport.document_name).where(
        UnitReport.unit == world.units["jiefang"].id
    )
    assert row == [{"document_name": "解放区报告修改稿.docx"}]

    # A unit that never uploaded a good one has no report row at all after a bad one.
    await login(client, "zz-admin")
    bad = await post_form(
        client,
        _report_url(world, "zhongzhan", "upload"),
        files={"file": ("中站区.docx", b"not a docx", DOCX_TYPE)},
    )
    assert bad.status_code == 400 and "“中站区.docx”" in bad.text
    assert await UnitReport.count().where(UnitReport.unit == world.units["zhongzhan"].id) == 0

    await login(client, "jf-admin")
    assert (
        await post_form(client, _report_url(world, "jiefang", "submit"))
    ).status_code in REDIRECT
    report = await UnitReport.select().where(UnitReport.unit == world.units["jiefang"].id).first()
    assert report["status"] == "submitted"
    assert bytes(report["document"]) == mine
    assert report["document_name"] == "解放区报告修改稿.docx"
    document = await client.get(_report_url(world, "jiefang", "report.docx"))
    assert document.content == mine
    late = await post_form(
        client, url, files={"file": ("再改.docx", _docx_bytes("再改"), DOCX_TYPE)}
    )
    assert late.status_code == 409 and "报告已经报送" in late.text
    assert (await client.get(_report_url(world, "jiefang", "report.docx"))).content == mine


# ------------------------------------------------------------------------------ 4. scope


async def test_a_unit_admin_stays_within_its_own_subtree(client, world):
    rid = world.round_id
    theirs = await _entry(
        rid, world.units["zhongzhan_g"], "study", "研讨会", "中站区一中研讨会", 30
    )
    photo = ActivityPhoto(activity=theirs.id, content=_jpeg(40, 30), width=40, height=30)
    await photo.save()
    ours = await _entry(rid, world.units["jiefang_g"], "lecture", "微宣讲", "解放区微宣讲", 10)

    await login(client, "jf-admin")
    ledger = await client.get(f"/reporting/{rid}/ledger")
    assert ledger.status_code == 200
    assert "解放区微宣讲" in ledger.text and "中站区一中研讨会" not in ledger.text
    assert (
        await client.get(f"/reporting/{rid}/ledger?unit={world.units['zhongzhan'].id}")
    ).status_code == 404
    home = await client.get("/reporting/")
    assert home.status_code == 200
    assert "解放区总工会的报告" in home.text and "中站区总工会的报告" not in home.text

    entry_form = {
        "unit": str(world.units["zhongzhan"].id),
        "kind": "study",
        "held_on": (_today() - timedelta(days=1)).isoformat(),
        "title": "越权登记",
    }
    denied_gets = [
        _report_url(world, "zhongzhan"),
        _report_url(world, "zhongzhan", "draft.docx"),
        _report_url(world, "zhongzhan", "report.docx"),
        f"/reporting/activities/{theirs.id}",
        _photo_url(client, photo.id),
    ]
    for url in denied_gets:
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "不在您的管理范围内" in response.text, url
        assert "中站区一中研讨会" not in response.text
    denied_posts = [
        (_report_url(world, "zhongzhan", "submit"), {}, None),
        (_report_url(world, "zhongzhan", "upload"), {}, {"file": ("a.docx", _docx_bytes("x"))}),
        (f"/reporting/activities/{theirs.id}", {**entry_form, "title": "改名"}, None),
        (f"/reporting/activities/{theirs.id}/remove", {}, None),
        (f"/reporting/activities/{theirs.id}/photos", {}, {"file": ("a.png", _png(10, 10))}),
        (f"/reporting/photos/{photo.id}/delete", {}, None),
    ]
    for url, data, files in denied_posts:
        response = await post_form(client, url, data, files=files)
        assert response.status_code == 403, url
        assert "不在您的管理范围内" in response.text, url
    # An entry for a unit outside the subtree is refused as a field.
    outside = await post_form(client, f"/reporting/{rid}/ledger/new", entry_form)
    assert outside.status_code == 400
    assert _field_error(outside.text, "unit") == "请选择开展活动的单位。"
    assert await UnitReport.count() == 0
    assert await ActivityPhoto.count() == 1
    assert await WorkActivity.count().where(WorkActivity.title.is_in(["越权登记", "改名"])) == 0
    still = await WorkActivity.select(WorkActivity.removed_at).where(WorkActivity.id == theirs.id)
    assert still == [{"removed_at": None}]

    # The federation's pages.
    federation = [
        ("get", f"/reporting/{rid}"),
        ("get", f"/reporting/{rid}/rollup.xlsx"),
        ("get", f"/reporting/{rid}/city.docx"),
        ("get", "/reporting/rounds/new"),
        ("get", f"/reporting/{rid}/edit"),
        ("post", "/reporting/rounds/new"),
        ("post", f"/reporting/{rid}/edit"),
        ("post", f"/reporting/{rid}/close"),
        ("post", _report_url(world, "jiefang", "return")),
    ]
    for method, url in federation:
        if method == "get":
            response = await client.get(url)
        else:
            response = await post_form(client, url, {"note": "退回", "title": "越权发起"})
        assert response.status_code == 403, url
        assert "没有访问此页面的权限" in response.text, url
    assert await ReportRound.count() == 1
    assert (await ReportRound.select(ReportRound.closed_at).first())["closed_at"] is None

    # The same addresses are open to the other county's own admin and to the federation.
    await login(client, "zz-admin")
    assert (await client.get(_report_url(world, "zhongzhan"))).status_code == 200
    assert (await client.get(f"/reporting/activities/{theirs.id}")).status_code == 200
    assert (await client.get(f"/reporting/activities/{ours.id}")).status_code == 403
    await login(client, "admin")
    assert (await client.get(f"/reporting/{rid}")).status_code == 200

    # A cadre has no reporting pages.
    await login(client, "13800000001")
    for url in (
        "/reporting/",
        "/reporting",
        f"/reporting/{rid}/ledger",
        _report_url(world, "jiefang"),
    ):
        response = await client.get(url)
        assert response.status_code == 403, url


# ------------------------------------------------------------------------------ 5. photos


def _png(width: int, height: int, colour=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 30)).save(out, "JPEG")
    return out.getvalue()


def _phone_photo() -> bytes:
    """4000×2000 as stored by the camera, to be shown turned 90° clockwise (orientation 6):
    the left half (red) is the top once upright. With the place it was taken (GPS)."""
    image = Image.new("RGB", (4000, 2000), (220, 20, 20))
    image.paste((20, 20, 220), (2000, 0, 4000, 2000))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "HUAWEI"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (35.0, 14.0, 24.0), 3: "E", 4: (113.0, 14.0, 30.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


async def test_photos_are_stored_upright_small_and_without_exif(client, world):
    entry = await _entry(world.round_id, world.units["jiefang_g"], "study", "研讨会", "研讨会", 20)
    original = _phone_photo()
    check = Image.open(io.BytesIO(original)).getexif()
    assert check[0x0112] == 6 and check.get_ifd(0x8825)  # what the phone sent

    await login(client, "jf-admin")
    url = f"/reporting/activities/{entry.id}/photos"
    sent = await post_form(client, url, files={"file": ("IMG_0001.jpg", original, "image/jpeg")})
    assert sent.status_code in REDIRECT
    row = await ActivityPhoto.select().where(ActivityPhoto.activity == entry.id).first()
    stored = bytes(row["content"])
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert image.size == (800, 1600) == (row["width"], row["height"])
    assert max(image.size) <= 1600
    assert len(image.getexif()) == 0 and b"Exif" not in stored and b"HUAWEI" not in stored
    top, bottom = (
        image.convert("RGB").getpixel((400, 100)),
        image.convert("RGB").getpixel((400, 1500)),
    )
    assert top[0] > 150 and top[2] < 100, f"the top is not the red half: {top}"
    assert bottom[2] > 150 and bottom[0] < 100, f"the bottom is not the blue half: {bottom}"

    served = await client.get(_photo_url(client, row["id"]))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/jpeg")
    assert served.content == stored
    page = await client.get(f"/reporting/activities/{entry.id}")
    shown = lxml.html.fromstring(page.text).xpath("//ul[@class='activity-photos']//img/@src")
    assert shown == [_photo_url(client, row["id"])] and "照片（1 / 4）" in page.text

    not_image = await post_form(
        client, url, files={"file": ("说明.txt", "活动说明".encode(), "text/plain")}
    )
    assert not_image.status_code == 400
    assert "JPG 或 PNG 格式的照片" in not_image.text
    for n in range(3):
        more = await post_form(
            client, url, files={"file": (f"p{n}.png", _png(30, 20), "image/png")}
        )
        assert more.status_code in REDIRECT
    fifth = await post_form(client, url, files={"file": ("p5.png", _png(30, 20), "image/png")})
    assert fifth.status_code == 400
    assert "每条记录最多 4 张照片" in fifth.text
    assert await ActivityPhoto.count().where(ActivityPhoto.activity == entry.id) == 4

    for username, status in (("zz-admin", 403), ("13800000001", 403), ("admin", 200)):
        await login(client, username)
        response = await client.get(_photo_url(client, row["id"]))
        assert response.status_code == status, username
        if status == 200:
            assert response.headers["content-type"].startswith("image/jpeg")
        else:
            assert response.content != stored


# ------------------------------------------------------------------------------ 6. city side


async def _submit_as(client, world: World, username: str, unit_key: str) -> None:
    await login(client, username)
    response = await post_form(client, _report_url(world, unit_key, "submit"))
    assert response.status_code in REDIRECT, response.text[:300]


async def test_the_city_sees_who_reported_and_gets_the_roll_up_and_its_draft(client, world):
    rid = world.round_id
    units = world.units
    await _entry(rid, units["jiefang"], "study", "专题学习会", "解放区专题学习会", 40)
    await _entry(rid, units["jiefang_g"], "lecture", "微宣讲", "医院微宣讲", 25, days_ago=1)
    await _entry(rid, units["edu"], "lecture", "宣讲团宣讲", "教育系统宣讲", 60)
    await _entry(rid, units["zhongzhan"], "publicity", "新媒体", "中站区专栏", 0)  # not reported
    await _submit_as(client, world, "jf-admin", "jiefang")
    await _submit_as(client, world, "edu-admin", "edu")

    await login(client, "admin")
    status = await client.get(f"/reporting/{rid}")
    assert status.status_code == 200
    page = lxml.html.fromstring(status.text)
    headings = [" ".join(h.text_content().split()) for h in page.xpath("//h2")]
    assert headings[:4] == [
        "县（市、区）总工会（已报送 1 / 2）",
        "高新区工会（已报送 0 / 1）",
        "产业工会（已报送 1 / 1）",
        "市属基层工会（已报送 0 / 1）",
    ]
    listed = {
        " ".join(li.xpath(".//span[@class='lesson-title']")[0].text_content().split()): " ".join(
            li.text_content().split()
        )
        for li in page.xpath("//ul[contains(@class, 'round-units')]/li[a]")
    }
    assert set(listed) == {
        "解放区总工会",
        "中站区总工会",
        "高新区工会",
        "焦作市教育工会",
        "焦作市供电公司工会",
    }
    for name in ("解放区总工会", "焦作市教育工会"):
        assert "已报送" in listed[name] and "未报送" not in listed[name]
    for name in ("中站区总工会", "高新区工会", "焦作市供电公司工会"):
        assert "未报送" in listed[name]
    text = _text(status.text)
    deadline = _today() + timedelta(days=20)
    assert f"截止 {deadline.isoformat()} · 还有 20 天" in text
    assert "应报送 5 个单位，已报送 2 个，未报送 3 个" in text
    waiting = {
        cells[0]: cells[1:]
        for cells in (
            [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
            for tr in page.xpath("//section[@aria-labelledby='waiting-title']//tbody/tr")
        )
    }
    assert waiting == {
        "中站区总工会": ["未报送", "钱中站 13900000023"],
        "高新区工会": ["未报送", "高新管理员 13900000021"],
        "焦作市供电公司工会": ["未报送", "没有管理员账号"],
    }
    assert "赵解放" not in text and "教育管理员" not in text

    # The roll-up: a row per unit that must report, figures as submitted.
    rollup = await client.get(f"/reporting/{rid}/rollup.xlsx")
    assert rollup.status_code == 200
    book, by_unit, total = _rollup_rows(rollup.content)
    assert book.sheetnames == ["汇总", "未报送单位", "活动明细"]
    header = next(book["汇总"].iter_rows(min_row=3, max_row=3, values_only=True))
    assert header[:14] == (
        "序号", "单位类别", "单位", "报送状态", "报送时间", "参加培训项目数", "应训人次",
        "已完成人次", "完成率", "平均成绩", "干部人数", "学时合计", "人均学时", "达到学时要求人数",
    )  # fmt: skip
    assert sorted(by_unit) == sorted(
        ["解放区总工会", "中站区总工会", "高新区工会", "焦作市教育工会", "焦作市供电公司工会"]
    )
    assert "已撤销区总工会" not in by_unit
    reports = {
        r["unit"]: ReportFigures.from_json(r["figures"])
        for r in await UnitReport.select(UnitReport.unit, UnitReport.figures).where(
            UnitReport.status == "submitted"
        )
    }
    assert set(reports) == {units["jiefang"].id, units["edu"].id}
    for key, name in (("jiefang", "解放区总工会"), ("edu", "焦作市教育工会")):
        row = by_unit[name]
        e = world.training_line(units[key], "")
        cadres, hours, meeting = world.credit_figures(units[key])
        f = reports[units[key].id]
        assert row[3] == "已报送" and row[4] is not None
        assert row[5:8] == (e["trainings"], e["enrolled"], e["completed"]) == (
            f.total.trainings, f.total.enrolled, f.total.completed,
        )  # fmt: skip
        assert row[8] == pytest.approx(e["rate"])
        assert row[9] == pytest.approx(e["average"])
        assert row[10:12] == (cadres, hours)
        assert row[13] == meeting
        assert row[14:18] == tuple(f.activity(k).count for k in ACTIVITY_LABELS)
        assert row[18] == f.activity_participants
    assert by_unit["解放区总工会"][5:8] == (2, 7, 4)
    assert by_unit["焦作市教育工会"][5:8] == (1, 1, 1)
    assert by_unit["焦作市教育工会"][14:19] == (0, 0, 1, 0, 60)
    for name in ("中站区总工会", "高新区工会", "焦作市供电公司工会"):
        assert by_unit[name][3] == "未报送"
        assert all(v is None for v in by_unit[name][4:]), name
    parts = list(reports.values())
    enrolled = sum(p.total.enrolled for p in parts)
    completed = sum(p.total.completed for p in parts)
    assert total[6:8] == (enrolled, completed) == (8, 5)
    assert total[8] == pytest.approx(completed / enrolled)
    scores = [e["score"] for e in world.enrollments if e["score"] is not None and e["active"]]
    counted = [
        e["score"]
        for e in world.enrollments
        if e["score"] is not None
        and e["active"]
        and e["training"] in world.round_trainings
        and e["unit"] in world.subtree(units["jiefang"]) | world.subtree(units["edu"])
    ]
    assert scores and total[9] == pytest.approx(round(sum(counted) / len(counted), 1))
    assert total[10:12] == (4 + 1, 72.0 + 21.0)
    assert total[13] == 2 + 1
    assert total[14:19] == (0, 1, 2, 0, 125)

    waiting_sheet = [
        r for r in book["未报送单位"].iter_rows(min_row=4, values_only=True) if r[0] is not None
    ]
    assert sorted((r[2], r[3], r[4], r[5]) for r in waiting_sheet) == sorted(
        [
            ("中站区总工会", "未报送", "钱中站", "13900000023"),
            ("高新区工会", "未报送", "高新管理员", "13900000021"),
            ("焦作市供电公司工会", "未报送", None, None),
        ]
    )
    items = [r for r in book["活动明细"].iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert sorted((r[1], r[2], r[6], r[8]) for r in items) == sorted(
        [
            ("解放区总工会", "解放区总工会", "解放区专题学习会", 40),
            ("解放区总工会", "解放区人民医院工会", "医院微宣讲", 25),
            ("焦作市教育工会", "焦作市教育工会", "教育系统宣讲", 60),
        ]
    )

    # The city's draft: who reported, by kind, and the city-wide figures.
    city = await client.get(f"/reporting/{rid}/city.docx")
    assert city.status_code == 200
    paragraphs, tables = _docx(city.content)
    assert paragraphs[0] == "焦作市总工会关于全市工会系统学习贯彻情况的报告"
    body = "\n".join(paragraphs)
    assert "应报送单位5个，已报送2个，未报送3个" in body
    assert f"应于{deadline.year}年{deadline.month}月{deadline.day}日前" in body
    reporting = next(t for t in tables if t[0] == ["类别", "应报送", "已报送", "未报送"])
    assert reporting[1:] == [
        ["县（市、区）总工会", "2", "1", "1"],
        ["高新区工会", "1", "0", "1"],
        ["产业工会", "1", "1", "0"],
        ["市属基层工会", "1", "0", "1"],
        ["合计", "5", "2", "3"],
    ]
    city_training = next(t for t in tables if t[0][0] == "培训类别")
    assert {r[0]: r[1:] for r in city_training[1:]} == _expected_training_rows(world, units["city"])


# ------------------------------------------------------------------------------ 7. forms


async def test_bad_ledger_and_round_forms_are_refused_under_the_field(client, world):
    await login(client, "jf-admin")
    tomorrow = (_today() + timedelta(days=1)).isoformat()
    cases = [
        ({"held_on": "2023-13-40"}, "held_on", "请填写活动日期，例如 2023-11-20。"),
        ({"held_on": tomorrow}, "held_on", "活动日期不能晚于今天：台账记录已经开展的活动。"),
        ({"participants": "-5"}, "participants", "参加人数请填写整数，例如 45；不清楚可以不填。"),
        (
            {"participants": "三十人"},
            "participants",
            "参加人数请填写整数，例如 45；不清楚可以不填。",
        ),
        ({"title": "  "}, "title", "请填写活动名称。"),
        ({"kind": "party"}, "kind", "请选择工作类别：舆论宣传、学习培训、理论宣讲或落地见效。"),
    ]
    for fields, name, message in cases:
        response = await _add_entry_by_form(client, world, **{"title": "学习会", **fields})
        assert response.status_code == 400, fields
        assert _field_error(response.text, name) == message, fields
    assert await WorkActivity.count() == 0

    entry = _activity_id(await _add_entry_by_form(client, world, title="原来的名称"))
    bad_edit = await post_form(
        client,
        f"/reporting/activities/{entry}",
        {
            "unit": str(world.units["jiefang"].id),
            "kind": "study",
            "held_on": "昨天",
            "title": "新名称",
        },
    )
    assert bad_edit.status_code == 400
    assert _field_error(bad_edit.text, "held_on") == "请填写活动日期，例如 2023-11-20。"
    row = await WorkActivity.select(WorkActivity.title).where(WorkActivity.id == entry).first()
    assert row["title"] == "原来的名称"

    await login(client, "admin")
    rounds_before = await ReportRound.count()
    missing = await post_form(
        client,
        "/reporting/rounds/new",
        {
            "title": "关于报送学习情况的通知",
            "doc_number": DOC_NUMBER,
            "deadline": "",
            "credit_year": str(YEAR),
        },
    )
    assert missing.status_code == 400
    assert _field_error(missing.text, "unit_kinds") == "请至少选择一类需要报送的单位。"
    assert _field_error(missing.text, "deadline") == "请填写报送截止日期，例如 2023-12-31。"
    only_city = await post_form(
        client,
        "/reporting/rounds/new",
        {
            "title": "通知",
            "unit_kinds": "city_federation",
            "deadline": "2026-12-31",
            "credit_year": "1999",
        },
    )
    assert only_city.status_code == 400
    assert _field_error(only_city.text, "unit_kinds") == "请至少选择一类需要报送的单位。"
    assert _field_error(only_city.text, "credit_year") == "请填写统计学时的年度，例如 2023。"
    assert await ReportRound.count() == rounds_before

    made = await post_form(
        client,
        "/reporting/rounds/new",
        {
            "title": "关于报送学习情况的通知",
            "doc_number": DOC_NUMBER,
            "unit_kinds": ["industry_union", "county_federation"],
            "trainings": [str(world.trainings["t2"].id), "999999"],
            "deadline": "2026-12-31",
            "credit_year": str(YEAR),
        },
    )
    assert made.status_code in REDIRECT
    row = await ReportRound.select().order_by(ReportRound.id, ascending=False).first()
    assert json.loads(row["unit_kinds"]) == ["county_federation", "industry_union"]
    assert json.loads(row["trainings"]) == [world.trainings["t2"].id]
    assert row["deadline"] == date(2026, 12, 31)


# ------------------------------------------------------------------------------ 8. pure parts

DAY = date(2023, 12, 1)
GOOD_ENTRY = {
    "unit": "5",
    "kind": "study",
    "form": "研讨会",
    "held_on": "2023-11-20",
    "title": " 学习研讨会 ",
    "participants": "１２０",
}


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"unit": "6"}, "unit"),
        ({"unit": ""}, "unit"),
        ({"kind": "other"}, "kind"),
        ({"kind": "publicity", "form": "研讨会"}, "form"),
        ({"held_on": "2023/11/20"}, "held_on"),
        ({"held_on": "1999-01-01"}, "held_on"),
        ({"held_on": "2023-12-02"}, "held_on"),
        ({"title": ""}, "title"),
        ({"title": "学" * 201}, "title"),
        ({"place": "地" * 201}, "place"),
        ({"speaker": "讲" * 101}, "speaker"),
        ({"participants": "-3"}, "participants"),
        ({"participants": "3.5"}, "participants"),
        ({"participants": "很多"}, "participants"),
        ({"participants": "1000001"}, "participants"),
        ({"summary": "情" * 1001}, "summary"),
    ],
)
def test_the_entry_parser_names_the_field(change, field_name):
    _, errors = parse_activity_form({**GOOD_ENTRY, **change}, {5}, DAY)
    assert list(errors) == [field_name]
    assert re.search(r"[\u4e00-\u9fff]", errors[field_name])


def test_the_entry_parser_reads_what_people_type():
    values, errors = parse_activity_form(GOOD_ENTRY, {5}, DAY)
    assert errors == {}
    assert values["unit"] == 5 and values["held_on"] == date(2023, 11, 20)
    assert values["title"] == "学习研讨会" and values["participants"] == 120
    values, errors = parse_activity_form({**GOOD_ENTRY, "participants": "1,200"}, {5}, DAY)
    assert errors == {} and values["participants"] == 1200
    values, errors = parse_activity_form({**GOOD_ENTRY, "participants": ""}, {5}, DAY)
    assert errors == {} and values["participants"] == 0
    values, errors = parse_activity_form({**GOOD_ENTRY, "held_on": "2023-12-01"}, {5}, DAY)
    assert errors == {}  # today itself
    values, errors = parse_activity_form({**GOOD_ENTRY, "form": "其他"}, {5}, DAY)
    assert errors == {}


def test_the_round_parser():
    data = {
        "title": "通知",
        "doc_number": DOC_NUMBER,
        "deadline": "2023-12-31",
        "credit_year": "2023",
    }
    kinds = {"municipal_grassroots_union", "county_federation", "city_federation", "nonsense"}
    values, errors = parse_round_form(data, kinds, {9, 3})
    assert errors == {}
    assert values["unit_kinds"] == ["county_federation", "municipal_grassroots_union"]
    assert values["trainings"] == [3, 9]
    assert values["deadline"] == date(2023, 12, 31) and values["credit_year"] == 2023
    _, errors = parse_round_form(
        {"title": "", "doc_number": "号" * 61, "deadline": "明天", "credit_year": "今年"},
        {"city_federation"},
        set(),
    )
    assert set(errors) == {"title", "doc_number", "unit_kinds", "deadline", "credit_year"}
    _, errors = parse_round_form(
        {**data, "title": "题" * 201, "note": "注" * 1001}, {"zone_union"}, set()
    )
    assert set(errors) == {"title", "note"}


def test_frozen_and_days_left():
    assert frozen("/1/2/", ["/1/2/"])
    assert frozen("/1/2/7/", ["/1/5/", "/1/2/"])
    assert not frozen("/1/22/", ["/1/2/"])  # a sibling whose id begins the same
    assert not frozen("/1/", ["/1/2/"])  # the unit above a submitted one
    assert not frozen("/1/2/", [])
    assert days_left(date(2023, 12, 31), date(2023, 12, 1)) == 30
    assert days_left(date(2023, 12, 1), date(2023, 12, 3)) == -2


def test_figures_survive_their_json():
    items = (
        ActivityItem(
            date(2023, 11, 2),
            "study",
            "研讨会",
            "研讨会",
            "会议室",
            25,
            "李老师",
            "交流",
            "解放区总工会",
            2,
        ),
        ActivityItem(date(2023, 11, 9), "lecture", "", "宣讲", "", 0, "", "", "解放区人民医院工会"),
    )
    lines = (
        TrainingFigures("special", 1, 4, 2, 3, 225.5),
        TrainingFigures("rotation", 1, 3, 2, 2, 158.0),
    )
    figures = ReportFigures(
        unit_name="解放区总工会",
        unit_kind="county_federation",
        round_title=NOTICE,
        doc_number=DOC_NUMBER,
        as_of=date(2023, 12, 1),
        trainings=(*lines, TrainingFigures("", 2, 7, 4, 5, 383.5)),
        organised=1,
        credit_year=2023,
        cadres=4,
        credit_hours=72.25,
        meeting_requirement=2,
        requirement_set=True,
        activities=activity_figures(items),
        items=items,
    )
    text = figures.to_json()
    assert "解放区总工会" in text  # kept readable
    back = ReportFigures.from_json(text)
    assert back == figures
    assert isinstance(back.as_of, date) and isinstance(back.items[0].held_on, date)
    assert back.activity("study") == ActivityFigures("study", 1, 25, {"研讨会": 1})
    assert back.activity("lecture").by_form == {"其他": 1}
    assert back.total.average_score == 76.7 and back.average_hours == 18.1
    assert back.to_json() == text


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims its size and has no pixels to speak of."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20000, 8000])
def test_a_picture_with_too_many_pixels_is_refused_before_decoding(side):
    with pytest.raises(PhotoRefused, match="像素太多"):
        prepare_photo(_png_header(side, side))


@pytest.mark.parametrize(
    "content",
    [b"", b"not a picture at all", b"%PDF-1.4", _jpeg(200, 100)[:300]],
    ids=["empty", "text", "pdf", "truncated-jpeg"],
)
def test_what_is_not_a_picture_is_refused(content):
    with pytest.raises(PhotoRefused, match=r"照片.*JPG 或 PNG"):
        prepare_photo(content)


def test_a_transparent_png_becomes_a_small_jpeg_on_white():
    image = Image.new("RGBA", (3200, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    photo = prepare_photo(out.getvalue())
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.format == "JPEG" and (photo.width, photo.height) == stored.size == (1600, 50)
    assert min(stored.convert("RGB").getpixel((10, 10))) > 240


async def test_a_unit_admin_home_says_what_is_due_until_it_is_submitted(client, world):
    await login(client, "jf-admin")
    home = _text((await client.get("/")).text)
    assert "学习贯彻情况报送：还有 20 天截止" in home
    assert "解放区总工会：未报送 ›" in home
    submitted = await post_form(client, _report_url(world, "jiefang", "submit"))
    assert submitted.status_code in REDIRECT
    home = _text((await client.get("/")).text)
    assert "学习贯彻情况报送" not in home and "解放区总工会：" not in home


# ------------------------------------------------------------------------------ hard cases


async def test_text_pasted_with_control_characters_still_makes_a_draft(client, world):
    """Word pastes vertical tabs and form feeds; no .docx can hold them."""
    await login(client, "jf-admin")
    made = await _add_entry_by_form(
        client, world, title="学习会\x0b第一场\x0c", summary="第一段\x0b第二段\r\n第三段"
    )
    entry = _activity_id(made)
    row = (
        await WorkActivity.select(WorkActivity.title, WorkActivity.summary)
        .where(WorkActivity.id == entry)
        .first()
    )
    assert row == {"title": "学习会第一场", "summary": "第一段第二段\n第三段"}
    draft = await client.get(_report_url(world, "jiefang", "draft.docx"))
    assert draft.status_code == 200
    assert "学习会第一场" in "\n".join(_docx(draft.content)[0])
    submitted = await post_form(client, _report_url(world, "jiefang", "submit"))
    assert submitted.status_code in REDIRECT


async def test_two_submits_at_once_make_one_submission(client, world):
    """A double tap on 报送 on a slow phone: one submission, one audit event, no error."""
    from app.unit_reports.submission import submit_report

    round_row = await ReportRound.select().where(ReportRound.id == world.round_id).first()
    unit = {"id": world.units["jiefang"].id, "name": "解放区总工会", "kind": "county_federation"}
    unit["path"] = world.units["jiefang"].path
    admin = world.people["jiefang_admin"].id
    results = await asyncio.gather(
        submit_report(round_row, unit, admin), submit_report(round_row, unit, admin)
    )
    assert sorted(results) == [False, True]
    assert await UnitReport.count().where(UnitReport.unit == unit["id"]) == 1
    events = await AuditEvent.count().where(AuditEvent.action == "unit_report.submit")
    assert events == 1


async def test_a_return_keeps_what_was_submitted_and_needs_an_open_round(client, world):
    await login(client, "jf-admin")
    await _add_entry_by_form(client, world, title="专题学习会", participants="30")
    assert (await post_form(client, _report_url(world, "jiefang", "submit"))).status_code in (
        REDIRECT
    )
    submitted = await UnitReport.select().where(UnitReport.unit == world.units["jiefang"].id)
    await login(client, "admin")
    # Closed: a return would leave the unit unable to submit again.
    closed = await post_form(client, f"/reporting/{world.round_id}/close", {"action": "close"})
    assert closed.status_code in REDIRECT
    again = await post_form(client, f"/reporting/{world.round_id}/close", {"action": "close"})
    assert again.status_code in REDIRECT
    row = (
        await ReportRound.select(ReportRound.closed_at)
        .where(ReportRound.id == world.round_id)
        .first()
    )
    assert row["closed_at"] is not None, "closing twice reopened the round"
    refused = await post_form(client, _report_url(world, "jiefang", "return"), {"note": "请补充"})
    assert refused.status_code == 409 and "这次报送已经结束" in refused.text
    await post_form(client, f"/reporting/{world.round_id}/close", {"action": "reopen"})

    returned = await post_form(
        client, _report_url(world, "jiefang", "return"), {"note": "请补充落地见效"}
    )
    assert returned.status_code in REDIRECT
    kept = await ReturnedReport.select().where(ReturnedReport.report == submitted[0]["id"])
    assert len(kept) == 1
    assert kept[0]["figures"] == submitted[0]["figures"] != ""
    assert bytes(kept[0]["document"]) == bytes(submitted[0]["document"])
    assert kept[0]["note"] == "请补充落地见效"
    page = (await client.get(_report_url(world, "jiefang"))).text
    assert "退回记录" in _text(page) and "请补充落地见效" in _text(page)
    link = re.search(r'href="(/reporting/[^"]*/returned/\d+/report\.docx)"', page)
    assert link, "no link to the returned submission"
    again = await client.get(link.group(1))
    assert again.status_code == 200 and again.content == bytes(submitted[0]["document"])


async def test_a_submitted_unit_stays_listed_when_closed_or_its_kind_is_dropped(client, world):
    await login(client, "jf-admin")
    assert (await post_form(client, _report_url(world, "jiefang", "submit"))).status_code in (
        REDIRECT
    )
    await Unit.update({Unit.active: False}).where(Unit.id == world.units["jiefang"].id)
    await ReportRound.update({ReportRound.unit_kinds: '["industry_union"]'}).where(
        ReportRound.id == world.round_id
    )
    await login(client, "admin")
    status = _text((await client.get(f"/reporting/{world.round_id}")).text)
    assert "解放区总工会" in status
    document = await client.get(_report_url(world, "jiefang", "report.docx"))
    assert document.status_code == 200
    rollup = await client.get(f"/reporting/{world.round_id}/rollup.xlsx")
    _, rows, _ = _rollup_rows(rollup.content)
    assert rows["解放区总工会"][3] == "已报送"


async def test_odd_digits_in_the_round_form_are_not_a_500(client, world):
    await login(client, "admin")
    response = await post_form(
        client,
        "/reporting/rounds/new",
        {
            "title": "测试通知",
            "unit_kinds": "county_federation",
            "deadline": "2030-01-01",
            "credit_year": "2026",
            "trainings": "²",
        },
    )
    assert response.status_code in REDIRECT
    row = (
        await ReportRound.select(ReportRound.trainings)
        .where(ReportRound.title == "测试通知")
        .first()
    )
    assert row["trainings"] == "[]"


async def test_editing_an_entry_of_a_closed_unit_keeps_its_unit(client, world):
    entry = await _entry(world.round_id, world.units["jiefang_g"], "study", "", "医院学习会", 10)
    await Unit.update({Unit.active: False}).where(Unit.id == world.units["jiefang_g"].id)
    await login(client, "jf-admin")
    page = (await client.get(f"/reporting/activities/{entry.id}")).text
    assert f'value="{world.units["jiefang_g"].id}" selected' in page
    saved = await post_form(
        client,
        f"/reporting/activities/{entry.id}",
        {
            "unit": str(world.units["jiefang_g"].id),
            "kind": "study",
            "held_on": entry.held_on.isoformat(),
            "title": "医院学习会（改）",
            "participants": "10",
        },
    )
    assert saved.status_code in REDIRECT
    row = (
        await WorkActivity.select(WorkActivity.unit, WorkActivity.title)
        .where(WorkActivity.id == entry.id)
        .first()
    )
    assert row == {"unit": world.units["jiefang_g"].id, "title": "医院学习会（改）"}
