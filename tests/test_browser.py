"""A cadre signs in for the first time on a phone and sets a password, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.accounts.passwords import hash_initial_password
from tests.browser_support import (  # noqa: F401  (fixtures)
    CHROMIUM,
    PHONE,
    phone_page,
    server,
)
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
async def new_cadre(tree):
    """A cadre whose account was just created, with a generated password."""
    return await make_user(
        "13912345678",
        tree["jiefang_g"],
        name="刘学员",
        password_hash=hash_initial_password("abcd2345ef"),
        must_change_password=True,
    )


# The cadre is made before Playwright starts its own event loop in this thread.
def test_first_sign_in_and_password_change_on_a_phone(new_cadre, server, phone_page, tmp_path):
    page = phone_page
    page.goto(server + "/")
    expect(page).to_have_url(server + "/login")
    page.get_by_label("用户名（手机号或工号）").fill("13912345678")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名（手机号或工号）")).to_have_value("13912345678")

    page.get_by_label("密码").fill("abcd2345ef")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server + "/password")
    expect(page.get_by_role("heading", name="设置新密码")).to_be_visible()
    page.screenshot(path=str(tmp_path / "password.png"), full_page=True)

    page.get_by_label("当前密码").fill("abcd2345ef")
    page.locator("#new_password").fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.locator(".field-error")).to_contain_text("至少需要 8 个字符")

    page.get_by_label("当前密码").fill("abcd2345ef")
    page.locator("#new_password").fill("Liu-xuexi-2023")
    page.get_by_label("再次输入新密码").fill("Liu-xuexi-2023")
    page.get_by_role("button", name="保存新密码").click()
    expect(page).to_have_url(server + "/")
    expect(page.get_by_role("status")).to_contain_text("密码已修改")
    expect(page.get_by_role("heading", name="我的培训")).to_be_visible()
    expect(page.get_by_text("解放区人民医院工会")).to_be_visible()

    # Nothing is wider than the phone, and the buttons are big enough to tap.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="菜单").click()  # 退出 is in the menu on a phone
    box = page.get_by_role("button", name="退出").bounding_box()
    assert box and box["height"] >= 44

    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(server + "/login")
    expect(page.get_by_role("status")).to_contain_text("您已安全退出")
    page.get_by_label("用户名（手机号或工号）").fill("13912345678")
    page.get_by_label("密码").fill("Liu-xuexi-2023")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server + "/")


@pytest.fixture
async def shipped_course(people):
    """The course made from the notice, loaded as `peixun init` loads it."""
    from app.course.lessons import read_course_dir, sync_course
    from app.settings import get_settings

    await sync_course(read_course_dir(get_settings().course_dir))


def test_a_cadre_reads_a_lesson_on_a_phone(shipped_course, server, phone_page):
    page = phone_page
    page.goto(server + "/login")
    page.get_by_label("用户名（手机号或工号）").fill("13800000001")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="课程").first.click()
    expect(page.get_by_text("已学 0 / 1 篇").first).to_be_visible()
    page.get_by_role("link", name="中国工会十八大报告").click()
    expect(page.get_by_role("heading", name="说明")).to_be_visible()
    page.get_by_role("link", name="认真学习中国工会十八大报告").click()
    expect(page.locator(".official-text")).to_contain_text("王东明同志代表全总十七届执委会")
    expect(page.locator(".source-ref").first).to_have_text("二（三）")
    # Reading time is not there yet: the button says why and cannot be pressed.
    expect(page.get_by_role("button", name="我已学完")).to_be_disabled()
    expect(page.locator("[data-reason]")).to_contain_text("还需阅读")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _answer(page, position: int) -> None:
    """Answer a question as a cadre would: tap the first option, or type in each blank."""
    question = page.locator(f"#question-{position}")
    blanks = question.locator("input[type=text]")
    if blanks.count():
        for n in range(blanks.count()):
            blanks.nth(n).fill("职工")
        blanks.last.blur()
    else:
        question.locator(".option").first.click()


def _expect_answered(page, position: int) -> None:
    question = page.locator(f"#question-{position}")
    blanks = question.locator("input[type=text]")
    if blanks.count():
        expect(blanks.first).to_have_value("职工")
    else:
        expect(question.locator("input").first).to_be_checked()


@pytest.fixture
async def quiz_ready(people, content):
    """The shipped course, banks and quizzes, and the cadre of tests/conftest.py."""


def test_a_cadre_takes_a_quiz_on_a_phone_through_a_lost_connection(quiz_ready, server, phone_page):
    page = phone_page
    page.goto(server + "/login")
    page.get_by_label("用户名（手机号或工号）").fill("13800000001")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(server + "/course/xuexi-daodu")
    page.get_by_role("link", name="学习导读 单元测验").click()
    page.get_by_role("button", name="开始答题").click()
    expect(page.locator(".countdown")).to_contain_text("剩余 19 分")
    status = page.locator("[data-save-status]")

    _answer(page, 1)
    expect(status).to_have_text("已保存")
    expect(page.locator("[data-sheet='1']")).to_have_class("answered")

    # The network drops: the answer is kept and sent again when it is back.
    page.context.set_offline(True)
    _answer(page, 2)
    expect(status).to_contain_text("保存失败，请检查网络")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("已保存")

    page.reload()
    _expect_answered(page, 1)
    _expect_answered(page, 2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    attempt_url = page.url
    page.get_by_role("button", name="交卷").click()
    expect(page.locator("[data-unanswered-text]")).to_contain_text("还有 8 道题没有作答")
    # A double tap: the confirmation is sent twice before the result page loads.
    page.locator("[data-submit-dialog] button[type=submit]").dblclick()
    expect(page.locator(".result-head .score")).to_contain_text("分")
    score = page.locator(".result-head .score").inner_text()
    # Sent once more from the old page (a retried request): still the same one result.
    page.goto(attempt_url)
    expect(page).to_have_url(attempt_url + "/result")
    expect(page.locator(".result-head .score")).to_have_text(score)
    page.goto(server + "/quizzes/xuexi-daodu-quiz")
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    page.goto(attempt_url + "/result")
    expect(page.locator(".verdict")).to_have_text("不合格")
    expect(page.get_by_text("答题详情")).to_be_visible()
