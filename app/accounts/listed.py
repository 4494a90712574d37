"""The accounts an uploaded list names (enrollment lists, 补考/延期 lists): one query, by
phone or username, or by staff number, read in chunks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.tables import User

CHUNK = 500
LISTED_COLUMNS = (
    User.id,
    User.name,
    User.username,
    User.phone,
    User.staff_no,
    User.role,
    User.active,
    User.unit.name.as_alias("unit_name"),
    User.unit.path.as_alias("unit_path"),
)


async def accounts_named(keys: Iterable[str], staff_nos: Iterable[str]) -> list[dict[str, Any]]:
    """Every account whose phone or username is one of `keys`, or whose staff number is one
    of `staff_nos`, once each: id, name, username, phone, staff_no, role, active, unit_name,
    unit_path."""
    keys, staff_nos = sorted(set(keys)), sorted(set(staff_nos))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, max(len(keys), len(staff_nos)), CHUNK):
        conditions = []
        if chunk := keys[start : start + CHUNK]:
            conditions += [User.phone.is_in(chunk), User.username.is_in(chunk)]
        if chunk := staff_nos[start : start + CHUNK]:
            conditions.append(User.staff_no.is_in(chunk))
        where = conditions[0]
        for condition in conditions[1:]:
            where = where | condition
        found.update({row["id"]: row for row in await User.select(*LISTED_COLUMNS).where(where)})
    return list(found.values())
