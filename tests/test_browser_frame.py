"""The page frame in a real Chromium: the menu on a 360 px phone inside WeChat and on a
1366 px desktop, for every role; 长辈模式 (senior mode) after the 工信部 guidelines; the
favicon; the dashboard's chart on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from app.accounts.units import create_unit
from app.tables import Batch, Enrollment, Training
from tests.browser_support import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DESKTOP,
    LAUNCH_ARGS,
    PHONE,
    WECHAT_UA,
    axe_source,
    browser_page,
    desktop_page,
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)
from tests.conftest import make_user

pytestmark = pytest.mark.browser


ACCOUNTS = {
    "cadre": "13800000001",
    "trainer": "trainer",
    "unit_admin": "jf-admin",
    "federation_admin": "admin",
}
# Every item of the main menu, by role, in the order the menu shows them.
MENU = {
    "cadre": ["首页", "课程", "培训", "签到", "错题本", "我的成绩", "我的证书"],
    "trainer": ["首页", "课程", "培训", "导入文件", "测验管理", "题库"],
    "unit_admin": ["首页", "课程", "培训", "单位", "人员", "导入干部", "报表", "报送"],
    "federation_admin": [
        "首页",
        "课程",
        "培训",
        "导入文件",
        "测验管理",
        "题库",
        "单位",
        "人员",
        "导入干部",
        "报表",
        "报送",
        "操作记录",
    ],
}
ROLES = list(ACCOUNTS)
SENIOR = re.compile(r"\bsenior\b")

# The visible elements whose own text is smaller than `min` CSS px, named for the message.
SMALL_TEXT = """([min, within]) => {
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map(c => '.' + c).join('');
  const root = document.querySelector(within) || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e || e.closest('script, style, title, .sr-only')) continue;
    const r = e.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || getComputedStyle(e).visibility === 'hidden') continue;
    if (r.right <= 0 || r.left >= innerWidth) continue;  // off the screen, as the skip link
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < min) found.push(`${name(e)} ${size}px「${n.textContent.trim().slice(0, 16)}」`);
  }
  return found;
}"""

# The visible controls smaller than `min` × `min` CSS px. A checkbox or radio counts with its
# label (the whole row is the target); a link inside running text is exempt, as the
# guidelines and WCAG 2.5.8 exempt it: its size is the sentence's.
SMALL_TARGETS = """(min) => {
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map(c => '.' + c).join('');
  const found = [];
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button]';
  for (const e of document.querySelectorAll(controls)) {
    const box = e.matches('[type=checkbox], [type=radio]') ? (e.closest('label') || e) : e;
    const r = box.getBoundingClientRect();
    const style = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (r.right <= 0 || r.left >= innerWidth) continue;  // off the screen, as the skip link
    if (e.matches('a') && style.display === 'inline'
        && e.parentElement.textContent.replace(e.textContent, '').trim()) continue;
    if (r.width < min - 0.5 || r.height < min - 0.5) {
      found.push(`${name(e)}「${(e.textContent || e.value || '').trim().slice(0, 12)}」`
        + ` ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
  }
  return found;
}"""


def _axe_problems(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is (contrast among them)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
          .filter(v => ['serious', 'critical'].includes(v.impact))
          .map(v => v.id + '：' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join('; '))"""
    )
    return found


def _menu_links(page: Page):
    return page.get_by_role("navigation", name="主菜单").get_by_role("link")


def _inside_width(page: Page, locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (locator, box)


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_button_opens_every_item_of_the_role_on_a_phone(people, server, role):
    with browser_page(PHONE, wechat=True) as page:
        sign_in(page, server, ACCOUNTS[role])
        links = _menu_links(page)
        expect(links.first).to_be_hidden()  # folded away until asked for
        button = page.get_by_role("button", name="菜单")
        expect(button).to_have_attribute("aria-expanded", "false")
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")
        expect(links).to_have_text(MENU[role])
        for n in range(len(MENU[role])):
            expect(links.nth(n)).to_be_visible()
            _inside_width(page, links.nth(n), PHONE["width"])
        for name in ("修改密码", "退出"):
            control = page.get_by_role("link", name=name).or_(page.get_by_role("button", name=name))
            expect(control).to_be_visible()
            _inside_width(page, control, PHONE["width"])
        assert no_sideways_scroll(page)
        # Every item leads to its page.
        hrefs = [links.nth(n).get_attribute("href") for n in range(len(MENU[role]))]
        for label, href in zip(MENU[role], hrefs, strict=True):
            button = page.get_by_role("button", name="菜单")
            if button.get_attribute("aria-expanded") == "false":
                button.click()
            with page.expect_navigation() as navigation:
                page.get_by_role("navigation", name="主菜单").get_by_role(
                    "link", name=label, exact=True
                ).click()
            assert navigation.value.status == 200, (label, href)
            assert page.url == server + href, label
            current = page.locator(".mainnav a[aria-current=page]")
            expect(current).to_have_text(label)  # the menu says where you are
            assert no_sideways_scroll(page), href
        # Esc folds it again.
        page.get_by_role("button", name="菜单").click()
        expect(_menu_links(page).first).to_be_visible()
        page.keyboard.press("Escape")
        expect(_menu_links(page).first).to_be_hidden()


def test_the_menu_opens_without_javascript(people, server):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, user_agent=WECHAT_UA,
            java_script_enabled=False, locale="zh-CN",
        )  # fmt: skip
        page = context.new_page()
        try:
            sign_in(page, server, ACCOUNTS["federation_admin"])
            links = _menu_links(page)
            expect(links.first).to_be_hidden()
            page.get_by_role("link", name="菜单").click()
            expect(links).to_have_text(MENU["federation_admin"])
            for n in range(len(MENU["federation_admin"])):
                expect(links.nth(n)).to_be_visible()
                _inside_width(page, links.nth(n), PHONE["width"])
            assert no_sideways_scroll(page)
            page.get_by_role("link", name="收起菜单").click()
            expect(links.first).to_be_hidden()
        finally:
            browser.close()


@pytest.mark.parametrize("role", ROLES)
def test_a_desktop_shows_the_items_directly(people, server, role):
    with browser_page(DESKTOP) as page:
        sign_in(page, server, ACCOUNTS[role])
        expect(page.get_by_role("button", name="菜单")).to_be_hidden()
        links = _menu_links(page)
        expect(links).to_have_text(MENU[role])
        for n in range(len(MENU[role])):
            expect(links.nth(n)).to_be_visible()
            _inside_width(page, links.nth(n), DESKTOP["width"])
            # In the red bar at the top, not below the fold.
            assert links.nth(n).bounding_box()["y"] < 200
        expect(page.get_by_role("button", name="退出")).to_be_visible()
        expect(page.get_by_role("button", name="长辈模式")).to_be_visible()
        assert no_sideways_scroll(page)


def _expect_senior(page: Page, on: bool) -> None:
    """The page is (or is not) in senior mode, and its switch says so."""
    body = expect(page.locator("body"))
    switch = expect(page.get_by_role("button", name="长辈模式"))
    if on:
        body.to_have_class(SENIOR)
        switch.to_have_attribute("aria-pressed", "true")
    else:
        body.not_to_have_class(SENIOR)
        switch.to_have_attribute("aria-pressed", "false")


def test_senior_mode_is_one_tap_and_remembered_per_person(people, server, wechat_page):
    page = wechat_page
    sign_in(page, server, ACCOUNTS["cadre"])
    _expect_senior(page, False)
    switch = page.get_by_role("button", name="长辈模式")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.click()  # one tap, no menu to open first
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="长辈模式")).to_contain_text("✔")
    _expect_senior(page, True)
    assert page.url == server + "/"
    page.goto(server + "/course")
    _expect_senior(page, True)
    # Signed out on this phone: the sign-in page keeps it; signed in again: still on.
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(server + "/login")
    _expect_senior(page, True)
    sign_in(page, server, ACCOUNTS["cadre"])
    _expect_senior(page, True)
    # Another phone: the person's own setting follows them there.
    other_phone = page.context.browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, user_agent=WECHAT_UA, locale="zh-CN"
    )
    other = other_phone.new_page()
    other.goto(server + "/login")
    _expect_senior(other, False)
    sign_in(other, server, ACCOUNTS["cadre"])
    _expect_senior(other, True)
    other.get_by_role("button", name="长辈模式").click()
    _expect_senior(other, False)
    other.goto(server + "/course")
    _expect_senior(other, False)
    other_phone.close()


def test_senior_mode_can_be_chosen_before_signing_in(people, server, wechat_page):
    page = wechat_page
    page.goto(server + "/login?next=/course")
    page.get_by_role("button", name="长辈模式").click()
    expect(page).to_have_url(server + "/login?next=/course")
    _expect_senior(page, True)
    page.get_by_label("用户名（手机号或工号）").fill(ACCOUNTS["trainer"])
    page.get_by_label("密码").fill("Zhengque-mima-2023")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server + "/course")
    _expect_senior(page, True)


# The pages each role opens most, checked in senior mode at 360 px.
SENIOR_PAGES = {
    "cadre": ["/", "/course", "/my/trainings", "/checkin", "/mistakes", "/password"],
    "trainer": ["/", "/password"],
    "unit_admin": ["/", "/password"],
    "federation_admin": ["/", "/password"],
}


def _senior_problems(page: Page, where: str) -> list[str]:
    problems = [f"{where} 字小于 18px：{t}" for t in page.evaluate(SMALL_TEXT, [18, "body"])]
    problems += [f"{where} 点按区域小于 60×60：{t}" for t in page.evaluate(SMALL_TARGETS, 60)]
    problems += [f"{where} axe：{t}" for t in _axe_problems(page)]
    if not no_sideways_scroll(page):
        problems.append(f"{where} 横向滚动")
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_senior_mode_meets_the_guidelines_on_a_phone(people, server, role):
    """Main text at least 18 px, every control at least 60 × 60 px, axe-core's contrast (and
    other serious) checks pass, nothing wider than the phone; with the menu open too."""
    problems: list[str] = []
    with browser_page(PHONE, wechat=True) as page:
        page.goto(server + "/login")
        # The standard mode has 44 px controls: the check below does see them.
        assert page.evaluate(SMALL_TARGETS, 60)
        page.get_by_role("button", name="长辈模式").click()
        _expect_senior(page, True)
        problems += _senior_problems(page, "/login")
        sign_in(page, server, ACCOUNTS[role])
        for path in SENIOR_PAGES[role]:
            page.goto(server + path)
            _expect_senior(page, True)
            problems += _senior_problems(page, path)
        page.goto(server + "/")
        page.get_by_role("button", name="菜单").click()
        problems += _senior_problems(page, "/ 菜单打开")
    assert not problems, "\n".join(problems)


def test_the_favicon_is_served(server):
    response = httpx.get(server + "/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an icon file
    svg = httpx.get(server + "/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    with browser_page(DESKTOP) as page:
        missing = []
        page.on("response", lambda r: r.status >= 400 and missing.append(r.url))
        page.goto(server + "/login")
        links = page.locator("link[rel=icon]")
        expect(links).to_have_count(2)
        # Chromium reads both as pictures.
        for href in (server + "/favicon.ico", server + "/static/favicon.svg"):
            width = page.evaluate(
                """(src) => new Promise((done) => {
                  const img = new Image();
                  img.onload = () => done(img.naturalWidth);
                  img.onerror = () => done(0);
                  img.src = src;
                })""",
                href,
            )
            assert width >= 16, href
        assert not missing, missing


@pytest.fixture
async def many_units(tree, people):
    """A training with cadres enrolled in 24 grassroots unions of 解放区 (long names among
    them); in the n-th union n % 4 of 3 cadres have completed."""
    training = Training(title="工会十八大精神专题培训", kind="special", unit=tree["city"].id)
    await training.save()
    batch = Batch(training=training.id, name="第一期", sort_order=1)
    await batch.save()
    names = []
    for n in range(24):
        name = f"解放区第{n + 1}基层工会" if n % 3 else f"焦作市解放区第{n + 1}机械制造有限公司工会"
        unit = await create_unit(name, "grassroots_union", tree["jiefang"])
        names.append(name)
        for k in range(3):
            person = await make_user(f"1370{n:03d}{k:04d}", unit, name=f"学员{n}-{k}")
            done = datetime(2026, 11, 20, tzinfo=UTC) if k < n % 4 else None
            await Enrollment(
                training=training.id,
                batch=batch.id,
                account=person.id,
                unit=unit.id,
                lessons_required=4,
                lessons_read=4 if done else 1,
                completed_at=done,
            ).save()
    return {"training": training.id, "names": names}


# The text of an element as drawn: [text, size in CSS px], an SVG's scaling counted in.
DRAWN_TEXT = """(root) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || e.closest('title, desc')) continue;
    let size = parseFloat(getComputedStyle(e).fontSize);
    const svg = e.closest('svg');
    if (svg) size *= svg.getScreenCTM().a;
    found.push([n.textContent.trim(), Math.round(size * 10) / 10]);
  }
  return found;
}"""


def test_the_dashboard_chart_is_readable_on_a_phone(many_units, server, wechat_page):
    page = wechat_page
    sign_in(page, server, "jf-admin")
    page.goto(server + f"/reports?training={many_units['training']}")
    chart = page.locator("section", has=page.get_by_role("heading", name="各单位完成率"))
    drawn = chart.evaluate(DRAWN_TEXT)
    texts = [text for text, _ in drawn]
    for name in many_units["names"]:
        assert name in texts, name  # whole, not cut to fit
    small = [(text, size) for text, size in drawn if size < 14]
    assert not small, small
    # One row per union (and 解放区人民医院工会, with nobody enrolled): name, bar, the rate in
    # words, inside the phone's width.
    rows = page.locator(".rate-bars > li")
    expect(rows).to_have_count(24 + 1)
    for n in range(rows.count()):
        _inside_width(page, rows.nth(n), PHONE["width"])
    names = page.locator(".rate-bars .rate-name").all_inner_texts()
    figures = page.locator(".rate-bars .rate-figure").all_inner_texts()
    by_name = dict(zip(names, figures, strict=True))
    assert by_name["解放区第2基层工会"].startswith("33.3%")  # 1 of 3
    assert "1/3 人" in by_name["解放区第2基层工会"]
    assert by_name["解放区第8基层工会"].startswith("✔ 100.0%")  # 3 of 3, said in text
    assert by_name["焦作市解放区第1机械制造有限公司工会"].startswith("0.0%")
    assert by_name["解放区人民医院工会"] == "无应训人员"
    assert no_sideways_scroll(page)
    # The table stays below the chart.
    expect(page.get_by_role("region", name="各单位完成情况")).to_be_visible()
