"""An import never erases what a trainer wrote: a field the imported file does not carry
keeps its current value, the preview says which fields change and which are kept, and the
trainer chooses per question between updating the matched question and adding a new one."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook

from app.banks.formats import read_bank_file
from app.banks.merge import CHANGED, NEW, UNCHANGED, plan_merge
from app.banks.model import Question
from app.banks.store import current_questions, import_file
from app.tables import AuditEvent
from app.tables import Question as QuestionRow
from tests.conftest import login, post_form
from tests.test_bank_pages import (
    bank_id,
    confirm_url,
    preview_of_upload,
    text_of,
    versions_of,
)

BANK = "zhongyao-jianghua"
KEY = "zhongyao-jianghua-018"
EXPLANATION = "原文：“深刻领会深化工会改革和建设是工会永葆生机活力、当好桥梁纽带的动力所在”。"
# Question 018 as a trainer pastes it from Word: stem and answer, no 解析, no 出处.
PASTED = """四、填空题
1. 【填空题】深刻领会深化工会改革和建设是工会永葆生机活力、当好______的动力所在。
答案：{answer}
"""


def squeezed(page: str) -> str:
    """The page's text without any spaces, for lines that tags break up."""
    return re.sub(r"\s+", "", text_of(page))


async def current(key: str = KEY) -> Question:
    return (await current_questions(await bank_id(BANK)))[key]


# ---------------------------------------------------------------- through the browser


async def test_a_pasted_question_without_explanation_keeps_the_banks_explanation(
    client, people, content
):
    await login(client, "trainer")
    before = await current()
    assert before.explanation == EXPLANATION and before.source_ref == "二（一）"

    # The very question again: nothing to change.
    _, page = await preview_of_upload(client, text=PASTED.format(answer="桥梁纽带"), bank=BANK)
    assert "新题 0，修改（存为新版本） 0，未变 1" in text_of(page)

    # A new accepted answer: the answer changes, 解析, 出处 and 难度 are kept.
    _, page = await preview_of_upload(
        client, text=PASTED.format(answer="桥梁纽带/桥梁和纽带"), bank=BANK
    )
    shown = text_of(page)
    assert "新题 0，修改（存为新版本） 1，未变 0" in shown
    assert "第 1 题 · 填空" in shown and f"与题库中的第 {int(KEY[-3:])} 题的当前版本相比" in shown
    assert KEY not in shown  # pages name a question by its number, not its key
    assert "答案：第1空：桥梁纽带→第1空：桥梁纽带或桥梁和纽带" in squeezed(page)
    assert "保留原值（导入的内容中没有）：解析、出处、难度" in shown
    # The card as a cadre sees it, and the answer box with the kept 解析 and 出处.
    assert "学员看到的样子" in shown and "【填空题】" in shown
    assert "正确答案 第 1 空：桥梁纽带 或 桥梁和纽带" in shown
    assert f"解析 {EXPLANATION}" in shown and "出处 二（一）" in shown
    assert "缺少解析" not in shown and "缺少出处" not in shown

    done = await post_form(client, confirm_url(page))
    assert done.status_code in (302, 303), text_of(done.text)
    after = await current()
    assert after.blanks == (("桥梁纽带", "桥梁和纽带"),)
    assert after.explanation == EXPLANATION
    assert after.source_ref == "二（一）" and after.difficulty == 2
    assert [v["version"] for v in await versions_of(BANK, KEY)] == [1, 2]


async def test_a_changed_field_is_shown_old_to_new(client, people, content):
    await login(client, "trainer")
    text = PASTED.format(answer="桥梁纽带") + "出处：二（二）\n"
    _, page = await preview_of_upload(client, text=text, bank=BANK)
    shown = text_of(page)
    assert "修改（存为新版本） 1" in shown
    assert "出处：二（一）→二（二）" in squeezed(page)
    assert "保留原值（导入的内容中没有）：解析、难度" in shown
    changes = squeezed(page).split("的当前版本相比：")[1].split("保留原值")[0]
    assert changes == "出处：二（一）→二（二）"


async def test_choosing_add_as_new_leaves_the_matched_question_alone(client, people, content):
    await login(client, "trainer")
    keys_before = set(await current_questions(await bank_id(BANK)))
    _, page = await preview_of_upload(
        client, text=PASTED.format(answer="桥梁纽带/桥梁和纽带"), bank=BANK
    )
    assert "更新原题，存为新版本" in text_of(page) and "作为新题添加" in text_of(page)
    assert 'name="choice-1" value="update" checked' in page

    done = await post_form(client, confirm_url(page), {"choice-1": "new"})
    assert done.status_code in (302, 303), text_of(done.text)
    assert "新题 1，新版本 0" in text_of((await client.get(done.headers["location"])).text)
    assert len(await versions_of(BANK, KEY)) == 1  # 018 untouched
    assert (await current()).blanks == (("桥梁纽带",),)
    questions = await current_questions(await bank_id(BANK))
    (added,) = set(questions) - keys_before
    assert questions[added].blanks == (("桥梁纽带", "桥梁和纽带"),)
    assert questions[added].explanation == ""  # a new question is as the file gives it
    assert await AuditEvent.count().where(AuditEvent.action == "bank.import") == 1


async def test_a_choice_that_is_not_offered_is_refused_by_name(client, people, content):
    await login(client, "trainer")
    _, page = await preview_of_upload(
        client, text=PASTED.format(answer="桥梁纽带/桥梁和纽带"), bank=BANK
    )
    refused = await post_form(client, confirm_url(page), {"choice-1": "delete"})
    assert refused.status_code == 409
    assert "第 1 题的导入方式“delete”无法识别" in text_of(refused.text)
    assert len(await versions_of(BANK, KEY)) == 1


async def test_warnings_name_questions_as_the_preview_shows_them(client, people, content):
    await login(client, "trainer")
    text = "1. 【判断题】工会小组是工会的基层组织单元。（√）\n"
    _, page = await preview_of_upload(client, text=text, bank=BANK)
    shown = text_of(page)
    assert "第 1 题缺少解析" in shown  # as the preview numbers it
    assert "text-001" not in shown and "zhongyao-jianghua-" not in shown


# ---------------------------------------------------------------- the command line


async def test_the_command_line_import_keeps_fields_and_can_add_as_new(content, tmp_path):
    path = tmp_path / "粘贴.txt"
    path.write_text(PASTED.format(answer="桥梁纽带/桥梁和纽带"), encoding="utf-8")
    preview, written = await import_file(path, "auto", BANK, dry_run=True)
    lines = "\n".join(preview.lines())
    assert f"第 1 题（{KEY}）修改（存为新版本）" in lines
    assert "答案：第 1 空：桥梁纽带 → 第 1 空：桥梁纽带 或 桥梁和纽带" in lines
    assert "保留原值（导入的内容中没有）：解析、出处、难度" in lines
    assert written == {NEW: 0, CHANGED: 1, UNCHANGED: 0}

    preview, written = await import_file(path, "auto", BANK, as_new=True)
    assert written == {NEW: 1, CHANGED: 0, UNCHANGED: 0}
    assert "作为新题添加" in "\n".join(preview.lines())
    assert len(await versions_of(BANK, KEY)) == 1

    preview, written = await import_file(path, "auto", BANK)
    assert written == {NEW: 0, CHANGED: 1, UNCHANGED: 0}
    after = await current()
    assert after.blanks == (("桥梁纽带", "桥梁和纽带"),) and after.explanation == EXPLANATION
    assert await QuestionRow.count().where(QuestionRow.key == KEY) == 1

    _, written = await import_file(path, "auto", BANK)  # the same file again
    assert written == {NEW: 0, CHANGED: 0, UNCHANGED: 1}


# ---------------------------------------------------------------- the pure merge, per format


EXISTING = Question(
    key="m-007",
    type="single",
    stem="工会会员大会的职权一般不包括下列哪一项？",
    options=("选举工会委员会", "审议工会工作报告", "任命企业经理"),
    answer=("C",),
    explanation="企业经理由企业任命。",
    source_ref="二（四）",
    difficulty=2,
    tags=("职权",),
    evidence="选举工会委员会",
)
OWN = """---
slug: m
title: 题库
module: m
---

## m-007 单选
题干：工会会员大会的职权一般不包括下列哪一项？
A. 选举工会委员会
B. 审议工会工作报告
C. 任命企业经理
答案：{answer}
"""
GIFT = "工会会员大会的职权一般不包括下列哪一项？{{\n{options}\n}}\n"
AIKEN = """工会会员大会的职权一般不包括下列哪一项？
A. 选举工会委员会
B. 审议工会工作报告
C. 任命企业经理
ANSWER: {answer}
"""
TEXT = """1. 工会会员大会的职权一般不包括下列哪一项？
A. 选举工会委员会  B. 审议工会工作报告  C. 任命企业经理
答案：{answer}
"""


def xlsx(answer: str, source_ref: str | None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["题型", "题干", "选项A", "选项B", "选项C", "答案", "出处"])
    sheet.append(["单选", EXISTING.stem, *EXISTING.options, answer, source_ref])
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def gift(answer: str) -> str:
    marks = ["=" if letter == answer else "~" for letter in "ABC"]
    return GIFT.format(
        options="\n".join(m + o for m, o in zip(marks, EXISTING.options, strict=True))
    )


def read(fmt: str, answer: str) -> tuple[Question, ...]:
    files = {
        "own": ("m.md", OWN.format(answer=answer).encode()),
        "gift": ("m.gift", gift(answer).encode()),
        "aiken": ("m.txt", AIKEN.format(answer=answer).encode()),
        "xlsx": ("m.xlsx", xlsx(answer, None)),
        "text": ("m.txt", TEXT.format(answer=answer).encode()),
    }
    name, content = files[fmt]
    result = read_bank_file(name, content, fmt).result
    assert not result.problems, result.problems
    return result.questions


@pytest.mark.parametrize("fmt", ["own", "gift", "aiken", "xlsx", "text"])
def test_fields_a_file_does_not_carry_are_kept_in_every_format(fmt):
    existing = {EXISTING.key: EXISTING}
    (same,) = plan_merge(existing, read(fmt, "C"), "m")
    assert (same.key, same.status) == ("m-007", UNCHANGED)
    kept = ("explanation", "source_ref", "difficulty", "tags", "evidence")
    assert same.kept == kept

    (changed,) = plan_merge(existing, read(fmt, "B"), "m")
    assert (changed.key, changed.status) == ("m-007", CHANGED)
    assert changed.question.answer == ("B",)
    for name in kept:
        assert getattr(changed.question, name) == getattr(EXISTING, name)
    assert [(d.label, d.old, d.new) for d in changed.differences] == [
        ("答案", "C. 任命企业经理", "B. 审议工会工作报告")
    ]

    (added,) = plan_merge(existing, read(fmt, "B"), "m", as_new={1})
    assert (added.key, added.status) == ("m-001", NEW)
    assert added.question.explanation == "" and added.previous == EXISTING


def test_a_field_the_file_carries_replaces_the_current_value():
    result = read_bank_file("m.xlsx", xlsx("C", "二（五）"), "xlsx").result
    (change,) = plan_merge({EXISTING.key: EXISTING}, result.questions, "m")
    assert change.status == CHANGED and change.question.source_ref == "二（五）"
    assert change.kept == ("explanation", "difficulty", "tags", "evidence")
    assert [(d.label, d.old, d.new) for d in change.differences] == [
        ("出处", "二（四）", "二（五）")
    ]
    # A blank cell carries nothing: the current 出处 stays.
    result = read_bank_file("m.xlsx", xlsx("C", "  "), "xlsx").result
    (change,) = plan_merge({EXISTING.key: EXISTING}, result.questions, "m")
    assert change.status == UNCHANGED and change.question.source_ref == "二（四）"


def test_a_question_built_in_the_editor_carries_every_field():
    cleared = Question(**{**EXISTING.__dict__, "explanation": ""})
    (change,) = plan_merge({EXISTING.key: EXISTING}, [cleared], "")
    assert change.status == CHANGED and change.question.explanation == ""
    assert change.kept == ()
