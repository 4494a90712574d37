"""Content seeded from files next to edits made in the browser (pure).

`peixun init` loads course modules, bank questions and quizzes from their files. Each row
remembers the fingerprint of its file's definition when the file was last loaded. Files seed
what is new: a file that has not changed since it was last loaded changes nothing, and a
changed file never overwrites a row made or changed in the browser since, unless the
operator asks for the files (`peixun init --take-files`). Such a row is kept and named.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SAME, TAKE, KEEP = "same", "take", "keep"
KINDS = {"course": "课程模块", "banks": "题库", "quizzes": "测验"}
TAKE_HINT = "要改用文件中的内容，请运行 peixun init --take-files"


def fingerprint(definition: Any) -> str:
    """A short, stable digest of a definition made of JSON values (dict keys in any order)."""
    text = json.dumps(definition, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def choose(
    *, recorded: str, file: str, current: str, made_in_browser: bool, take_files: bool
) -> str:
    """What loading a file does to its row: SAME (nothing to write), TAKE (write the file's
    definition) or KEEP (keep the browser's and say so).

    `recorded` is the fingerprint the file had when last loaded ("" if never), `file` its
    fingerprint now, `current` the row's; `made_in_browser` says the row came from the
    browser rather than from a file."""
    if current == file or recorded == file:
        return SAME  # already the file's, or the file is as it was: a browser edit stays
    changed_in_browser = made_in_browser or (recorded != "" and current != recorded)
    return KEEP if changed_in_browser and not take_files else TAKE


__all__ = ["KEEP", "KINDS", "SAME", "TAKE", "TAKE_HINT", "choose", "fingerprint"]
