from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "question keys unique within a bank, version numbers within a question"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def unique_keys():
        from app.db import DB

        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS question_bank_key ON question (bank, key)"
        )
        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS question_version_number "
            "ON question_version (question, version)"
        )

    manager.add_raw(unique_keys)
    return manager
