"""Password hashing.

People's own passwords are hashed with argon2id at OWASP's parameters. Initial
passwords that the system generates (for created, imported and reset accounts)
are random 10-character tokens of about 50 bits: they need no key stretching,
so they are stored as salted SHA-256, which lets 2,000 cadres be imported in
seconds. They are accepted only until the person sets a password of their own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_INITIAL_PREFIX = "initial$sha256$"
# No 0/o, 1/l/i: the password is read off paper or a screen and typed on a phone.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash of a password the person chose."""
    return _hasher.hash(password)


def generate_initial_password() -> str:
    """A random initial password of 10 characters that are easy to read and type."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


def hash_initial_password(password: str) -> str:
    """A salted SHA-256 hash of a generated initial password."""
    salt = secrets.token_hex(16)
    digest = hashlib.sha256((salt + password).encode()).hexdigest()
    return f"{_INITIAL_PREFIX}{salt}${digest}"


def is_initial_hash(stored: str) -> bool:
    return stored.startswith(_INITIAL_PREFIX)


def verify_password(stored: str, password: str) -> bool:
    """True when `password` matches the stored hash of either kind."""
    if is_initial_hash(stored):
        salt, _, digest = stored.removeprefix(_INITIAL_PREFIX).partition("$")
        candidate = hashlib.sha256((salt + password).encode()).hexdigest()
        return hmac.compare_digest(candidate, digest)
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str = "") -> str | None:
    """A Chinese message saying why `password` may not be chosen, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"新密码至少需要 {MIN_LENGTH} 个字符。"
    if len(password) > 128:
        return "新密码不能超过 128 个字符。"
    if password.isdigit() and len(set(password)) <= 2:
        return "新密码过于简单，请不要使用重复的数字。"
    if username and password == username:
        return "新密码不能与用户名相同。"
    if password in {"12345678", "123456789", "1234567890", "password", "demo12345", "88888888"}:
        return "新密码过于常见，请换一个。"
    return None
