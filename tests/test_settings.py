"""Settings from the environment, and the pure rules of passwords and throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.passwords import (
    generate_initial_password,
    hash_initial_password,
    hash_password,
    password_problem,
    verify_password,
)
from app.accounts.throttle import account_lock, address_throttled
from app.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_use_a_sqlite_file_under_var():
    settings = load_settings({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite
    assert settings.sqlite_path.parent.name == "var"
    assert settings.secret_key is None
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)


def test_values_are_read_and_typed():
    settings = load_settings(
        {
            "DATABASE_URL": "postgres://u:p@db:5432/peixun",
            "SECRET_KEY": "s" * 32,
            "PEIXUN_PORT": "9000",
            "PEIXUN_WORKERS": "4",
            "PEIXUN_HTTPS": "1",
        }
    )
    assert settings.database_url == "postgresql://u:p@db:5432/peixun"
    assert not settings.is_sqlite
    assert (settings.port, settings.workers, settings.https) == (9000, 4, True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"PEIXUN_PORT": "八千"}, "PEIXUN_PORT 应为整数"),
        ({"PEIXUN_WORKERS": "0"}, "PEIXUN_WORKERS 应在 1 到 64 之间"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY 太短"),
    ],
)
def test_bad_settings_are_named_in_chinese(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_chosen_passwords_use_argon2id_at_owasp_parameters():
    stored = hash_password("Yige-hao-mima-1")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "Yige-hao-mima-1")
    assert not verify_password(stored, "yige-hao-mima-1")


def test_initial_passwords_are_random_readable_and_verifiable():
    passwords = {generate_initial_password() for _ in range(200)}
    assert len(passwords) == 200
    assert all(len(p) == 10 and not set(p) & set("01lio") for p in passwords)
    password = passwords.pop()
    stored = hash_initial_password(password)
    assert verify_password(stored, password)
    assert not verify_password(stored, password[:-1])
    assert not verify_password("not a hash", password)


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "至少需要 8 个字符"), ("11111111", "过于简单"), ("13800000001", "不能与用户名相同")],
)
def test_weak_passwords_are_refused_with_a_reason(password, problem):
    assert problem in password_problem(password, "13800000001")
    assert password_problem("Wode-mima-2023", "13800000001") is None


def test_ten_failures_in_15_minutes_lock_for_15_minutes_after_the_last():
    now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    failures = [now - timedelta(minutes=i) for i in range(10)]
    lock = account_lock(failures, now)
    assert lock.locked_until == now + timedelta(minutes=15)
    assert account_lock(failures[:9], now).locked_until is None
    assert account_lock(failures[:9], now).remaining_tries == 1
    later = now + timedelta(minutes=15, seconds=1)
    assert account_lock(failures, later).locked_until is None
    old = [now - timedelta(minutes=20 + i) for i in range(10)]
    assert account_lock(old, now).locked_until is None


def test_thirty_attempts_a_minute_from_one_address_are_the_limit():
    assert not address_throttled(29)
    assert address_throttled(30)
