"""A trainer makes a bank, a question and a quiz drawing from two banks in a real Chromium,
on a phone inside WeChat and on a desktop, without typing any identifier."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import (  # noqa: F401  (fixtures)
    desktop_page,
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
async def shipped(people, content):
    """The shipped course, banks and quizzes, and the people of tests/conftest.py."""


def _make_bank_question_and_quiz(page: Page, base: str, name: str) -> None:
    sign_in(page, base, "trainer")
    page.goto(base + "/banks")
    form = page.locator("#new-bank")
    expect(form.get_by_label("题库标识")).to_have_count(0)  # nothing to type but a name
    form.get_by_label("题库名称").fill(f"{name}题库")
    form.get_by_role("button", name="新建题库").click()
    expect(page.locator("h1")).to_have_text(f"{name}题库")
    expect(page.get_by_text(f"已新建题库“{name}题库”")).to_be_visible()
    bank_url = page.url
    assert no_sideways_scroll(page)

    page.get_by_role("link", name="新建题目").click()
    expect(page.get_by_label("题号")).to_have_count(0)
    page.get_by_label("题干").fill("中国工会第十八次全国代表大会于哪一年召开？")
    page.get_by_label("选项 A", exact=True).fill("2023年")
    page.get_by_label("选项 B", exact=True).fill("2022年")
    page.locator("label.option-row-correct").first.click()  # 正确答案 beside option A
    page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_contain_text("第 1 题")
    expect(page.get_by_text("已新建第 1 题（第 1 版）")).to_be_visible()
    assert no_sideways_scroll(page)
    page.goto(bank_url)
    expect(page.get_by_role("link", name="第 1 题", exact=True)).to_be_visible()

    page.goto(base + "/admin/quizzes/new")
    expect(page.get_by_label("测验标识")).to_have_count(0)
    page.get_by_label("测验名称").fill(f"{name}测验")
    page.locator("#rule_1_type").select_option("single")
    page.locator("#rule_1_count").fill("2")
    page.locator("#rule_1_points").fill("50")
    banks = page.locator("fieldset.bank-checklist").first
    banks.locator("label", has_text=f"{name}题库").click()  # a tap on the row ticks it
    banks.locator("label", has_text="学习导读题库").click()
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text(f"已保存测验“{name}测验”")).to_be_visible()
    page.get_by_role("link", name=f"{name}测验").click()
    ticked = page.locator("fieldset.bank-checklist").first.locator("input:checked")
    expect(ticked).to_have_count(2)
    assert re.search(r"/admin/quizzes/[a-z0-9-]+/edit$", page.url)


def test_a_trainer_on_a_phone_in_wechat_types_no_code(shipped, server, wechat_page):
    _make_bank_question_and_quiz(wechat_page, server, "手机")


def test_a_trainer_at_a_desktop_types_no_code(shipped, server, desktop_page):
    _make_bank_question_and_quiz(desktop_page, server, "电脑")
