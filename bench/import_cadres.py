"""Benchmark: importing a roster of 2,000 cadres the way the web confirmation does it.

    .venv/bin/python bench/import_cadres.py [--cadres 2000] [--repeat 1]

Uses a new temporary SQLite file, or, when DATABASE_URL is `postgresql://…`, a new database
on that server (created here and dropped at the end; the user needs CREATEDB). The database
is migrated and given the demo unit tree of Jiaozuo; a roster of demo cadres is written as
.xlsx with openpyxl; then `plan_import` (read + check) and `write_import` (create accounts)
run inside one `write_transaction`, as in `import_confirm`. Prints the time of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import secrets
import sys
import time

from harness import PROJECT, drop_database, prepare_database, use_database

sys.path.insert(0, str(PROJECT))

TARGET_SECONDS = 5.0


def _roster_xlsx(units, cadres) -> bytes:
    from openpyxl import Workbook

    names = {unit.key: unit.name for unit in units}
    book = Workbook(write_only=True)
    sheet = book.create_sheet("干部名单")
    sheet.append(["姓名", "单位", "职务", "手机号", "性别", "工号"])
    for n, cadre in enumerate(cadres, start=1):
        sheet.append(
            [cadre.name, names[cadre.unit_key], cadre.position, cadre.phone, cadre.gender, f"G{n}"]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _run(count: int, repeat: int) -> list[tuple[float, float, float]]:
    # App modules read the settings once, so they are imported only now.
    from app.accounts.people_import import accounts_xlsx, plan_import, write_import
    from app.accounts.units import create_unit
    from app.cli import _init
    from app.db import DB, is_sqlite, write_transaction
    from app.demo.data import demo_cadres, demo_units
    from app.tables import Unit, User

    await _init()
    if not is_sqlite():
        await DB.start_connection_pool(min_size=2, max_size=10)
    try:
        units = demo_units()
        async with write_transaction():
            by_key: dict[str, Unit] = {}
            for n, spec in enumerate(units):
                parent = by_key[spec.parent_key] if spec.parent_key else None
                by_key[spec.key] = await create_unit(spec.name, spec.kind, parent, sort_order=n)
        timings = []
        for attempt in range(repeat):
            cadres = demo_cadres(units, count=count, seed=2023 + attempt)
            content = _roster_xlsx(units, cadres)
            print(
                f"名单：{len(cadres):,} 名干部，{len(units)} 个单位，"
                f".xlsx {len(content) / 1024:.0f} KB"
            )
            await User.delete(force=True)
            async with write_transaction():
                start = time.perf_counter()
                plan = await plan_import("干部名单.xlsx", content, "/")
                checked = time.perf_counter()
                if not plan.ok:
                    raise SystemExit(f"名单有问题：{plan.problems[:5]}")
                created = await write_import(plan.drafts)
                written = time.perf_counter()
            start_list = time.perf_counter()
            accounts_xlsx(created)  # the list of passwords the result page offers
            listed = time.perf_counter()
            assert len(created) == len(cadres) == await User.count()
            timings.append((checked - start, written - checked, listed - start_list))
        return timings
    finally:
        if not is_sqlite():
            await DB.close_connection_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=2000, help="名单人数（默认 2000）")
    parser.add_argument("--repeat", type=int, default=1, help="重复次数，取最好的一次")
    args = parser.parse_args()

    url, pg_server = prepare_database()
    use_database(url)
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_hex(16))
    engine = "PostgreSQL" if pg_server else "SQLite"
    print(f"数据库：{engine}（新建的临时数据库）")
    try:
        timings = asyncio.run(_run(args.cadres, args.repeat))
    finally:
        drop_database(url, pg_server)
    check, write, listing = min(timings, key=lambda t: t[0] + t[1])
    total = check + write
    print(f"读取并检查：{check:6.2f} s")
    print(f"写入账号：  {write:6.2f} s")
    print(f"合计：      {total:6.2f} s（目标 < {TARGET_SECONDS:.0f} s）")
    print(f"另：生成初始密码清单 .xlsx {listing:.2f} s（不计入合计）")
    if total >= TARGET_SECONDS:
        print("未达到目标。", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
