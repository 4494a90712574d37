"""While a cadre has a quiz in progress, no page shows the answer or 解析 of any question:
not the results of practice (open or finished), not the mistake book, not earlier results."""

from __future__ import annotations

import pytest

from app.quizzes.core import paper_of
from app.tables import Attempt, Bank, Mistake
from tests.conftest import login, post_form
from tests.test_quizzes import FETCH, answer_all, fields, paper, save, start

FINAL = "final-exam"
HIDDEN = "您正在参加测验，交卷后才能查看答案和解析。"
# What a page shows only when it reveals answers: the review lines and the mistake book's.
REVEALING = (
    "正确答案",
    "<strong>解析：</strong>",
    "答对了",
    "答错了",
    "未作答",
    "is-correct",
    "您的选择",
    "您上次的答案",
)


@pytest.fixture
async def cadre_client(client, people, content):
    await login(client, "13800000001")
    return client


async def practise(client, source: str) -> int:
    response = await post_form(client, "/practice", {"source": source})
    location = response.headers["location"]
    assert location.startswith("/attempts/"), location
    return int(location.rsplit("/", 1)[1])


async def submit(client, attempt_id: int):
    return await post_form(client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})


def assert_nothing_revealed(text: str, items) -> None:
    for marker in REVEALING:
        assert marker not in text, marker
    # A blank's answer that is also some question's option is shown with that option.
    options = {option for item in items for option in item.options}
    for item in items:
        if item.explanation:
            assert item.explanation not in text, item.explanation
        for accepted in item.blanks:
            for answer in set(accepted) - options:
                assert f">{answer}<" not in text and f'"{answer}"' not in text, answer
    assert "option_order" not in text and '"answer"' not in text


def wrong_response(item) -> tuple[str, ...]:
    if item.type == "fill_blank":
        return tuple("不对" for _ in item.blanks)
    if item.type == "true_false":
        return ("错",) if item.answer == ("对",) else ("对",)
    letters = "ABCDEFGH"[: len(item.options)]
    return (next(letter for letter in letters if letter not in item.answer),)


async def every_question() -> list:
    rows = await Attempt.select(Attempt.paper)
    return [item for row in rows for item in paper_of(row["paper"])]


async def test_no_answer_or_explanation_is_shown_anywhere_while_a_quiz_is_in_progress(
    cadre_client,
):
    # Earlier: a unit quiz and a practice, finished with wrong answers (so the mistake book
    # has entries and both results show answers).
    earlier = await start(cadre_client)
    await answer_all(cadre_client, earlier, right=False)
    await submit(cadre_client, earlier)
    earlier_practice = await practise(cadre_client, "xuexi-daodu")
    await answer_all(cadre_client, earlier_practice, right=False)
    await submit(cadre_client, earlier_practice)
    assert "正确答案" in (await cadre_client.get(f"/attempts/{earlier}/result")).text
    assert "正确答案" in (await cadre_client.get("/mistakes")).text

    # A practice per bank, then the final exam.
    banks = [row["slug"] for row in await Bank.select(Bank.slug).where(Bank.active.eq(True))]
    assert len(banks) >= 6
    practices = [await practise(cadre_client, slug) for slug in banks]
    exam = await start(cadre_client, FINAL)

    # The practices are submitted and their results opened while the exam is in progress.
    seen = []
    for practice in practices:
        submitted = await submit(cadre_client, practice)
        seen.append(submitted.text)
        seen.append((await cadre_client.get(f"/attempts/{practice}", follow_redirects=True)).text)
        saved = await save(cadre_client, practice, [("q1", "A")], headers=FETCH)
        seen.append(saved.text)
    results = [
        (await cadre_client.get(f"/attempts/{attempt_id}/result")).text
        for attempt_id in [*practices, earlier_practice, earlier]
    ]
    book = [
        (await cadre_client.get("/mistakes")).text,
        (await cadre_client.get("/mistakes?show=mastered")).text,
    ]
    exam_page = await cadre_client.get(f"/attempts/{exam}")
    assert exam_page.status_code == 200
    scores = await cadre_client.get("/my/scores")
    assert scores.status_code == 200 and f'href="/attempts/{exam}"' in scores.text
    seen += [*results, *book, exam_page.text, scores.text]

    items = await every_question()
    assert len(items) >= 30 + 6 * 10
    for text in seen:
        assert_nothing_revealed(text, items)
    for text in [*results, book[0]]:
        assert HIDDEN in text
        assert f'href="/attempts/{exam}"' in text

    # After the exam is submitted, the practice results show answers and 解析 again.
    await submit(cadre_client, exam)
    again = (await cadre_client.get(f"/attempts/{practices[0]}/result")).text
    assert HIDDEN not in again
    assert "正确答案" in again
    explained = [item.explanation for item in await paper(practices[0]) if item.explanation]
    assert explained and any(explanation in again for explanation in explained)
    assert "正确答案" in (await cadre_client.get(f"/attempts/{earlier}/result")).text
    assert "正确答案" in (await cadre_client.get("/mistakes")).text


async def test_a_practice_open_when_a_quiz_starts_is_closed(cadre_client):
    practice = await practise(cadre_client, "xuexi-daodu")
    first = (await paper(practice))[0]
    response = wrong_response(first)
    saved = await save(cadre_client, practice, fields(first, response), headers=FETCH)
    assert saved.status_code == 200, saved.text

    exam = await start(cadre_client, FINAL)
    row = await Attempt.select().where(Attempt.id == practice).first()
    assert row["status"] != "in_progress" and row["finished_at"] is not None
    assert row["finished_by"] == "quiz_started"
    # Only the question answered wrongly goes to the mistake book, not the unanswered ones.
    assert await Mistake.count() == 1

    # Its page sends the cadre to its result, which shows nothing while the exam runs.
    page = await cadre_client.get(f"/attempts/{practice}", follow_redirects=True)
    assert HIDDEN in page.text and f'href="/attempts/{exam}"' in page.text
    assert_nothing_revealed(page.text, await every_question())
    late = await save(cadre_client, practice, fields(first, response), headers=FETCH)
    assert late.status_code == 409
