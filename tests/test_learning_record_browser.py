"""学习档案 in a real Chromium: a 360 px phone inside WeChat (nothing scrolls sideways, the
print view says how to print there) and the unit admin's view on a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import (  # noqa: F401  (fixtures)
    desktop_page,
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)
from tests.test_learning_record import YEAR, history  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_the_record_on_a_phone_in_wechat(history, server, wechat_page):
    page = wechat_page
    sign_in(page, server, "13800000001")
    page.get_by_role("link", name="我的学习档案 ›").click()
    expect(page.get_by_role("heading", name="我的学习档案")).to_be_visible()
    expect(page.locator(".record-total")).to_have_text("6")
    expect(page.get_by_role("link", name="查看证书：工会法专题培训")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_label("年度").select_option("all")
    page.get_by_role("button", name="查看").click()
    expect(page.locator(".record-total")).to_have_text("8")
    assert no_sideways_scroll(page)
    page.get_by_role("link", name="打印（A4）").click()
    expect(page.locator("[data-print-hint]")).to_be_visible()
    expect(page.get_by_role("heading", name="孙学员 学习档案（全部年度）")).to_be_visible()
    assert no_sideways_scroll(page)


def test_a_unit_admin_opens_a_record_from_the_people_list(history, server, desktop_page):
    page = desktop_page
    sign_in(page, server, "jf-admin")
    page.goto(f"{server}/people")
    page.get_by_role("link", name="学习档案：孙学员").click()
    expect(page.get_by_role("heading", name="孙学员 的学习档案")).to_be_visible()
    expect(page.locator(".record-total")).to_have_text("6")
    assert f"year={YEAR}" in page.get_by_role("link", name="下载 Excel").get_attribute("href")
