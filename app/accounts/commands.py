"""What the `peixun users` and `peixun cadres` commands do, apart from parsing arguments."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from app.accounts import audit
from app.accounts.auth import normalize_username
from app.accounts.cadre_import import normalize_phone
from app.accounts.passwords import (
    generate_initial_password,
    hash_initial_password,
    hash_password,
    password_problem,
)
from app.accounts.people import USERNAME
from app.accounts.people_import import accounts_xlsx, plan_import, write_import
from app.accounts.units import create_unit, name_problem
from app.db import write_transaction
from app.demo.loading import is_demo_database
from app.tables import ROLES, Unit, User


async def create_user(
    role: str, unit_name: str, username: str, name: str, password: str | None
) -> str:
    """Create an account; without a password, a generated one to change at first sign-in.

    On a database without any unit, the first federation admin brings their unit along: it is
    created as the top-level 市总工会, since nobody can sign in to create it on the website yet.
    """
    unit_name = unit_name.strip()
    username = normalize_username(username)
    if not USERNAME.match(username):
        raise SystemExit(f"用户名“{username}”无效：只能由 3 到 50 个字母、数字、“_”“-”“.”组成。")
    if not name.strip():
        raise SystemExit("姓名不能为空。")
    if len(name.strip()) > NAME_LENGTH:
        raise SystemExit(f"姓名太长：最多 {NAME_LENGTH} 个字。")
    if password is not None and (problem := password_problem(password, username)):
        raise SystemExit(problem)
    if await is_demo_database():
        raise SystemExit(
            "这是演示数据库，不能在其中创建真实账号（演示账号的密码人人皆知）。"
            "请换一个新数据库：设置 DATABASE_URL，或移走 var/peixun.sqlite3，然后运行 peixun init。"
        )
    unit = await Unit.objects().where(Unit.name == unit_name).first()
    new_root = False
    if unit is None:
        if await Unit.exists():
            raise SystemExit(await _unknown_unit(unit_name))
        if role != "federation_admin":
            raise SystemExit(
                "数据库里还没有单位。请先创建第一位市总工会管理员，它的单位会作为顶级单位一并创建，"
                "例如：\n  peixun users create --role federation_admin --unit 焦作市总工会 "
                "--username admin --name 姓名 --generate-password"
            )
        if problem := name_problem(unit_name):
            raise SystemExit(problem)
        new_root = True
    if await User.exists().where(User.username == username):
        raise SystemExit(f"用户名“{username}”已被使用。")
    shown = password is None
    if password is None:
        password = generate_initial_password()
        stored = hash_initial_password(password)
    else:
        stored = hash_password(password)
    async with write_transaction():
        if new_root:
            unit = await create_unit(unit_name, "city_federation", None)
            await audit.record(None, "unit.create", unit, f"创建顶级单位“{unit_name}”（命令行）")
        user = User(
            username=username,
            name=name.strip(),
            role=role,
            unit=unit.id,
            password_hash=stored,
            must_change_password=True,
            phone=normalize_phone(username) or "",
        )
        await user.save()
        await audit.record(None, "users.create", user, f"创建{ROLES[role]}“{name}”（{username}）")
    lines = [f"已创建顶级单位“{unit.name}”。"] if new_root else []
    lines += [f"已创建{ROLES[role]}“{name}”，用户名 {username}，单位“{unit.name}”。"]
    if shown:
        lines.append(f"初始密码（只显示这一次）：{password}")
    lines.append("首次登录时须修改密码。")
    return "\n".join(lines)


NAME_LENGTH = User.name.length


async def _unknown_unit(unit_name: str) -> str:
    names = [r["name"] for r in await Unit.select(Unit.name)]
    close = difflib.get_close_matches(unit_name, names, n=3, cutoff=0.5)
    if close:
        hint = "您是否要找" + "、".join(f"“{n}”" for n in close) + "？"
    else:
        roots = [r["name"] for r in await Unit.select(Unit.name).where(Unit.parent.is_null())]
        hint = f"请填写单位的完整名称，现有的顶级单位：{'、'.join(roots)}。"
    return f"单位“{unit_name}”不存在。{hint}"


class _PasswordFileError(Exception):
    """The list of initial passwords could not be saved; the import is rolled back."""


async def import_file(path: Path, dry_run: bool, passwords_path: Path) -> tuple[bool, str]:
    """Import cadres from a file for the whole city; (ok, message in Chinese).

    The list of initial passwords is saved before the transaction commits, so accounts whose
    passwords nobody could hand out are never created; an existing file is never overwritten.
    """
    if not dry_run and passwords_path.exists():
        return (
            False,
            f"文件 {passwords_path} 已存在，为免覆盖其中的初始密码，请用 --passwords 换一个位置。",
        )
    try:
        content = path.read_bytes()
    except OSError as error:
        return False, f"无法读取文件 {path}：{error.strerror or error}。"
    saved = False
    try:
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
            try:
                passwords_path.parent.mkdir(parents=True, exist_ok=True)
                # Readable by its owner only: it holds every initial password in plain text.
                fd = os.open(passwords_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                saved = True
                with os.fdopen(fd, "wb") as out:
                    out.write(accounts_xlsx(created))
            except OSError as error:
                raise _PasswordFileError(error.strerror or str(error)) from error
    except BaseException as error:
        if saved:  # the accounts were not created after all
            passwords_path.unlink(missing_ok=True)
        if isinstance(error, _PasswordFileError):
            return False, f"无法保存初始密码清单到 {passwords_path}（{error}），未导入任何数据。"
        raise
    return True, (
        f"已导入 {len(created):,} 名干部。初始密码清单已保存到 {passwords_path}，"
        "请妥善分发后删除该文件；干部首次登录时须修改密码。"
    )
