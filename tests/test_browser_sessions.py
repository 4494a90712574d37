"""Class sessions in a real Chromium: a trainer edits and cancels one on a phone inside
WeChat and on a desktop, and the projector view's count of check-ins goes up by itself."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import (  # noqa: F401  (fixtures)
    desktop_page,
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)
from tests.conftest import PASSWORD
from tests.test_attendance import make_rotation

pytestmark = pytest.mark.browser


@pytest.fixture
async def rotation(tree, people):
    """A 集中轮训 with two cadres enrolled and one session whose code 123456 is valid."""
    return await make_rotation(tree, [people["cadre"], people["other_cadre"]])


def check_in_over_http(base: str, username: str, code: str) -> None:
    """A cadre checks in from their own phone: another client, through the forms."""
    with httpx.Client(base_url=base, follow_redirects=False) as phone:
        phone.get("/login")
        signed_in = phone.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "_csrf_token": phone.cookies["csrftoken"],
            },
        )
        assert signed_in.status_code in (302, 303), signed_in.text
        phone.get("/checkin")
        done = phone.post(
            "/checkin", data={"code": code, "_csrf_token": phone.cookies["csrftoken"]}
        )
        assert done.status_code == 200 and "签到成功" in done.text, done.text


def edit_and_cancel(page: Page, base: str, rotation) -> None:
    sign_in(page, base, "trainer")
    page.goto(f"{base}/trainings/{rotation.training.id}/batches/{rotation.batch.id}/sessions")
    assert no_sideways_scroll(page)
    page.get_by_role("link", name="修改或取消").click()
    expect(page.get_by_role("heading", name="修改面授课程")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_label("课程内容").fill("学习新修改的工会章程")
    page.get_by_label("地点").fill("市总工会三楼会议室")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("已修改面授课程“学习新修改的工会章程”")
    expect(page.locator("table.sessions-table")).to_contain_text("市总工会三楼会议室")

    page.get_by_role("link", name="修改或取消").click()
    page.get_by_label("取消原因").fill("授课老师临时有事")
    page.get_by_role("button", name="取消这次课").click()
    expect(page.get_by_role("status")).to_contain_text("已取消面授课程")
    row = page.locator("table.sessions-table tbody tr").first
    expect(row).to_contain_text("已取消")
    expect(row).to_contain_text("授课老师临时有事")
    expect(row.get_by_role("link", name="投影")).to_have_count(0)
    assert no_sideways_scroll(page)


def projector_counts_by_itself(page: Page, base: str, rotation, cadre: str) -> None:
    sign_in(page, base, "trainer")
    page.goto(f"{base}/sessions/{rotation.session.id}/projector")
    expect(page.locator(".projector-code")).to_have_text("123456")
    present = page.locator('[data-count="present"]')
    expect(present).to_have_text("0")
    expect(page.locator(".mainnav")).to_have_count(0)
    assert no_sideways_scroll(page)
    url = page.url
    check_in_over_http(base, cadre, "123456")
    # The count changes without the page being reloaded or touched.
    expect(present).to_have_text("1", timeout=15_000)
    assert page.url == url
    expect(page.locator(".projector-code")).to_have_text("123456")


# The rotation is made before Playwright starts its own event loop in this thread.
def test_trainer_edits_and_cancels_a_session_on_a_phone_in_wechat(rotation, server, wechat_page):
    edit_and_cancel(wechat_page, server, rotation)


def test_trainer_edits_and_cancels_a_session_on_a_desktop(rotation, server, desktop_page):
    edit_and_cancel(desktop_page, server, rotation)


def test_the_projector_count_goes_up_by_itself_on_a_desktop(rotation, people, server, desktop_page):
    page = desktop_page
    projector_counts_by_itself(page, server, rotation, people["cadre"].username)
    # Everything fits a 1366 × 768 projector without scrolling.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 768, height
    for selector in (".projector-code", ".projector-qr svg", ".projector-count"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, (selector, box)
    size = page.locator(".projector-code").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 96, size


def test_the_projector_count_goes_up_by_itself_on_a_phone(rotation, people, server, wechat_page):
    projector_counts_by_itself(wechat_page, server, rotation, people["other_cadre"].username)
    count = wechat_page.locator(".projector-count").inner_text()
    assert re.search(r"已签到\s*1\s*/\s*2\s*人", count), count
