from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T15:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one progress row per person and lesson"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def unique_progress():
        from app.db import DB

        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS lesson_progress_account_lesson "
            "ON lesson_progress (account, lesson)"
        )

    manager.add_raw(unique_progress)
    return manager
