"""Sign-in throttling rules (pure), applied to attempts stored in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACCOUNT_FAILURE_LIMIT = 10
ACCOUNT_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
ADDRESS_LIMIT_PER_MINUTE = 30


@dataclass(frozen=True)
class AccountLock:
    locked_until: datetime | None
    failures: int

    @property
    def remaining_tries(self) -> int:
        return max(0, ACCOUNT_FAILURE_LIMIT - self.failures)


def account_lock(recent_failures: list[datetime], now: datetime) -> AccountLock:
    """The account's state from its failures since its last success, newest first.

    Ten failures within 15 minutes lock the account for 15 minutes after the last one.
    Attempts made while locked are refused before any password is checked and not counted.
    """
    window = [at for at in recent_failures if at > now - ACCOUNT_WINDOW]
    if len(window) >= ACCOUNT_FAILURE_LIMIT:
        until = window[0] + LOCK_DURATION
        if until > now:
            return AccountLock(locked_until=until, failures=len(window))
    return AccountLock(locked_until=None, failures=len(window))


def address_throttled(attempts_last_minute: int) -> bool:
    """More than 30 attempts a minute from one address are refused."""
    return attempts_last_minute >= ADDRESS_LIMIT_PER_MINUTE
