"""What the `peixun users` and `peixun cadres` commands do, apart from parsing arguments."""

from __future__ import annotations

import re
from pathlib import Path

from app import audit
from app.db import write_transaction
from app.passwords import (
    generate_initial_password,
    hash_initial_password,
    hash_password,
    password_problem,
)
from app.people import USERNAME
from app.people_import import accounts_xlsx, plan_import, write_import
from app.tables import ROLES, Unit, User


async def create_user(
    role: str, unit_name: str, username: str, name: str, password: str | None
) -> str:
    """Create an account; without a password, a generated one to change at first sign-in."""
    if not USERNAME.match(username):
        raise SystemExit(f"用户名“{username}”无效：只能由 3 到 50 个字母、数字、“_”“-”“.”组成。")
    if not name.strip():
        raise SystemExit("姓名不能为空。")
    if password is not None and (problem := password_problem(password, username)):
        raise SystemExit(problem)
    unit = await Unit.objects().where(Unit.name == unit_name.strip()).first()
    if unit is None:
        names = [r["name"] for r in await Unit.select(Unit.name).where(Unit.parent.is_null())]
        hint = (
            f"现有的顶级单位：{'、'.join(names)}"
            if names
            else "数据库里还没有单位，请先创建顶级单位。"
        )
        raise SystemExit(f"单位“{unit_name}”不存在。{hint}")
    if await User.exists().where(User.username == username):
        raise SystemExit(f"用户名“{username}”已被使用。")
    shown = password is None
    if password is None:
        password = generate_initial_password()
        stored = hash_initial_password(password)
    else:
        stored = hash_password(password)
    async with write_transaction():
        user = User(
            username=username,
            name=name.strip(),
            role=role,
            unit=unit.id,
            password_hash=stored,
            must_change_password=True,
            phone=username if re.fullmatch(r"1[3-9]\d{9}", username) else "",
        )
        await user.save()
        await audit.record(None, "users.create", user, f"创建{ROLES[role]}“{name}”（{username}）")
    lines = [f"已创建{ROLES[role]}“{name}”，用户名 {username}，单位“{unit.name}”。"]
    if shown:
        lines.append(f"初始密码（只显示这一次）：{password}")
    lines.append("首次登录时须修改密码。")
    return "\n".join(lines)


async def import_file(path: Path, dry_run: bool, passwords_path: Path) -> tuple[bool, str]:
    """Import cadres from a file for the whole city; (ok, message in Chinese)."""
    content = path.read_bytes()
    async with write_transaction():
        plan = await plan_import(path.name, content, "/")
        if not plan.ok:
            problems = "\n".join(f"  {p.message}" for p in plan.problems)
            return (
                False,
                f"“{path.name}”有 {len(plan.problems)} 处问题，未导入任何数据：\n{problems}",
            )
        if dry_run:
            return True, f"检查通过：可以导入 {len(plan.drafts)} 名干部（未写入）。"
        created = await write_import(plan.drafts)
        await audit.record(
            None, "cadres.import_cli", None, f"从“{path.name}”导入 {len(created)} 名干部"
        )
    passwords_path.parent.mkdir(parents=True, exist_ok=True)
    passwords_path.write_bytes(accounts_xlsx(created))
    return True, (
        f"已导入 {len(created):,} 名干部。初始密码清单已保存到 {passwords_path}，"
        "请妥善分发后删除该文件；干部首次登录时须修改密码。"
    )
