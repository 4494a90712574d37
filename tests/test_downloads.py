"""Every text download names its character set once in its Content-Type."""

from __future__ import annotations

from app.banks.model import Question
from app.banks.store import save_question
from app.tables import Bank, Training
from tests.conftest import login


async def test_every_text_download_names_its_charset_once(client, people, tree):
    bank = Bank(slug="zifuji-ceshi", title="字符集测试题库")
    await bank.save()
    question = Question(key="t-001", type="true_false", stem="这是一道判断题。", answer=("对",))
    await save_question(bank.id, question, None, new=True)
    training = Training(title="字符集测试培训", kind="special", unit=tree["city"].id)
    await training.save()
    await login(client, "admin")
    expected = {
        f"/banks/{bank.slug}/export.md": "text/markdown; charset=utf-8",
        f"/banks/{bank.slug}/export.gift.txt": "text/plain; charset=utf-8",
        f"/reports/trainings/{training.id}/summary.csv": "text/csv; charset=utf-8",
        f"/reports/trainings/{training.id}/roster.csv": "text/csv; charset=utf-8",
        f"/reports/trainings/{training.id}/reminders.csv": "text/csv; charset=utf-8",
    }
    sent = {}
    for url in expected:
        response = await client.get(url)
        assert response.status_code == 200, url
        sent[url] = response.headers["content-type"]
    assert sent == expected
