from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.column_types import (
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-07T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "Reporting back: report rounds, the units' work ledgers with photos, unit reports and "
    "the submissions returned for changes"
)


class Unit(Table, tablename="unit", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


class User(Table, tablename="account", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


# The tables as this migration makes them (app/tables.py has their current definitions).
# Made from these classes inside the raw step, because a manager's raw steps run before its
# added tables, and the indexes below need the tables.
class ReportRound(Table, tablename="report_round", schema=None):
    title = Varchar(length=200)
    doc_number = Varchar(length=60, default="")
    unit_kinds = Text(default="[]")
    trainings = Text(default="[]")
    credit_year = Integer()
    deadline = Date()
    note = Text(default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class WorkActivity(Table, tablename="work_activity", schema=None):
    round = ForeignKey(ReportRound, on_delete=OnDelete.restrict)  # first in the index
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)
    form = Varchar(length=40, default="")
    held_on = Date()
    title = Varchar(length=200)
    place = Varchar(length=200, default="")
    participants = Integer(default=0)
    speaker = Varchar(length=100, default="")
    summary = Text(default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    updated_at = Timestamptz(default=TimestamptzNow())
    removed_at = Timestamptz(null=True, default=None)
    removed_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)


class ActivityPhoto(Table, tablename="activity_photo", schema=None):
    activity = ForeignKey(WorkActivity, on_delete=OnDelete.restrict, index=True)
    content = Bytea()
    filename = Varchar(length=255, default="")
    width = Integer(default=0)
    height = Integer(default=0)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class UnitReport(Table, tablename="unit_report", schema=None):
    round = ForeignKey(ReportRound, on_delete=OnDelete.restrict)  # first in the index
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    status = Varchar(length=20, default="draft")
    figures = Text(default="")
    document = Bytea(null=True, default=None)
    document_name = Varchar(length=255, default="")
    uploaded_at = Timestamptz(null=True, default=None)
    uploaded_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    returned_at = Timestamptz(null=True, default=None)
    returned_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    return_note = Text(default="")


class ReturnedReport(Table, tablename="returned_report", schema=None):
    report = ForeignKey(UnitReport, on_delete=OnDelete.restrict, index=True)
    figures = Text(default="")
    document = Bytea(null=True, default=None)
    document_name = Varchar(length=255, default="")
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    returned_at = Timestamptz(default=TimestamptzNow())
    returned_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    note = Text(default="")


TABLES = (ReportRound, WorkActivity, ActivityPhoto, UnitReport, ReturnedReport)
INDEXES = (
    # One report per round and unit.
    "CREATE UNIQUE INDEX IF NOT EXISTS unit_report_one_per_unit ON unit_report (round, unit)",
    # A round's ledger entries, by unit.
    "CREATE INDEX IF NOT EXISTS work_activity_round_unit ON work_activity (round, unit)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def make_tables():
        from app.db import DB

        for table in TABLES:
            for ddl in table.create_table(if_not_exists=True).ddl:
                await DB.run_ddl(ddl)
        for ddl in INDEXES:
            await DB.run_ddl(ddl)

    async def drop_tables():
        from app.db import DB

        for table in reversed(TABLES):
            await DB.run_ddl(f"DROP TABLE IF EXISTS {table._meta.tablename}")

    manager.add_raw(make_tables)
    manager.add_raw_backwards(drop_tables)
    return manager
