from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-04T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drafted questions a trainer rejected"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


class Bank(Table, tablename="bank", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


class User(Table, tablename="account", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


def _foreign_key(references: type[Table], *, null: bool, index: bool) -> dict:
    return {
        "references": references,
        "on_delete": OnDelete.restrict,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": null,
        "index": index,
        **_PARAMS,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    manager.add_table(
        class_name="DraftRejection", tablename="draft_rejection", schema=None, columns=None
    )
    for name, column_class, params in (
        ("bank", ForeignKey, _foreign_key(Bank, null=False, index=True)),
        ("draft_key", Varchar, {"length": 64, "default": "", "null": False, "index": False}),
        ("rejected_by", ForeignKey, _foreign_key(User, null=True, index=False)),
        ("rejected_at", Timestamptz, {"default": TimestamptzNow(), "null": False, "index": False}),
    ):
        manager.add_column(
            table_class_name="DraftRejection",
            tablename="draft_rejection",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )

    return manager
