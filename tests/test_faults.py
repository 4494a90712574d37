"""Faults a cadre may meet: the database busy past its timeout, or unable to write."""

from __future__ import annotations

import sqlite3

import pytest

from app.db import DB, is_sqlite
from app.quizzes.core import correct_response
from app.tables import Answer
from tests.conftest import login
from tests.test_quizzes import FETCH, fields, paper, save, start

sqlite_only = pytest.mark.skipif(not is_sqlite(), reason="SQLite 专项检查")


@pytest.fixture
async def cadre_client(client, people, content):
    await login(client, "13800000001")
    return client


@sqlite_only
async def test_a_database_busy_past_its_timeout_gives_a_retry_message_and_writes_nothing(
    cadre_client,
):
    attempt_id = await start(cadre_client)
    item = (await paper(attempt_id))[0]
    blocker = sqlite3.connect(DB.path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        response = await save(
            cadre_client, attempt_id, fields(item, correct_response(item)), headers=FETCH
        )
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503
    assert "系统繁忙" in response.json()["message"] and "没有写入" in response.json()["message"]
    assert await Answer.count() == 0
    again = await save(
        cadre_client, attempt_id, fields(item, correct_response(item)), headers=FETCH
    )
    assert again.status_code == 200 and await Answer.count() == 1


async def test_a_database_that_cannot_be_written_gives_a_clear_page(cadre_client, monkeypatch):
    import app.quizzes.attempts

    async def read_only(*args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(app.quizzes.attempts, "save_responses", read_only)
    attempt_id = await start(cadre_client)
    item = (await paper(attempt_id))[0]
    page = await save(cadre_client, attempt_id, fields(item, ()))
    assert page.status_code == 503
    assert "数据库不能写入" in page.text and "Traceback" not in page.text
