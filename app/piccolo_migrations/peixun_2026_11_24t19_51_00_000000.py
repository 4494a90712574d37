from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T19:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one attempt in progress per cadre and quiz; one answer per question of a paper"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def constraints():
        from app.db import DB

        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS attempt_one_in_progress ON attempt (quiz, account) "
            "WHERE status = 'in_progress' AND practice = false"
        )
        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS answer_attempt_position ON answer (attempt, position)"
        )
        await DB.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS mistake_account_question "
            "ON mistake (account, question)"
        )

    manager.add_raw(constraints)
    return manager
