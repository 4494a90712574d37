"""What the reports read from the database: trainings a person may report on, figures per
unit (one GROUP BY), and the roster's rows, streamed through one ordered query.

Every query is limited to a unit path prefix that lies within the person's scope
(`scope_path`), through `unit.path LIKE '<path>%'`. Only stored facts are read: the
progress columns of Enrollment, which app/trainings/progress.py keeps up to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from litestar.exceptions import NotFoundException
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query.functions.aggregate import Count, Sum

from app.accounts.guards import scope_path
from app.accounts.units import path_prefixes, tree_order
from app.db import DB, SQLITE_BUSY_TIMEOUT_SECONDS, is_sqlite
from app.lib.parsing import parse_id
from app.reports.rows import RosterRow
from app.reports.summary import Breakdown, Figures
from app.tables import TRAINING_KINDS, Batch, CreditRequirement, Enrollment, Training, Unit, User
from app.trainings.access import visible_to

UNIT_COLUMNS = (
    Unit.id,
    Unit.name,
    Unit.parent,
    Unit.path,
    Unit.depth,
    Unit.sort_order,
    Unit.active,
)


def nested(outer: str, inner: str) -> str | None:
    """The deeper of two unit paths when one lies within the other, else None."""
    if inner.startswith(outer):
        return inner
    if outer.startswith(inner):
        return outer
    return None


def home_path(user: User) -> str:
    """The subtree a person's reports start from: their own unit's for unit admins; for
    federation staff, the top of the tree their unit is in (the city federation)."""
    scope = scope_path(user)
    return next(iter(path_prefixes(user.unit.path)), scope) if scope == "/" else scope


# ------------------------------------------------------------------------------ trainings


# What the reports read of a training.
TRAINING_COLUMNS = (
    Training.id,
    Training.title,
    Training.kind,
    Training.final_quiz,
    Training.attendance_share,
    Training.credit_hours,
    Training.active,
    Training.unit.as_alias("unit_id"),
    Training.unit.name.as_alias("unit_name"),
    Training.unit.path.as_alias("unit_path"),
)


async def visible_trainings(user: User) -> list[dict[str, Any]]:
    """The trainings this person may report on (`app.trainings.access`), for the filters:
    the active ones first, newest first."""
    return await (
        Training.select(*TRAINING_COLUMNS)
        .where(visible_to(user))
        .order_by(Training.active, Training.id, ascending=False)
    )


async def batches_of(training_id: int) -> list[dict[str, Any]]:
    return await (
        Batch.select(Batch.id, Batch.name, Batch.starts_on, Batch.ends_on)
        .where(Batch.training == training_id)
        .order_by(Batch.sort_order, Batch.starts_on, Batch.id)
    )


async def load_batch(training_id: int, raw: str | None) -> dict[str, Any] | None:
    """The batch chosen with ?batch=, None when none was; 404 when not one of the training."""
    if not (raw or "").strip():
        return None
    batch_id = parse_id(raw)
    row = None
    if batch_id is not None:
        row = await (
            Batch.select(Batch.id, Batch.name)
            .where(Batch.id == batch_id, Batch.training == training_id)
            .first()
        )
    if row is None:
        raise NotFoundException("这项培训没有这个期次。")
    return row


# ------------------------------------------------------------------------------ units


async def units_under(path: str) -> list[dict[str, Any]]:
    """Units of the subtree at `path`, in tree order."""
    return tree_order(await Unit.select(*UNIT_COLUMNS).where(Unit.path.like(path + "%")))


async def unit_at(path: str) -> dict[str, Any] | None:
    return await Unit.select(*UNIT_COLUMNS).where(Unit.path == path).first()


async def units_above(path: str) -> list[dict[str, Any]]:
    """The unit at `path` and those above it, from the top down."""
    return await (
        Unit.select(*UNIT_COLUMNS)
        .where(Unit.path.is_in(list(path_prefixes(path))))
        .order_by(Unit.depth)
    )


# ------------------------------------------------------------------------------ figures


@dataclass(frozen=True)
class Filters:
    """What a report covers: a subtree, and optionally a training, a batch, a training kind."""

    path: str
    training_id: int | None = None
    batch_id: int | None = None
    kind: str = ""  # TRAINING_KINDS key, or "" for both
    training_ids: tuple[int, ...] | None = None  # only these trainings (not empty)

    def conditions(self) -> list[Any]:
        where = [Enrollment.active.eq(True), Enrollment.unit.path.like(self.path + "%")]
        if self.training_id is not None:
            where.append(Enrollment.training == self.training_id)
        if self.training_ids is not None:
            where.append(Enrollment.training.is_in(list(self.training_ids)))
        if self.batch_id is not None:
            where.append(Enrollment.batch == self.batch_id)
        if self.kind in TRAINING_KINDS:
            where.append(Enrollment.training.kind == self.kind)
        return where


async def unit_figures(filters: Filters) -> dict[int, Figures]:
    """Unit id → figures of the enrollments in that unit itself, aggregated in SQL."""
    rows = await (
        Enrollment.select(
            Enrollment.unit,
            Count().as_alias("enrolled"),
            Count(Enrollment.completed_at).as_alias("completed"),
            Count(Enrollment.quiz_score).as_alias("scored"),
            Sum(Enrollment.quiz_score).as_alias("score_sum"),
            Sum(Enrollment.hours).as_alias("hours"),
        )
        .where(*filters.conditions())
        .group_by(Enrollment.unit)
    )
    return {
        r["unit"]: Figures(
            enrolled=r["enrolled"],
            completed=r["completed"],
            scored=r["scored"],
            score_sum=float(r["score_sum"] or 0),
            hours=float(r["hours"] or 0),
        )
        for r in rows
    }


async def trainings_joined(filters: Filters) -> dict[str, int]:
    """Training kind → how many trainings the enrollments of `filters` are in."""
    rows = await (
        Enrollment.select(Enrollment.training, Enrollment.training.kind.as_alias("kind"))
        .where(*filters.conditions())
        .distinct()
    )
    counted: dict[str, int] = {}
    for row in rows:
        counted[row["kind"]] = counted.get(row["kind"], 0) + 1
    return counted


async def load_breakdown(filters: Filters) -> Breakdown:
    """The units of the subtree at `filters.path` and each unit's own figures: what every
    summary (汇总表, dashboard, the API's) is made of."""
    return Breakdown(filters.path, await units_under(filters.path), await unit_figures(filters))


# ------------------------------------------------------------------------------ roster rows

# Rows read from the database at a time; the next chunk is read while this one is written.
# Each chunk is ordered and turned into cells in the event loop: small enough that pages of
# other people wait only a few milliseconds behind it.
CHUNK_ROWS = 1000
_UNIT = itemgetter(0)  # RosterRow.unit
_NAME = 2  # RosterRow.name


class ByUnit:
    """Rows that arrive in unit order (and id order within a unit) put into roster order: a
    unit's rows are sorted by name as soon as the next unit begins, so only one unit waits."""

    def __init__(self, name_key: Callable[[str], Any]) -> None:
        self.name_key = name_key
        self.unit: int | None = None
        self.rows: list[RosterRow] = []

    def _flush(self, out: list[RosterRow]) -> None:
        key = self.name_key
        self.rows.sort(key=lambda r: key(str(r[_NAME])))  # stable: equal names stay in id order
        out.extend(self.rows)
        self.rows = []

    def feed(self, rows: Iterable[RosterRow]) -> list[RosterRow]:
        """The rows of the units that this chunk completed, in roster order."""
        out: list[RosterRow] = []
        for unit, group in groupby(rows, key=_UNIT):
            if unit != self.unit:
                if self.rows:
                    self._flush(out)
                self.unit = unit
            self.rows.extend(group)
        return out

    def finish(self) -> list[RosterRow]:
        out: list[RosterRow] = []
        if self.rows:
            self._flush(out)
        return out


# The roster is read with the database driver itself, rows as plain tuples: Piccolo's rows
# (a dict each, and on SQLite a Python converter for every integer) took 1.5 s for 100,000
# enrollments, more than the whole .csv may take. One query per roster, ordered by the
# units' tree order (given as a list of unit → position) and id, read through a cursor.
# Fetching one unit (or a page of units) at a time instead took 1.4 s on SQLite: a unit's
# rows lie all over the table, while one ordered query reads it once and sorts in C.
_COLUMNS = (  # in the order of RosterRow; completed_at in minutes since 1970 (UTC)
    "e.unit, u.name, a.name, a.position, a.phone, b.name, e.lessons_required,"
    " e.lessons_read, e.quiz_score, e.quiz_passed, e.sessions_total, e.sessions_attended,"
    " e.hours, {minute}{ids}"
)
_ID_COLUMNS = ", e.id, e.account, e.batch"  # RosterIds, after the RosterRow columns
_SQLITE_MINUTE = "CAST(strftime('%s', e.completed_at) AS INTEGER) / 60"
_POSTGRES_MINUTE = "CAST(floor(extract(epoch FROM e.completed_at) / 60) AS INTEGER)"
# SQLite: the positions are a temporary table of the reader's own connection. CROSS JOIN
# keeps SQLite reading the enrollments first, in one pass, rather than unit by unit, and
# INDEXED BY (the index of Enrollment.training, made by the migrations) in the order they
# are stored: an index that holds the unit (as one for the figures per unit would) would
# make it read them unit by unit, all over the table (1.3 s instead of 0.7 s for 100,000).
_SQLITE_ROSTER = (
    "SELECT "
    + _COLUMNS.format(minute=_SQLITE_MINUTE, ids="{ids}")
    + " FROM enrollment e INDEXED BY enrollment_training"
    " CROSS JOIN report_order o CROSS JOIN unit u"
    " CROSS JOIN account a LEFT JOIN batch b ON b.id = e.batch"
    " WHERE o.unit = e.unit AND u.id = e.unit AND a.id = e.account"
    " AND e.active AND u.path LIKE {path} AND e.training = {training}"
)
_POSTGRES_ROSTER = (
    "SELECT " + _COLUMNS.format(minute=_POSTGRES_MINUTE, ids="{ids}") + " FROM enrollment e"
    " JOIN unnest({units}::int[], {positions}::int[]) AS o(unit, pos) ON o.unit = e.unit"
    " JOIN unit u ON u.id = e.unit JOIN account a ON a.id = e.account"
    " LEFT JOIN batch b ON b.id = e.batch"
    " WHERE e.active AND u.path LIKE {path} AND e.training = {training}"
)


def roster_query(
    filters: Filters,
    unit_ids: Sequence[int],
    not_completed_only: bool,
    sqlite: bool,
    *,
    with_ids: bool = False,
) -> tuple[str, list[Any]]:
    """The roster's SQL and parameters (SQLite's or PostgreSQL's placeholders); `with_ids`
    adds the columns of RosterIds after those of RosterRow."""
    args: list[Any] = []
    ids = _ID_COLUMNS if with_ids else ""

    def param(value: Any) -> str:
        args.append(value)
        return "?" if sqlite else f"${len(args)}"

    if sqlite:
        sql = _SQLITE_ROSTER.format(
            ids=ids, path=param(filters.path + "%"), training=param(filters.training_id)
        )
    else:
        sql = _POSTGRES_ROSTER.format(
            ids=ids,
            units=param(list(unit_ids)),
            positions=param(list(range(len(unit_ids)))),
            path=param(filters.path + "%"),
            training=param(filters.training_id),
        )
    if filters.batch_id is not None:
        sql += f" AND e.batch = {param(filters.batch_id)}"
    if not_completed_only:
        sql += " AND e.completed_at IS NULL"
    return sql + " ORDER BY o.pos, e.id", args


def _sqlite_engine() -> SQLiteEngine:
    return cast(SQLiteEngine, DB)


def _postgres_engine() -> PostgresEngine:
    return cast(PostgresEngine, DB)


class _SqliteRows:
    """The query on a connection of its own (no type converters), read in a worker thread."""

    def __init__(self, sql: str, args: list[Any], unit_ids: Sequence[int]) -> None:
        self.sql, self.args, self.unit_ids = sql, args, unit_ids
        self.connection: sqlite3.Connection | None = None
        self.cursor: sqlite3.Cursor | None = None

    def _fetch(self) -> list[tuple]:
        if self.cursor is None:
            self.connection = sqlite3.connect(
                _sqlite_engine().path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )
            self.connection.execute(
                "CREATE TEMP TABLE report_order (unit INTEGER PRIMARY KEY, pos INTEGER)"
            )
            self.connection.executemany(
                "INSERT INTO report_order VALUES (?, ?)",
                [(unit, n) for n, unit in enumerate(self.unit_ids)],
            )
            self.cursor = self.connection.execute(self.sql, self.args)
        return self.cursor.fetchmany(CHUNK_ROWS)

    def fetch(self) -> asyncio.Future:
        return asyncio.get_running_loop().run_in_executor(None, self._fetch)

    async def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class _PostgresRows:
    """The query through a server-side cursor, on a connection of the pool (or a new one
    when no pool runs, as in tests)."""

    def __init__(self, sql: str, args: list[Any]) -> None:
        self.sql, self.args = sql, args
        self.connection: Any = None
        self.transaction: Any = None
        self.cursor: Any = None

    async def _fetch(self) -> list[tuple]:
        if self.cursor is None:
            pool = _postgres_engine().pool
            self.connection = await (
                pool.acquire() if pool else _postgres_engine().get_new_connection()
            )
            self.transaction = self.connection.transaction(readonly=True)
            await self.transaction.start()
            self.cursor = await self.connection.cursor(self.sql, *self.args)
        return await self.cursor.fetch(CHUNK_ROWS)

    def fetch(self) -> asyncio.Future:
        return asyncio.ensure_future(self._fetch())

    async def close(self) -> None:
        if self.connection is None:
            return
        try:
            if self.transaction is not None:
                await self.transaction.rollback()
        finally:
            pool = _postgres_engine().pool
            if pool:
                await pool.release(self.connection)
            else:
                await self.connection.close()


async def roster_pages(
    filters: Filters,
    units: Sequence[Mapping[str, Any]],
    name_key: Callable[[str], Any],
    *,
    not_completed_only: bool = False,
    with_ids: bool = False,
) -> AsyncGenerator[list[RosterRow], None]:
    """The roster's rows in order — units in tree order, names by `name_key` within a unit —
    a chunk at a time. Memory holds a chunk and one unit, whatever the size of the roster;
    the next chunk is read from the database while this one is written out. Only the
    enrollments of `units` are read; `with_ids` adds RosterIds after each row's columns."""
    unit_ids = [u["id"] for u in units]
    sqlite = is_sqlite()
    sql, args = roster_query(filters, unit_ids, not_completed_only, sqlite, with_ids=with_ids)
    source = _SqliteRows(sql, args, unit_ids) if sqlite else _PostgresRows(sql, args)
    order = ByUnit(name_key)
    pending: asyncio.Future | None = source.fetch()
    try:
        while pending is not None and (chunk := await pending):
            pending = source.fetch()
            if rows := order.feed(chunk):
                yield rows
        pending = None
        if rows := order.finish():
            yield rows
    finally:
        if pending is not None:
            with contextlib.suppress(Exception):
                await pending  # the connection is free only once its last read is done
        await source.close()


async def roster_slice(
    filters: Filters,
    breakdown: Breakdown,
    name_key: Callable[[str], Any],
    start: int,
    count: int,
) -> list[tuple]:
    """Rows `start` to `start + count - 1` of the roster (numbered from 0, in the order of
    roster_pages), read `with_ids`. `breakdown` (of the same filters) tells how many rows
    each unit has, so only the units these rows lie in are read, not the roster before them.
    (An enrollment made between the two reads shifts the rows by one, as with any paging.)
    """
    units: list[Mapping[str, Any]] = []
    skip = 0
    before = 0  # rows in the units before this one
    for unit in breakdown.units:
        if before >= start + count:
            break
        enrolled = breakdown.own_figures(unit["id"]).enrolled
        if enrolled and before + enrolled > start:
            if not units:
                skip = start - before
            units.append(unit)
        before += enrolled
    shown: list[tuple] = []
    if not units:
        return shown
    pages = roster_pages(filters, units, name_key, with_ids=True)
    async with aclosing(pages):
        async for rows in pages:
            if skip >= len(rows):
                skip -= len(rows)
                continue
            shown.extend(rows[skip : skip + count - len(shown)])
            skip = 0
            if len(shown) >= count:
                break
    return shown


# ------------------------------------------------------------------------------ 学时 by cadre

# The 学时 of a year per cadre: the ledger summed in SQL (corrections included), never
# recomputed: one row per active cadre of the subtree, with the sum of each source
# (credit_rules.SOURCES, in that order), the total (0 for a cadre without any row) and the
# hours required of them (NULL for none): `requirement` gives them per unit kind, worked out
# by credit_rules.requirement_for for the role 'cadre'. Read with the driver as plain tuples,
# like the roster (Piccolo's dicts cost more than the whole report for 100,000 cadres).
# SQLite reads the accounts in id order, so the GROUP BY needs no sort, and each cadre's rows
# of the year from the covering index credit_entry_report (year, account, source, hours).
CREDIT_SOURCES = ("reading", "quiz", "session", "training")  # = credit_rules.SOURCES
# A cadre is below the requirement when they lack at least a hundredth (as rounded).
_BELOW = "t.required - t.total >= 0.005"


@dataclass(frozen=True)
class CreditRequirementByKind:
    """The hours required of a cadre per unit kind, and of a cadre of any other kind."""

    by_kind: Mapping[str, float | None]
    other: float | None


def _credit_sql(
    path: str, year: int, need: CreditRequirementByKind, sqlite: bool, *, sources: bool = True
):
    """Per cadre: unit, id (and names and the hours of each source when `sources`), total,
    required."""
    args: list[Any] = []

    def param(value: Any, cast: str = "") -> str:
        args.append(value)
        return "?" if sqlite else f"${len(args)}{cast}"

    kinds = list(need.by_kind.items())
    when = " ".join(
        f"WHEN {param(k, '::varchar')} THEN {param(h, '::double precision')}" for k, h in kinds
    )
    other = param(need.other, "::double precision")
    required = f"CASE u.kind {when} ELSE {other} END" if kinds else other
    columns = "a.unit AS unit, a.id"
    if sources:
        columns += ", a.name, a.position, a.phone, " + ", ".join(
            f"COALESCE(SUM(CASE WHEN c.source = '{source}' THEN c.hours END), 0) AS s{n}"
            for n, source in enumerate(CREDIT_SOURCES)
        )
    sql = (
        f"SELECT {columns},"
        f" COALESCE(SUM(c.hours), 0) AS total, MIN({required}) AS required"
        " FROM account a CROSS JOIN unit u"
        f" LEFT JOIN credit_entry c ON c.account = a.id AND c.year = {param(year)}"
        " WHERE u.id = a.unit AND a.role = 'cadre' AND a.active"
        f" AND u.path LIKE {param(path + '%')} GROUP BY a.id"
    )
    return sql, args


def credit_query(
    path: str, year: int, need: CreditRequirementByKind, sqlite: bool, *, below_only: bool = False
) -> tuple[str, list[Any]]:
    """The SQL and parameters of the 学时 per cadre within the subtree at `path`: unit,
    account, name, position, phone, the hours of each source, total, required."""
    sql, args = _credit_sql(path, year, need, sqlite)
    if below_only:
        sql = f"SELECT * FROM ({sql}) t WHERE {_BELOW}"
    return sql, args


def credit_unit_query(
    path: str, year: int, need: CreditRequirementByKind, sqlite: bool
) -> tuple[str, list[Any]]:
    """Per unit: cadres, the sum of their 学时, the number below the requirement."""
    sql, args = _credit_sql(path, year, need, sqlite, sources=False)
    return (
        f"SELECT t.unit, COUNT(*), SUM(t.total), SUM(CASE WHEN {_BELOW} THEN 1 ELSE 0 END)"
        f" FROM ({sql}) t GROUP BY t.unit",
        args,
    )


async def _all_rows(sql: str, args: list[Any]) -> list[tuple]:
    """Every row of the query as plain tuples: on PostgreSQL in one round trip (asyncpg's
    Records are tuples), on SQLite a chunk at a time in a worker thread."""
    if not is_sqlite():
        engine = _postgres_engine()
        pool = engine.pool
        connection = await (pool.acquire() if pool else engine.get_new_connection())
        try:
            async with connection.transaction(readonly=True):
                # One scan of the year's ledger: compiling it (JIT) would cost more than
                # running it, and its per-cadre groups want more than the default work_mem.
                await connection.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
                return list(await connection.fetch(sql, *args))
        finally:
            await (pool.release(connection) if pool else connection.close())
    source = _SqliteRows(sql, args, ())
    rows: list[tuple] = []
    try:
        while chunk := await source.fetch():
            rows.extend(chunk)
    finally:
        await source.close()
    return rows


async def credit_rows(
    path: str, year: int, need: CreditRequirementByKind, *, below_only: bool = False
) -> list[tuple]:
    """Every active cadre of the subtree at `path` (or those below the requirement), as
    (unit, account, name, position, phone, *hours by source, total, required)."""
    return await _all_rows(*credit_query(path, year, need, is_sqlite(), below_only=below_only))


async def credit_unit_figures(path: str, year: int, need: CreditRequirementByKind) -> list[tuple]:
    """(unit, cadres, 学时, below) of each unit of the subtree at `path` with cadres."""
    return await _all_rows(*credit_unit_query(path, year, need, is_sqlite()))


async def unit_kinds(path: str) -> dict[int, str]:
    """Unit id → kind (UNIT_KINDS) of the units in the subtree at `path`."""
    rows = await Unit.select(Unit.id, Unit.kind).where(Unit.path.like(path + "%"))
    return {r["id"]: r["kind"] for r in rows}


async def credit_requirements(year: int) -> list[dict[str, Any]]:
    """The yearly 学时 requirements of `year` (credit_rules.requirement_for picks one)."""
    return await CreditRequirement.select(
        CreditRequirement.year,
        CreditRequirement.hours,
        CreditRequirement.role,
        CreditRequirement.unit_kind,
    ).where(CreditRequirement.year == year)
