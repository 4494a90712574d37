"""The floor of this stack: the least a signed-in write request can cost on Litestar, uvicorn
and SQLite or PostgreSQL, for bench/cpu_cost.py to compare peixun's requests with.

    .venv/bin/python bench/floor.py make PATH SESSIONS      # a new database with N sessions
    FLOOR_DATABASE=PATH .venv/bin/python bench/floor.py serve --port P --workers 2

One handler, POST /save: looks the session up by its cookie, checks the CSRF header against
it, upserts one answer row in a transaction and answers {"ok": true}.

SQLite (PATH a file): WAL with synchronous=NORMAL, one connection per worker process kept
open, the statements run on the event loop's thread (as app/db.py does), the transaction
`BEGIN IMMEDIATE`.

PostgreSQL (PATH a postgresql:// URL of an existing database; `make` replaces the two tables
in it): asyncpg directly, a pool per worker process of 2 to 10 connections (as app/db.py
starts Piccolo's), the lookup on one pooled connection and the upsert in a transaction on
another.

Served like `peixun serve`: uvicorn, a factory, the same keep-alive and proxy headers.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Annotated

from litestar import Litestar, Request, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Body

COOKIE = "session"
SCHEMA = """
CREATE TABLE session (key TEXT PRIMARY KEY, csrf TEXT NOT NULL, account INTEGER NOT NULL);
CREATE TABLE answer (
    session TEXT NOT NULL, question INTEGER NOT NULL, value TEXT NOT NULL, saved_at REAL NOT NULL,
    PRIMARY KEY (session, question)
);
"""
UPSERT = (
    "INSERT INTO answer (session, question, value, saved_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (session, question) DO UPDATE SET value = excluded.value,"
    " saved_at = excluded.saved_at"
)
PG_SCHEMA = """
DROP TABLE IF EXISTS answer;
DROP TABLE IF EXISTS session;
CREATE TABLE session (key TEXT PRIMARY KEY, csrf TEXT NOT NULL, account INTEGER NOT NULL);
CREATE TABLE answer (
    session TEXT NOT NULL, question INTEGER NOT NULL, value TEXT NOT NULL,
    saved_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (session, question)
);
"""
PG_LOOKUP = "SELECT csrf, account FROM session WHERE key = $1"
PG_UPSERT = (
    "INSERT INTO answer (session, question, value, saved_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (session, question) DO UPDATE SET value = excluded.value,"
    " saved_at = excluded.saved_at"
)


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def connect(path: str) -> sqlite3.Connection:
    # Autocommit mode: the transaction is opened and closed by hand.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    # A busy lock is waited for on the event loop (below), not by SQLite's sleeping handler.
    connection.execute("PRAGMA busy_timeout = 0")
    return connection


def make_database(path: str, sessions: int) -> list[tuple[str, str]]:
    """A new database with `sessions` sessions; their (cookie value, CSRF token).

    `path` a SQLite file (replaced), or the URL of an existing PostgreSQL database (its two
    tables replaced)."""
    rows = [(secrets.token_urlsafe(32), secrets.token_hex(32), n) for n in range(sessions)]
    if is_postgres(path):
        asyncio.run(_make_postgres(path, rows))
        return [(key, token) for key, token, _ in rows]
    Path(path).unlink(missing_ok=True)
    connection = connect(path)
    connection.executescript(SCHEMA)
    with connection:
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO session VALUES (?, ?, ?)", rows)
    connection.close()
    return [(key, token) for key, token, _ in rows]


async def _make_postgres(url: str, rows: list[tuple[str, str, int]]) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute(PG_SCHEMA)
            await connection.copy_records_to_table("session", records=rows)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


@post("/save", status_code=200)
async def save(
    request: Request,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> dict[str, bool]:
    db: sqlite3.Connection = request.app.state.db
    key = request.cookies.get(COOKIE, "")
    row = db.execute("SELECT csrf FROM session WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise NotAuthorizedException()
    if not hmac.compare_digest(request.headers.get("x-csrftoken", ""), row[0]):
        raise PermissionDeniedException()
    field, value = next(iter(data.items()))
    while True:  # the other worker holds the write lock for microseconds
        try:
            db.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError:
            await asyncio.sleep(0.0005)
    try:
        db.execute(UPSERT, (key, int(field.removeprefix("q")), value, time.time()))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return {"ok": True}


@post("/save", status_code=200)
async def save_postgres(
    request: Request,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> dict[str, bool]:
    pool = request.app.state.pool
    key = request.cookies.get(COOKIE, "")
    row = await pool.fetchrow(PG_LOOKUP, key)
    if row is None:
        raise NotAuthorizedException()
    if not hmac.compare_digest(request.headers.get("x-csrftoken", ""), row["csrf"]):
        raise PermissionDeniedException()
    field, value = next(iter(data.items()))
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(PG_UPSERT, key, int(field.removeprefix("q")), value, time.time())
    return {"ok": True}


def create_app() -> Litestar:
    target = os.environ["FLOOR_DATABASE"]
    if not is_postgres(target):
        app = Litestar([save], debug=False)
        app.state.db = connect(target)
        return app

    async def open_pool(app: Litestar) -> None:
        import asyncpg

        app.state.pool = await asyncpg.create_pool(target, min_size=2, max_size=10)

    async def close_pool(app: Litestar) -> None:
        await app.state.pool.close()

    return Litestar([save_postgres], on_startup=[open_pool], on_shutdown=[close_pool], debug=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make")
    make.add_argument("path")
    make.add_argument("sessions", type=int)
    serve = commands.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.command == "make":
        make_database(args.path, args.sessions)
        return
    import uvicorn

    uvicorn.run(
        "floor:create_app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
