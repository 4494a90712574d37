"""补考与延期 in a real Chromium at 360 px inside WeChat: the cadre's note on the quiz page
and on 我的成绩, and the trainer's list, with nothing to scroll sideways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.tables import Quiz, QuizOverride
from tests.browser_support import (  # noqa: F401  (fixtures)
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)

pytestmark = pytest.mark.browser

QUIZ = "xuexi-daodu-quiz"


@pytest.fixture
async def granted(people, content):
    closes = datetime.now(UTC) + timedelta(hours=1)
    await Quiz.update({Quiz.max_attempts: 1, Quiz.closes_at: closes, Quiz.override_count: 1}).where(
        Quiz.slug == QUIZ
    )
    quiz = await Quiz.select(Quiz.id).where(Quiz.slug == QUIZ).first()
    await QuizOverride.insert(
        QuizOverride(
            quiz=quiz["id"],
            account=people["cadre"].id,
            extra_attempts=1,
            extra_minutes=10,
            closes_at=closes + timedelta(days=7),
            reason="因公出差，参加全省工会干部集中轮训后补考",
            granted_by=people["trainer"].id,
        )
    )
    yield
    await QuizOverride.delete(force=True)


def test_the_cadre_and_the_trainer_read_it_on_a_phone(granted, server, wechat_page: Page):
    page = wechat_page
    sign_in(page, server, "13800000001")
    page.goto(f"{server}/quizzes/{QUIZ}")
    note = page.locator(".override-note")
    expect(note).to_contain_text("您已获准补考：可再作答 2 次")
    expect(note).to_contain_text("每次作答延长 10 分钟")
    expect(note).to_contain_text("因公出差，参加全省工会干部集中轮训后补考")
    expect(page.get_by_text("限时 30 分钟（含为您延长的 10 分钟）")).to_be_visible()
    expect(page.get_by_role("button", name="开始答题")).to_be_visible()
    assert no_sideways_scroll(page)
    page.goto(f"{server}/my/scores")
    expect(page.locator(f"#quiz-{QUIZ} .override-note")).to_contain_text("您已获准补考")
    assert no_sideways_scroll(page)

    page.context.clear_cookies()
    sign_in(page, server, "trainer")
    page.goto(f"{server}/admin/quizzes/{QUIZ}/overrides")
    expect(page.get_by_role("heading", name="已授予（1 人有效）")).to_be_visible()
    expect(page.get_by_role("button", name="撤销 孙学员 的补考与延期")).to_be_visible()
    expect(page.get_by_label("学员（姓名、手机号或工号）")).to_be_visible()
    assert no_sideways_scroll(page)
