from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the database raises the question pool counter on every change"

# The tables whose rows decide which question versions a new paper may draw.
POOL_TABLES = ("question", "question_version", "bank", "question_review")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def counter():
        from app.db import DB, is_sqlite

        await DB.run_ddl(
            "INSERT INTO content_generation (name, generation) VALUES ('question_pool', 0)"
        )
        bump = (
            "UPDATE content_generation SET generation = generation + 1 WHERE name = 'question_pool'"
        )
        if is_sqlite():
            for table in POOL_TABLES:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    await DB.run_ddl(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_pool "
                        f"AFTER {event} ON {table} BEGIN {bump}; END"
                    )
            return
        await DB.run_ddl(
            "CREATE OR REPLACE FUNCTION raise_pool_generation() RETURNS trigger AS $$ "
            f"BEGIN {bump}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for table in POOL_TABLES:
            await DB.run_ddl(
                f"CREATE TRIGGER {table}_pool AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION raise_pool_generation()"
            )

    manager.add_raw(counter)
    return manager
