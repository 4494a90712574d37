from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T20:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an index that answers the completion summary per unit from the index alone"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def report_index():
        from app.db import DB

        await DB.run_ddl(
            "CREATE INDEX IF NOT EXISTS enrollment_report "
            "ON enrollment (training, unit, active, completed_at, quiz_score, hours)"
        )

    manager.add_raw(report_index)
    return manager
