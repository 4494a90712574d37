"""The database engine, chosen by DATABASE_URL, and the one Piccolo app registry."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from app.settings import get_settings

if TYPE_CHECKING:
    from litestar import Litestar

# Piccolo looks its engine up through this module wherever the process was started.
os.environ.setdefault("PICCOLO_CONF", "app.db")

SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
SQLITE_IDLE_CONNECTIONS = 16


class _Connection:
    """A sqlite3 connection used from the event loop's own thread, with the few awaitable
    methods Piccolo's transactions call on an aiosqlite connection."""

    def __init__(self, connection_kwargs: dict[str, Any], synchronous: str) -> None:
        # One caller at a time (see the engine), whichever thread its event loop runs in.
        self.raw = sqlite3.connect(**connection_kwargs, check_same_thread=False)
        self.raw.row_factory = dict_factory
        self.raw.execute("PRAGMA foreign_keys = 1")
        self.raw.execute(f"PRAGMA synchronous = {synchronous}")
        self.busy_timeout = connection_kwargs.get("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    async def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        if sql.startswith(("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")):
            await self.take_write_lock(sql)
            return self.raw.cursor()
        return self.raw.execute(sql, parameters)

    async def take_write_lock(self, begin: str) -> None:
        """BEGIN IMMEDIATE, waiting for another process's write to end without holding up
        the event loop: SQLite's own busy handler would sleep in this thread. After the busy
        timeout, the same "database is locked" error as SQLite's."""
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.001
        self.raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self.raw.execute(begin)
                    return
                except sqlite3.OperationalError as error:
                    if not _is_busy(error) or time.monotonic() + delay > deadline:
                        raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.02)
        finally:
            self.raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def fetch(self, sql: str, parameters: Any) -> list[dict[str, Any]]:
        return self.raw.execute(sql, parameters).fetchall()

    async def rollback(self) -> None:
        self.raw.rollback()

    async def close(self) -> None:
        self.raw.close()


class _OwnConnectionTransaction(SQLiteTransaction):
    """A transaction on a connection borrowed from the engine, given back at the end."""

    async def get_connection(self) -> _Connection:
        return self.engine.acquire()

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception and not self._rolled_back:
                await self.rollback()
            elif not exception and not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.release(self.connection)
            self.engine.current_transaction.reset(self.context)
        return exception is None


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _reads_only(query: str) -> bool:
    return query.lstrip()[:6].upper() in ("SELECT", "WITH R", 'WITH "')


class _WriterTurn:
    """Whose turn it is to write, across the processes serving one SQLite file: an flock on
    a file beside it. Waiting on SQLite's own lock means polling it, and a process whose
    writers follow each other closely keeps another polling for seconds; the kernel hands a
    released flock to the process waiting for it. The wait happens in a worker thread."""

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}-writer.lock"
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except PermissionError:
                raise sqlite3.OperationalError("attempt to write a readonly database") from None
            except OSError:
                raise sqlite3.OperationalError("disk I/O error") from None
            self._pid = os.getpid()
        return self._fd

    async def take(self, timeout: float) -> None:
        fd = self._file()
        try:  # free (the usual case): no thread needed
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        given_up = threading.Event()

        def wait() -> bool:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if given_up.is_set():
                fcntl.flock(fd, fcntl.LOCK_UN)
                return False
            return True

        waiting = asyncio.get_running_loop().run_in_executor(None, wait)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), timeout)
        except TimeoutError:
            given_up.set()
            # Taken just before giving up: hand it back as soon as the thread returns.
            waiting.add_done_callback(lambda done: done.result() and self.give_back())
            raise sqlite3.OperationalError("database is locked") from None

    def give_back(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class InLoopSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, running each statement directly in the event loop's thread.

    Piccolo opens a new aiosqlite connection, with its own thread, for every query outside a
    transaction (about 0.6 ms), and every statement then passes between two threads, which
    under load wait for each other's turn with the interpreter lock. A statement on a local
    SQLite file in WAL mode takes micro- to milliseconds: it runs here directly, on an open
    connection kept for the next one. Readers never wait in WAL mode. A writer takes the
    in-process writer lock first (see `write_transaction`; a single writing statement
    outside a transaction too, so it never waits on a transaction of its own event loop,
    which could then never finish), then the file's lock, waiting for another process's
    commit with asyncio.sleep rather than in SQLite's busy handler. Big reads streamed with
    `DB.batch` keep aiosqlite's own connection and thread."""

    def __init__(self, path: str, full_sync: bool = False, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[_Connection] = []
        # In WAL mode, NORMAL syncs the log at checkpoints rather than at every commit: a
        # commit survives the process being killed, and only a power cut or an operating
        # system crash can take back the last ones. FULL (PEIXUN_SQLITE_FULL_SYNC=1) survives
        # those too, at one disk flush per commit (about 4 ms here, against 0.02 ms).
        self.synchronous = "FULL" if full_sync else "NORMAL"
        self._turn = _WriterTurn(path)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """This process's turn to write: the event loop's writer lock, then the turn shared
        by every process on the file."""
        async with writer_lock():
            await self._turn.take(self.connection_kwargs["timeout"])
            try:
                yield
            finally:
                self._turn.give_back()

    def acquire(self) -> _Connection:
        if self._idle:
            return self._idle.pop()
        return _Connection(self.connection_kwargs, self.synchronous)

    def release(self, connection: _Connection) -> None:
        if connection.in_transaction:  # a statement failed inside BEGIN…COMMIT
            connection.raw.rollback()
        if len(self._idle) < SQLITE_IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            connection.raw.close()

    async def close_idle(self) -> None:
        """Close the waiting connections (at shutdown, or before the file is replaced)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.raw.close()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table=None
    ):
        if _reads_only(query):
            connection = self.acquire()
            try:
                return connection.fetch(query, args or [])
            finally:
                self.release(connection)
        async with self.writing():
            connection = self.acquire()
            try:
                await connection.take_write_lock("BEGIN IMMEDIATE")
                rows = connection.fetch(query, args or [])
                connection.raw.execute("COMMIT")
                return rows
            finally:
                self.release(connection)

    async def _run_in_existing_connection(
        self,
        connection,
        query: str,
        args: list[Any] | None = None,
        query_type="generic",
        table=None,
    ):
        # The connection's pragmas are set once; inserts use RETURNING (SQLite ≥ 3.35).
        return connection.fetch(query, args or [])

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _OwnConnectionTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


def make_engine(database_url: str, full_sync: bool = False) -> SQLiteEngine | PostgresEngine:
    """An engine for a `sqlite:///…` or `postgresql://…` URL."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError("SQLite 3.35 or newer is needed (RETURNING).")
        # `timeout` is SQLite's busy timeout: a writer waits this long for the lock.
        return InLoopSQLiteEngine(
            path=path, full_sync=full_sync, timeout=SQLITE_BUSY_TIMEOUT_SECONDS
        )
    return PostgresEngine(config={"dsn": database_url})


DB = make_engine(get_settings().database_url, get_settings().sqlite_full_sync)
APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])


def is_sqlite() -> bool:
    return isinstance(DB, SQLiteEngine)


_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def writer_lock() -> asyncio.Lock:
    """This event loop's queue for writing to SQLite."""
    return _WRITERS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@asynccontextmanager
async def _sqlite_write_transaction() -> AsyncIterator[None]:
    """SQLite has one writer at a time. Writers of this process queue in the event loop, and
    the processes take turns (see `InLoopSQLiteEngine.writing`)."""
    if DB.current_transaction.get() is not None:  # nested: the outer one holds the lock
        async with DB.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    async with DB.writing(), DB.transaction(transaction_type=TransactionType.immediate):
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
    """Open the PostgreSQL connection pool for the life of the app; close SQLite's idle
    connections at the end."""
    if isinstance(DB, PostgresEngine):
        await DB.start_connection_pool(min_size=2, max_size=10)
        try:
            yield
        finally:
            await DB.close_connection_pool()
    else:
        try:
            yield
        finally:
            await DB.close_idle()


# ---------------------------------------------------------------- queries built once


class Prepared:
    """A Piccolo query built once and run again with other values.

    Building a joined select with Piccolo (columns, joins, aliases) costs more than running
    it on SQLite; on the paths taken with every tap of a quiz it is built once per process.
    `build` is called once with a marker for each parameter, of the types `kinds` names:
    `int` or `str` for a value (`Attempt.id == attempt_id`), `list` for a list of ints
    (`Lesson.module.is_in(modules)`). The compiled statement is kept with the places of the
    markers; later runs put the values there (a list as many placeholders as it has items)
    and run it with `run_compiled`. Rows come back as a raw query gives them:
    the same column names and, for plain columns, the same types as the select (tests
    compare them)."""

    def __init__(self, build: Callable[..., Any], *kinds: type) -> None:
        self._build = build
        self._kinds = kinds
        self._plan: tuple[Any, list[str], list[tuple[str, Any]]] | None = None

    def _markers(self) -> list[Any]:
        markers: list[Any] = []
        for n, kind in enumerate(self._kinds):
            if kind is int or kind is list:
                markers.append(-(2**62) - 7919 * n)
            elif kind is str:
                markers.append(f"\x00prepared-{n}\x00")
            else:
                raise TypeError(f"Prepared: unsupported parameter type {kind!r}")
        return markers

    def _compile(self) -> tuple[Any, list[str], list[tuple[str, Any]]]:
        markers = self._markers()
        query = self._build(
            *([m] if kind is list else m for m, kind in zip(markers, self._kinds, strict=True))
        )
        (querystring,) = query.querystrings
        _, fragments, args = querystring.bundle(start_index=1, bundled=[], combined_args=[])
        pieces = [""]  # the text between placeholders
        for fragment in fragments:
            pieces[-1] += fragment.prefix
            if not fragment.no_arg:
                pieces.append("")
        recipe: list[tuple[str, Any]] = []
        used: set[int] = set()
        for arg in args:
            place = next(
                (n for n, m in enumerate(markers) if type(arg) is type(m) and arg == m), None
            )
            if place is None:
                recipe.append(("constant", arg))
            else:
                recipe.append(("list" if self._kinds[place] is list else "value", place))
                used.add(place)
        if used != set(range(len(markers))):
            raise ValueError("Prepared: a parameter does not reach the statement")
        self._plan = (query.table, pieces, recipe)
        return self._plan

    async def rows(self, *values: Any) -> list[dict[str, Any]]:
        table, pieces, recipe = self._plan or self._compile()
        engine = table._meta.db
        numbered = engine.engine_type == "postgres"  # $1, $2… rather than ?
        parts = [pieces[0]]
        args: list[Any] = []
        for (how, item), after in zip(recipe, pieces[1:], strict=True):
            items = list(values[item]) if how == "list" else None
            if items is None:
                args.append(item if how == "constant" else values[item])
                parts.append(f"${len(args)}" if numbered else "?")
            elif not items:  # an empty list matches nothing
                parts.append("NULL")
            else:
                first = len(args) + 1
                args.extend(items)
                marks = [f"${n}" for n in range(first, len(args) + 1)] if numbered else None
                parts.append(", ".join(marks or "?" * len(items)))
            parts.append(after)
        return await run_compiled(engine, "".join(parts), args)

    async def first(self, *values: Any) -> dict[str, Any] | None:
        rows = await self.rows(*values)
        return rows[0] if rows else None


class Statement:
    """Hand-written SQL with `{}` for each value, as `Table.raw` takes it, turned into the
    engine's own placeholders once and run with `run_compiled` (Piccolo's QueryString costs
    more than a short statement on SQLite). `table` names the engine, as for `Table.raw`."""

    def __init__(self, table: Any, sql: str) -> None:
        self._table = table
        self._pieces = sql.split("{}")
        self._compiled: dict[str, str] = {}

    def sql(self, engine_type: str) -> str:
        compiled = self._compiled.get(engine_type)
        if compiled is None:
            if engine_type == "postgres":
                marks = [f"${n}" for n in range(1, len(self._pieces))]
            else:
                marks = ["?"] * (len(self._pieces) - 1)
            compiled = self._pieces[0] + "".join(
                mark + piece for mark, piece in zip(marks, self._pieces[1:], strict=True)
            )
            self._compiled[engine_type] = compiled
        return compiled

    async def rows(self, *values: Any) -> list[dict[str, Any]]:
        if len(values) != len(self._pieces) - 1:
            raise ValueError("Statement: one value for each {}")
        engine = self._table._meta.db
        return await run_compiled(engine, self.sql(engine.engine_type), list(values))


async def run_compiled(engine: Any, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    """A statement already in the engine's own dialect (`?` or `$1`), run as Piccolo runs a
    raw query (in the current transaction, else on a pooled or new connection) without
    building a QueryString: rows as dicts, the same types as Piccolo gives."""
    transaction = engine.current_transaction.get()
    if isinstance(engine, InLoopSQLiteEngine):
        if transaction is not None:
            return transaction.connection.fetch(sql, args)
        return await engine._run_in_new_connection(sql, args)
    if transaction is not None:
        records = await transaction.connection.fetch(sql, *args)
    elif getattr(engine, "pool", None) is not None:
        async with engine.pool.acquire() as connection:
            records = await connection.fetch(sql, *args)
    else:  # no pool (a command, a test): a connection of its own, as Piccolo would
        connection = await engine.get_new_connection()
        try:
            records = await connection.fetch(sql, *args)
        finally:
            await connection.close()
    return [dict(record.items()) for record in records]
