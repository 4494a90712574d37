"""A cadre's result, 错题本 and leaving a timed quiz, in a real Chromium: a 360 px phone
inside WeChat and a 1366 px desktop."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from app.banks.model import LETTERS
from app.quizzes.answering import load_attempt, save_responses
from app.quizzes.core import correct_response
from app.quizzes.definitions import load_quiz, start_attempt
from tests.browser_support import (  # noqa: F401  (fixtures)
    desktop_page,
    no_sideways_scroll,
    server,
    sign_in,
    wechat_page,
)

pytestmark = pytest.mark.browser

QUIZ = "xuexi-daodu-quiz"
CADRE = "13800000001"


def _wrong(item) -> tuple[str, ...]:
    if item.type == "fill_blank":
        return tuple("不对" for _ in item.blanks)
    return (next(x for x in LETTERS[: len(item.options)] if x not in item.answer),)


@pytest.fixture
async def answered(people, content):
    """The cadre's attempt of the unit quiz with every answer saved but one single choice:
    one multiple choice (15 points, its options shuffled when the paper allows) and one
    fill-in (10 points) wrong. Answering the last one right scores 75 of 100."""
    from app.quizzes.core import paper_of

    cadre = people["cadre"]
    attempt_id = await start_attempt(await load_quiz(QUIZ), cadre)
    attempt = await load_attempt(cadre, attempt_id)
    items = paper_of(attempt["paper"])
    multiples = [i for i in items if i.type == "multiple"]
    wrong_multiple = next(
        (i for i in multiples if list(i.option_order) != sorted(i.option_order)), multiples[0]
    )
    wrong_blank = next(i for i in items if i.type == "fill_blank")
    left = next(i for i in items if i.type == "single")
    responses = {
        i.position: _wrong(i) if i in (wrong_multiple, wrong_blank) else correct_response(i)
        for i in items
        if i is not left
    }
    await save_responses(attempt, responses, datetime.now(UTC))
    return {"id": attempt_id, "multiple": wrong_multiple, "left": left, "items": items}


def _options(scope) -> list[str]:
    """Letter and text of each option as shown, e.g. "A 党的十八大以来"."""
    letters = scope.locator(".review-option .option-letter").all_inner_texts()
    texts = scope.locator(".review-option .option-text").all_inner_texts()
    return [f"{letter} {text}" for letter, text in zip(letters, texts, strict=True)]


def _result_and_mistake_book(page: Page, base: str, answered: dict) -> None:
    sign_in(page, base, CADRE)
    page.goto(f"{base}/attempts/{answered['id']}")
    left = answered["left"]
    page.locator(f"#question-{left.position} input[value='{left.answer[0]}']").check()
    expect(page.locator("[data-save-status]")).to_have_text("已保存")
    page.get_by_role("button", name="交卷").click()
    expect(page.locator("[data-unanswered-text]")).to_have_text("所有题目都已作答。")
    page.get_by_role("button", name="确认交卷").click()
    expect(page).to_have_url(f"{base}/attempts/{answered['id']}/result")

    # Whole points, the verdict, and for each question the right option beside the choice.
    expect(page.locator(".result-head .score")).to_have_text("75 分")
    expect(page.locator(".verdict")).to_have_text("不合格")
    multiple = answered["multiple"]
    review = page.locator(f"#review-{multiple.position}")
    for letter in multiple.answer:
        option = review.locator(".review-option").nth(LETTERS.index(letter))
        expect(option.locator(".mark-correct")).to_have_text("✔ 正确答案")
    chosen = review.locator(".review-option.is-chosen")
    expect(chosen).to_have_count(1)
    expect(chosen.locator(".mark-chosen")).to_have_text("✘ 您的选择")
    expect(chosen.locator(".mark-correct")).to_have_count(0)
    on_the_paper = [f"{LETTERS[n]} {text}" for n, text in enumerate(multiple.options)]
    assert _options(review) == on_the_paper
    expect(page.get_by_role("button", name="再答一次（还可作答 2 次）")).to_be_visible()
    expect(page.get_by_role("link", name="下一模块：")).to_be_visible()
    assert no_sideways_scroll(page)

    # The 错题本 shows the question with the paper's letters and order.
    page.get_by_role("link", name="错题本", exact=True).last.click()
    expect(page.get_by_role("heading", name="错题本")).to_be_visible()
    card = page.locator("article.mistake").filter(has_text=multiple.stem)
    expect(card).to_have_count(1)
    assert _options(card) == on_the_paper
    expect(card.locator(".review-option.is-correct")).to_have_count(len(multiple.answer))
    assert card.locator("ol").count() == 0
    assert no_sideways_scroll(page)

    # 再答一次 starts the next attempt.
    page.goto(f"{base}/attempts/{answered['id']}/result")
    page.get_by_role("button", name="再答一次").click()
    expect(page).to_have_url(f"{base}/attempts/{answered['id'] + 1}")
    expect(page.locator(".countdown")).to_contain_text("剩余")


def _leave_a_timed_quiz(page: Page, base: str) -> None:
    """On the attempt page of a timed quiz: a link outside the paper asks first."""
    attempt_url = page.url
    first = page.locator("#question-1")
    if first.locator("input[type=text]").count():
        first.locator("input[type=text]").first.fill("职工")
    else:
        first.locator("input").first.check()
    home = page.locator("a[href='/']:visible").first
    home.click()
    dialog = page.locator("[data-leave-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="离开答题页？")).to_be_visible()
    expect(dialog.locator("[data-leave-status]")).to_have_text("您的答案都已保存。")
    dialog.get_by_role("button", name="继续答题").click()
    expect(dialog).to_be_hidden()
    assert page.url == attempt_url

    home.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="离开本页").click()
    expect(page).to_have_url(base + "/")

    # The answer given before leaving is there on coming back.
    page.goto(attempt_url)
    if first.locator("input[type=text]").count():
        expect(first.locator("input[type=text]").first).to_have_value("职工")
    else:
        expect(first.locator("input").first).to_be_checked()


def test_result_mistake_book_and_leaving_on_a_phone_in_wechat(answered, server, wechat_page):
    _result_and_mistake_book(wechat_page, server, answered)
    _leave_a_timed_quiz(wechat_page, server)
    assert no_sideways_scroll(wechat_page)


def test_result_mistake_book_and_leaving_on_a_desktop(answered, server, desktop_page):
    _result_and_mistake_book(desktop_page, server, answered)
    _leave_a_timed_quiz(desktop_page, server)


def test_my_scores_on_a_phone(answered, server, wechat_page):
    page = wechat_page
    sign_in(page, server, CADRE)
    page.goto(f"{server}/attempts/{answered['id']}")
    page.get_by_role("button", name="交卷").click()
    page.get_by_role("button", name="确认交卷").click()
    expect(page.locator(".verdict")).to_have_text("不合格")
    page.get_by_role("link", name="我的成绩").last.click()
    expect(page).to_have_url(server + "/my/scores")
    card = page.locator(f"#quiz-{QUIZ}")
    expect(card.locator(".quiz-score-counted")).to_contain_text("65 分")
    expect(card.locator(".quiz-score-tries")).to_have_text("已作答 1 次，还可作答 2 次")
    assert no_sideways_scroll(page)
    card.get_by_role("link", name="查看").click()
    expect(page).to_have_url(f"{server}/attempts/{answered['id']}/result")
