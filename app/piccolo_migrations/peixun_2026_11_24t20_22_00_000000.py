from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T20:22:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one enrollment, attendance and completion per cadre; a module once per training"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def unique_rows():
        from app.db import DB

        for name, table, columns in (
            ("enrollment_training_account", "enrollment", "training, account"),
            ("attendance_session_account", "attendance", "session, account"),
            ("completion_training_account", "completion", "training, account"),
            ("training_module_pair", "training_module", "training, module"),
        ):
            await DB.run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    manager.add_raw(unique_rows)
    return manager
