"""Inside WeChat on a 360 px phone: importing cadres gives the list of initial passwords as a
real link, which opens the page that says how to download it in the phone's own browser,
with a 复制链接 button; a print view shows a hint instead of a button that cannot print."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.tables import Training
from tests.browser_support import (  # noqa: F401  (fixtures)
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)
from tests.test_people_import import GOOD, make_xlsx

pytestmark = pytest.mark.browser


@pytest.fixture
async def training(people, tree):
    made = Training(title="微信打印测试培训", kind="rotation", unit=tree["city"].id)
    await made.save()
    return made


def test_the_password_list_in_wechat(people, training, server, wechat_page, tmp_path):
    page = wechat_page
    sign_in(page, server, "admin")
    page.goto(server + "/people/import")
    roster = tmp_path / "名单.xlsx"
    roster.write_bytes(make_xlsx(GOOD))
    page.get_by_label("选择文件").set_input_files(str(roster))
    page.get_by_role("button", name="上传并检查").click()
    page.get_by_role("button", name=re.compile("确认导入")).click()
    expect(page.get_by_role("heading", name="已导入 3 名干部")).to_be_visible()

    link = page.get_by_role("link", name="下载账号与初始密码（Excel）")
    href = link.get_attribute("href")
    assert re.fullmatch(r"/people/imports/\d+/passwords\.xlsx", href), href
    assert "data:" not in page.content() and "blob:" not in page.content()
    link.click()
    expect(page.get_by_role("heading", name="请在浏览器中下载")).to_be_visible()
    expect(page.get_by_text("右上角 ··· ，选择“在浏览器打开”")).to_be_visible()
    expect(page.get_by_label(re.compile("下载链接"))).to_have_value(server + href)
    copy = page.get_by_role("button", name="复制链接")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("已复制链接|长按上面的链接"))
    expect(page.get_by_role("link", name="仍然下载")).to_have_attribute(
        "href", re.compile(r"wx=direct")
    )
    assert no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "wechat-download.png"), full_page=True)

    # A print view: no 打印 button that cannot print in WeChat, a hint instead.
    page.goto(f"{server}/reports/trainings/{training.id}/summary")
    expect(page.locator("[data-print-hint]")).to_contain_text("在浏览器打开")
    expect(page.get_by_role("button", name="打印")).to_have_count(0)
    assert no_sideways_scroll(page)
