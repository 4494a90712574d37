"""Identifiers peixun makes for what a trainer names (banks, quizzes): nobody types them.

`candidate` turns a title into a readable ASCII identifier (pinyin for Chinese: “学习导读题库”
→ “xuexi-daodu-tiku”), pure; `first_free` numbers it (-2, -3 …) past the ones taken, pure;
`create_with_identifier` finds a free one in the database and creates the row with it,
trying the next one when another request took it at the same moment. An identifier never
changes after it is made: URLs and files refer to it.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from pypinyin import lazy_pinyin
from pypinyin.seg.mmseg import seg

__all__ = [
    "BASE_MAX",
    "candidate",
    "create_with_identifier",
    "first_free",
    "is_unique_violation",
]

T = TypeVar("T")
BASE_MAX = 48  # leaves room for "-NNN" within the 80 characters the tables hold
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
TRIES = 20


def _is_han(text: str) -> bool:
    return bool(text) and all(_HAN.match(c) for c in text)


def _words(title: str) -> list[str]:
    """The title's words in pinyin or ASCII; single Chinese characters the segmenter leaves
    alone are read in pairs (most Chinese words have two characters: 题库, 学习)."""
    words: list[str] = []
    pending: list[str] = []  # single characters waiting for their pair

    def flush() -> None:
        # Paired from the end: an odd one out is most often a particle in front (的题库).
        for start in range(len(pending) % 2 - 2, len(pending), 2):
            words.append("".join(lazy_pinyin("".join(pending[max(start, 0) : start + 2]))))
        pending.clear()

    for run in _RUNS.findall(unicodedata.normalize("NFKC", title)):
        if not _is_han(run):
            flush()
            words.append(unicodedata.normalize("NFKD", run).encode("ascii", "ignore").decode())
            continue
        for piece in seg.cut(run):
            if len(piece) == 1:
                pending.append(piece)
            else:
                flush()
                words.append("".join(lazy_pinyin(piece)))
    flush()
    text = "-".join(words).lower()
    return [w for w in _NOT_WORD.split(text) if w]


def candidate(title: str, max_length: int = BASE_MAX) -> str:
    """A lowercase ASCII identifier (letters, digits, "-") read from `title`, cut at a word
    boundary to at most `max_length` characters; "" when the title gives nothing to read."""
    out = ""
    for word in _words(title):
        joined = f"{out}-{word}" if out else word
        if len(joined) > max_length:
            if not out:
                out = word[:max_length]
            break
        out = joined
    return out


def first_free(base: str, taken: Collection[str], fallback: str) -> str:
    """`base`, else `base-2`, `base-3` …: the first not in `taken`. An empty `base` numbers
    `fallback` from 1 (`tiku-1`, `tiku-2` …)."""
    if base and base not in taken:
        return base
    stem, n = (base, 2) if base else (fallback, 1)
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def is_unique_violation(error: BaseException) -> bool:
    """The database refused a row because a unique column already holds its value."""
    if isinstance(error, sqlite3.IntegrityError):
        return "UNIQUE" in str(error).upper()
    return type(error).__name__ == "UniqueViolationError"  # asyncpg


async def create_with_identifier(
    title: str,
    *,
    fallback: str,
    taken: Callable[[str], Awaitable[Collection[str]]],
    create: Callable[[str], Awaitable[T]],
    reserved: Collection[str] = (),
) -> T:
    """Create a row with a fresh identifier made from `title`: `taken(prefix)` gives the
    identifiers in use that start with `prefix`; `create(identifier)` writes the row in its
    own transaction. When another request took the identifier first, the next one is tried."""
    base = candidate(title)
    prefix = base or fallback
    for _ in range(TRIES):
        used = {*await taken(prefix), *reserved}
        identifier = first_free(base, used, fallback)
        try:
            return await create(identifier)
        except Exception as error:
            if not is_unique_violation(error):
                raise
    raise RuntimeError("无法生成不重复的标识，请稍后再试。")
