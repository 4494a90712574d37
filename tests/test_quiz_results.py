"""What a cadre sees around quizzes: the result page, the mistake book (错题本) as the paper
showed each question, and 我的成绩 with every quiz's counted score and attempts."""

from __future__ import annotations

import json
import re

import pytest

from app.banks.model import LETTERS
from app.quizzes.core import correct_response
from app.tables import Answer, Attempt, Module, Quiz
from tests.conftest import login, post_form
from tests.test_quizzes import FETCH, QUIZ, answer_all, fields, paper, save, start


@pytest.fixture
async def cadre_client(client, people, content):
    await login(client, "13800000001")
    return client


def plain(html: str) -> str:
    """The page's text as read: no tags, no spaces."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def block_with(html: str, stem: str, tag: str = "article") -> str:
    """The <article> (or other block) of a page that shows the question with this stem."""
    blocks = [b for b in html.split(f"<{tag}")[1:] if stem in b]
    assert len(blocks) == 1, (stem, len(blocks))
    return blocks[0].split(f"</{tag}>")[0]


def assert_options_as_on_the_paper(block: str, item) -> None:
    text = plain(block)
    places = [text.find(plain(option)) for option in item.options]
    assert all(p >= 0 for p in places), places
    assert places == sorted(places), "options in another order than on the paper"
    for letter, option in zip(LETTERS, item.options, strict=False):
        assert f"{letter}{plain(option)}" in text, (letter, option)
    assert f"正确答案：{''.join(item.answer)}" in text
    assert "<ol" not in block  # the list's own numbers would read "1. A."


async def submit(client, attempt_id: int):
    response = await post_form(client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    assert response.status_code in (302, 303), response.text
    return response


async def answer_for(client, attempt_id: int, wrong: set[int]) -> None:
    """Answer every question: right, except the positions in `wrong` (a wrong option, or
    a wrong word in each blank)."""
    for item in await paper(attempt_id):
        response = correct_response(item)
        if item.position in wrong:
            if item.type in ("single", "multiple"):
                response = (next(x for x in LETTERS[: len(item.options)] if x not in item.answer),)
            elif item.type == "true_false":
                response = ("错",) if item.answer == ("对",) else ("对",)
            else:
                response = tuple("不对" for _ in item.blanks)
        saved = await save(client, attempt_id, fields(item, response), headers=FETCH)
        assert saved.status_code == 200, saved.text


async def take_scoring_75(client) -> int:
    """An attempt of the unit quiz that scores 75 of 100: one multiple choice (15 points)
    and one fill-in (10 points) wrong."""
    attempt_id = await start(client)
    items = await paper(attempt_id)
    multiple = next(i for i in items if i.type == "multiple")
    blank = next(i for i in items if i.type == "fill_blank")
    await answer_for(client, attempt_id, {multiple.position, blank.position})
    await submit(client, attempt_id)
    row = await Attempt.select(Attempt.score).where(Attempt.id == attempt_id).first()
    assert row["score"] == 75
    return attempt_id


# ---------------------------------------------------------------- the defects


async def test_the_mistake_book_shows_the_options_in_the_papers_order_and_letters(cadre_client):
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id, right=False)
    await submit(cadre_client, attempt_id)
    items = await paper(attempt_id)
    shuffled = [
        i
        for i in items
        if i.type in ("single", "multiple") and list(i.option_order) != sorted(i.option_order)
    ]
    assert shuffled, "the paper shuffles the options"
    result = (await cadre_client.get(f"/attempts/{attempt_id}/result")).text
    book = (await cadre_client.get("/mistakes")).text
    for item in shuffled:
        assert_options_as_on_the_paper(block_with(result, item.stem), item)
        assert_options_as_on_the_paper(block_with(book, item.stem), item)


async def test_scores_are_shown_in_whole_points(cadre_client):
    attempt_id = await take_scoring_75(cadre_client)
    result = await cadre_client.get(f"/attempts/{attempt_id}/result")
    assert "75分" in plain(result.text)
    assert "75.0" not in result.text
    quiz_page = await cadre_client.get(f"/quizzes/{QUIZ}")
    assert "75.0" not in quiz_page.text and ">75<" in quiz_page.text.replace(" ", "")
    scores = await cadre_client.get("/my/scores")
    assert scores.status_code == 200
    assert "75.0" not in scores.text and "75分" in plain(scores.text)


# ---------------------------------------------------------------- the result page


def marks_of(block: str) -> dict[str, tuple[bool, bool]]:
    """Letter → (marked as the right answer, marked as the cadre's choice), per option shown."""
    marks = {}
    for option in block.split('<li class="review-option')[1:]:
        option = option.split("</li>")[0]
        letter = re.search(r'class="option-letter">([A-H])<', option)
        key = letter.group(1) if letter else ("对" if "√ 对" in option else "错")
        marks[key] = ("✔ 正确答案" in option, "您的选择" in option)
    return marks


async def test_the_result_marks_the_right_option_beside_the_choice_and_offers_another_try(
    cadre_client,
):
    attempt_id = await take_scoring_75(cadre_client)
    items = await paper(attempt_id)
    responses = {
        row["position"]: set(json.loads(row["response"]))
        for row in await Answer.select().where(Answer.attempt == attempt_id)
    }
    page = (await cadre_client.get(f"/attempts/{attempt_id}/result")).text
    assert '<p class="verdict">不合格</p>' in page
    assert "<strong>75</strong> 分" in page
    for item in items:
        if item.type == "fill_blank":
            continue
        block = block_with(page, item.stem)
        chosen = responses[item.position]
        letters = LETTERS[: len(item.options)] if item.type != "true_false" else "对错"
        assert marks_of(block) == {x: (x in item.answer, x in chosen) for x in letters}
    wrong = next(i for i in items if i.type == "multiple" and marks_of(block_with(page, i.stem)))
    assert "✘ 您的选择" in block_with(page, wrong.stem)

    # 再答一次, with the attempts left (3 allowed, 1 used), and the next module.
    assert f'action="/quizzes/{QUIZ}"' in page
    assert "再答一次（还可作答2次）" in plain(page)
    modules = await Module.select(Module.slug, Module.title).order_by(Module.sort_order)
    slugs = [m["slug"] for m in modules]
    following = modules[slugs.index("xuexi-daodu") + 1]
    assert f'href="/course/{following["slug"]}"' in page
    assert f"下一模块：{plain(following['title'])}" in plain(page)

    # The last attempt allowed: no other try is offered.
    for _ in range(2):
        again = await start(cadre_client)
        await answer_all(cadre_client, again)
        await submit(cadre_client, again)
    last = (await cadre_client.get(f"/attempts/{again}/result")).text
    assert "<strong>100</strong> 分" in last and '<p class="verdict">合格</p>' in last
    assert "再答一次" not in last and "作答次数已用完（共3次）" in plain(last)
    # The first result now says so too.
    assert "再答一次" not in (await cadre_client.get(f"/attempts/{attempt_id}/result")).text


async def test_a_score_only_result_marks_no_answer_and_still_offers_another_try(cadre_client):
    await Quiz.update({Quiz.review: "score_only", Quiz.max_attempts: 0}).where(Quiz.slug == QUIZ)
    attempt_id = await take_scoring_75(cadre_client)
    page = (await cadre_client.get(f"/attempts/{attempt_id}/result")).text
    assert "<strong>75</strong> 分" in page and "不合格" in page
    assert "正确答案" not in page and "您的选择" not in page and "review-option" not in page
    assert "再答一次（作答次数不限）" in plain(page)


async def test_someone_elses_result_offers_them_no_try(cadre_client, client):
    attempt_id = await take_scoring_75(cadre_client)
    await post_form(cadre_client, "/logout")
    await login(client, "trainer")
    page = await client.get(f"/attempts/{attempt_id}/result")
    assert page.status_code == 200 and "孙学员" in page.text
    assert "再答一次" not in page.text and "/my/scores" not in page.text.split("</header>")[1]


async def test_practice_shows_how_many_were_right_and_no_score(cadre_client):
    response = await post_form(cadre_client, "/practice", {"source": "xuexi-daodu"})
    practice = int(response.headers["location"].rsplit("/", 1)[1])
    items = await paper(practice)
    await answer_for(cadre_client, practice, {items[0].position})
    await submit(cadre_client, practice)
    page = (await cadre_client.get(f"/attempts/{practice}/result")).text
    assert 'class="score"' not in page and "verdict" not in page and "合格" not in page
    assert f"答对{len(items) - 1}题，共{len(items)}题" in plain(page)
    assert "再答一次" not in page


# ---------------------------------------------------------------- the mistake book


async def test_the_mistake_book_marks_the_right_option_and_the_last_choice(cadre_client):
    attempt_id = await start(cadre_client)
    await answer_all(cadre_client, attempt_id, right=False)
    await submit(cadre_client, attempt_id)
    book = (await cadre_client.get("/mistakes")).text
    for item in await paper(attempt_id):
        if item.type == "fill_blank":  # its blanks are drawn as marks, not as ___
            assert "您上次的答案：" + "；".join("不对" for _ in item.blanks) in plain(book)
            continue
        block = block_with(book, item.stem)
        if item.type in ("single", "multiple"):
            wrong = next(x for x in LETTERS[: len(item.options)] if x not in item.answer)
            marks = marks_of(block)
            assert marks == {
                x: (x in item.answer, x == wrong) for x in LETTERS[: len(item.options)]
            }
            assert f"您上次的答案：{wrong}" in plain(block)
        if item.explanation:
            assert item.explanation in block


# ---------------------------------------------------------------- 我的成绩


def card(html: str, slug: str) -> str:
    part = html.split(f'id="quiz-{slug}"')
    assert len(part) == 2, slug
    return part[1].split("</article>")[0]


async def test_my_scores_lists_every_quiz_with_its_counted_score_and_attempts(
    cadre_client, client, people
):
    first = await take_scoring_75(cadre_client)
    second = await start(cadre_client)
    await answer_all(cadre_client, second)
    await submit(cadre_client, second)
    third = await start(cadre_client)
    await answer_all(cadre_client, third, right=False)
    await submit(cadre_client, third)
    exam = await start(cadre_client, "final-exam")

    page = await cadre_client.get("/my/scores")
    assert page.status_code == 200
    mine = card(page.text, QUIZ)
    # Highest counts: the second attempt (100), not the last (0).
    assert "计入成绩100分·合格" in plain(mine)
    assert "已作答3次，还可作答0次" in plain(mine)
    for attempt_id in (first, second, third):
        assert f'href="/attempts/{attempt_id}/result"' in mine
    assert plain(mine).count("计入成绩") == 2  # the line on top and the counted attempt's badge
    assert "第1次" in plain(mine) and "75分·不合格" in plain(mine)

    # A quiz not yet answered, and the one in progress.
    untouched = card(page.text, "gonghui-zhangcheng-quiz")
    assert "还没有成绩" in untouched and "已作答0次，还可作答3次" in plain(untouched)
    final = card(page.text, "final-exam")
    assert f'href="/attempts/{exam}"' in final and "继续答题" in final
    assert "已作答0次，还可作答2次" in plain(final)
    # The course's order: module quizzes first, the final exam last.
    assert page.text.index('id="quiz-xuexi-daodu-quiz"') < page.text.index('id="quiz-final-exam"')

    # Latest counts: the last attempt (0).
    await Quiz.update({Quiz.counted_attempt: "latest"}).where(Quiz.slug == QUIZ)
    mine = card((await cadre_client.get("/my/scores")).text, QUIZ)
    assert "计入成绩0分·不合格" in plain(mine)

    # Another cadre sees none of these attempts.
    await post_form(cadre_client, "/logout")
    await login(client, "13800000002")
    other = (await client.get("/my/scores")).text
    assert "还没有成绩" in card(other, QUIZ) and "/attempts/" not in other
