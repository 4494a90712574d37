"""Trainers keep the question banks in the browser: lists, filters, coverage, writing and
editing questions beside a live preview, versions, statistics, imports and exports."""

from __future__ import annotations

import asyncio
import io
import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from app.banks.editor_form import form_of, question_from_form
from app.banks.gift import gift_export_problem, parse_gift
from app.banks.model import Question
from app.banks.own_format import parse_bank
from app.banks.pages import question_stats
from app.banks.store import current_questions, load_bank_dir, save_question
from app.banks.xlsx import COLUMNS, parse_xlsx, template_xlsx
from app.course.lessons import read_course_dir, sync_course
from app.settings import get_settings
from app.tables import (
    Answer,
    Attempt,
    AuditEvent,
    Bank,
    Module,
    QuestionVersion,
    Upload,
)
from app.tables import Question as QuestionRow
from tests.conftest import login, make_user, post_form

MOODLE_EXAMPLES = Path(__file__).parents[2] / "shared" / "fixtures" / "moodle-gift-examples.txt"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AIKEN = """中国工会第十八次全国代表大会于哪一年召开？
A. 2022年
B. 2023年
C. 2024年
ANSWER: B

工会会员大会的职权包括？
A. 任命经理
B. 选举工会委员会
ANSWER: B
"""
PASTED = "一、单项选择题\n1. 中国工会第十八次全国代表大会于（ B ）召开。\nA. 2022年\nB. 2023年\n"


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
async def shipped(people):
    """The shipped course and question banks, as `peixun init` loads them."""
    settings = get_settings()
    await sync_course(read_course_dir(settings.course_dir))
    await load_bank_dir(settings.question_bank_dir)


async def bank_id(slug: str) -> int:
    return (await Bank.select(Bank.id).where(Bank.slug == slug).first())["id"]


async def versions_of(slug: str, key: str) -> list[dict]:
    return await (
        QuestionVersion.select()
        .where(QuestionVersion.question.bank.slug == slug, QuestionVersion.question.key == key)
        .order_by(QuestionVersion.version)
    )


async def upload(client, *, file=None, **fields):
    """POST the import form as a browser does; `file` is (name, bytes, media type)."""
    if not client.cookies.get("csrftoken"):
        await client.get("/banks/import")
    data = {"format": "auto", "bank": "", **fields, "_csrf_token": client.cookies["csrftoken"]}
    files = {"file": file} if file else {"file": ("", b"", "application/octet-stream")}
    return await client.post("/banks/import", data=data, files=files)


async def preview_of_upload(client, **kwargs) -> tuple[str, str]:
    response = await upload(client, **kwargs)
    assert response.status_code in (302, 303), text_of(response.text)
    url = response.headers["location"]
    assert re.match(r"/banks/import/\d+\?", url)
    page = await client.get(url)
    assert page.status_code == 200
    return url, page.text


_CONFIRM = re.compile(r'<form method="post" action="(/banks/import/\d+\?[^"]*)"')


def can_confirm(page: str) -> bool:
    return bool(_CONFIRM.search(page))


def confirm_url(page: str) -> str:
    found = _CONFIRM.search(page)
    assert found, "no 确认导入 button"
    return unescape(found.group(1))


# ---------------------------------------------------------------- who may see the banks


async def test_cadres_and_unit_admins_cannot_open_the_banks(client, people):
    for username in ("13800000001", "jf-admin"):
        await login(client, username)
        for url in ("/banks", "/banks/import", "/banks/template.xlsx"):
            response = await client.get(url)
            assert response.status_code == 403, url
            assert "没有权限" in response.text
        assert 'href="/banks"' not in (await client.get("/")).text
        await post_form(client, "/logout")
    await login(client, "trainer")
    home = await client.get("/")
    assert 'href="/banks"' in home.text  # in the menu and on the trainer's home


# ---------------------------------------------------------------- the list and a bank


async def test_the_list_counts_active_questions_by_type_and_deactivating_hides_one(client, shipped):
    await login(client, "trainer")
    page = await client.get("/banks")
    assert page.status_code == 200
    row = re.search(
        r'<tr>\s*<td><a href="/banks/xuexi-daodu">学习导读题库</a>.*?</tr>', page.text, re.S
    )
    assert row, "no row for 学习导读题库"
    counts = [int(n) for n in re.findall(r'<td class="num">(?:<strong>)?(\d+)', row.group(0))]
    questions = (await current_questions(await bank_id("xuexi-daodu"))).values()
    by_type = [
        sum(1 for q in questions if q.type == t)
        for t in ("single", "multiple", "true_false", "fill_blank")
    ]
    assert counts == [*by_type, len(questions), 0]

    done = await post_form(client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/deactivate")
    assert done.status_code in (302, 303)
    shown = await client.get(done.headers["location"])
    assert "已停用第 1 题" in text_of(shown.text)
    row = re.search(
        r'<tr>\s*<td><a href="/banks/xuexi-daodu">.*?</tr>', (await client.get("/banks")).text, re.S
    )
    after = [int(n) for n in re.findall(r'<td class="num">(?:<strong>)?(\d+)', row.group(0))]
    assert after == [by_type[0] - 1, *by_type[1:], len(questions) - 1, 1]
    assert await AuditEvent.count().where(AuditEvent.action == "question.deactivate") == 1
    # Still in the bank, listed among the inactive ones, and back when reactivated.
    inactive = await client.get("/banks/xuexi-daodu?status=inactive")
    assert "xuexi-daodu-001" in inactive.text and "共 1 道" in text_of(inactive.text).replace(
        "符合条件的题目", ""
    )
    await post_form(client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/activate")
    active = await QuestionRow.select(QuestionRow.active).where(
        QuestionRow.key == "xuexi-daodu-001"
    )
    assert active == [{"active": True}]


async def test_pages_name_questions_by_their_number_in_the_bank(client, shipped):
    await login(client, "trainer")
    page = await client.get("/banks/xuexi-daodu")
    links = re.findall(r'<a href="/banks/xuexi-daodu/questions/([^"/]+)">([^<]+)</a>', page.text)
    assert links[:3] == [(f"xuexi-daodu-00{n}", f"第 {n} 题") for n in (1, 2, 3)]
    question = text_of((await client.get("/banks/xuexi-daodu/questions/xuexi-daodu-002")).text)
    assert "第 2 题" in question and "题目 xuexi-daodu-002" not in question
    assert "文件中的题号： xuexi-daodu-002" in question  # the one place a file needs it
    editor = text_of((await client.get("/banks/xuexi-daodu/questions/xuexi-daodu-002/edit")).text)
    assert "修改第 2 题" in editor
    # Deactivated questions keep their number and the ones after them keep theirs.
    await post_form(client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/deactivate")
    page = await client.get("/banks/xuexi-daodu")
    assert re.findall(r'questions/xuexi-daodu-002">([^<]+)<', page.text) == ["第 2 题"]


async def test_a_bank_lists_its_questions_with_filters(client, shipped):
    await login(client, "trainer")
    questions = (await current_questions(await bank_id("xuexi-daodu"))).values()

    async def shown(query: str) -> list[str]:
        page = await client.get(f"/banks/xuexi-daodu?{query}")
        assert page.status_code == 200
        return re.findall(r'<a href="/banks/xuexi-daodu/questions/([^"/]+)">', page.text)

    assert await shown("") == [q.key for q in questions]
    assert await shown("type=fill_blank") == [q.key for q in questions if q.type == "fill_blank"]
    assert await shown("ref=导语&difficulty=1") == [
        q.key for q in questions if q.source_ref == "导语" and q.difficulty == 1
    ]
    assert await shown("tag=时间") == [q.key for q in questions if "时间" in q.tags]
    assert await shown("q=十八次") == [q.key for q in questions if "十八次" in q.stem]
    assert await shown("q=100%25_") == []  # LIKE wildcards are taken literally
    assert await shown("status=inactive") == []
    page = await client.get("/banks/xuexi-daodu?page=99&type=bogus&status=bogus")
    assert page.status_code == 200
    for download in (
        "/banks/xuexi-daodu/export.md",
        "/banks/xuexi-daodu/export.gift.txt",
        "/banks/xuexi-daodu/export.xlsx",
        "/banks/xuexi-daodu/coverage",
    ):
        assert f'href="{download}"' in page.text
    assert (await client.get("/banks/no-such-bank")).status_code == 404
    question = await client.get("/banks/xuexi-daodu/questions/no-such-key")
    assert question.status_code == 404 and "没有题号为“no-such-key”的题目" in question.text


async def test_trainer_creates_an_empty_bank_by_its_title_alone(client, shipped):
    await login(client, "trainer")
    form = await client.get("/banks")
    assert 'name="slug"' not in form.text and "题库标识" not in form.text  # nothing to type
    bad = await post_form(client, "/banks", {"title": "", "module": "x"})
    assert bad.status_code == 400
    shown = text_of(bad.text)
    assert "请填写题库名称" in shown and "没有这个课程模块" in shown
    assert not await AuditEvent.exists().where(AuditEvent.action == "bank.create")
    made = await post_form(client, "/banks", {"title": "学习导读题库", "module": "xuexi-daodu"})
    assert made.headers["location"] == "/banks/xuexi-daodu-tiku"  # pinyin of the title
    page = await client.get("/banks/xuexi-daodu-tiku")
    assert "已新建题库“学习导读题库”" in text_of(page.text)
    assert "学习导读" in text_of(page.text)  # the module's title
    assert "文件中的标识：<code>xuexi-daodu-tiku</code>" in page.text  # where files need it
    bank = await Bank.select(Bank.title, Bank.module.slug).where(Bank.slug == "xuexi-daodu-tiku")
    assert bank == [{"title": "学习导读题库", "module.slug": "xuexi-daodu"}]
    again = await post_form(client, "/banks", {"title": "学习导读题库"})
    third = await post_form(client, "/banks", {"title": "学习导读 题库"})
    assert again.headers["location"] == "/banks/xuexi-daodu-tiku-2"
    assert third.headers["location"] == "/banks/xuexi-daodu-tiku-3"
    # An explicit identifier in the form is not read: the title makes it.
    posted = await post_form(client, "/banks", {"slug": "my-code", "title": "测试"})
    assert posted.headers["location"] == "/banks/ceshi"
    nothing = await post_form(client, "/banks", {"title": "！！！"})
    assert nothing.headers["location"] == "/banks/tiku-1"
    # Reserved words are skipped: "import" is the import page.
    reserved = await post_form(client, "/banks", {"title": "Import"})
    assert reserved.headers["location"] == "/banks/import-2"
    assert await AuditEvent.count().where(AuditEvent.action == "bank.create") == 6
    listed = await client.get("/banks")
    assert "学习导读题库" in listed.text and "xuexi-daodu-tiku" not in text_of(listed.text)


async def test_two_banks_of_one_title_made_at_once_get_different_identifiers(client, shipped):
    await login(client, "trainer")
    await client.get("/banks")
    made = await asyncio.gather(
        *(post_form(client, "/banks", {"title": "同时新建题库"}) for _ in range(3))
    )
    assert sorted(r.headers["location"] for r in made) == [
        "/banks/tongshi-xinjian-tiku",
        "/banks/tongshi-xinjian-tiku-2",
        "/banks/tongshi-xinjian-tiku-3",
    ]


# ---------------------------------------------------------------- writing questions


def test_the_form_gives_back_the_question_it_was_filled_with():
    question = Question(
        key="k-1",
        type="fill_blank",
        stem="第一空 ___，第二空 ___。",
        blanks=(("一/二", "甲"), ("乙",)),
        explanation="解析\n两行",
        source_ref="导语",
        difficulty=2,
        tags=("标签一", "标签二"),
        evidence="原话",
    )
    assert question_from_form(form_of(question), "k-1") == (question, {})
    choice = Question("k-2", "multiple", "题干", ("甲", "乙", "丙"), ("A", "C"))
    assert question_from_form(form_of(choice), "k-2") == (choice, {})
    judged = Question("k-3", "true_false", "题干", answer=("错",))
    assert question_from_form(form_of(judged), "k-3") == (judged, {})


def test_the_form_drops_blank_options_and_names_every_problem():
    form = {
        "type": "single",
        "stem": "题干",
        "option_A": "甲",
        "option_C": "丙",
        "correct_C": "1",
        "tags": "a，b、a",
    }
    question, errors = question_from_form(form, "k")
    assert errors == {}
    assert (question.options, question.answer, question.tags) == (("甲", "丙"), ("B",), ("a", "b"))
    _, errors = question_from_form({**form, "correct_E": "1"}, "k")
    assert errors == {"answer": "答案“E”不在选项中：选项 E 没有填写。"}
    _, errors = question_from_form({"type": "multiple", "stem": " ", "option_A": "甲"}, "k")
    assert set(errors) == {"stem", "options", "answer"}
    _, errors = question_from_form(
        {"type": "fill_blank", "stem": "一空 ___", "blanks": "a\nb"}, "k"
    )
    assert errors == {"blanks": "题干中有 1 个空，答案却有 2 行（一行一个空）。"}
    _, errors = question_from_form({"type": "true_false", "stem": "x", "difficulty": "9"}, "k")
    assert set(errors) == {"tf", "difficulty"}
    _, errors = question_from_form({"type": "essay", "stem": "x"}, "k")
    assert errors == {"type": "请选择题型。"}


async def test_editing_adds_version_2_and_leaves_version_1_and_answers_alone(
    client, shipped, people
):
    await login(client, "trainer")
    before = await versions_of("xuexi-daodu", "xuexi-daodu-001")
    assert [v["version"] for v in before] == [1]
    attempt = Attempt(account=people["cadre"].id, status="finished", paper="[]")
    await attempt.save()
    answer = Answer(attempt=attempt.id, position=1, question_version=before[0]["id"], choice="B")
    await answer.save()

    page = await client.get("/banks/xuexi-daodu/questions/xuexi-daodu-001/edit")
    assert page.status_code == 200
    assert 'data-preview-url="/banks/xuexi-daodu/preview"' in page.text
    assert "答案与解析（学员交卷后才能看到）" in page.text
    assert 'src="/static/bank_editor.js" defer' in page.text
    question = (await current_questions(await bank_id("xuexi-daodu")))["xuexi-daodu-001"]
    form = {**form_of(question), "explanation": "新的解析。", "action": "save"}
    saved = await post_form(client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/edit", form)
    assert saved.status_code in (302, 303), text_of(saved.text)
    assert saved.headers["location"] == "/banks/xuexi-daodu/questions/xuexi-daodu-001"
    shown = text_of((await client.get(saved.headers["location"])).text)
    assert "已保存为第 2 版（原来的版本保留，已作答的试卷不受影响）" in shown
    assert "第 2 版（当前版本）" in shown and "新的解析。" in shown
    assert "李培训" in shown and "文件导入" in shown  # who wrote each version

    after = await versions_of("xuexi-daodu", "xuexi-daodu-001")
    assert [(v["version"], v["is_current"]) for v in after] == [(1, False), (2, True)]
    assert {**after[0], "is_current": True} == before[0]  # version 1 as it was
    assert after[1]["explanation"] == "新的解析。"
    assert after[1]["created_by"] == people["trainer"].id
    kept = await Answer.select(Answer.question_version).where(Answer.id == answer.id)
    assert kept == [{"question_version": before[0]["id"]}]

    old = text_of((await client.get(saved.headers["location"] + "?version=1")).text)
    assert "第 1 版（旧版本，只供查看）" in old and question.explanation in old
    assert (await client.get(saved.headers["location"] + "?version=7")).status_code == 404

    # Saving again without a change writes nothing.
    again = await post_form(client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/edit", form)
    assert "没有改动" in text_of((await client.get(again.headers["location"])).text)
    assert len(await versions_of("xuexi-daodu", "xuexi-daodu-001")) == 2


async def test_a_fidelity_warning_is_shown_and_the_save_goes_through(client, shipped):
    await login(client, "trainer")
    await client.get("/banks/xuexi-daodu/questions/xuexi-daodu-001/edit")
    question = (await current_questions(await bank_id("xuexi-daodu")))["xuexi-daodu-001"]
    form = {**form_of(question), "option_A": "2023年10月10日至12日"}
    preview = await post_form(
        client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/edit", {**form, "action": "preview"}
    )
    assert preview.status_code == 200
    assert "答案与原文核对" in text_of(preview.text) and "2023年10月10日至12日" in preview.text
    assert len(await versions_of("xuexi-daodu", "xuexi-daodu-001")) == 1  # a preview saves nothing
    saved = await post_form(
        client, "/banks/xuexi-daodu/questions/xuexi-daodu-001/edit", {**form, "action": "save"}
    )
    assert saved.status_code in (302, 303)
    flash = text_of((await client.get(saved.headers["location"])).text)
    assert "已保存为第 2 版" in flash
    warning = "这道题的正确答案 A“2023年10月10日至12日”在出处“导语”的课文里找不到。请核对答案"
    assert "请注意：答案与原文核对：" + warning in flash


async def test_an_answer_not_among_the_options_is_refused_next_to_the_field(client, shipped):
    await login(client, "trainer")
    new = await client.get("/banks/xuexi-daodu/questions/new")
    assert new.status_code == 200
    assert 'name="key"' not in new.text  # no number to type: the bank's next one
    count = len(await current_questions(await bank_id("xuexi-daodu")))
    key = f"xuexi-daodu-{count + 1:03d}"  # the next free key, for files and URLs
    form = {
        "type": "single",
        "stem": "我写的题干",
        "option_A": "甲",
        "option_B": "乙",
        "correct_E": "1",
        "source_ref": "导语",
        "action": "save",
    }
    refused = await post_form(client, "/banks/xuexi-daodu/questions/new", form)
    assert refused.status_code == 400
    part = re.search(r'data-types="single multiple">.*?</fieldset>', refused.text, re.S).group(0)
    assert 'id="answer-error">答案“E”不在选项中：选项 E 没有填写。' in part
    assert ">我写的题干</textarea>" in refused.text and 'value="乙"' in refused.text  # kept
    assert len(await current_questions(await bank_id("xuexi-daodu"))) == count

    # An error the lint finds (an 出处 that is no lesson) refuses the save too.
    form = {**form, "correct_E": "", "correct_B": "1", "source_ref_other": "第九十九章"}
    refused = await post_form(client, "/banks/xuexi-daodu/questions/new", form)
    assert refused.status_code == 400
    assert "这道题的出处“第九十九章”在题库所属的课程模块" in text_of(refused.text)
    assert len(await current_questions(await bank_id("xuexi-daodu"))) == count

    made = await post_form(
        client, "/banks/xuexi-daodu/questions/new", {**form, "source_ref_other": ""}
    )
    assert made.status_code in (302, 303), text_of(made.text)
    assert made.headers["location"].endswith(f"/questions/{key}")
    assert f"已新建第 {count + 1} 题（第 1 版）" in text_of(
        (await client.get(made.headers["location"])).text
    )
    saved = (await current_questions(await bank_id("xuexi-daodu")))[key]
    assert (saved.options, saved.answer, saved.source_ref) == (("甲", "乙"), ("B",), "导语")


def _card(page: str) -> str:
    return re.search(r'<fieldset class="question".*?</fieldset>', page, re.S).group(0)


async def test_the_live_preview_shows_the_card_without_the_answer(client, shipped):
    await login(client, "trainer")
    await client.get("/banks/xuexi-daodu/questions/new")
    draft = {
        "type": "single",
        "stem": "草稿<b>题干</b>",
        "option_A": "甲",
        "option_B": "乙",
        "correct_B": "1",
        "explanation": "只有交卷后才看到的解析",
        "source_ref": "导语",
    }
    response = await post_form(client, "/banks/xuexi-daodu/preview", draft)
    assert response.status_code in (200, 422)
    card = _card(response.text)
    assert "草稿&lt;b&gt;题干&lt;/b&gt;" in card and "<b>" not in response.text
    assert "checked" not in card and "只有交卷后才看到的解析" not in card
    assert 'value="A"' in card and 'value="B"' in card and "disabled" not in card
    box = response.text[response.text.index("答案与解析（学员交卷后才能看到）") :]
    assert "B. 乙" in box and "只有交卷后才看到的解析" in box
    assert "<html" not in response.text  # a fragment, not a page
    assert await QuestionRow.count().where(QuestionRow.key.like("%草稿%")) == 0

    unfinished = await post_form(client, "/banks/xuexi-daodu/preview", {**draft, "correct_B": ""})
    assert unfinished.status_code == 422
    assert "请勾选正确答案" in text_of(unfinished.text) and _card(unfinished.text)

    garbage = [
        {},
        {"type": "essay", "stem": "x"},
        {"type": "fill_blank", "stem": "没有空", "blanks": "a/b/\n\n|"},
        {"type": "single", "stem": "x" * 100_000, "option_H": "y" * 10_000, "correct_H": "1"},
        {"type": "true_false", "stem": "\x00\x1f题", "tf": "maybe", "difficulty": "-1"},
        {"type": "multiple", "stem": "x", "key": "<script>" * 50, "tags": "、" * 500},
        {"type": ["single", "multiple"], "stem": ["a", "b"], "correct_A": ["1", "1"]},
    ]
    for body in garbage:
        answer = await post_form(client, "/banks/xuexi-daodu/preview", body)
        assert answer.status_code in (200, 422), body
        assert "<script>" not in answer.text
    assert (await post_form(client, "/banks/no-such-bank/preview", draft)).status_code == 404


async def test_questions_and_their_statistics(client, shipped, people):
    row = (
        await QuestionRow.select(QuestionRow.id).where(QuestionRow.key == "xuexi-daodu-001").first()
    )
    assert await question_stats(row["id"]) == {
        "answered": 0,
        "correct": 0,
        "rate": None,
        "wrong_choice": None,
        "wrong_count": 0,
    }
    await login(client, "trainer")
    page = await client.get("/banks/xuexi-daodu/questions/xuexi-daodu-001")
    assert "暂无作答" in text_of(page.text)

    version_1 = (await versions_of("xuexi-daodu", "xuexi-daodu-001"))[0]["id"]
    question = (await current_questions(await bank_id("xuexi-daodu")))["xuexi-daodu-001"]
    await save_question(
        await bank_id("xuexi-daodu"),
        Question(**{**question.__dict__, "explanation": "改过"}),
        None,
        new=False,
    )
    version_2 = (await versions_of("xuexi-daodu", "xuexi-daodu-001"))[1]["id"]

    async def attempt(status="finished", practice=False, answers=()):
        saved = Attempt(account=people["cadre"].id, status=status, practice=practice, paper="[]")
        await saved.save()
        for position, (version, choice, correct) in enumerate(answers, start=1):
            await Answer.insert(
                Answer(
                    attempt=saved.id,
                    position=position,
                    question_version=version,
                    response=json.dumps(list(choice)),
                    choice=choice,
                    correct=correct,
                )
            )

    await attempt(answers=[(version_1, "A", True), (version_1, "C", False)])
    await attempt(answers=[(version_2, "C", False), (version_2, "BD", False)])
    await attempt(status="timed_out", answers=[(version_2, "A", True)])
    await attempt(status="in_progress", answers=[(version_2, "D", False), (version_2, "D", False)])
    await attempt(practice=True, answers=[(version_2, "D", False), (version_2, "D", False)])
    stats = await question_stats(row["id"])
    assert stats == {
        "answered": 5,
        "correct": 2,
        "rate": 0.4,
        "wrong_choice": "C",
        "wrong_count": 2,
    }

    shown = text_of((await client.get("/banks/xuexi-daodu/questions/xuexi-daodu-001")).text)
    assert "作答次数 5" in shown and "答对 2 次（正确率 40%）" in shown
    assert f"最常见的错误选择 C. {question.options[2]}（2 次）" in shown


# ---------------------------------------------------------------- coverage and exports


async def test_coverage_flags_lessons_without_questions(client, shipped):
    await login(client, "trainer")
    await client.get("/banks")
    await post_form(client, "/banks", {"title": "测试题库", "module": "xuexi-daodu"})
    new = Question(
        "ceshi-tiku-001", "true_false", "通知是市总工会发出的。", answer=("对",), source_ref="导语"
    )
    stray = Question(
        "ceshi-tiku-002", "true_false", "另一题。", answer=("对",), source_ref="第九十九章"
    )
    for question in (new, stray):  # the store takes what the editor would refuse
        await save_question(await bank_id("ceshi-tiku"), question, None, new=True)
    page = await client.get("/banks/ceshi-tiku/coverage")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr class="(uncovered|)">\s*<td class="nowrap"><a [^>]*>([^<]+)</a>', page.text
    )
    module = await Module.select(Module.id).where(Module.slug == "xuexi-daodu").first()
    lessons = [
        lesson.source_ref
        for m in read_course_dir(get_settings().course_dir)
        if m.slug == "xuexi-daodu"
        for lesson in m.lessons
    ]
    assert [ref for _, ref in rows] == lessons and module
    assert [ref for flag, ref in rows if not flag] == ["导语"]
    shown = text_of(page.text)
    assert shown.count("✘ 没有题目") == len(lessons) - 1
    assert f"其中 {len(lessons) - 1} 篇没有题目" in shown
    assert "第 2 题 第九十九章" in shown  # cites no lesson
    assert "ceshi-tiku-001" not in shown


async def test_exports_download_as_files_that_read_back(client, shipped):
    await login(client, "trainer")
    await post_form(client, "/banks/xuexi-daodu/questions/xuexi-daodu-002/deactivate")
    questions = list(
        (await current_questions(await bank_id("xuexi-daodu"), active_only=True)).values()
    )
    assert "xuexi-daodu-002" not in [q.key for q in questions]

    def same(read: list[Question], expected: list[Question]) -> None:
        assert [q.key for q in read] == [q.key for q in expected]
        assert all(a.same_content(b) for a, b in zip(read, expected, strict=True))

    own = await client.get("/banks/xuexi-daodu/export.md")
    assert own.status_code == 200
    disposition = own.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    assert unquote(disposition.split("''", 1)[1]) == "学习导读题库_xuexi-daodu.md"
    header, result = parse_bank(own.content.decode("utf-8"))
    assert (header.slug, header.module, result.problems) == ("xuexi-daodu", "xuexi-daodu", ())
    same(list(result.questions), questions)

    gift = await client.get("/banks/xuexi-daodu/export.gift.txt")
    assert unquote(gift.headers["content-disposition"]).endswith(
        "学习导读题库_xuexi-daodu.gift.txt"
    )
    read = parse_gift(gift.content.decode("utf-8"))
    assert not read.problems
    same(list(read.questions), [q for q in questions if gift_export_problem(q) is None])

    xlsx = await client.get("/banks/xuexi-daodu/export.xlsx")
    assert xlsx.headers["content-type"] == XLSX_TYPE
    assert unquote(xlsx.headers["content-disposition"]).endswith(".xlsx")
    read = parse_xlsx(xlsx.content)
    assert not read.problems
    same(list(read.questions), questions)

    template = await client.get("/banks/template.xlsx")
    assert unquote(template.headers["content-disposition"]).endswith("题库导入模板.xlsx")
    assert len(parse_xlsx(template.content).questions) == 4
    assert (await client.get("/banks/no-such-bank/export.md")).status_code == 404


# ---------------------------------------------------------------- imports


async def test_moodle_examples_import_through_the_browser(client, people):
    if not MOODLE_EXAMPLES.exists():
        pytest.skip("没有找到 ../shared/fixtures/moodle-gift-examples.txt（只有在工作区里才有）")
    await login(client, "trainer")
    page = await client.get("/banks/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    file = (MOODLE_EXAMPLES.name, MOODLE_EXAMPLES.read_bytes(), "text/plain")
    _, preview = await preview_of_upload(client, file=file, new_title="Moodle 示例题")
    shown = text_of(preview)
    assert "GIFT（Moodle）" in shown and "题库“Moodle 示例题” 新题库" in shown
    assert "读到 32 题：单选 16，多选 2，判断 5，填空 9" in shown
    assert "新题 32，修改（存为新版本） 0，未变 0" in shown
    assert "跳过的题目（11 道）" in shown
    for line in (16, 55, 61, 70, 72, 74, 76, 85, 175, 177, 202):
        assert f"第 {line} 行：" in shown
    assert (
        "第 202 行：数值题（numerical）“Numerical example”，本平台没有这种题型，已跳过。" in shown
    )
    assert len(re.findall(r'<article class="import-item"', preview)) == 32
    assert await Bank.count() == 0 and await Upload.count() == 1  # nothing written yet

    done = await post_form(client, confirm_url(preview))
    assert done.status_code in (302, 303), text_of(done.text)
    assert done.headers["location"] == "/banks/moodle-shi-liti"
    bank = text_of((await client.get("/banks/moodle-shi-liti")).text)
    assert "已导入：新题 32，新版本 0，未变 0" in bank
    assert await QuestionRow.count().where(QuestionRow.bank.slug == "moodle-shi-liti") == 32
    assert await QuestionVersion.count() == 32 and await Upload.count() == 0
    events = await AuditEvent.select(AuditEvent.summary).where(AuditEvent.action == "bank.import")
    assert len(events) == 1 and "新题 32" in events[0]["summary"]

    again = await post_form(client, confirm_url(preview))
    assert again.status_code == 404 and "没有找到这次上传" in text_of(again.text)
    assert await QuestionVersion.count() == 32

    # The same file again into the same bank: nothing changes.
    _, preview = await preview_of_upload(client, file=file, bank="moodle-shi-liti")
    assert "新题 0，修改（存为新版本） 0，未变 32" in text_of(preview)


async def test_aiken_xlsx_and_pasted_text_import_with_a_preview(client, people):
    await login(client, "trainer")
    _, preview = await preview_of_upload(
        client,
        file=("aiken.txt", AIKEN.encode("gbk"), "text/plain"),
        new_title="Aiken 题",
    )
    assert "Aiken" in text_of(preview) and "读到 2 题：单选 2" in text_of(preview)
    await post_form(client, confirm_url(preview))
    imported = await current_questions(await bank_id("aiken-ti"))
    assert list(imported) == ["aiken-ti-001", "aiken-ti-002"]
    first = imported["aiken-ti-001"]
    assert first.answer == ("B",) and first.options[1] == "2023年"

    book = load_workbook(io.BytesIO(template_xlsx()))
    sheet = book["题库"]
    sheet.delete_rows(3, 3)
    row = {
        "题型": "多选",
        "题干": "工会的基本职责包括？",
        "选项A": "维护职工合法权益",
        "选项B": "竭诚服务职工群众",
        "选项C": "组织经营活动",
        "答案": "AB",
        "解析": None,
        "出处": None,
        "难度": "2",
        "标签": "职责",
    }
    for column, value in row.items():
        sheet.cell(row=2, column=COLUMNS.index(column) + 1, value=value)
    content = io.BytesIO()
    book.save(content)
    _, preview = await preview_of_upload(
        client, file=("题目.xlsx", content.getvalue(), XLSX_TYPE), bank="aiken-ti"
    )
    shown = text_of(preview)
    assert "Excel（.xlsx）" in shown and "读到 1 题：多选 1" in shown and "已有题库" in shown
    await post_form(client, confirm_url(preview))
    imported = await current_questions(await bank_id("aiken-ti"))
    third = imported["aiken-ti-003"]
    assert third.answer == ("A", "B") and third.tags == ("职责",)

    _, preview = await preview_of_upload(client, text=PASTED, new_title="粘贴的题")
    shown = text_of(preview)
    assert (
        "“粘贴的题目.txt”" in shown
        and "Word 中的题目文本" in shown
        and "读到 1 题：单选 1" in shown
    )
    await post_form(client, confirm_url(preview))
    (question,) = (await current_questions(await bank_id("zhantie-deti"))).values()
    assert question.stem.startswith("中国工会第十八次全国代表大会于") and question.answer == ("B",)


async def test_a_new_bank_gets_the_module_chosen_and_is_checked_against_it(client, shipped):
    await login(client, "trainer")
    text = "1. 十八大于2023年召开。（ √ ）\n【出处】导语\n"
    _, preview = await preview_of_upload(
        client, text=text, new_title="新题库", new_module="xuexi-daodu"
    )
    assert "课程模块 学习导读" in text_of(preview)
    await post_form(client, confirm_url(preview))
    assert await Bank.select(Bank.module.slug).where(Bank.slug == "xin-tiku") == [
        {"module.slug": "xuexi-daodu"}
    ]
    bad = "1. 十八大于2023年召开。（ √ ）\n【出处】第九十九章\n"
    _, preview = await preview_of_upload(client, text=bad, bank="xin-tiku")
    assert "在题库所属的课程模块中没有对应的课文" in text_of(preview)
    assert not can_confirm(preview)


async def test_a_file_with_errors_shows_where_and_writes_nothing(client, people):
    await login(client, "trainer")
    book = load_workbook(io.BytesIO(template_xlsx()))
    book["题库"].cell(row=3, column=11, value="AZ")  # the 多选 example's answer
    content = io.BytesIO()
    book.save(content)
    url, preview = await preview_of_upload(
        client, file=("有错.xlsx", content.getvalue(), XLSX_TYPE), new_title="有错"
    )
    shown = text_of(preview)
    assert re.search(r"有 \d+ 个错误，没有导入任何题目", shown)
    assert "第 3 行 K 列（答案）：答案中的“Z”不在选项中（现有选项：A–D）。" in shown
    assert not can_confirm(preview)
    upload_id = re.search(r"/banks/import/(\d+)", url).group(1)
    refused = await post_form(client, f"/banks/import/{upload_id}?format=auto&bank=cuo&title=有错")
    assert refused.status_code == 409
    assert await Bank.count() == 0 and await QuestionVersion.count() == 0
    assert await Upload.count() == 1  # still there to look at

    aiken = "题干？\nA. 甲\nB. 乙\nANSWER: C\n"
    _, preview = await preview_of_upload(
        client, file=("错.txt", aiken.encode(), "text/plain"), new_title="有错"
    )
    assert "第 4 行" in text_of(preview) and not can_confirm(preview)

    discard = await post_form(client, f"/banks/import/{upload_id}/discard")
    assert discard.headers["location"] == "/banks/import"
    assert "已取消导入“有错.xlsx”" in text_of((await client.get("/banks/import")).text)


async def test_unreadable_files_are_refused_on_the_upload_form(client, people):
    await login(client, "trainer")
    cases = [
        (("假的.xlsx", b"PK\x03\x04 not really a zip", XLSX_TYPE), "400"),
        (("题.pdf", b"%PDF-1.4", "application/pdf"), "不支持的文件类型“.pdf”"),
        (("大.txt", b"A" * (10 * 1024 * 1024 + 1), "text/plain"), "超过 10 MB"),
    ]
    for file, message in cases:
        response = await upload(client, file=file, new_title="x")
        assert response.status_code == 400, file[0]
        shown = text_of(response.text)
        assert f"没有导入“{file[0]}”" in shown or "超过 10 MB" in shown
        if message != "400":
            assert message in shown
    both = await upload(client, file=("a.txt", AIKEN.encode(), "text/plain"), text=PASTED)
    assert "二者选一" in text_of(both.text)
    neither = await upload(client)
    assert "请选择要导入的文件" in text_of(neither.text)
    target = await upload(client, text=PASTED, new_module="nope", format="pdf")
    shown = text_of(target.text)
    assert "没有 slug 为“nope”的课程模块" in shown and "不认识的格式" in shown
    assert PASTED.splitlines()[1] in target.text  # the pasted text is kept
    untitled = await upload(client, text=PASTED)
    assert "请选择导入到哪个已有的题库，或填写新题库的名称" in text_of(untitled.text)
    assert await Upload.count() == 0 and await Bank.count() == 0


async def test_an_upload_is_seen_only_by_the_trainer_who_made_it(client, people, tree):
    await make_user("trainer2", tree["city"], "trainer", "周培训")
    await login(client, "trainer")
    url, preview = await preview_of_upload(client, text=PASTED, new_title="新")
    upload_id = re.search(r"/banks/import/(\d+)", url).group(1)
    await post_form(client, "/logout")
    await login(client, "trainer2")
    assert (await client.get(url)).status_code == 404
    assert (await post_form(client, confirm_url(preview))).status_code == 404
    assert (await post_form(client, f"/banks/import/{upload_id}/discard")).status_code == 404
    assert (await client.get("/banks/import/99999999999")).status_code == 404
    assert await Upload.count() == 1 and await Bank.count() == 0
