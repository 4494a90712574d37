"""The database engine, chosen by DATABASE_URL, and the one Piccolo app registry."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from app.settings import get_settings

if TYPE_CHECKING:
    from litestar import Litestar

# Piccolo looks its engine up through this module wherever the process was started.
os.environ.setdefault("PICCOLO_CONF", "app.db")

SQLITE_BUSY_TIMEOUT_SECONDS = 5.0


def make_engine(database_url: str) -> SQLiteEngine | PostgresEngine:
    """An engine for a `sqlite:///…` or `postgresql://…` URL."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        # `timeout` is SQLite's busy timeout: a writer waits this long for the lock.
        return SQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    return PostgresEngine(config={"dsn": database_url})


DB = make_engine(get_settings().database_url)
APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])


def is_sqlite() -> bool:
    return isinstance(DB, SQLiteEngine)


_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def _sqlite_write_transaction() -> AsyncIterator[None]:
    """SQLite has one writer at a time. Writers of this process queue here, in the event
    loop, rather than all waiting on the file lock, where a writer held up by a busy event
    loop would make the others run out of their busy timeout."""
    if DB.current_transaction.get() is not None:  # nested: the outer one holds the lock
        async with DB.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    loop = asyncio.get_running_loop()
    lock = _WRITERS.setdefault(loop, asyncio.Lock())
    async with lock, DB.transaction(transaction_type=TransactionType.immediate):
        yield


def write_transaction():
    """A transaction for writes: IMMEDIATE on SQLite, so the write lock is taken up front."""
    if isinstance(DB, SQLiteEngine):
        return _sqlite_write_transaction()
    return DB.transaction()


def prepare_sqlite_file(path: str) -> None:
    """Create the file's folder and switch it to WAL mode, which the file then keeps for good."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


@asynccontextmanager
async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open the PostgreSQL connection pool for the life of the app (SQLite has no pool)."""
    if isinstance(DB, PostgresEngine):
        await DB.start_connection_pool(min_size=2, max_size=10)
        try:
            yield
        finally:
            await DB.close_connection_pool()
    else:
        yield
