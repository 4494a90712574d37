from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "full-text search across lesson text"

# PostgreSQL: pg_trgm ships with postgresql-contrib, but installing it may need rights the
# app's user lacks. Each step runs in its own sub-transaction, so a failure leaves search
# working without the index (ILIKE then scans the lesson table).
_PG_TRIGRAM = """
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXCEPTION WHEN others THEN
    RAISE NOTICE 'pg_trgm not installed (%), lesson search runs without an index', SQLERRM;
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    BEGIN
      CREATE INDEX IF NOT EXISTS lesson_title_trgm ON lesson USING gin (title gin_trgm_ops);
      CREATE INDEX IF NOT EXISTS lesson_body_trgm ON lesson USING gin (body gin_trgm_ops);
    EXCEPTION WHEN others THEN
      RAISE NOTICE 'trigram indexes not created (%)', SQLERRM;
    END;
  END IF;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="peixun", description=DESCRIPTION)

    async def lesson_search():
        from app.db import DB, is_sqlite

        if is_sqlite():
            # Trigram tokens find any substring of 3+ characters, Chinese included.
            await DB.run_ddl(
                "CREATE VIRTUAL TABLE IF NOT EXISTS lesson_search "
                "USING fts5(lesson_id UNINDEXED, title, body, tokenize='trigram')"
            )
            await DB.run_ddl("DELETE FROM lesson_search")
            await DB.run_ddl(
                "INSERT INTO lesson_search (lesson_id, title, body) "
                "SELECT id, title, body FROM lesson WHERE active"
            )
        else:
            await DB.run_ddl(_PG_TRIGRAM)

    async def drop_lesson_search():
        from app.db import DB, is_sqlite

        if is_sqlite():
            await DB.run_ddl("DROP TABLE IF EXISTS lesson_search")
        else:
            await DB.run_ddl("DROP INDEX IF EXISTS lesson_title_trgm")
            await DB.run_ddl("DROP INDEX IF EXISTS lesson_body_trgm")

    manager.add_raw(lesson_search)
    manager.add_raw_backwards(drop_lesson_search)
    return manager
