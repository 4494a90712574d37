"""出题助手 on a 360 px phone, in a real Chromium: read the drafts, accept one, reject one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import (  # noqa: F401  (fixtures)
    no_sideways_scroll,
    phone_page,
    server,
    sign_in,
)

pytestmark = pytest.mark.browser


# The database is filled before Playwright starts its own event loop in this thread.
def test_a_trainer_reviews_drafts_on_a_phone(content, people, server, phone_page):
    page = phone_page
    sign_in(page, server, "trainer")
    page.goto(server + "/banks/luoshi-zhiyao")
    page.get_by_role("link", name="出题助手").click()
    expect(page.get_by_role("heading", name="出题助手")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="采用", exact=True).first.click()
    expect(page.get_by_text("已采用 1 道题")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="不采用").first.click()
    expect(page.get_by_text("已不采用这道题，它不会再出现。")).to_be_visible()
    assert no_sideways_scroll(page)
