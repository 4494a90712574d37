"""Test set-up: one fresh database per run, on SQLite or on PostgreSQL.

TEST_DATABASE_URL chooses the engine: unset, the suite runs on a new SQLite file;
`postgresql://user:password@host/db` makes the suite create a new database on that
server (the user needs CREATEDB), migrate it, and drop it at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import tempfile
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

_TEST_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
_TMP = Path(tempfile.mkdtemp(prefix="peixun-tests-"))
_PG_NAME = f"peixun_test_{os.getpid()}_{secrets.token_hex(3)}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


if _TEST_URL.startswith("postgres"):
    asyncio.run(_pg_admin(_TEST_URL, f'CREATE DATABASE "{_PG_NAME}"'))
    DATABASE_URL = _with_database(_TEST_URL, _PG_NAME)
else:
    DATABASE_URL = f"sqlite:///{_TMP / 'test.sqlite3'}"

# Settings are read once, so the environment is set before the app is imported.
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["SECRET_KEY"] = "test-secret-key-" + secrets.token_hex(16)
os.environ.pop("PEIXUN_HTTPS", None)

from litestar.testing import AsyncTestClient  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from app.accounts.passwords import hash_password  # noqa: E402
from app.accounts.units import create_unit  # noqa: E402
from app.asgi import create_app  # noqa: E402
from app.cli import _init  # noqa: E402
from app.db import DB, is_sqlite  # noqa: E402
from app.tables import (  # noqa: E402
    ActivityPhoto,
    Amendment,
    Answer,
    ApiToken,
    Attempt,
    AttemptEvent,
    Attendance,
    AuditEvent,
    Bank,
    Batch,
    ClassSession,
    Completion,
    CreditEntry,
    CreditRequirement,
    DraftRejection,
    Enrollment,
    Lesson,
    LessonProgress,
    LoginAttempt,
    Mistake,
    Module,
    Question,
    QuestionReview,
    QuestionVersion,
    Quiz,
    QuizOverride,
    ReportRound,
    ReturnedReport,
    SessionRecord,
    SiteSetting,
    Training,
    TrainingModule,
    Unit,
    UnitReport,
    Upload,
    User,
    WorkActivity,
)

PASSWORD = "Zhengque-mima-2023"
_HASH = hash_password(PASSWORD)


def pytest_sessionstart(session: pytest.Session) -> None:
    asyncio.run(_init())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _TEST_URL.startswith("postgres"):
        asyncio.run(_pg_admin(_TEST_URL, f'DROP DATABASE IF EXISTS "{_PG_NAME}" WITH (FORCE)'))


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {re.sub(r':[^:@/]*@', ':***@', DATABASE_URL)}"


async def clear_database() -> None:
    tables = (
        ActivityPhoto,
        WorkActivity,
        ReturnedReport,
        UnitReport,
        ReportRound,
        CreditEntry,
        CreditRequirement,
        Completion,
        Attendance,
        ClassSession,
        Enrollment,
        Batch,
        TrainingModule,
        Training,
        ApiToken,
        Mistake,
        AttemptEvent,
        Answer,
        Attempt,
        QuizOverride,
        Quiz,
        DraftRejection,
        QuestionReview,
        Amendment,
        QuestionVersion,
        Question,
        Bank,
        LessonProgress,
        Lesson,
        Module,
        SessionRecord,
        LoginAttempt,
        Upload,
        AuditEvent,
    )
    if not is_sqlite():
        # DELETE, not TRUNCATE: TRUNCATE gives every table and index a new file, about 50 ms
        # for these tables even when they are empty; deleting a test's few rows takes about
        # a millisecond. Referring tables come first; the units go in one statement, whose
        # foreign keys are checked at its end. One round trip, one transaction.
        names = [t._meta.tablename for t in (*tables, SiteSetting, User, Unit)]
        connection = await DB.get_new_connection()
        try:
            await connection.execute("; ".join(f'DELETE FROM "{name}"' for name in names))
        finally:
            await connection.close()
        return
    async with DB.transaction():  # one connection for all the deletes
        for table in (*tables, SiteSetting, User):
            await table.delete(force=True)
        depth = await Unit.select(Unit.depth).order_by(Unit.depth, ascending=False).first()
        for level in range(depth["depth"] if depth else -1, -1, -1):
            await Unit.delete().where(Unit.depth == level)


class _Borrowed:
    """A connection from the test's pool, handed out where Piccolo would open a new
    connection; closing it gives it back to the pool."""

    def __init__(self, pool: Any, connection: Any) -> None:
        self._pool = pool
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        if self._connection is None:
            raise AttributeError(f"{name}: the connection was closed")
        return getattr(self._connection, name)

    def is_closed(self) -> bool:
        return self._connection is None or self._connection.is_closed()

    async def close(self, *, timeout: float | None = None) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection)


# Without the app's pool (the `client` fixture does not enter the app's lifespan), Piccolo
# opens a new PostgreSQL connection for every query outside a transaction and for every
# transaction: about 9 ms each here (TCP and SCRAM authentication), hundreds per test. The
# `db` fixture gives its test's event loop a small pool of its own, closed when the test
# ends, and new connections come from it; an event loop without one (another thread, a
# test without `db`) still opens new connections. `DB.pool`, which the app's lifespan
# starts and stops, is left alone.
_LOOP_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


_new_connection = PostgresEngine.get_new_connection


async def _pooled_or_new_connection(engine: PostgresEngine) -> Any:
    pool = _LOOP_POOLS.get(asyncio.get_running_loop()) if engine is DB else None
    if pool is None:
        return await _new_connection(engine)
    return _Borrowed(pool, await pool.acquire())


# The engine has __slots__: the method is replaced on the class, for DB only (see above).
PostgresEngine.get_new_connection = _pooled_or_new_connection  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def _loop_pool():
    """A pool of connections for the running event loop while the context lasts."""
    if is_sqlite():
        yield
        return
    import asyncpg

    loop = asyncio.get_running_loop()
    pool = await asyncpg.create_pool(**DB.config, min_size=1, max_size=10)
    _LOOP_POOLS[loop] = pool
    try:
        yield
    finally:
        _LOOP_POOLS.pop(loop, None)
        if pool.get_idle_size() < pool.get_size():  # a connection the test never gave back
            pool.terminate()
        else:
            await pool.close()


@pytest.fixture
async def db():
    """An empty database for this test."""
    async with _loop_pool():
        await clear_database()
        yield DB
        await clear_database()


@pytest.fixture
async def content(db):
    """The shipped course, question banks and quizzes, loaded as `peixun init` loads them."""
    from app.banks.store import load_bank_dir
    from app.course.lessons import read_course_dir, sync_course
    from app.quizzes.definitions import read_quiz_dir, sync_quizzes
    from app.settings import get_settings

    settings = get_settings()
    await sync_course(read_course_dir(settings.course_dir))
    await load_bank_dir(settings.question_bank_dir)
    await sync_quizzes(read_quiz_dir(settings.question_bank_dir / "quizzes"))


_APP: list[Any] = []


def shared_app() -> Any:
    """The app, built once for the whole run (building it takes about 0.2 s, which every
    test paid): it keeps no state of its own between requests; sessions, limits and data
    live in the database, which each test empties. A test that needs other settings builds
    its own with `create_app()`."""
    if not _APP:
        _APP.append(create_app())
    return _APP[0]


@pytest.fixture
async def client(db):
    """A client calling the app in the test's event loop.

    The app's lifespan (which opens the PostgreSQL pool) is not entered here, so the
    test's own queries and the app's share one loop; tests/test_database.py covers it.
    """
    test_client = AsyncTestClient(app=shared_app())
    test_client.follow_redirects = False
    return test_client


@pytest.fixture
async def tree(db) -> dict[str, Unit]:
    """焦作市总工会 with two county federations, each with one grassroots union."""
    city = await create_unit("焦作市总工会", "city_federation", None)
    jiefang = await create_unit("解放区总工会", "county_federation", city)
    jiefang_g = await create_unit("解放区人民医院工会", "grassroots_union", jiefang)
    zhongzhan = await create_unit("中站区总工会", "county_federation", city)
    zhongzhan_g = await create_unit("中站区第一中学工会", "grassroots_union", zhongzhan)
    return {
        "city": city,
        "jiefang": jiefang,
        "jiefang_g": jiefang_g,
        "zhongzhan": zhongzhan,
        "zhongzhan_g": zhongzhan_g,
    }


async def make_user(
    username: str,
    unit: Unit,
    role: str = "cadre",
    name: str = "张三",
    must_change_password: bool = False,
    password_hash: str | None = None,
    **fields,
) -> User:
    user = User(
        username=username,
        name=name,
        role=role,
        unit=unit.id,
        password_hash=password_hash or _HASH,
        must_change_password=must_change_password,
        **fields,
    )
    await user.save()
    return user


@pytest.fixture
async def people(tree) -> dict[str, User]:
    """One account per role, and a cadre in each county's grassroots union."""
    return {
        "admin": await make_user("admin", tree["city"], "federation_admin", "王市总"),
        "trainer": await make_user("trainer", tree["city"], "trainer", "李培训"),
        "jiefang_admin": await make_user("jf-admin", tree["jiefang"], "unit_admin", "赵解放"),
        "zhongzhan_admin": await make_user("zz-admin", tree["zhongzhan"], "unit_admin", "钱中站"),
        "cadre": await make_user(
            "13800000001", tree["jiefang_g"], "cadre", "孙学员", phone="13800000001"
        ),
        "other_cadre": await make_user(
            "13800000002", tree["zhongzhan_g"], "cadre", "周学员", phone="13800000002"
        ),
    }


def csrf(client: AsyncTestClient) -> str:
    token = client.cookies.get("csrftoken")
    assert token, "no CSRF cookie yet: GET a page first"
    return token


async def post_form(client: AsyncTestClient, url: str, data: dict | None = None, **kwargs):
    """POST a form the way a browser does, with the CSRF token taken from the cookie."""
    if not client.cookies.get("csrftoken"):
        await client.get("/login")
    return await client.post(url, data={**(data or {}), "_csrf_token": csrf(client)}, **kwargs)


async def login(client: AsyncTestClient, username: str, password: str = PASSWORD):
    await client.get("/login")
    return await post_form(client, "/login", {"username": username, "password": password})


__all__ = ["PASSWORD", "is_sqlite", "login", "make_user", "post_form"]
