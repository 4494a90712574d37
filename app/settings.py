"""Typed settings, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'peixun.sqlite3'}"


SECRET_KEY_HINT = (
    "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
)


class SettingsError(ValueError):
    """A setting in the environment is missing or malformed; the message is for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str | None
    host: str
    port: int
    workers: int
    course_dir: Path
    question_bank_dir: Path
    https: bool
    debug: bool
    timezone: ZoneInfo
    forwarded_allow_ips: str
    reading_speed: int
    sqlite_full_sync: bool
    # 学时 rules (app/trainings/credit_rules.py): minutes of reading for 1 学时, for 0.5,
    # the 学时 of a passed quiz, and how a completed training's 学时 count.
    credit_reading_minutes: int = 30
    credit_reading_half_minutes: int = 15
    credit_quiz_hours: float = 0.5
    credit_training_mode: str = "top_up"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        """The database file of a `sqlite:///path` URL (absolute with four slashes)."""
        if not self.is_sqlite:
            raise SettingsError("DATABASE_URL 不是 SQLite 地址")
        return Path(self.database_url.removeprefix("sqlite:///"))


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"环境变量 {name} 应为整数，现在是“{raw}”") from None
    if not low <= value <= high:
        raise SettingsError(f"环境变量 {name} 应在 {low} 到 {high} 之间，现在是 {value}")
    return value


def _float(env: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"环境变量 {name} 应为数字，现在是“{raw}”") from None
    if not low <= value <= high:
        raise SettingsError(f"环境变量 {name} 应在 {low:g} 到 {high:g} 之间，现在是 {raw}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from `env` (the process environment by default); raises SettingsError."""
    env = dict(os.environ if env is None else env)
    url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if not (url.startswith("sqlite:///") or url.startswith("postgresql://")):
        raise SettingsError(f"DATABASE_URL 应以 sqlite:/// 或 postgresql:// 开头，现在是“{url}”")
    secret = env.get("SECRET_KEY", "").strip() or None
    if secret is not None and len(secret) < 16:
        raise SettingsError("SECRET_KEY 太短：至少需要 16 个字符，建议 32 个以上的随机字符")
    tz_name = env.get("PEIXUN_TIMEZONE", "").strip() or "Asia/Shanghai"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"PEIXUN_TIMEZONE 不是有效的时区名称：“{tz_name}”") from None
    reading_minutes = _int(env, "PEIXUN_CREDIT_READING_MINUTES", 30, 1, 600)
    half_minutes = _int(env, "PEIXUN_CREDIT_READING_HALF_MINUTES", 15, 1, 600)
    if half_minutes > reading_minutes:
        raise SettingsError(
            "PEIXUN_CREDIT_READING_HALF_MINUTES 不能大于 PEIXUN_CREDIT_READING_MINUTES"
        )
    training_mode = env.get("PEIXUN_CREDIT_TRAINING", "").strip() or "top_up"
    if training_mode not in ("top_up", "none", "full"):
        raise SettingsError(
            f"PEIXUN_CREDIT_TRAINING 应为 top_up、none 或 full，现在是“{training_mode}”"
        )
    return Settings(
        database_url=url,
        secret_key=secret,
        host=env.get("PEIXUN_HOST", "").strip() or "127.0.0.1",
        port=_int(env, "PEIXUN_PORT", 8000, 1, 65535),
        workers=_int(env, "PEIXUN_WORKERS", 1, 1, 64),
        course_dir=Path(env.get("PEIXUN_COURSE_DIR", "").strip() or PROJECT_ROOT / "course"),
        question_bank_dir=Path(
            env.get("PEIXUN_QUESTION_BANK_DIR", "").strip() or PROJECT_ROOT / "question_banks"
        ),
        https=_flag(env, "PEIXUN_HTTPS"),
        debug=_flag(env, "PEIXUN_DEBUG"),
        timezone=timezone,
        forwarded_allow_ips=env.get("PEIXUN_FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1",
        reading_speed=_int(env, "PEIXUN_READING_SPEED", 300, 50, 3000),
        sqlite_full_sync=_flag(env, "PEIXUN_SQLITE_FULL_SYNC"),
        credit_reading_minutes=reading_minutes,
        credit_reading_half_minutes=half_minutes,
        credit_quiz_hours=_float(env, "PEIXUN_CREDIT_QUIZ_HOURS", 0.5, 0, 100),
        credit_training_mode=training_mode,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
