"""The floor of this stack: the least a signed-in write request can cost on Litestar, uvicorn
and SQLite, for bench/cpu_cost.py to compare peixun's requests with.

    .venv/bin/python bench/floor.py make PATH SESSIONS      # a new database with N sessions
    FLOOR_DATABASE=PATH .venv/bin/python bench/floor.py serve --port P --workers 2

One handler, POST /save: looks the session up by its cookie, checks the CSRF header against
it, upserts one answer row in a `BEGIN IMMEDIATE` transaction and answers {"ok": true}.
SQLite in WAL with synchronous=NORMAL, one connection per worker process kept open, the
statements run on the event loop's thread (as app/db.py does). Served like `peixun serve`:
uvicorn, a factory, the same keep-alive and proxy headers.
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


def connect(path: str) -> sqlite3.Connection:
    # Autocommit mode: the transaction is opened and closed by hand.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    # A busy lock is waited for on the event loop (below), not by SQLite's sleeping handler.
    connection.execute("PRAGMA busy_timeout = 0")
    return connection


def make_database(path: str, sessions: int) -> list[tuple[str, str]]:
    """A new database with `sessions` sessions; their (cookie value, CSRF token)."""
    Path(path).unlink(missing_ok=True)
    rows = [(secrets.token_urlsafe(32), secrets.token_hex(32), n) for n in range(sessions)]
    connection = connect(path)
    connection.executescript(SCHEMA)
    with connection:
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO session VALUES (?, ?, ?)", rows)
    connection.close()
    return [(key, token) for key, token, _ in rows]


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


def create_app() -> Litestar:
    app = Litestar([save], debug=False)
    app.state.db = connect(os.environ["FLOOR_DATABASE"])
    return app


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
