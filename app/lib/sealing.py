"""Files kept on the server encrypted: a list of initial passwords is stored sealed, so that a
copy of the database (a backup, a dump) gives away no password.

The key is derived from SECRET_KEY (HKDF-SHA256), so nothing else needs keeping; a new
SECRET_KEY makes what was sealed before unreadable, which for files kept a day is the right
outcome.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import get_settings

_PURPOSE = b"peixun kept files v1"


class Unreadable(Exception):
    """Sealed content that cannot be opened: altered, too old, or sealed with another key."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _key() -> Fernet:
    secret = get_settings().secret_key
    if not secret:
        raise Unreadable("没有设置 SECRET_KEY")
    return _fernet(secret)


def seal(content: bytes) -> bytes:
    """The content encrypted and authenticated (Fernet: AES-128-CBC with HMAC-SHA256)."""
    return _key().encrypt(content)


def unseal(sealed: bytes, max_age_seconds: int | None = None) -> bytes:
    """The content `seal` was given; Unreadable when it was altered, is older than
    `max_age_seconds`, or was sealed under another SECRET_KEY."""
    try:
        return _key().decrypt(sealed, ttl=max_age_seconds)
    except InvalidToken:
        raise Unreadable("无法解开已加密的文件") from None
