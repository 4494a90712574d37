"""Trainers' quiz pages: the list with counts, the editor, attempts, statistics, page leaves."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.quizzes.admin import QUIZ_FIELDS, clean_form, form_of, quiz_problems
from app.quizzes.answering import finish_attempt, save_responses
from app.quizzes.core import correct_response, paper_of
from app.quizzes.definitions import load_quiz, start_attempt
from app.quizzes.stats import absences, band_label, question_rates, score_bands
from app.tables import Attempt, AuditEvent, Bank, QuestionVersion, Quiz
from tests.conftest import login, make_user, post_form

QUIZ = "xuexi-daodu-quiz"
BANK = "xuexi-daodu"


def wrong_response(item) -> tuple[str, ...]:
    if item.type in ("single", "multiple"):
        letters = "ABCDEFGH"[: len(item.options)]
        return (next(letter for letter in letters if letter not in item.answer),)
    if item.type == "true_false":
        return ("错",) if item.answer == ("对",) else ("对",)
    return tuple("不对" for _ in item.blanks)


async def finished(user, right=lambda item: True, slug: str = QUIZ, by: str = "cadre") -> int:
    """A finished attempt of `user`, each question answered right or wrong as `right` says."""
    attempt_id = await start_attempt(await load_quiz(slug), user)
    row = await (
        Attempt.select(Attempt.id, Attempt.paper, Attempt.deadline_at, Attempt.account)
        .where(Attempt.id == attempt_id)
        .first()
    )
    responses = {
        item.position: correct_response(item) if right(item) else wrong_response(item)
        for item in paper_of(row["paper"])
    }
    await save_responses(row, responses, datetime.now(UTC))
    assert await finish_attempt(attempt_id, by, datetime.now(UTC))
    return attempt_id


async def items_of(attempt_id: int):
    row = await Attempt.select(Attempt.paper).where(Attempt.id == attempt_id).first()
    return paper_of(row["paper"])


def row_of(html: str, marker: str) -> str:
    """The table row containing `marker`."""
    start = html.index(marker)
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def numbers(row: str) -> list[str]:
    return re.findall(r'<td class="num[^"]*">([^<]*)', row)


def post_data(form: dict) -> dict:
    """The editor's form as a browser posts it (checkboxes only when ticked)."""
    data = {key: value for key, value in form.items() if isinstance(value, str)}
    data.update({key: "1" for key, value in form.items() if value is True})
    for n, rule in enumerate(form["rules"], start=1):
        data.update(
            {
                f"rule_{n}_type": rule["type"],
                f"rule_{n}_count": rule["count"],
                f"rule_{n}_points": rule["points"],
                f"rule_{n}_banks": rule["banks"],
                f"rule_{n}_source_refs": rule["source_refs"],
            }
        )
    return data


NEW_SLUG = "duo-xuanti-zhuanxiang-lianxi"  # made from the title
NEW_QUIZ = {
    "title": "多选题专项练习",
    "module": BANK,
    "time_limit_minutes": "30",
    "full_marks": "100",
    "pass_mark": "60",
    "max_attempts": "0",
    "counted_attempt": "highest",
    "review": "answers",
    "shuffle_questions": "1",
    "rule_1_type": "multiple",
    "rule_1_count": "50",
    "rule_1_points": "2",
    "rule_1_banks": [BANK],
}


@pytest.fixture
async def trainer(client, people, content):
    await login(client, "trainer")
    return client


async def test_the_list_counts_finished_attempts_per_quiz(trainer, people):
    await finished(people["cadre"])
    await finished(people["other_cadre"], right=lambda item: False)
    await start_attempt(await load_quiz(QUIZ), people["cadre"])  # a second one, in progress
    page = await trainer.get("/admin/quizzes")
    assert page.status_code == 200
    assert "新建测验" in page.text and "/admin/quizzes/new" in page.text
    row = row_of(page.text, f"/admin/quizzes/{QUIZ}/edit")
    assert "学习导读 单元测验" in row and "已发布" in row
    # 题数, 总分, 限时, 及格分, 交卷次数 (with those in progress), 参加人数, 合格人数, 平均分
    assert numbers(row) == ["10", "100", "20 分钟", "80", "2", "2", "1", "50.0"]
    assert "作答中 1" in row
    untouched = row_of(page.text, "/admin/quizzes/final-exam/edit")
    assert numbers(untouched)[4:] == ["0", "0", "0", "—"]


async def test_a_rule_the_banks_cannot_fill_blocks_publishing_but_not_saving(trainer):
    have = await QuestionVersion.count().where(
        QuestionVersion.is_current.eq(True),
        QuestionVersion.type == "multiple",
        QuestionVersion.question.bank.slug == BANK,
        QuestionVersion.question.active.eq(True),
    )
    assert 0 < have < 50
    refused = await post_form(trainer, "/admin/quizzes/new", {**NEW_QUIZ, "published": "1"})
    assert refused.status_code == 400
    assert (
        f"规则 1（多选，题库：{BANK}）需要 50 题，题库中只有 {have} 题，还差 {50 - have} 题。"
        in (refused.text)
    )
    assert "不能发布" in refused.text
    assert 'value="多选题专项练习"' in refused.text  # what was typed is kept
    assert not await Quiz.exists().where(Quiz.slug == NEW_SLUG)

    saved = await post_form(
        trainer, "/admin/quizzes/new", {**NEW_QUIZ, "opens_at": "2024-03-01T08:00"}
    )
    assert saved.status_code in (302, 303), saved.text
    row = await Quiz.select().where(Quiz.slug == NEW_SLUG).first()
    assert row["published"] is False and row["pass_mark"] == 60 and row["time_limit_minutes"] == 30
    assert await AuditEvent.exists().where(AuditEvent.action == "quiz.create")
    assert row["opens_at"] == datetime(2024, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing time
    edit = await trainer.get(f"/admin/quizzes/{NEW_SLUG}/edit")
    assert f"还差 {50 - have} 题" in edit.text and 'value="2024-03-01T08:00"' in edit.text
    url = f"/admin/quizzes/{NEW_SLUG}/edit"
    again = await post_form(trainer, url, {**NEW_QUIZ, "opens_at": "2024-03-01T08:00"})
    assert again.status_code in (302, 303)
    assert not await AuditEvent.exists().where(AuditEvent.action == "quiz.update")  # no change
    assert (await trainer.get(f"/quizzes/{NEW_SLUG}")).status_code == 404

    fixed = {**NEW_QUIZ, "rule_1_count": str(have), "published": "1"}
    published = await post_form(trainer, url, fixed)
    assert published.status_code in (302, 303), published.text
    assert (await Quiz.select(Quiz.published).where(Quiz.slug == NEW_SLUG).first())[
        "published"
    ] is True


async def test_checking_the_rules_shows_the_total_and_saves_nothing(trainer):
    data = {**NEW_QUIZ, "rule_1_count": "5", "rule_2_type": "true_false"}
    data.update({"rule_2_count": "10", "rule_2_points": "5", "action": "check"})
    page = await post_form(trainer, "/admin/quizzes/new", data)
    assert page.status_code == 200
    assert "共 <strong>15</strong> 题，卷面总分 <strong>60</strong> 分" in page.text
    assert not await Quiz.exists().where(Quiz.slug == NEW_SLUG)


async def test_editing_the_pass_mark_changes_only_it(trainer):
    quiz = await Quiz.select(*QUIZ_FIELDS).where(Quiz.slug == QUIZ).first()
    page = await trainer.get(f"/admin/quizzes/{QUIZ}/edit")
    assert page.status_code == 200
    assert "peixun init" in page.text and "xuexi-daodu-quiz.yaml" in page.text
    form = form_of(quiz)
    saved = await post_form(
        trainer, f"/admin/quizzes/{QUIZ}/edit", post_data({**form, "pass_mark": "60"})
    )
    assert saved.status_code in (302, 303), saved.text
    after = await Quiz.select().where(Quiz.slug == QUIZ).first()
    assert after["pass_mark"] == 60
    assert after["rules"] == quiz["rules"] and after["published"] is True
    event = await AuditEvent.select().where(AuditEvent.action == "quiz.update").first()
    assert event["summary"] == "修改测验“学习导读 单元测验”的及格分"


async def test_bad_input_names_the_field_and_saves_nothing(trainer):
    before = await Quiz.count()
    data = {
        **NEW_QUIZ,
        "title": "",
        "pass_mark": "120",
        "time_limit_minutes": "半小时",
        "opens_at": "2024-02-30T08:00",
        "rule_1_count": "0",
        "rule_2_type": "single",
    }
    response = await post_form(trainer, "/admin/quizzes/new", data)
    assert response.status_code == 400
    for message in (
        "请填写测验名称",
        "及格分不能高于满分（100）",
        "限时应为 0 到 1440 之间的整数",
        "开始时间“2024-02-30T08:00”不是有效的日期时间",
        "规则 1 的题数应为 1 到 300 之间的整数",
        "规则 2 的题数",
        "规则 2 的每题分值",
    ):
        assert message in response.text, message
    assert 'value="半小时"' in response.text
    assert await Quiz.count() == before


def test_the_form_validation_is_pure_and_converts_beijing_time():
    form = clean_form({**NEW_QUIZ, "opens_at": "2024-03-01T08:00", "closes_at": "2024-03-01 20:30"})
    values, errors = quiz_problems(form, module_slugs={BANK}, bank_slugs={BANK})
    assert errors == {}
    assert values["opens_at"] == datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    assert values["closes_at"] == datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    assert values["rules"][0].banks == (BANK,) and values["rules"][0].count == 50
    backwards = clean_form(
        {**NEW_QUIZ, "opens_at": "2024-03-02T08:00", "closes_at": "2024-03-01T08:00"}
    )
    _, errors = quiz_problems(backwards, module_slugs=set(), bank_slugs=set())
    assert errors["closes_at"] == "结束时间应晚于开始时间。"
    assert errors["module"] and "不存在" in errors["rule_1_banks"]


async def test_the_attempts_page_filters_by_unit_subtree(trainer, people, tree):
    deeper = await make_user("13800000003", tree["zhongzhan_g"], "cadre", "吴学员")
    await finished(people["cadre"])
    await finished(people["other_cadre"], right=lambda item: False)
    await finished(deeper, right=lambda item: False)
    everyone = await trainer.get(f"/admin/quizzes/{QUIZ}/attempts")
    assert everyone.status_code == 200
    assert all(name in everyone.text for name in ("孙学员", "周学员", "吴学员"))
    county = await trainer.get(f"/admin/quizzes/{QUIZ}/attempts?unit={tree['zhongzhan'].id}")
    assert "周学员" in county.text and "吴学员" in county.text and "孙学员" not in county.text
    assert "符合筛选条件的共 <strong>2</strong> 条" in county.text
    passed = await trainer.get(f"/admin/quizzes/{QUIZ}/attempts?passed=yes")
    assert "孙学员" in passed.text and "周学员" not in passed.text
    running = await trainer.get(f"/admin/quizzes/{QUIZ}/attempts?status=in_progress")
    assert "没有符合条件的答题记录" in running.text


async def test_distribution_and_question_rates_reflect_the_answers(trainer, people, tree):
    good = await finished(people["cadre"])
    # Five of ten wrong lose at least 40 of the 100 points, whatever the draw.
    bad = await finished(people["other_cadre"], right=lambda item: item.position > 5)
    expected: dict[str, list[int]] = {}
    for attempt_id, wrong in ((good, set()), (bad, {1, 2, 3, 4, 5})):
        for item in await items_of(attempt_id):
            seen = expected.setdefault(item.key, [0, 0])
            seen[0] += 1
            seen[1] += item.position not in wrong
    quiz = await Quiz.select(Quiz.id).where(Quiz.slug == QUIZ).first()
    rates = await question_rates(quiz["id"], None)
    assert {r["key"]: [r["answered"], r["right"]] for r in rates} == expected
    missed = {item.key for item in await items_of(bad) if item.position <= 5}
    assert {r["key"] for r in rates[:5]} == missed and rates[5]["rate"] == 1
    bands = await score_bands(quiz["id"], 100, None)
    assert [b.label for b in bands][:2] == ["0–9", "10–19"] and bands[-1].label == "90–100"
    assert bands[-1].count == 1 and sum(b.count for b in bands) == 2
    only_other = await score_bands(quiz["id"], 100, tree["zhongzhan"].path)
    assert sum(b.count for b in only_other) == 1 and only_other[-1].count == 0

    page = await trainer.get(f"/admin/quizzes/{QUIZ}/attempts")
    assert "90–100 分 1 人次" in page.text and '<rect x="94"' in page.text
    lowest = rates[0]
    link = f'href="/banks/{BANK}/questions/{lowest["key"]}"'
    assert link in page.text
    row = row_of(page.text, link)
    assert numbers(row) == [
        str(lowest["answered"]),
        str(lowest["right"]),
        f"{lowest['rate'] * 100:.0f}%",
    ]
    assert 'style="' not in page.text


async def test_page_leaves_appear_in_the_log_with_their_times(client, people, content):
    await login(client, "13800000001")
    attempt_id = await start_attempt(await load_quiz(QUIZ), people["cadre"])
    for kind in ("leave", "return", "leave"):
        response = await post_form(client, f"/attempts/{attempt_id}/events", {"kind": kind})
        assert response.status_code == 204
    assert await finish_attempt(attempt_id, "cadre", datetime.now(UTC))
    await post_form(client, "/logout")
    await login(client, "trainer")
    page = await client.get(f"/admin/quizzes/{QUIZ}/attempts")
    log = page.text[page.text.index("离开答题页面记录") :]
    row = row_of(log, "孙学员")
    assert numbers(row)[0] == "2" and f"/admin/attempts/{attempt_id}" in row
    detail = await client.get(f"/admin/attempts/{attempt_id}")
    assert detail.status_code == 200
    assert "未返回" in detail.text and detail.text.count('<td class="nowrap">') == 4
    assert f"/attempts/{attempt_id}/result" in detail.text and "2 次" in detail.text


def test_leaves_and_returns_pair_into_absences():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    events = [
        {"kind": "leave", "created_at": t},
        {"kind": "return", "created_at": t + timedelta(seconds=75)},
        {"kind": "leave", "created_at": t + timedelta(seconds=90)},
        {"kind": "leave", "created_at": t + timedelta(seconds=95)},
    ]
    periods = absences(events)
    assert [p.seconds for p in periods] == [75, None, None]
    assert periods[2].left_at == t + timedelta(seconds=95)
    assert band_label(90, 100, True) == "90–100" and band_label(0, 10, False) == "0–9"


async def test_deactivating_hides_the_quiz_from_cadres(trainer, people):
    response = await post_form(trainer, f"/admin/quizzes/{QUIZ}/deactivate")
    assert response.status_code in (302, 303)
    assert (await Quiz.select(Quiz.active).where(Quiz.slug == QUIZ).first())["active"] is False
    listing = await trainer.get("/admin/quizzes")
    assert "已停用" in row_of(listing.text, f"/admin/quizzes/{QUIZ}/edit")
    await post_form(trainer, "/logout")
    await login(trainer, "13800000001")
    assert (await trainer.get(f"/quizzes/{QUIZ}")).status_code == 404


@pytest.mark.parametrize("account", ["13800000001", "jf-admin"])
async def test_cadres_and_unit_admins_are_refused(client, people, content, account):
    attempt_id = await finished(people["other_cadre"])
    await login(client, account)
    for url in (
        "/admin/quizzes",
        "/admin/quizzes/new",
        f"/admin/quizzes/{QUIZ}/edit",
        f"/admin/quizzes/{QUIZ}/attempts",
        f"/admin/attempts/{attempt_id}",
    ):
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "没有权限" in response.text and "周学员" not in response.text
    refused = await post_form(client, "/admin/quizzes/new", NEW_QUIZ)
    assert refused.status_code == 403
    assert not await Quiz.exists().where(Quiz.slug == NEW_SLUG)


async def test_federation_staff_see_the_pages_and_the_nav_link(client, people, content):
    await login(client, "admin")
    home = await client.get("/")
    assert 'href="/admin/quizzes">测验管理</a>' in home.text
    assert (await client.get("/admin/quizzes")).status_code == 200
    assert (await client.get("/admin/quizzes/new")).status_code == 200
    assert (await client.get("/admin/attempts/999999")).status_code == 404


async def test_a_new_quiz_gets_its_identifier_from_the_title_and_several_ticked_banks(trainer):
    editor = await trainer.get("/admin/quizzes/new")
    assert 'name="slug"' not in editor.text and "测验标识" not in editor.text
    assert "按住 Ctrl" not in editor.text and 'name="rule_1_banks" multiple' not in editor.text
    assert editor.text.count('type="checkbox" id="rule_1_banks_') == await Bank.count()
    banks = [row["slug"] for row in await Bank.select(Bank.slug).order_by(Bank.slug)][:2]
    data = {**NEW_QUIZ, "rule_1_count": "1", "rule_1_type": "single", "rule_1_banks": banks}
    first = await post_form(trainer, "/admin/quizzes/new", data)
    second = await post_form(trainer, "/admin/quizzes/new", data)
    assert first.status_code in (302, 303) and second.status_code in (302, 303)
    made = await Quiz.select(Quiz.slug, Quiz.rules).where(Quiz.title == NEW_QUIZ["title"])
    assert sorted(row["slug"] for row in made) == [NEW_SLUG, f"{NEW_SLUG}-2"]
    assert json.loads(made[0]["rules"])[0]["banks"] == banks  # both ticked banks kept
    listed = await trainer.get("/admin/quizzes")
    assert NEW_QUIZ["title"] in listed.text and f">{NEW_SLUG}<" not in listed.text
    edit = await trainer.get(f"/admin/quizzes/{NEW_SLUG}/edit")
    for slug in banks:
        assert re.search(rf'name="rule_1_banks" value="{slug}" checked', edit.text)
    # A bank in a rule that no longer exists is shown, ticked, to untick.
    gone = {**data, "rule_1_banks": [*banks, "no-such-bank"]}
    refused = await post_form(trainer, f"/admin/quizzes/{NEW_SLUG}/edit", gone)
    assert refused.status_code == 400
    assert 'value="no-such-bank" checked> no-such-bank（不存在，请取消勾选）' in refused.text
