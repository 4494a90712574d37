"""`peixun backup` and `peixun restore`: a consistent copy of a live database, and back.

SQLite uses its online backup API, so the copy is consistent while the site keeps running.
PostgreSQL uses `pg_dump` (custom format) and `pg_restore`, which must be installed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit


class BackupError(RuntimeError):
    """A backup or restore that could not be made; the message is Chinese."""


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL tools, with the password in the environment."""
    parts = urlsplit(url)
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    args = ["-h", parts.hostname or "localhost", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", unquote(parts.username)]
    return [*args, "-d", parts.path.lstrip("/")], env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"没有找到 {name}：请安装 PostgreSQL 客户端（apt-get install postgresql-client）。"
        )
    return found


def backup(database_url: str, target: Path) -> Path:
    """Copy the live database to `target` (refused if the file exists)."""
    if target.exists():
        raise BackupError(f"文件“{target}”已经存在，请换一个文件名。")
    target.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite:///"):
        source = _sqlite_path(database_url)
        if not source.exists():
            raise BackupError(f"数据库文件“{source}”不存在。")
        try:
            with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
                live.backup(copy)
        except sqlite3.Error as error:
            target.unlink(missing_ok=True)
            raise BackupError(f"备份失败：{error}") from None
        return target
    args, env = _pg_env(database_url)
    done = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--file", str(target), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        target.unlink(missing_ok=True)
        raise BackupError(f"备份失败：{done.stderr.strip()}")
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with a backup made by `backup`.

    SQLite: the backup is copied into the database file with the online backup API, so
    nothing is left half-written if it fails. PostgreSQL: `pg_restore --clean` in one
    transaction."""
    if not source.exists():
        raise BackupError(f"备份文件“{source}”不存在。")
    if database_url.startswith("sqlite:///"):
        target = _sqlite_path(database_url)
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as saved:
                saved.execute("SELECT count(*) FROM migration").fetchone()
                with sqlite3.connect(target) as live:
                    saved.backup(live)
        except sqlite3.Error as error:
            raise BackupError(f"“{source}”不是本平台的 SQLite 备份：{error}") from None
        return
    args, env = _pg_env(database_url)
    done = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-owner",
            *args,
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(f"恢复失败，数据库没有改动：{done.stderr.strip()}")
