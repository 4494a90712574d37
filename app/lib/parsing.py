"""Reading numbers, dates and ids that people type into forms and URLs (pure)."""

from __future__ import annotations

import math
import unicodedata
from datetime import date

# Ids are 32-bit serials; a larger number in a URL or form is simply not found (and would
# otherwise overflow the database driver).
MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    """Whether an id from a URL or form can name a row at all."""
    return 0 < value <= MAX_ID


def parse_id(raw: str | None) -> int | None:
    """An id typed or sent as text (a query parameter), or None when it is not one."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if valid_id(value) else None


def form_number(text: str) -> float | None:
    """A finite number typed in a form (full-width digits allowed), or None."""
    try:
        value = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def form_date(text: str) -> date:
    """A YYYY-MM-DD date typed in a form (full-width digits allowed) between 2000 and 2100;
    raises ValueError when it is not one."""
    value = date.fromisoformat(unicodedata.normalize("NFKC", text).strip())
    if not 2000 <= value.year <= 2100:
        raise ValueError(text)
    return value
