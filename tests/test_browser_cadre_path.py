"""A cadre's learning path in a real Chromium, on a phone inside WeChat and on a desktop:
继续学习 goes to the next step, 我已学完 looks disabled and counts down the seconds until
the server accepts it, and 我的证书 lists a completed training's certificate."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from app.course.lessons import required_seconds
from app.tables import (
    Batch,
    Completion,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Training,
    TrainingModule,
)
from tests.browser_support import (  # noqa: F401  (fixtures)
    desktop_page,
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)

pytestmark = pytest.mark.browser

# The reading time the test leaves to read 导语: the rest is credited before the page opens.
LEFT = 7
RED = "rgb(183, 28, 28)"
GREY = "rgb(232, 234, 237)"
COMPLETED = "学习贯彻中国工会十八大精神集中轮训"


@pytest.fixture
async def path(people, tree, content):
    """The cadre, enrolled in a training of 学习导读 and 重要讲话精神 (nothing read but the
    second lesson of 学习导读, and all but a few seconds of 导语's time), and holding the
    certificate of another, completed training."""
    cadre = people["cadre"]
    training = Training(title="学习导读专题培训", kind="special", unit=tree["city"].id)
    await training.save()
    for slug in ("xuexi-daodu", "zhongyao-jianghua"):
        module = await Module.objects().where(Module.slug == slug).first()
        await TrainingModule(training=training.id, module=module.id).save()
    await Enrollment(training=training.id, account=cadre.id, unit=cadre.unit).save()
    guide = await Module.objects().where(Module.slug == "xuexi-daodu").first()
    lessons = {row.slug: row for row in await Lesson.objects().where(Lesson.module == guide.id)}
    now = datetime.now(UTC)
    intro = lessons["导语"]
    await LessonProgress(
        account=cadre.id,
        lesson=intro.id,
        active_seconds=required_seconds(intro.characters) - LEFT,
        first_opened_at=now,
        last_seen_at=now,
    ).save()
    await LessonProgress(
        account=cadre.id, lesson=lessons["一"].id, active_seconds=200, read_at=now
    ).save()

    done = Training(title=COMPLETED, kind="rotation", unit=tree["city"].id)
    await done.save()
    batch = Batch(training=done.id, name="第二期")
    await batch.save()
    enrollment = Enrollment(
        training=done.id, batch=batch.id, account=cadre.id, unit=cadre.unit, completed_at=now
    )
    await enrollment.save()
    await Completion(
        training=done.id,
        account=cadre.id,
        enrollment=enrollment.id,
        completed_at=now,
        hours=12.5,
        score=92.0,
        code="SUNXUEYUAN",
    ).save()
    return cadre


def _style(page: Page, name: str) -> str:
    return page.get_by_role("button", name="我已学完").evaluate(f"b => getComputedStyle(b).{name}")


def _left(page: Page) -> int:
    text = page.locator("[data-reason]").inner_text()
    match = re.search(r"还需阅读 (\d+) 秒", text)
    assert match, text
    return int(match.group(1))


def _walk(page: Page, base: str, username: str) -> None:
    sign_in(page, base, username)
    expect(page.get_by_role("heading", name="我的培训")).to_be_visible()
    assert no_sideways_scroll(page)

    # 继续学习 opens the first unread lesson (the second one is read).
    page.get_by_role("link", name="继续学习").first.click()
    expect(page.get_by_role("heading", name="导语", exact=True)).to_be_visible()
    assert no_sideways_scroll(page)
    done = page.get_by_role("button", name="我已学完")

    # Locked: visibly disabled, saying the seconds left, counting down every second.
    expect(done).to_be_disabled()
    assert _style(page, "cursor") == "not-allowed"
    assert _style(page, "backgroundColor") == GREY
    first = _left(page)
    assert 1 < first <= LEFT
    time.sleep(1.2)
    assert _left(page) < first
    expect(page.locator("[data-seconds]")).to_contain_text("秒")

    # Still locked, the server refuses it too (the form sent all the same).
    with page.expect_navigation():
        page.evaluate("document.querySelector('[data-done]').form.submit()")
    expect(page.get_by_role("status")).to_contain_text("还需要再阅读")
    expect(done).to_be_disabled()

    # It unlocks, and the server accepts it at once.
    expect(done).to_be_enabled(timeout=(LEFT + 3) * 1000)
    expect(page.locator("[data-reason]")).to_contain_text("阅读时间已够")
    assert _style(page, "cursor") == "pointer"
    assert _style(page, "backgroundColor") == RED
    done.click()
    expect(page.get_by_role("status")).to_contain_text("已学完“导语”")

    # Both lessons of 学习导读 read: 继续学习 goes to its quiz, not back to 学习导读.
    page.goto(base + "/")
    nexts = page.get_by_role("link", name="开始测验")
    expect(nexts).to_have_count(2)  # the training's card and the course card agree
    nexts.first.click()
    expect(page).to_have_url(base + "/quizzes/xuexi-daodu-quiz")
    expect(page.get_by_role("heading", name="学习导读 单元测验")).to_be_visible()

    # 我的证书 lists the completed training, and opens its certificate.
    page.goto(base + "/my/certificates")
    expect(page.get_by_role("heading", name="我的证书")).to_be_visible()
    expect(page.get_by_role("heading", name=COMPLETED)).to_be_visible()
    expect(page.get_by_text("SUNXUEYUAN")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_role("link", name=f"查看证书：{COMPLETED}").click()
    expect(page.get_by_role("heading", name="结业证书")).to_be_visible()
    expect(page.get_by_text("SUNXUEYUAN").first).to_be_visible()


def test_the_path_on_a_phone_inside_wechat(path, server, wechat_page):
    _walk(wechat_page, server, path.username)


def test_the_path_on_a_desktop(path, server, desktop_page):
    _walk(desktop_page, server, path.username)
