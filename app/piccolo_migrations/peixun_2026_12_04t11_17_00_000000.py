from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T11:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "what each file said when last loaded; modules published in the browser"

_PARAMS = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    for class_name, tablename in (
        ("Module", "course_module"),
        ("Bank", "bank"),
        ("Question", "question"),
        ("Quiz", "quiz"),
    ):
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="file_hash",
            db_column_name="file_hash",
            column_class_name="Varchar",
            column_class=Varchar,
            params={"length": 64, "default": "", **_PARAMS},
            schema=None,
        )
    manager.add_column(
        table_class_name="Module",
        tablename="course_module",
        column_name="from_browser",
        db_column_name="from_browser",
        column_class_name="Boolean",
        column_class=Boolean,
        params={"default": False, **_PARAMS},
        schema=None,
    )
    return manager
