"""`app/db.Prepared`: a Piccolo query built once gives, run with any values, exactly the rows
Piccolo gives when it builds the query each time."""

from __future__ import annotations

import pytest

from app.db import Prepared
from app.tables import Lesson, Module, User


async def test_prepared_selects_give_piccolo_s_rows(content, people):
    by_role = Prepared(
        lambda role, unit: (
            User.select(User.id, User.name, User.unit.name.as_alias("unit_name"))
            .where(User.role == role, User.unit != unit, User.active.eq(True))
            .order_by(User.id)
        ),
        str,
        int,
    )
    for role in ("cadre", "trainer", "nobody"):
        expected = await (
            User.select(User.id, User.name, User.unit.name.as_alias("unit_name"))
            .where(User.role == role, User.unit != -1, User.active.eq(True))
            .order_by(User.id)
        )
        assert await by_role.rows(role, -1) == expected

    modules = [row["id"] for row in await Module.select(Module.id).order_by(Module.id)]
    in_modules = Prepared(
        lambda ids: (
            Lesson.select(Lesson.id, Lesson.title, Lesson.active)
            .where(Lesson.module.is_in(ids))
            .order_by(Lesson.id)
        ),
        list,
    )
    for ids in ([], modules[:1], modules[:3], modules):
        expected = (
            await Lesson.select(Lesson.id, Lesson.title, Lesson.active)
            .where(Lesson.module.is_in(ids))
            .order_by(Lesson.id)
            if ids
            else []
        )
        got = await in_modules.rows(ids)
        assert got == expected
        assert all(type(row["active"]) is bool for row in got)

    first = Prepared(
        lambda slug: Module.select(Module.title).where(Module.slug == slug).first(), str
    )
    slug = (await Module.select(Module.slug).first())["slug"]
    assert (
        await first.first(slug)
        == await Module.select(Module.title).where(Module.slug == slug).first()
    )
    assert await first.first("no-such-module") is None
    # A quote in a value is a value, not SQL.
    assert await first.first("x' OR '1'='1") is None


async def test_a_parameter_that_does_not_reach_the_statement_is_refused(db):
    unused = Prepared(lambda slug: Module.select(Module.id), str)
    with pytest.raises(ValueError):
        await unused.rows("a")
