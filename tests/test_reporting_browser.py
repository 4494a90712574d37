"""Reporting back in a real Chromium, from the demo data: the county admin, on a 360 px
phone inside WeChat, records an activity with a photo, gets the draft from a real URL and
submits; federation staff, on a desktop, see the county among the reported units and
download the roll-up. Every file is read back (python-docx, openpyxl)."""

from __future__ import annotations

import io

import docx
import pytest
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import expect

from app.db import DB, is_sqlite
from app.demo.loading import DEMO_PASSWORD, load_demo
from tests.browser_support import (  # noqa: F401  (fixtures)
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)

pytestmark = pytest.mark.browser

TITLE = "青年干部学习中国工会十八大精神交流会"


@pytest.fixture
async def demo(content):
    if is_sqlite():
        await load_demo(cadre_count=30)
        return
    await DB.start_connection_pool(min_size=1, max_size=4)
    try:
        await load_demo(cadre_count=30)
    finally:
        await DB.close_connection_pool()


def _photo(tmp_path) -> str:
    path = tmp_path / "现场.jpg"
    Image.effect_noise((900, 600), 60).convert("RGB").save(path, "JPEG")
    return str(path)


def _docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_a_county_reports_from_a_phone_and_the_city_sees_it(demo, server, wechat_page, tmp_path):
    page = wechat_page
    sign_in(page, server, "county-admin", DEMO_PASSWORD)
    page.goto(f"{server}/reporting/")
    expect(page.get_by_role("heading", name="学习贯彻情况报送")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_role("link", name="登记活动").first.click()

    # The form: a mistake first (no title), then the entry.
    page.get_by_label("学习培训").check()
    page.get_by_label("形式").select_option("研讨会")
    page.get_by_label("参加人数").fill("三十")
    page.get_by_role("button", name="保存，然后上传照片").click()
    expect(page.locator("#title-error")).to_have_text("请填写活动名称。")
    expect(page.locator("#participants-error")).to_contain_text("请填写整数")
    assert no_sideways_scroll(page)
    page.get_by_label("活动名称").fill(TITLE)
    page.get_by_label("参加人数").fill("36")
    page.get_by_label("主讲人").fill("王老师")
    page.get_by_role("button", name="保存，然后上传照片").click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()

    page.get_by_label("选择照片").set_input_files(_photo(tmp_path))
    page.get_by_role("button", name="上传照片").click()
    photo = page.get_by_role("img", name="活动照片 1：现场.jpg")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 900
    assert no_sideways_scroll(page)

    # The unit's report: the new entry is counted, the draft is a real URL with it.
    page.goto(f"{server}/reporting/")
    page.get_by_role("link", name="解放区总工会的报告").click()
    expect(page.get_by_role("heading", name="解放区总工会学习贯彻情况报告")).to_be_visible()
    assert no_sideways_scroll(page)
    href = page.get_by_role("link", name="下载报告草稿（Word）").get_attribute("href")
    assert href and href.startswith("/reporting/") and href.endswith("/draft.docx")
    draft = page.request.get(f"{server}{href}?wx=direct")
    assert draft.ok
    text = _docx_text(draft.body())
    assert "解放区总工会关于学习贯彻情况的报告" in text
    assert TITLE in text and "36" in text

    page.get_by_role("button", name="报送市总工会").click()
    expect(page.locator(".report-state .badge-ok")).to_have_text("已报送")
    assert no_sideways_scroll(page)
    page.goto(f"{server}/reporting/{href.split('/')[2]}/ledger")
    expect(page.get_by_text("已随报告报送").first).to_be_visible()

    # The city (on the same phone): the county among the reported units, and the roll-up.
    page.context.clear_cookies()
    sign_in(page, server, "admin", DEMO_PASSWORD)
    page.goto(f"{server}/reporting/")
    page.get_by_role("link", name="报送情况").first.click()
    expect(page.get_by_role("link", name="解放区总工会")).to_contain_text("已报送")
    assert no_sideways_scroll(page)
    link = page.get_by_role("link", name="下载汇总表（Excel）")
    rollup = link.get_attribute("href")
    link.click()  # WeChat saves no file: the page says how to open the link in a browser
    expect(page.get_by_role("button", name="复制链接")).to_be_visible()
    got = page.request.get(f"{server}{rollup}?wx=direct")
    assert got.ok
    sheet = load_workbook(io.BytesIO(got.body()))["汇总"]
    headers = [c.value for c in sheet[3]]
    rows = {r[2]: r for r in sheet.iter_rows(min_row=4, values_only=True) if r[2]}
    jiefang = dict(zip(headers, rows["解放区总工会"], strict=False))
    assert jiefang["报送状态"] == "已报送"
    assert jiefang["学习培训（次）"] >= 1
    assert jiefang["活动参加人次"] >= 36
    assert rows["马村区总工会"][3] == "未报送"
