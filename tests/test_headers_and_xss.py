"""Every page carries the security headers, and what people typed is shown as text."""

from __future__ import annotations

import dataclasses

from app.banks.store import current_questions, save_question
from app.tables import Bank
from tests.conftest import login, post_form
from tests.test_quizzes import paper, start

ATTACK = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PAGES = ("/", "/course", "/course/xuexi-daodu", "/quizzes/xuexi-daodu-quiz", "/mistakes")


async def test_every_page_has_the_security_headers(client, people, content):
    await login(client, "admin")
    for path in (*PAGES, "/login", "/banks", "/reports", "/trainings", "/admin/quizzes"):
        response = await client.get(path)
        assert response.status_code in (200, 302), path
        csp = response.headers["content-security-policy"]
        assert "script-src" not in csp or "'unsafe-inline'" not in csp
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]


async def test_a_question_typed_with_markup_is_shown_as_text_on_the_paper(client, people, content):
    bank = await Bank.select(Bank.id).where(Bank.slug == "xuexi-daodu").first()
    for question in (await current_questions(bank["id"])).values():
        options = tuple(f"{option}{ATTACK}" for option in question.options)
        changed = dataclasses.replace(
            question, stem=question.stem + ATTACK, options=options, explanation=ATTACK
        )
        await save_question(bank["id"], changed, None, new=False)
    await login(client, "13800000001")
    attempt_id = await start(client)
    page = (await client.get(f"/attempts/{attempt_id}")).text
    assert "<script>alert" not in page and "<img src=x" not in page
    await post_form(client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    result = (await client.get(f"/attempts/{attempt_id}/result")).text
    assert "&lt;script&gt;alert" in result and "<script>alert" not in result
    assert len(await paper(attempt_id)) == 10
    await post_form(client, "/logout")
    await login(client, "trainer")
    listing = (await client.get("/banks/xuexi-daodu")).text
    assert "&lt;script&gt;" in listing and "<script>alert" not in listing
