from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "new versions of imported documents, and the questions they put under review"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


class Question(Table, tablename="question", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


class Amendment(Table, tablename="amendment", schema=None):
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


def _text(length: int | None = None, unique: bool = False) -> dict:
    return {
        **({"length": length} if length else {}),
        "default": "",
        "null": False,
        "index": False,
        "unique": unique,
    }


_NOW = {"default": TimestamptzNow(), "null": False, "index": False}

TABLES = (
    (
        "Amendment",
        "amendment",
        (
            ("title", Varchar, _text(300)),
            ("old_source", Varchar, _text(255)),
            ("new_source", Varchar, _text(255, unique=True)),
            ("change_module", Varchar, _text(80)),
            ("created_at", Timestamptz, _NOW),
        ),
    ),
    (
        "QuestionReview",
        "question_review",
        (
            ("question", ForeignKey, _foreign_key(Question, null=False, index=True)),
            ("amendment", ForeignKey, _foreign_key(Amendment, null=False, index=False)),
            ("reason", Text, _text()),
            ("created_at", Timestamptz, _NOW),
            ("resolved_at", Timestamptz, {"default": None, "null": True, "index": False}),
            ("resolved_by", ForeignKey, _foreign_key(User, null=True, index=False)),
        ),
    ),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)
    for class_name, tablename, columns in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params={**_PARAMS, **params},
                schema=None,
            )
    return manager
