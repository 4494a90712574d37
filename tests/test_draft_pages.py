"""出题助手 in the browser: drafts by lesson, accepted into the bank or rejected for good."""

from __future__ import annotations

import re

from app.banks.draft_pages import bank_drafts
from app.banks.pages import load_bank
from app.tables import AuditEvent, Bank, QuestionVersion
from app.tables import Question as QuestionRow
from tests.conftest import login, post_form

BANK = "luoshi-zhiyao"
PAGE = f"/banks/{BANK}/drafts"
KEY = re.compile(r'name="draft" value="([0-9a-f]{64})"')


async def _trainer(client, people):
    response = await login(client, "trainer")
    assert response.status_code in (302, 303)


async def _lessons():
    return (await bank_drafts(await load_bank(BANK)))[1]


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
    positions = [text.index(lesson.source_ref + " ") for lesson in lessons]
    assert positions == sorted(positions)  # in lesson order
    first = lessons[0].drafts[0][1].question
    assert first.stem.replace("“", "&ldquo;")[:10] in text or first.stem[:10] in text
    assert "本篇全部采用" in text and "不采用" in text and "解析：" in text and "出处：" in text
    assert len(KEY.findall(text)) == sum(len(lesson.drafts) for lesson in lessons)
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
    assert response.headers["location"].endswith(PAGE)
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
