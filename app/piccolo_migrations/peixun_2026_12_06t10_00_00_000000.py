from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.column_types import (
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-06T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the 学时 ledger and the yearly 学时 requirement"


class User(Table, tablename="account", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


class Training(Table, tablename="training", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


# The tables as this migration makes them (app/tables.py has their current definition).
# Made from these classes inside the raw step, because a manager's raw steps run before its
# added tables, and the unique indexes below need the tables.
class CreditEntry(Table, tablename="credit_entry", schema=None):
    account = ForeignKey(User, on_delete=OnDelete.restrict)  # first in credit_entry_once
    year = Integer()
    source = Varchar(length=20)
    key = Varchar(length=60)
    sequence = Integer(default=1)
    hours = DoublePrecision(default=0.0)
    earned_at = Timestamptz(default=TimestamptzNow())
    training = ForeignKey(Training, null=True, on_delete=OnDelete.restrict)
    # NO ACTION: checked at the end of a statement, so the whole ledger can be emptied at once.
    corrects = ForeignKey("self", null=True, on_delete=OnDelete.no_action)
    evidence = Text(default="{}")
    note = Text(default="")


class CreditRequirement(Table, tablename="credit_requirement", schema=None):
    year = Integer()
    hours = DoublePrecision(default=0.0)
    role = Varchar(length=20, default="")
    unit_kind = Varchar(length=40, default="")
    note = Varchar(length=200, default="")
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    updated_at = Timestamptz(default=TimestamptzNow())


INDEXES = (
    # The same credit is never written twice: rows of one account, year and key are numbered.
    "CREATE UNIQUE INDEX IF NOT EXISTS credit_entry_once "
    "ON credit_entry (account, year, key, sequence)",
    # Yearly reports read every account's rows of a year.
    "CREATE INDEX IF NOT EXISTS credit_entry_year ON credit_entry (year, account)",
    "CREATE UNIQUE INDEX IF NOT EXISTS credit_requirement_one "
    "ON credit_requirement (year, role, unit_kind)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def credit_tables():
        from app.db import DB

        for table in (CreditEntry, CreditRequirement):
            for ddl in table.create_table(if_not_exists=True).ddl:
                await DB.run_ddl(ddl)
        for ddl in INDEXES:
            await DB.run_ddl(ddl)

    async def drop_credit_tables():
        from app.db import DB

        await DB.run_ddl("DROP TABLE IF EXISTS credit_requirement")
        await DB.run_ddl("DROP TABLE IF EXISTS credit_entry")

    manager.add_raw(credit_tables)
    manager.add_raw_backwards(drop_credit_tables)
    return manager
