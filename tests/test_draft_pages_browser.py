"""出题助手 on a 360 px phone, in a real Chromium: read one lesson's drafts, accept one,
reject one, go on to the next lesson; a 43-lesson module's list of lessons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import (  # noqa: F401  (fixtures)
    no_sideways_scroll,
    phone_page,
    server,
    sign_in,
)
from tests.test_draft_pages import charter_bank

pytestmark = pytest.mark.browser


# The database is filled before Playwright starts its own event loop in this thread.
def test_a_trainer_reviews_drafts_on_a_phone(content, people, server, phone_page):
    page = phone_page
    sign_in(page, server, "trainer")
    page.goto(server + "/banks/luoshi-zhiyao")
    page.get_by_role("link", name="出题助手").click()
    expect(page.get_by_role("heading", name="出题助手")).to_be_visible()
    first = page.get_by_role("heading", level=2, name=re.compile("^三 抓好学习贯彻"))
    expect(first).to_be_visible()
    expect(page.get_by_role("heading", level=2)).to_have_count(1)  # one lesson at a time
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="采用", exact=True).first.click()
    expect(page.get_by_text("已采用 1 道题")).to_be_visible()
    expect(first).to_be_visible()  # still the same lesson
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="不采用").first.click()
    expect(page.get_by_text("已不采用这道题，它不会再出现。")).to_be_visible()
    expect(first).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_role("link", name=re.compile("^下一篇：三（一）")).first.click()
    expect(
        page.get_by_role("heading", level=2, name=re.compile("^三（一） 精心组织"))
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("上一篇")).first).to_be_visible()
    assert no_sideways_scroll(page)


@pytest.fixture
async def charter(db, people):
    return await charter_bank(people)


def test_a_long_module_lists_its_lessons_on_a_phone(charter, people, server, phone_page):
    page = phone_page
    sign_in(page, server, "trainer")
    page.goto(server + "/banks/zhangcheng/drafts")
    expect(page.get_by_role("heading", level=2, name=re.compile("^第一条"))).to_be_visible()
    listed = page.get_by_role("link", name=re.compile("^第四十三条"))
    expect(listed).to_be_hidden()  # the long list is folded
    page.get_by_text("全部课文（43 篇）").click()
    expect(listed).to_be_visible()
    assert no_sideways_scroll(page)
    listed.click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^第四十三条"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("下一篇"))).to_have_count(0)
    assert no_sideways_scroll(page)
