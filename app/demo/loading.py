"""Loading the demo data set into the database, and recognising a demo database."""

from __future__ import annotations

import secrets

from app.accounts.passwords import hash_password
from app.accounts.units import create_unit
from app.db import write_transaction
from app.demo.attempts import load_demo_attempts
from app.demo.credits import load_demo_credits
from app.demo.data import demo_cadres, demo_units
from app.demo.reporting import load_demo_reporting
from app.demo.trainings import load_demo_trainings
from app.tables import SiteSetting, Unit, User

DEMO_PASSWORD = "demo12345"
DEMO_ACCOUNTS = (
    # username, name, role, unit key, position
    ("admin", "演示·市总管理员", "federation_admin", "city", "组织部干部"),
    ("trainer", "演示·培训管理员", "trainer", "city", "宣教部干部"),
    ("county-admin", "演示·解放区管理员", "unit_admin", "jiefang", "组织部部长"),
    ("cadre", "演示·学员", "cadre", "jiefang-g01", "工会委员"),
)


class DemoRefused(RuntimeError):
    """The database holds real accounts; the message says so in Chinese."""


async def _setting(key: str) -> str | None:
    row = await SiteSetting.select(SiteSetting.value).where(SiteSetting.key == key).first()
    return row["value"] if row else None


async def _set(key: str, value: str) -> None:
    if await SiteSetting.exists().where(SiteSetting.key == key):
        await SiteSetting.update({SiteSetting.value: value}).where(SiteSetting.key == key)
    else:
        await SiteSetting.insert(SiteSetting(key=key, value=value))


async def is_demo_database() -> bool:
    return await _setting("demo") == "1"


async def demo_secret_key() -> str | None:
    """The secret a demo installation signs with, kept in the database so every worker shares it."""
    return await _setting("demo_secret_key") if await is_demo_database() else None


async def load_demo(cadre_count: int = 2000) -> str:
    """Write the demo data set once; returns what was done, in Chinese. Raises DemoRefused."""
    if await is_demo_database():
        return "演示数据已经存在，未做改动。"
    if await User.exists() or await Unit.exists():
        raise DemoRefused("数据库中已有真实的单位或账号，不能再写入演示数据。请换一个空数据库。")
    units = demo_units()
    cadres = demo_cadres(units, count=cadre_count)
    shared_hash = hash_password(DEMO_PASSWORD)
    async with write_transaction():
        by_key: dict[str, Unit] = {}
        for n, spec in enumerate(units):
            parent = by_key[spec.parent_key] if spec.parent_key else None
            unit = await create_unit(spec.name, spec.kind, parent, sort_order=n)
            await Unit.update({Unit.code: spec.code}).where(Unit.id == unit.id)
            by_key[spec.key] = unit
        accounts = [
            User(
                username=username,
                name=name,
                role=role,
                unit=by_key[unit_key].id,
                position=position,
                password_hash=hash_password(DEMO_PASSWORD),
                must_change_password=False,
            )
            for username, name, role, unit_key, position in DEMO_ACCOUNTS
        ]
        accounts += [
            User(
                username=c.phone,
                name=c.name,
                role="cadre",
                unit=by_key[c.unit_key].id,
                position=c.position,
                phone=c.phone,
                gender=c.gender,
                password_hash=shared_hash,
                must_change_password=False,
            )
            for c in cadres
        ]
        for start in range(0, len(accounts), 500):
            await User.insert(*accounts[start : start + 500])
        await _set("demo", "1")
        await _set("demo_secret_key", secrets.token_urlsafe(32))
    attempts = await load_demo_attempts()
    trainings = await load_demo_trainings()
    credits = await load_demo_credits()
    reporting = await load_demo_reporting()
    return (
        f"已写入演示数据：{len(units)} 个单位、{len(cadres)} 名干部、4 个演示账号"
        f"和 {attempts} 份演示答卷；{trainings}{credits}{reporting}"
    )
