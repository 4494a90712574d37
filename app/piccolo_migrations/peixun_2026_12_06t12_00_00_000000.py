from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an index that answers the yearly 学时 per cadre and source from the index alone"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def credit_report_index():
        from app.db import DB

        await DB.run_ddl(
            "CREATE INDEX IF NOT EXISTS credit_entry_report "
            "ON credit_entry (year, account, source, hours)"
        )

    async def drop_credit_report_index():
        from app.db import DB

        await DB.run_ddl("DROP INDEX IF EXISTS credit_entry_report")

    manager.add_raw(credit_report_index)
    manager.add_raw_backwards(drop_credit_report_index)
    return manager
