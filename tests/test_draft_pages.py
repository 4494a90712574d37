"""出题助手 in the browser: drafts one lesson at a time, accepted into the bank or rejected
for good."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from app.banks.draft_pages import bank_drafts, module_drafts
from app.banks.pages import load_bank
from app.tables import AuditEvent, Bank, DraftRejection, Lesson, Module, QuestionVersion
from app.tables import Question as QuestionRow
from tests.charter_fixture import TITLE, article_of, charter_modules
from tests.conftest import login, post_form

BANK = "luoshi-zhiyao"
PAGE = f"/banks/{BANK}/drafts"
KEY = re.compile(r'name="draft" value="([0-9a-f]{64})"')
INDEX = re.compile(r'<details class="card draft-index"[^>]*>(.*?)</details>', re.S)
ITEM = re.compile(r"<li[^>]*>(.*?)</li>", re.S)
HEADING = re.compile(r'<h2 id="lesson-shown">(.*?)</h2>', re.S)


def at(source_ref: str, page: str = PAGE) -> str:
    """The page of one lesson, as the page links to it."""
    return f"{page}?{urlencode({'lesson': source_ref})}"


def index_items(text: str) -> list[str]:
    """The entries of the list of lessons, tags stripped."""
    index = INDEX.search(text)
    assert index is not None, "no list of lessons on the page"
    items = (re.sub(r"<[^>]+>", " ", item) for item in ITEM.findall(index.group(1)))
    return [" ".join(item.split()) for item in items]


async def _trainer(client, people):
    response = await login(client, "trainer")
    assert response.status_code in (302, 303)


async def _lessons():
    return (await bank_drafts(await load_bank(BANK)))[1]


async def _reject_all_but_last(lesson, people) -> str:
    """Reject every draft of `lesson` but its last (as earlier visits would); its key."""
    bank = await Bank.select(Bank.id).where(Bank.slug == BANK).first()
    for key, _ in lesson.drafts[:-1]:
        await DraftRejection.insert(
            DraftRejection(bank=bank["id"], draft_key=key, rejected_by=people["trainer"].id)
        )
    return lesson.drafts[-1][0]


async def _count() -> int:
    bank = await Bank.select(Bank.id).where(Bank.slug == BANK).first()
    return await QuestionRow.count().where(QuestionRow.bank == bank["id"])


async def test_the_page_lists_drafts_by_lesson_and_the_bank_links_to_it(client, content, people):
    await _trainer(client, people)
    bank_page = await client.get(f"/banks/{BANK}")
    assert PAGE in bank_page.text and "出题助手" in bank_page.text
    response = await client.get(PAGE)
    assert response.status_code == 200
    lessons = await _lessons()
    assert len(lessons) >= 2
    text = response.text
    items = index_items(text)
    assert [item.split(" ")[0] for item in items] == [lesson.source_ref for lesson in lessons]
    first = lessons[0].drafts[0][1].question
    assert first.stem.replace("“", "&ldquo;")[:10] in text or first.stem[:10] in text
    assert "本篇全部采用" in text and "不采用" in text and "解析：" in text and "出处：" in text
    # by default the first lesson, and only its drafts
    assert HEADING.search(text).group(1).startswith(lessons[0].source_ref + " ")
    assert KEY.findall(text) == [key for key, _ in lessons[0].drafts]
    assert text.count('name="_csrf_token"') >= len(KEY.findall(text))


async def test_accepting_one_draft_adds_a_question_with_a_version_and_audit(
    client, content, people
):
    await _trainer(client, people)
    page = await client.get(PAGE)
    key = KEY.findall(page.text)[0]
    lessons = await _lessons()
    draft = next(d for lesson in lessons for k, d in lesson.drafts if k == key)
    before = await _count()
    response = await post_form(client, f"{PAGE}/accept", {"draft": key})
    assert response.status_code in (302, 303)
    # back to the same lesson, which still has drafts
    assert response.headers["location"].endswith(at(draft.question.source_ref))
    assert await _count() == before + 1
    version = (
        await QuestionVersion.select(
            QuestionVersion.version,
            QuestionVersion.created_by,
            QuestionVersion.question.key.as_alias("key"),
        )
        .where(QuestionVersion.stem == draft.question.stem)
        .first()
    )
    assert version is not None and version["version"] == 1
    assert version["created_by"] == people["trainer"].id
    event = await AuditEvent.select().where(AuditEvent.action == "bank.draft_accept").first()
    assert event is not None and event["actor"] == people["trainer"].id
    assert version["key"] in event["summary"]
    again = await client.get(PAGE)
    assert "已采用 1 道题" in again.text
    assert key not in again.text
    question = await client.get(f"/banks/{BANK}/questions/{version['key']}")
    assert question.status_code == 200 and "第 1 版" in question.text


async def test_accepting_a_whole_lesson(client, content, people):
    await _trainer(client, people)
    await client.get(PAGE)
    lesson = (await _lessons())[0]
    before = await _count()
    response = await post_form(client, f"{PAGE}/accept", {"lesson": lesson.source_ref})
    assert response.status_code in (302, 303)
    assert await _count() == before + len(lesson.drafts)
    # the lesson has none left: on to the next lesson with drafts
    following = (await _lessons())[0]
    assert response.headers["location"].endswith(at(following.source_ref))
    page = await client.get(PAGE)
    assert f"已采用 {len(lesson.drafts)} 道题" in page.text
    assert all(key not in page.text for key, _ in lesson.drafts)
    assert all(lesson.source_ref != other.source_ref for other in await _lessons())


async def test_a_rejected_draft_is_gone_and_stays_gone(client, content, people):
    await _trainer(client, people)
    page = await client.get(PAGE)
    key = KEY.findall(page.text)[0]
    before = await _count()
    response = await post_form(client, f"{PAGE}/reject", {"draft": key})
    assert response.status_code in (302, 303)
    again = await client.get(PAGE)
    assert "已不采用这道题" in again.text and key not in again.text
    assert await _count() == before
    # another accept elsewhere re-drafts; the rejected one still does not come back
    other = KEY.findall(again.text)[0]
    await post_form(client, f"{PAGE}/accept", {"draft": other})
    assert key not in (await client.get(PAGE)).text
    # and it cannot be accepted by its key any more
    refused = await post_form(client, f"{PAGE}/accept", {"draft": key})
    assert refused.status_code in (302, 303)
    assert await _count() == before + 1
    assert "没有可以采用的题目" in (await client.get(PAGE)).text


async def test_accept_and_edit_opens_the_editor_filled_in(client, content, people):
    await _trainer(client, people)
    page = await client.get(PAGE)
    key = KEY.findall(page.text)[0]
    draft = next(d for lesson in await _lessons() for k, d in lesson.drafts if k == key)
    editor = await client.get(f"/banks/{BANK}/questions/new?draft={key}")
    assert editor.status_code == 200
    assert draft.question.source_ref in editor.text
    assert draft.question.stem[:8] in editor.text


async def test_other_roles_are_refused(client, content, people):
    for username in ("13800000001", "jf-admin"):
        client.cookies.clear()
        await login(client, username)
        assert (await client.get(PAGE)).status_code == 403
        response = await post_form(client, f"{PAGE}/accept", {"lesson": "x"})
        assert response.status_code == 403


async def test_a_bank_without_module_says_so(client, content, people):
    await Bank.insert(Bank(slug="kong", title="空题库", module=None))
    await _trainer(client, people)
    response = await client.get("/banks/kong/drafts")
    assert response.status_code == 200 and "没有关联课程模块" in response.text


async def test_the_list_shows_every_lesson_with_its_count(client, content, people):
    await _trainer(client, people)
    lessons = (await module_drafts(await load_bank(BANK)))[1]
    assert len(lessons) >= 3 and all(lesson.drafts for lesson in lessons)
    items = index_items((await client.get(PAGE)).text)
    assert items == [
        f"{lesson.source_ref} {lesson.title} {len(lesson.drafts)} 道" for lesson in lessons
    ]
    # a lesson dealt with is shown as such, without a link
    done = lessons[1]
    await post_form(client, f"{PAGE}/accept", {"lesson": done.source_ref})
    text = (await client.get(PAGE)).text
    assert index_items(text)[1] == f"{done.source_ref} {done.title} 已处理完"
    assert f'href="{at(done.source_ref)}"' not in text
    assert f'href="{at(lessons[2].source_ref)}"' in text
    assert f"{len(lessons) - 1} 篇还有草稿" in text


async def test_the_lesson_parameter_shows_only_that_lesson(client, content, people):
    await _trainer(client, people)
    lessons = await _lessons()
    shown = lessons[2]
    response = await client.get(at(shown.source_ref))
    assert response.status_code == 200
    text = response.text
    assert HEADING.search(text).group(1).startswith(f"{shown.source_ref} {shown.title}")
    assert KEY.findall(text) == [key for key, _ in shown.drafts]
    assert f'name="lesson" value="{shown.source_ref}"' in text  # 本篇全部采用 is this lesson
    # 上一篇 / 下一篇 lead to the neighbouring lessons with drafts
    assert f'href="{at(lessons[1].source_ref)}">← 上一篇' in text
    assert f'href="{at(lessons[3].source_ref)}">下一篇' in text
    first = (await client.get(PAGE)).text
    assert ">← 上一篇" not in first and f'href="{at(lessons[1].source_ref)}">下一篇' in first
    last = (await client.get(at(lessons[-1].source_ref))).text
    assert ">下一篇" not in last and f'href="{at(lessons[-2].source_ref)}">← 上一篇' in last


async def test_after_the_last_draft_of_a_lesson_the_next_lesson_follows(client, content, people):
    await _trainer(client, people)
    lessons = await _lessons()
    lesson, following = lessons[1], lessons[2]
    last = await _reject_all_but_last(lesson, people)
    page = await client.get(at(lesson.source_ref))
    assert KEY.findall(page.text) == [last]
    response = await post_form(
        client, f"{PAGE}/accept", {"draft": last, "shown": lesson.source_ref}
    )
    assert response.headers["location"].endswith(at(following.source_ref))
    landed = await client.get(response.headers["location"])
    assert "已采用 1 道题" in landed.text
    assert KEY.findall(landed.text) == [key for key, _ in following.drafts]
    # the same after 不采用 of a lesson's last draft; after the module's last lesson the
    # page starts again at the first lesson that still has drafts
    end = lessons[-1]
    last = await _reject_all_but_last(end, people)
    response = await post_form(client, f"{PAGE}/reject", {"draft": last, "shown": end.source_ref})
    assert response.headers["location"].endswith(PAGE)
    landed = await client.get(response.headers["location"])
    assert "已不采用这道题" in landed.text
    assert KEY.findall(landed.text) == [key for key, _ in lessons[0].drafts]
    # a draft already dealt with: back to the lesson it was shown on
    again = await post_form(client, f"{PAGE}/accept", {"draft": last, "shown": lesson.source_ref})
    assert again.headers["location"].endswith(at(following.source_ref))


async def test_an_unknown_lesson_shows_the_first_with_a_notice(client, content, people):
    await _trainer(client, people)
    lessons = await _lessons()
    response = await client.get(at("第九十九条"))
    assert response.status_code == 200
    assert "没有找到课文“第九十九条”，下面是第一篇还有草稿的课文。" in response.text
    assert KEY.findall(response.text) == [key for key, _ in lessons[0].drafts]
    odd = await client.get(at("<b>x</b>" * 30))
    assert odd.status_code == 200 and "<b>x</b>" not in odd.text
    assert "没有找到课文" not in (await client.get(PAGE)).text
    # forms naming an unknown lesson do not fail either
    response = await post_form(client, f"{PAGE}/accept", {"draft": "0" * 64, "shown": "不存在"})
    assert response.status_code in (302, 303) and response.headers["location"].endswith(PAGE)


async def charter_bank(people) -> list[str]:
    """A bank of a 43-lesson module, one lesson an article of the placeholder charter; the
    lessons' 出处 in order."""
    module = Module(slug="charter", title="示例协会章程", source_title=TITLE)
    await module.save()
    refs = []
    for chapter in charter_modules():
        for lesson in chapter.lessons:
            for n, paragraph in enumerate(lesson.paragraphs):
                article = article_of(lesson, n)
                if article is None:
                    continue
                await Lesson.insert(
                    Lesson(
                        key=f"charter/{article}",
                        module=module.id,
                        slug=article,
                        source_ref=article,
                        title=chapter.title,
                        sort_order=len(refs),
                        body=paragraph,
                        characters=len(paragraph),
                    )
                )
                refs.append(article)
    await Bank.insert(Bank(slug="zhangcheng", title="章程题库", module=module.id))
    return refs


async def test_a_module_of_many_lessons_is_shown_one_lesson_at_a_time(client, people):
    refs = await charter_bank(people)
    assert len(refs) == 43
    await _trainer(client, people)
    page = "/banks/zhangcheng/drafts"
    lessons = (await bank_drafts(await load_bank("zhangcheng")))[1]
    assert len(lessons) > 20
    text = (await client.get(page)).text
    items = index_items(text)
    assert [item.split(" ")[0] for item in items] == refs
    assert '<details class="card draft-index">' in text  # long list folded on a phone
    assert KEY.findall(text) == [key for key, _ in lessons[0].drafts]
    assert sum(len(lesson.drafts) for lesson in lessons) > 5 * len(KEY.findall(text))
    shown = (await client.get(at(lessons[-1].source_ref, page))).text
    assert KEY.findall(shown) == [key for key, _ in lessons[-1].drafts]
