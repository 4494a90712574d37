from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T21:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a draft is rejected once per bank"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def one_rejection():
        from app.db import DB

        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS draft_rejection_bank_key "
            "ON draft_rejection (bank, draft_key)"
        )

    manager.add_raw(one_rejection)
    return manager
