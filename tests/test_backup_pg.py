"""`peixun backup` and `restore` on PostgreSQL (pg_dump / pg_restore) against the suite's
own database; the SQLite round trip is in tests/test_cli.py."""

from __future__ import annotations

import shutil

import pytest

from app.backup import backup, restore
from app.db import is_sqlite
from app.tables import SiteSetting
from tests.conftest import DATABASE_URL

pytestmark = pytest.mark.skipif(is_sqlite(), reason="PostgreSQL 专项检查")


async def test_backup_and_restore_round_trip_a_live_postgresql_database(db, tmp_path):
    if not shutil.which("pg_dump"):
        pytest.fail("没有 pg_dump：CI 安装 postgresql 时应已带有客户端工具")
    await SiteSetting.insert(SiteSetting(key="backup-check", value="原来的值"))
    saved = backup(DATABASE_URL, tmp_path / "peixun.dump")
    assert saved.stat().st_size > 0
    await SiteSetting.update({SiteSetting.value: "改过的值"}, force=True)
    restore(DATABASE_URL, saved)
    row = await SiteSetting.select(SiteSetting.value).where(SiteSetting.key == "backup-check")
    assert row == [{"value": "原来的值"}]
