"""Taking a quiz: start and resume, autosave, deadlines, submitting once, review, mistakes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.quizzes.answering import finish_attempt, sweep_expired
from app.quizzes.core import correct_response, paper_of
from app.tables import Answer, Attempt, AttemptEvent, Mistake, Quiz
from tests.conftest import csrf, login, post_form

QUIZ = "xuexi-daodu-quiz"
FETCH = {"x-requested-with": "fetch"}


async def start(client, slug: str = QUIZ) -> int:
    response = await post_form(client, f"/quizzes/{slug}")
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith("/attempts/"), location
    return int(location.rsplit("/", 1)[1])


async def paper(attempt_id: int):
    row = await Attempt.select(Attempt.paper).where(Attempt.id == attempt_id).first()
    return paper_of(row["paper"])


def fields(item, response) -> list[tuple[str, str]]:
    return [(f"q{item.position}", value) for value in response] or [(f"q{item.position}", "")]


async def save(client, attempt_id: int, pairs: list[tuple[str, str]], **kwargs):
    body = [*pairs, ("_csrf_token", csrf(client))]
    return await client.post(
        f"/attempts/{attempt_id}/answers",
        content="&".join(f"{k}={v}" for k, v in _quote(body)),
        headers={"content-type": "application/x-www-form-urlencoded", **kwargs.get("headers", {})},
    )


def _quote(pairs):
    from urllib.parse import quote

    return [(quote(k), quote(v)) for k, v in pairs]


async def answer_all(client, attempt_id: int, right: bool = True) -> None:
    for item in await paper(attempt_id):
        response = correct_response(item) if right else ()
        if not right and item.type in ("single", "multiple"):
            wrong = [
                letter for letter in "ABCDEFGH"[: len(item.options)] if letter not in item.answer
            ]
            response = (wrong[0],)
        if not right and item.type == "true_false":
            response = ("错",) if item.answer == ("对",) else ("对",)
        if not right and item.type == "fill_blank":
            response = tuple("不对" for _ in item.blanks)
        result = await save(client, attempt_id, fields(item, response), headers=FETCH)
        assert result.status_code == 200, result.text


@pytest.fixture
async def cadre_client(client, people, content):
    await login(client, "13800000001")
    return client


async def test_module_page_links_its_quiz_and_the_quiz_page_explains_the_rules(cadre_client):
    module = await cadre_client.get("/course/xuexi-daodu")
    assert f"/quizzes/{QUIZ}" in module.text
    page = await cadre_client.get(f"/quizzes/{QUIZ}")
    assert page.status_code == 200
    assert "10</strong> 道题" in page.text and "限时 <strong>20</strong> 分钟" in page.text
    assert "开始答题" in page.text


async def test_starting_twice_resumes_the_same_attempt_with_a_frozen_paper(cadre_client):
    first = await start(cadre_client)
    again = await start(cadre_client)
    assert again == first
    items = await paper(first)
    assert len(items) == 10
    assert len({item.version_id for item in items}) == 10
    page = await cadre_client.get(f"/attempts/{first}")
    assert page.status_code == 200
    assert "答题卡" in page.text and "交卷" in page.text


async def test_concurrent_starts_make_one_attempt(cadre_client):
    ids = await asyncio.gather(*(start(cadre_client) for _ in range(5)))
    assert len(set(ids)) == 1
    assert await Attempt.count().where(Attempt.status == "in_progress") == 1


async def test_the_database_allows_one_attempt_in_progress_per_cadre_and_quiz(people, content):
    quiz = await Quiz.select(Quiz.id).where(Quiz.slug == QUIZ).first()
    cadre = people["cadre"].id
    await Attempt.insert(Attempt(quiz=quiz["id"], account=cadre))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
        await Attempt.insert(Attempt(quiz=quiz["id"], account=cadre))


async def test_no_answer_or_explanation_reaches_the_browser_before_the_end(cadre_client):
    attempt_id = await start(cadre_client)
    items = await paper(attempt_id)
    seen = [
        (await cadre_client.get(f"/attempts/{attempt_id}")).text,
        (await cadre_client.get(f"/quizzes/{QUIZ}")).text,
        (await cadre_client.get(f"/attempts/{attempt_id}/result", follow_redirects=True)).text,
    ]
    first = items[0]
    saved = await save(cadre_client, attempt_id, fields(first, ()), headers=FETCH)
    seen.append(saved.text)
    for text in seen:
        for item in items:
            if item.explanation:
                assert item.explanation not in text
            for accepted in item.blanks:
                for answer in accepted:
                    assert f">{answer}<" not in text and f'"{answer}"' not in text
        assert "option_order" not in text and '"answer"' not in text


async def test_each_answer_is_stored_and_found_again_from_another_device(
    cadre_client, people, content
):
    attempt_id = await start(cadre_client)
    items = await paper(attempt_id)
    single = next(item for item in items if item.type == "single")
    result = await save(cadre_client, attempt_id, [(f"q{single.position}", "B")], headers=FETCH)
    assert result.status_code == 200
    assert result.json()["saved"] == [single.position]
    stored = await Answer.select(Answer.response).where(Answer.attempt == attempt_id)
    assert [json.loads(row["response"]) for row in stored] == [["B"]]

    phone = AsyncTestClient(app=create_app())
    phone.follow_redirects = False
    async with phone:
        await login(phone, "13800000001")
        assert await start(phone) == attempt_id
        page = await phone.get(f"/attempts/{attempt_id}")
        assert f'name="q{single.position}" value="B" checked' in page.text


async def test_a_form_without_javascript_saves_every_answer(cadre_client):
    attempt_id = await start(cadre_client)
    items = await paper(attempt_id)
    pairs = [("positions", ",".join(str(i.position) for i in items))]
    for item in items:
        pairs += fields(item, correct_response(item))
    response = await save(cadre_client, attempt_id, pairs)
    assert response.status_code in (302, 303)
    assert await Answer.count().where(Answer.attempt == attempt_id) == len(items)
    page = await cadre_client.get(f"/attempts/{attempt_id}")
    assert "已保存 10 题的答案" in page.text


async def test_bad_answers_are_refused_and_change_nothing(cadre_client, people):
    attempt_id = await start(cadre_client)
    not_on_paper = await save(cadre_client, attempt_id, [("q99", "A")], headers=FETCH)
    assert not_on_paper.status_code == 400
    assert "第 99 题不在这份试卷上" in not_on_paper.json()["message"]
    single = next(item for item in await paper(attempt_id) if item.type == "single")
    two = await save(
        cadre_client,
        attempt_id,
        [(f"q{single.position}", "A"), (f"q{single.position}", "B")],
        headers=FETCH,
    )
    assert two.status_code == 400 and "只能选一个" in two.json()["message"]
    assert await Answer.count().where(Answer.attempt == attempt_id) == 0

    other = AsyncTestClient(app=create_app())
    other.follow_redirects = False
    async with other:
        await login(other, "13800000002")
        foreign = await save(other, attempt_id, [(f"q{single.position}", "A")], headers=FETCH)
        assert foreign.status_code == 404
        assert (await other.get(f"/attempts/{attempt_id}")).status_code == 404
        assert (await other.get(f"/attempts/{attempt_id}/result")).status_code == 404
    assert await Answer.count().where(Answer.attempt == attempt_id) == 0


async def test_answers_to_a_finished_attempt_are_refused(cadre_client):
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id)
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    item = (await paper(attempt_id))[0]
    late = await save(cadre_client, attempt_id, fields(item, ()), headers=FETCH)
    assert late.status_code == 409
    assert "已经交卷" in late.json()["message"]


async def test_all_right_scores_full_marks_and_the_review_links_the_passage(cadre_client):
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id)
    submitted = await post_form(cadre_client, f"/attempts/{attempt_id}/submit")
    assert submitted.status_code in (302, 303)
    assert submitted.headers["location"] == f"/attempts/{attempt_id}/result"
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["status"] == "submitted" and row["score"] == 100 and row["passed"] is True
    result = await cadre_client.get(f"/attempts/{attempt_id}/result")
    assert "<strong>100</strong> 分" in result.text and "合格" in result.text
    items = await paper(attempt_id)
    assert items[0].explanation in result.text
    assert "/course/xuexi-daodu/" in result.text and "查看原文" in result.text


async def test_submitting_twice_at_once_records_one_result(cadre_client):
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id)
    url = f"/attempts/{attempt_id}/submit"
    responses = await asyncio.gather(
        *(post_form(cadre_client, url, {"confirm": "1"}) for _ in range(4))
    )
    assert {r.headers["location"] for r in responses} == {f"/attempts/{attempt_id}/result"}
    rows = await Attempt.select().where(Attempt.id == attempt_id)
    assert len(rows) == 1 and rows[0]["status"] == "submitted" and rows[0]["score"] == 100


async def test_unanswered_questions_are_listed_before_submitting(cadre_client):
    attempt_id = await start(cadre_client)
    items = await paper(attempt_id)
    await save(
        cadre_client, attempt_id, fields(items[0], correct_response(items[0])), headers=FETCH
    )
    confirm = await post_form(cadre_client, f"/attempts/{attempt_id}/submit")
    assert confirm.status_code == 200
    assert "还有 <strong>9</strong> 道题没有作答" in confirm.text
    assert (await Attempt.select(Attempt.status).first())["status"] == "in_progress"
    done = await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    assert done.status_code in (302, 303)
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["score"] == pytest.approx(items[0].points)


async def test_answers_in_the_grace_period_count_and_a_late_attempt_finishes_itself(cadre_client):
    attempt_id = await start(cadre_client)
    items = await paper(attempt_id)
    now = datetime.now(UTC)
    await Attempt.update({Attempt.deadline_at: now - timedelta(seconds=30)}).where(
        Attempt.id == attempt_id
    )
    in_grace = await save(
        cadre_client, attempt_id, fields(items[0], correct_response(items[0])), headers=FETCH
    )
    assert in_grace.status_code == 200
    await Attempt.update({Attempt.deadline_at: now - timedelta(seconds=90)}).where(
        Attempt.id == attempt_id
    )
    too_late = await save(
        cadre_client, attempt_id, fields(items[1], correct_response(items[1])), headers=FETCH
    )
    assert too_late.status_code == 409 and "作答时间已到" in too_late.json()["message"]
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["status"] == "expired" and row["finished_by"] == "deadline"
    assert row["score"] == pytest.approx(items[0].points)
    page = await cadre_client.get(f"/attempts/{attempt_id}")
    assert page.headers["location"] == f"/attempts/{attempt_id}/result"


async def test_the_sweep_finishes_abandoned_attempts_with_their_saved_answers(cadre_client):
    attempt_id = await start(cadre_client)
    items = await paper(attempt_id)
    await save(
        cadre_client, attempt_id, fields(items[0], correct_response(items[0])), headers=FETCH
    )
    past = datetime.now(UTC) - timedelta(minutes=5)
    await Attempt.update({Attempt.deadline_at: past}).where(Attempt.id == attempt_id)
    assert await sweep_expired() == 1
    assert await sweep_expired() == 0
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["finished_by"] == "sweep" and row["score"] == pytest.approx(items[0].points)


async def test_finishing_is_done_once(cadre_client):
    attempt_id = await start(cadre_client)
    now = datetime.now(UTC)
    results = await asyncio.gather(*(finish_attempt(attempt_id, "cadre", now) for _ in range(3)))
    assert sorted(results) == [False, False, True]


async def test_score_only_review_hides_answers(cadre_client):
    await Quiz.update({Quiz.review: "score_only"}).where(Quiz.slug == QUIZ)
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id, right=False)
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    result = await cadre_client.get(f"/attempts/{attempt_id}/result")
    assert "不合格" in result.text and "只显示成绩" in result.text
    for item in await paper(attempt_id):
        if item.explanation:
            assert item.explanation not in result.text


async def test_wrong_answers_go_to_the_mistake_book_and_can_be_practised(cadre_client):
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id, right=False)
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    assert await Mistake.count() == 10
    book = await cadre_client.get("/mistakes")
    items = await paper(attempt_id)
    # A blank is shown as a numbered mark, so look for the longest piece of the stem.
    assert max(items[0].stem.split("___"), key=len) in book.text
    assert "正确答案" in book.text
    practice = await post_form(cadre_client, "/practice", {"source": "mistakes"})
    practice_id = int(practice.headers["location"].rsplit("/", 1)[1])
    row = await Attempt.select().where(Attempt.id == practice_id).first()
    assert row["practice"] is True and row["quiz"] is None and row["deadline_at"] is None
    assert len(paper_of(row["paper"])) == 10

    mistake = await Mistake.select(Mistake.id).first()
    await post_form(cadre_client, f"/mistakes/{mistake['id']}/mastered")
    assert await Mistake.count().where(Mistake.mastered_at.is_null()) == 9


async def test_max_attempts_and_closed_quizzes_are_refused_with_a_reason(cadre_client):
    await Quiz.update({Quiz.max_attempts: 1}).where(Quiz.slug == QUIZ)
    attempt_id = await start(cadre_client)
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    refused = await post_form(cadre_client, f"/quizzes/{QUIZ}")
    assert refused.headers["location"] == f"/quizzes/{QUIZ}"
    page = await cadre_client.get(f"/quizzes/{QUIZ}")
    assert "最多可以作答 1 次" in page.text
    await Quiz.update(
        {Quiz.max_attempts: 0, Quiz.closes_at: datetime.now(UTC) - timedelta(days=1)}
    ).where(Quiz.slug == QUIZ)
    await post_form(cadre_client, f"/quizzes/{QUIZ}")
    assert "测验已于" in (await cadre_client.get(f"/quizzes/{QUIZ}")).text


async def test_leaving_the_page_is_logged_not_blocking(cadre_client):
    attempt_id = await start(cadre_client)
    for kind in ("leave", "return", "leave"):
        response = await post_form(cadre_client, f"/attempts/{attempt_id}/events", {"kind": kind})
        assert response.status_code == 204
    row = await Attempt.select(Attempt.page_leaves).where(Attempt.id == attempt_id).first()
    assert row["page_leaves"] == 2
    assert await AttemptEvent.count() == 3
    assert (await cadre_client.get(f"/attempts/{attempt_id}")).status_code == 200


async def test_editing_a_question_afterwards_changes_no_past_score_or_review(cadre_client):
    import dataclasses

    from app.banks.store import current_questions, save_question
    from app.tables import Bank

    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id)
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    before = (await cadre_client.get(f"/attempts/{attempt_id}/result")).text
    item = next(i for i in await paper(attempt_id) if i.type == "true_false")
    bank = await Bank.select(Bank.id).where(Bank.slug == "xuexi-daodu").first()
    question = (await current_questions(bank["id"]))[item.key]
    flipped = ("错",) if question.answer == ("对",) else ("对",)
    edited = dataclasses.replace(question, answer=flipped, explanation="改过的解析")
    assert await save_question(bank["id"], edited, None, new=False) == "changed"

    row = await Attempt.select(Attempt.score).where(Attempt.id == attempt_id).first()
    assert row["score"] == 100
    after = (await cadre_client.get(f"/attempts/{attempt_id}/result")).text
    assert "改过的解析" not in after
    assert after.count("✔ 答对了") == before.count("✔ 答对了") == 10


async def test_an_older_page_does_not_clear_an_answer_saved_from_another_device(cadre_client):
    attempt_id = await start(cadre_client)
    old_page = (await cadre_client.get(f"/attempts/{attempt_id}")).text
    items = await paper(attempt_id)
    first, second = items[0], items[1]
    # On the phone: the first question is answered and saved.
    await save(cadre_client, attempt_id, fields(first, correct_response(first)), headers=FETCH)
    # The old page (drawn before that) is sent whole, with only the second question answered.
    pairs = [("positions", ",".join(str(i.position) for i in items))]
    pairs += [(f"was{i.position}", "[]") for i in items]
    pairs += fields(second, correct_response(second))
    assert 'name="was1" value="[]"' in old_page
    await save(cadre_client, attempt_id, pairs)
    stored = {
        row["position"]: json.loads(row["response"])
        for row in await Answer.select(Answer.position, Answer.response)
    }
    assert stored[first.position] == list(correct_response(first))
    assert stored[second.position] == list(correct_response(second))


async def test_submitting_after_the_grace_is_recorded_as_time_up(cadre_client):
    attempt_id = await start(cadre_client)
    await Attempt.update({Attempt.deadline_at: datetime.now(UTC) - timedelta(minutes=30)}).where(
        Attempt.id == attempt_id
    )
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["status"] == "expired" and row["finished_by"] == "deadline"


async def test_a_score_only_quiz_gives_nothing_away_through_the_mistake_book(cadre_client):
    await Quiz.update({Quiz.review: "score_only"}).where(Quiz.slug == QUIZ)
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id, right=False)
    await post_form(cadre_client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    assert await Mistake.count() == 0


async def test_no_practice_while_a_quiz_is_being_answered(cadre_client):
    await start(cadre_client)
    refused = await post_form(cadre_client, "/practice", {"source": "xuexi-daodu"})
    assert refused.headers["location"] == "/mistakes"
    assert await Attempt.count().where(Attempt.practice.eq(True)) == 0
    assert "交卷后才能练习" in (await cadre_client.get("/mistakes")).text


async def test_strange_field_names_are_refused_without_an_error_page(cadre_client):
    attempt_id = await start(cadre_client)
    for name in ("q" + "9" * 5000, "q0", "q１", "q-1"):
        response = await save(cadre_client, attempt_id, [(name, "A")], headers=FETCH)
        assert response.status_code == 400, name
        assert "不在这份试卷上" in response.json()["message"]
    assert await Answer.count() == 0


async def test_an_attempt_is_loaded_as_piccolo_would_load_it(cadre_client, people):
    """The written-out query of `load_attempt` gives exactly the row of `ATTEMPT_COLUMNS`,
    for an attempt in progress, a finished one and practice, with the same value types."""
    from app.quizzes.answering import ATTEMPT_COLUMNS, load_attempt

    first = await start(cadre_client)
    await answer_all(cadre_client, first)
    await post_form(cadre_client, f"/attempts/{first}/submit", {"confirm": "1"})
    second = await start(cadre_client)
    await Attempt.update({Attempt.practice: True}).where(Attempt.id == second)
    for attempt_id in (first, second):
        expected = await Attempt.select(*ATTEMPT_COLUMNS).where(Attempt.id == attempt_id).first()
        loaded = await load_attempt(people["cadre"], attempt_id)
        assert loaded == expected
        assert {k: type(v) for k, v in loaded.items()} == {k: type(v) for k, v in expected.items()}
