"""The real `peixun` command, run in a subprocess against its own new SQLite file.

These never touch the suite's database: each run gets DATABASE_URL of a file under tmp_path.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app.accounts.passwords import verify_password
from app.demo.data import demo_units

_SCRIPT = Path(sys.executable).with_name("peixun")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "app.cli"]
PROJECT = Path(__file__).resolve().parent.parent
HEADER = ["姓名", "单位", "职务", "手机号", "性别", "工号"]
GOOD = [
    ["李明", "解放区总工会", "工会主席", "13700000001", "男", "A1"],
    ["王芳", "焦作市总工会", "组织委员", "13700000002", "女", ""],
    ["赵强", "中站区总工会", "工会干事", "13700000003", "", ""],
]


def peixun(
    *args: str,
    db: Path,
    secret: bool = True,
    timeout: float = 60,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TEST_DATABASE_URL")}
    env.update(extra_env or {})
    env["DATABASE_URL"] = f"sqlite:///{db}"
    env["PYTHONPATH"] = str(PROJECT)
    if secret:
        env["SECRET_KEY"] = "cli-test-secret-key-0123456789abcdef"
    return subprocess.run(
        [*COMMAND, *args],
        env=env,
        cwd=next(folder for folder in db.parents if folder.is_dir()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def count(db: Path, table: str) -> int:
    return query(db, f"SELECT count(*) FROM {table}")[0][0]


def counts(db: Path) -> dict[str, int]:
    return {t: count(db, t) for t in ("unit", "account", "audit_event", "site_setting")}


def make_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    """A demo database with the Jiaozuo tree and 10 cadres, made once and copied per test."""
    db = tmp_path_factory.mktemp("cli-demo") / "demo.sqlite3"
    result = peixun("demo", "--cadres", "10", db=db)
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def demo_db(demo_template, tmp_path) -> Path:
    db = tmp_path / "peixun.sqlite3"
    with sqlite3.connect(demo_template) as source, sqlite3.connect(db) as target:
        source.backup(target)
    return db


def test_init_twice_changes_nothing(tmp_path):
    db = tmp_path / "var" / "new.sqlite3"
    first = peixun("init", db=db)
    assert first.returncode == 0, first.stderr
    assert "数据库已就绪" in first.stdout
    tables = query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    names = {t for (t,) in tables}
    assert {"unit", "account", "audit_event", "upload", "migration"} <= names
    migrations = count(db, "migration")
    assert migrations >= 1

    second = peixun("init", db=db)
    assert second.returncode == 0, second.stderr
    assert "数据库已就绪" in second.stdout
    assert query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") == tables
    assert count(db, "migration") == migrations
    assert count(db, "account") == count(db, "unit") == 0


def test_demo_writes_the_tree_and_accounts_once(tmp_path):
    db = tmp_path / "demo.sqlite3"
    result = peixun("demo", "--cadres", "50", db=db)
    assert result.returncode == 0, result.stderr
    assert "已写入演示数据" in result.stdout
    units = demo_units()
    assert count(db, "unit") == len(units)
    names = {n for (n,) in query(db, "SELECT name FROM unit")}
    assert names == {u.name for u in units}
    assert query(db, "SELECT name FROM unit WHERE parent IS NULL") == [("焦作市总工会",)]
    usernames = {u for (u,) in query(db, "SELECT username FROM account")}
    assert {"admin", "trainer", "county-admin", "cadre"} <= usernames
    assert count(db, "account") == 54
    assert query(db, "SELECT value FROM site_setting WHERE key = 'demo'") == [("1",)]
    before = counts(db)

    again = peixun("demo", "--cadres", "50", db=db)
    assert again.returncode == 0, again.stderr
    assert "演示数据已经存在" in again.stdout
    assert counts(db) == before


def test_first_admin_brings_the_top_unit_and_demo_then_refuses(tmp_path):
    db = tmp_path / "real.sqlite3"
    assert peixun("init", db=db).returncode == 0
    created = peixun(
        "users", "create", "--role", "federation_admin", "--unit", "焦作市总工会",
        "--username", "boss", "--name", "王建国", "--generate-password", db=db,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "已创建顶级单位“焦作市总工会”" in created.stdout
    password = re.search(r"初始密码（只显示这一次）：(\S+)", created.stdout).group(1)
    [(stored, role, must_change, unit_name)] = query(
        db,
        "SELECT a.password_hash, a.role, a.must_change_password, u.name "
        "FROM account a JOIN unit u ON u.id = a.unit WHERE a.username = 'boss'",
    )
    assert verify_password(stored, password)
    assert (role, bool(must_change), unit_name) == ("federation_admin", True, "焦作市总工会")
    before = counts(db)

    refused = peixun("demo", "--cadres", "50", db=db)
    assert refused.returncode != 0
    assert "已有真实的单位或账号" in refused.stderr
    assert counts(db) == before
    assert query(db, "SELECT value FROM site_setting WHERE key = 'demo'") == []


def test_users_create_with_an_unknown_unit_fails_clearly(tmp_path):
    db = tmp_path / "real.sqlite3"
    assert peixun("init", db=db).returncode == 0
    first = peixun(
        "users", "create", "--role", "federation_admin", "--unit", "焦作市总工会",
        "--username", "Admin-1", "--name", "王一", "--generate-password", db=db,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "已创建顶级单位“焦作市总工会”" in first.stdout
    assert query(db, "SELECT username FROM account") == [("admin-1",)]
    before = counts(db)
    result = peixun(
        "users", "create", "--role", "unit_admin", "--unit", "焦作市总公会",
        "--username", "jf-new", "--name", "赵新", "--generate-password", db=db,
    )  # fmt: skip
    assert result.returncode != 0
    assert "单位“焦作市总公会”不存在" in result.stderr
    assert "焦作市总工会" in result.stderr
    assert "Traceback" not in result.stderr
    assert counts(db) == before


def test_no_real_account_is_created_in_a_demo_database(demo_db):
    before = counts(demo_db)
    result = peixun(
        "users", "create", "--role", "federation_admin", "--unit", "焦作市总工会",
        "--username", "real-admin", "--name", "赵新", "--generate-password", db=demo_db,
    )  # fmt: skip
    assert result.returncode != 0
    assert "这是演示数据库" in result.stderr
    assert counts(demo_db) == before


def test_commands_on_an_uncreated_database_say_to_run_init(tmp_path):
    db = tmp_path / "none.sqlite3"
    for args in (
        ("users", "create", "--role", "cadre", "--unit", "x", "--username", "abc",
         "--name", "王一", "--generate-password"),
        ("cadres", "import", str(Path(__file__))),
    ):  # fmt: skip
        result = peixun(*args, db=db)
        assert result.returncode != 0
        assert "请先运行：peixun init" in result.stderr
        assert "Traceback" not in result.stderr


def test_cadres_import_creates_accounts_and_saves_passwords(demo_db):
    roster = make_xlsx(demo_db.parent / "名单.xlsx", GOOD)
    passwords = demo_db.parent / "out" / "初始密码.xlsx"
    result = peixun("cadres", "import", str(roster), "--passwords", str(passwords), db=demo_db)
    assert result.returncode == 0, result.stderr
    assert "已导入 3 名干部" in result.stdout
    rows = query(
        demo_db,
        "SELECT a.username, a.name, a.role, a.must_change_password, u.name, a.password_hash "
        "FROM account a JOIN unit u ON u.id = a.unit WHERE a.username LIKE '137%'",
    )
    by_phone = {r[0]: r for r in rows}
    assert set(by_phone) == {row[3] for row in GOOD}
    for name, unit_name, _, phone, *_ in GOOD:
        assert by_phone[phone][1:5] == (name, "cadre", 1, unit_name)
    assert query(demo_db, "SELECT count(*) FROM audit_event WHERE action = 'cadres.import_cli'")[
        0
    ] == (1,)

    assert passwords.stat().st_mode & 0o077 == 0  # plain-text passwords: owner only
    sheet = load_workbook(io.BytesIO(passwords.read_bytes())).worksheets[0]
    header, *data = list(sheet.iter_rows(values_only=True))
    name_col, phone_col, password_col = (
        header.index("姓名"),
        header.index("用户名（手机号）"),
        header.index("初始密码"),
    )
    assert sorted(r[name_col] for r in data) == sorted(row[0] for row in GOOD)
    for r in data:
        assert verify_password(by_phone[str(r[phone_col])][5], r[password_col])

    # The same path again would overwrite those passwords: refused before anything is read.
    again = make_xlsx(
        demo_db.parent / "又一批.xlsx", [["钱七", "解放区总工会", "干事", "13700000009"]]
    )
    refused = peixun("cadres", "import", str(again), "--passwords", str(passwords), db=demo_db)
    assert refused.returncode != 0
    assert "已存在" in refused.stderr
    assert not query(demo_db, "SELECT 1 FROM account WHERE username = '13700000009'")


def test_cadres_import_of_a_bad_file_lists_every_problem_and_writes_nothing(demo_db):
    rows = [
        GOOD[0],
        ["", "解放区总工会", "工会干事", "13700000011", "", ""],
        ["钱一", "不存在的工会", "工会干事", "13700000012", "", ""],
        ["孙二", "解放区总工会", "工会干事", "12345", "", ""],
        GOOD[0],
    ]
    roster = make_xlsx(demo_db.parent / "名单.xlsx", rows)
    passwords = demo_db.parent / "pw.xlsx"
    before = counts(demo_db)
    result = peixun("cadres", "import", str(roster), "--passwords", str(passwords), db=demo_db)
    assert result.returncode != 0
    assert "有 4 处问题，未导入任何数据" in result.stderr
    for line in (
        "第 3 行：姓名为空。",
        "第 4 行：单位“不存在的工会”不存在",
        "第 5 行：手机号“12345”不是有效的 11 位手机号码",
        "第 6 行：与第 2 行完全相同（重复行）。",
    ):
        assert line in result.stderr
    assert counts(demo_db) == before
    assert not passwords.exists()


def test_cadres_import_is_undone_when_the_passwords_cannot_be_saved(demo_db):
    roster = make_xlsx(demo_db.parent / "名单.xlsx", GOOD)
    before = counts(demo_db)
    # A file where a folder should be: the list can't be written, so no account may exist.
    result = peixun("cadres", "import", str(roster), "--passwords", f"{roster}/pw.xlsx", db=demo_db)
    assert result.returncode != 0
    assert "无法保存初始密码清单" in result.stderr
    assert "未导入任何数据" in result.stderr
    assert counts(demo_db) == before


def test_cadres_import_dry_run_writes_nothing(demo_db):
    roster = make_xlsx(demo_db.parent / "名单.xlsx", GOOD)
    passwords = demo_db.parent / "pw.xlsx"
    before = counts(demo_db)
    result = peixun(
        "cadres", "import", str(roster), "--dry-run", "--passwords", str(passwords), db=demo_db
    )
    assert result.returncode == 0, result.stderr
    assert "检查通过：可以导入 3 名干部（未写入）" in result.stdout
    assert counts(demo_db) == before
    assert not passwords.exists()


def test_serve_without_secret_key_refuses_on_a_real_database(tmp_path):
    db = tmp_path / "real.sqlite3"
    assert peixun("init", db=db).returncode == 0
    result = peixun("serve", "--port", "8799", db=db, secret=False, timeout=30)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "网站拒绝启动" in result.stderr
    assert "网站地址" not in result.stdout

    # Before `peixun init`, with or without a key: a clear refusal, not a traceback.
    for secret in (False, True):
        fresh = peixun("serve", "--port", "8799", db=tmp_path / "none.sqlite3", secret=secret)
        assert fresh.returncode != 0
        assert "请先运行：peixun init" in fresh.stderr
        assert "Traceback" not in fresh.stderr


def test_backup_and_restore_round_trip_a_live_sqlite_database(demo_db, tmp_path):
    saved = tmp_path / "备份" / "peixun-backup.sqlite3"
    before = counts(demo_db)
    result = peixun("backup", str(saved), db=demo_db)
    assert result.returncode == 0, result.stderr
    assert "已备份到" in result.stdout
    assert peixun("backup", str(saved), db=demo_db).returncode == 1  # never overwritten

    query(demo_db, "DELETE FROM site_setting")
    assert count(demo_db, "site_setting") == 0
    restored = peixun("restore", str(saved), "--yes", db=demo_db)
    assert restored.returncode == 0, restored.stderr
    assert counts(demo_db) == before

    not_a_backup = tmp_path / "随便.sqlite3"
    not_a_backup.write_bytes(b"not a database")
    refused = peixun("restore", str(not_a_backup), "--yes", db=demo_db)
    assert refused.returncode == 1 and "不是本平台的 SQLite 备份" in refused.stderr
    assert counts(demo_db) == before


def test_banks_import_keeps_fields_the_file_does_not_carry_or_adds_as_new(demo_db, tmp_path):
    """A question pasted from Word without 解析 or 出处 that matches zhongyao-jianghua-018."""
    pasted = tmp_path / "粘贴.txt"
    pasted.write_text(
        "四、填空题\n"
        "1. 【填空题】深刻领会深化工会改革和建设是工会永葆生机活力、当好______的动力所在。\n"
        "答案：桥梁纽带/桥梁和纽带\n",
        encoding="utf-8",
    )
    current = (
        "SELECT v.blanks, v.explanation, v.source_ref FROM question_version v "
        "JOIN question q ON q.id = v.question WHERE q.key = ? AND v.is_current"
    )
    (before,) = query(demo_db, current, "zhongyao-jianghua-018")
    assert before[1] and before[2] == "二（一）"

    added = peixun(
        "banks", "import", str(pasted), "--bank", "zhongyao-jianghua", "--as-new", db=demo_db
    )
    assert added.returncode == 0, added.stderr
    assert "作为新题添加，题库中的“zhongyao-jianghua-018”不变" in added.stdout
    assert "已导入：新题 1，新版本 0，未变 0。" in added.stdout
    assert query(demo_db, current, "zhongyao-jianghua-018") == [before]

    updated = peixun("banks", "import", str(pasted), "--bank", "zhongyao-jianghua", db=demo_db)
    assert updated.returncode == 0, updated.stderr
    assert "第 1 题（zhongyao-jianghua-018）修改（存为新版本）：" in updated.stdout
    assert "答案：第 1 空：桥梁纽带 → 第 1 空：桥梁纽带 或 桥梁和纽带" in updated.stdout
    assert "保留原值（导入的内容中没有）：解析、出处、难度" in updated.stdout
    assert "已导入：新题 0，新版本 1，未变 0。" in updated.stdout
    (after,) = query(demo_db, current, "zhongyao-jianghua-018")
    assert after == ('[["桥梁纽带", "桥梁和纽带"]]', before[1], before[2])


def test_init_reports_the_database_upgrade_in_chinese(tmp_path):
    db = tmp_path / "fresh.sqlite3"
    first = peixun("init", db=db)
    assert first.returncode == 0, first.stderr
    ran = count(db, "migration")
    assert first.stdout.splitlines()[0] == f"数据库已升级（执行了 {ran} 个迁移）"
    second = peixun("init", db=db)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == "数据库已是最新"
    for output in (first.stdout + first.stderr, second.stdout + second.stderr):
        assert "migration" not in output.lower() and "PEIXUN" not in output, output


def test_gift_export_counts_what_it_wrote_and_names_what_it_could_not(demo_db, tmp_path):
    from app.banks.gift import parse_gift

    out = tmp_path / "gift"
    result = peixun(
        "banks", "export", "luoshi-zhiyao", "--format", "gift", "--out", str(out), db=demo_db
    )
    assert result.returncode == 0, result.stderr
    path = out / "luoshi-zhiyao.gift.txt"
    written = parse_gift(path.read_text(encoding="utf-8")).questions
    in_bank = "SELECT count(*) FROM question q JOIN bank b ON q.bank = b.id WHERE b.slug = ?"
    [(total,)] = query(demo_db, in_bank + " AND q.active", "luoshi-zhiyao")
    assert len(written) == total - 1  # luoshi-zhiyao-002 has two blanks
    assert result.stdout.splitlines() == [
        f"已写出 {path}（{len(written)} 题；另有 1 题无法写成 GIFT，未导出）",
        "  未导出：题目“luoshi-zhiyao-002”有 2 个空，GIFT 每题只能有一个空",
    ]


def test_banks_import_names_each_problem_once_and_counts_what_it_read(demo_db, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["题型", "题干", "选项A", "选项B", "答案"])
    sheet.append(["单选", "工会会员大会每届任期几年？", "三年或者五年", "十年", "A"])
    sheet.append(["单选", "职工之家建设包括哪些方面？", "阵地建设", "制度建设", "Z"])
    path = tmp_path / "题库.xlsx"
    book.save(path)
    result = peixun("banks", "import", str(path), db=demo_db)
    assert result.returncode == 1, result.stderr
    shown = result.stdout.splitlines()
    assert "读到 1 题：单选 1" in shown
    problem = "第 3 行 E 列（答案）：答案中的“Z”不在选项中（现有选项：A–B）。"
    assert [line for line in shown if "“Z”" in line] == [f"错误：{problem}"]
    assert "错误：请指定导入到哪个题库（题库标识）。" in shown
