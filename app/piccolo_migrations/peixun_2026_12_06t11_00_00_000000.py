from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-06T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "补考 and overrides: extra attempts, extra minutes, a later closing date"


class Quiz(Table, tablename="quiz", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


class User(Table, tablename="account", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


# The table as this migration makes it (app/tables.py has its current definition). Made from
# this class inside the raw step, because a manager's raw steps run before its added tables,
# and the unique index below needs the table.
class QuizOverride(Table, tablename="quiz_override", schema=None):
    quiz = ForeignKey(Quiz, null=False, on_delete=OnDelete.restrict)  # first in the index
    account = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    extra_attempts = Integer(default=0)
    extra_minutes = Integer(default=0)
    closes_at = Timestamptz(null=True, default=None)
    reason = Varchar(length=200, default="")
    granted_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)


# One row per quiz and cadre: granting again updates it.
INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS quiz_override_one_per_cadre ON quiz_override (quiz, account)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def override_table():
        from app.db import DB

        for ddl in QuizOverride.create_table(if_not_exists=True).ddl:
            await DB.run_ddl(ddl)
        await DB.run_ddl(INDEX)

    async def drop_override_table():
        from app.db import DB

        await DB.run_ddl("DROP TABLE IF EXISTS quiz_override")

    manager.add_raw(override_table)
    manager.add_raw_backwards(drop_override_table)
    # Active overrides of the quiz: starting an attempt reads one only when this is not 0.
    manager.add_column(
        table_class_name="Quiz",
        tablename="quiz",
        column_name="override_count",
        db_column_name="override_count",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
