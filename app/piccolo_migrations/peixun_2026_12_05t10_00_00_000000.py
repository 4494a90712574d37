from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a counter of changes to the question pool"

_PARAMS = {
    "primary_key": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)
    manager.add_table(
        class_name="ContentGeneration", tablename="content_generation", schema=None, columns=None
    )
    for name, column_class, params in (
        (
            "name",
            Varchar,
            {"length": 40, "default": "", "null": False, "index": False, "unique": True},
        ),
        ("generation", Integer, {"default": 0, "null": False, "index": False, "unique": False}),
    ):
        manager.add_column(
            table_class_name="ContentGeneration",
            tablename="content_generation",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )
    return manager
