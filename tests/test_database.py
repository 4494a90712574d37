"""The database as the engines are set up: migrations, SQLite's modes, the PostgreSQL pool."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3

import pytest
from litestar.testing import TestClient
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.postgres import PostgresEngine

from app.asgi import create_app
from app.db import (
    DB,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    _WriterTurn,
    is_sqlite,
    make_engine,
    write_transaction,
)
from app.tables import Unit

sqlite_only = pytest.mark.skipif(not is_sqlite(), reason="SQLite 专项检查")
postgres_only = pytest.mark.skipif(is_sqlite(), reason="PostgreSQL 专项检查")


async def _migration_rows() -> int:
    return await Migration.count()


async def test_migrating_again_changes_nothing(db):
    before = await _migration_rows()
    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    assert result.success
    assert await _migration_rows() == before >= 1


@sqlite_only
async def test_sqlite_file_is_in_wal_mode_with_a_busy_timeout(db):
    with sqlite3.connect(DB.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert DB.connection_kwargs["timeout"] == SQLITE_BUSY_TIMEOUT_SECONDS


@sqlite_only
async def test_write_transactions_take_the_write_lock_when_they_begin(db):
    async with write_transaction():
        # Nothing written yet, but the IMMEDIATE transaction already holds the lock.
        other = sqlite3.connect(DB.path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


@sqlite_only
@pytest.mark.parametrize(("full_sync", "level"), [(False, 1), (True, 2)])
async def test_commits_sync_the_log_at_checkpoints_unless_full_sync_is_asked_for(
    db, full_sync, level
):
    engine = make_engine(f"sqlite:///{DB.path}", full_sync=full_sync)  # NORMAL is 1, FULL 2
    connection = engine.acquire()
    try:
        assert connection.raw.execute("PRAGMA synchronous").fetchone()["synchronous"] == level
    finally:
        engine.release(connection)
        await engine.close_idle()


@sqlite_only
async def test_a_statement_outside_a_transaction_waits_for_this_process_s_transaction(db):
    """A lone write must not wait on the file lock held by a transaction of its own event
    loop, which could then never finish."""

    go = asyncio.Event()

    async def lone_write():
        await go.wait()
        await Unit.insert(Unit(name="排队工会", kind="grassroots_union"))

    waiting = asyncio.ensure_future(lone_write())  # outside the transaction's context
    async with write_transaction():
        go.set()
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await Unit.insert(Unit(name="先到工会", kind="grassroots_union"))
    await waiting
    assert await Unit.count().where(Unit.name.is_in(["排队工会", "先到工会"])) == 2


@sqlite_only
async def test_a_writer_waiting_for_another_process_leaves_the_event_loop_free(db):
    other = sqlite3.connect(DB.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process is writing

    async def write():
        async with write_transaction():
            await Unit.insert(Unit(name="等候工会", kind="grassroots_union"))

    waiting = asyncio.ensure_future(write())
    await asyncio.sleep(0.2)  # the event loop still runs other work meanwhile
    assert await Unit.count() >= 0
    assert not waiting.done()
    other.rollback()
    other.close()
    await waiting
    assert await Unit.exists().where(Unit.name == "等候工会")


@sqlite_only
async def test_processes_take_turns_to_write_through_a_lock_file(db, tmp_path):
    other = os.open(f"{DB.path}-writer.lock", os.O_RDWR | os.O_CREAT)  # another process's
    fcntl.flock(other, fcntl.LOCK_EX)

    async def write():
        async with write_transaction():
            await Unit.insert(Unit(name="轮到工会", kind="grassroots_union"))

    waiting = asyncio.ensure_future(write())
    await asyncio.sleep(0.2)
    assert not waiting.done()  # waits for its turn, with the event loop free
    fcntl.flock(other, fcntl.LOCK_UN)
    await waiting
    assert await Unit.exists().where(Unit.name == "轮到工会")

    # Given up after the timeout: the same error as SQLite's busy timeout, and the turn is
    # handed back even when it came just too late.
    turn = _WriterTurn(str(tmp_path / "t.sqlite3"))
    holder = os.open(turn.path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await turn.take(0.1)
    fcntl.flock(holder, fcntl.LOCK_UN)
    await asyncio.sleep(0.1)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    os.close(holder)
    os.close(other)


async def test_a_failed_write_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await Unit.insert(Unit(name="半途而废工会", kind="grassroots_union"))
            raise RuntimeError("stop")
    assert not await Unit.exists().where(Unit.name == "半途而废工会")


@postgres_only
def test_the_app_opens_and_closes_its_postgres_pool():
    assert isinstance(DB, PostgresEngine)
    with TestClient(app=create_app()) as client:
        assert DB.pool is not None
        assert client.get("/login").status_code == 200
    assert DB.pool is None
