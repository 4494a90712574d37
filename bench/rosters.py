"""Benchmark: the completion rosters of a training with 100,000 enrollments in 500 units.

    .venv/bin/python bench/rosters.py [--enrollments 100000] [--units 500] [--repeat 3]

Uses a new temporary SQLite file, or, when DATABASE_URL is `postgresql://…`, a new database
on that server (created here and dropped at the end; the user needs CREATEDB). The database
is migrated; units, cadres and enrollments (with stored progress) are written with bulk
inserts. Then, as a federation admin would ask for them through app/reports/files.py:

- the 汇总表 of the whole city (GROUP BY unit + the tree), target under 0.2 s (under 1 s
  above 100,000 enrollments, e.g. `--enrollments 1000000 --units 5000`);
- the 花名册 .xlsx (sheets 汇总 and 明细, written page by page), target under 5 s;
- the 花名册 .csv, streamed to the end, target under 1 s (both only reported above 100,000);
- the extra memory of each download, target under 100 MB: the tracemalloc peak (in a run
  of its own, as tracing slows Python down), and the growth of the peak resident memory of
  a fresh process making the download (which counts the drivers' C memory too).

Prints each figure against its target and exits non-zero when one misses.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import secrets
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import PROJECT, drop_database, prepare_database, use_database

sys.path.insert(0, str(PROJECT))

TARGETS = {"summary": 0.2, "xlsx": 5.0, "csv": 1.0, "memory_mb": 100.0}
CHUNK = 1000
# The migrations make a covering index for the figures per unit (enrollment_report): the
# GROUP BY of one training reads it alone, never the table (SQLite: 0.11 s → 0.02 s for
# 100,000 enrollments). --no-index drops it, to measure without it.
INDEXES = ["DROP INDEX IF EXISTS enrollment_report"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容")
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文辉鹏斌宇浩凯健俊帆"
    "帅旭宁婷雪琳晨阳龙飞波海燕萍晶颖玲倩瑞博峰亮成立新春永庆德福祥瑶欣悦佳怡思雨鑫淑"
)
POSITIONS = ("主席", "副主席", "委员", "经审委员", "女职工委员", "工会干事", "")


def person_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND) if rng.random() < 0.01 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


async def populate(unit_count: int, cadres: int, rng: random.Random, city_name: str) -> Any:
    """The unit tree (a city federation, a county federation per 25 units, grassroots unions
    under them), the federation admin `bench-admin`, and `cadres` cadres spread unevenly over
    the units (bulk inserts). Returns the city's unit."""
    from app.accounts.units import create_unit
    from app.db import write_transaction
    from app.tables import Unit, User

    counties = max(1, unit_count // 25)
    async with write_transaction():
        city = await create_unit(city_name, "city_federation", None)
        units: list[Unit] = []
        parents = []
        for n in range(counties):
            county = await create_unit(f"第{n + 1}县区总工会", "county_federation", city, n)
            parents.append(county)
            units.append(county)
        for n in range(unit_count - 1 - counties):
            parent = parents[n % counties]
            units.append(
                await create_unit(f"{parent.name}第{n + 1}基层工会", "grassroots_union", parent, n)
            )
        admin = User(username="bench-admin", name="王市总", role="federation_admin", unit=city.id)
        await admin.save()
    weights = [rng.uniform(0.2, 1.8) for _ in units]
    homes = rng.choices(units, weights=weights, k=cadres)
    for start in range(0, cadres, CHUNK):
        async with write_transaction():
            await User.insert(
                *(
                    User(
                        username=f"b{n:07d}",
                        name=person_name(rng),
                        unit=homes[n].id,
                        position=rng.choice(POSITIONS),
                        phone=f"139{n:08d}",
                        must_change_password=False,
                    )
                    for n in range(start, min(start + CHUNK, cadres))
                )
            )
    return city


async def build(
    enrollments: int, unit_count: int, seed: int, city_name: str = "焦作市总工会"
) -> int:
    """Units, cadres and one 集中轮训 with their enrollments; the training's id."""
    from app.db import write_transaction
    from app.tables import Batch, Enrollment, Quiz, Training, User

    rng = random.Random(seed)
    started = time.perf_counter()
    city = await populate(unit_count, enrollments, rng, city_name)
    quiz = await Quiz.select(Quiz.id).first()
    training = Training(
        title="学习贯彻中国工会十八大精神集中轮训",
        kind="rotation",
        unit=city.id,
        final_quiz=quiz["id"] if quiz else None,
        credit_hours=8.0,
    )
    await training.save()
    batches = []
    for n in range(4):
        batch = Batch(training=training.id, name=f"第{'一二三四'[n]}期", sort_order=n)
        await batch.save()
        batches.append(batch.id)
    cadres = await User.select(User.id, User.unit).where(User.role == "cadre").order_by(User.id)
    done_at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    for start in range(0, len(cadres), CHUNK):
        rows = []
        for cadre in cadres[start : start + CHUNK]:
            complete = rng.random() < 0.6
            read = 12 if complete else rng.randint(0, 12)
            attended = rng.randint(4, 5) if complete else rng.randint(0, 5)
            score = (
                rng.choice((None, rng.uniform(40, 100))) if not complete else rng.uniform(80, 100)
            )
            rows.append(
                Enrollment(
                    training=training.id,
                    batch=rng.choice(batches),
                    account=cadre["id"],
                    unit=cadre["unit"],
                    lessons_required=12,
                    lessons_read=read,
                    quiz_score=score,
                    quiz_passed=score is not None and score >= 80,
                    sessions_total=5,
                    sessions_attended=attended,
                    hours=attended * 2.0 + (8.0 if complete else 0.0),
                    completed_at=done_at + timedelta(minutes=rng.randint(0, 20000))
                    if complete
                    else None,
                )
            )
        async with write_transaction():
            await Enrollment.insert(*rows)
    print(f"写入 {len(cadres):,} 名干部和报名记录：{time.perf_counter() - started:.1f} s")
    return training.id


async def _timed(work, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await work()
        best = min(best, time.perf_counter() - start)
    return best, result


async def _downloads(training_id: int):
    """The report as the federation admin asks for it, and the three things measured."""
    from app.reports import queries
    from app.reports.files import roster_book, roster_csv_chunks
    from app.reports.report import prepare
    from app.tables import User

    admin = await User.objects(User.unit).where(User.username == "bench-admin").first()
    report = await prepare(admin, training_id)

    async def summary():
        return (await queries.load_breakdown(report.filters)).summary_rows()

    async def xlsx():
        file = await roster_book(report)
        size = file.seek(0, 2)
        file.close()
        return size

    async def csv():
        size = 0
        async for chunk in await roster_csv_chunks(report):
            size += len(chunk)
        return size

    return summary, xlsx, csv


async def _measure(enrollments: int, unit_count: int, repeat: int, index: bool):
    from app.cli import _init
    from app.db import DB, is_sqlite

    await _init()
    if not is_sqlite():
        await DB.start_connection_pool(min_size=2, max_size=10)
    try:
        training_id = await build(enrollments, unit_count, seed=2023)
        for sql in INDEXES if not index else ():
            await DB.run_ddl(sql)
        await DB.run_ddl("ANALYZE")
        state = "enrollment_report（由迁移建立）" if index else "已去掉 enrollment_report"
        print("索引：" + state)
        summary, xlsx, csv = await _downloads(training_id)
        figures: dict[str, float] = {}
        figures["summary"], rows = await _timed(summary, max(repeat, 5))
        print(f"汇总表：{len(rows) - 1} 行（含小计），合计应训 {rows[-1].figures.enrolled:,} 人")
        figures["xlsx"], size = await _timed(xlsx, repeat)
        print(f"花名册 .xlsx：{size / 1024 / 1024:.1f} MB")
        figures["csv"], size = await _timed(csv, repeat)
        print(f"花名册 .csv：{size / 1024 / 1024:.1f} MB")
        for kind, work in (("xlsx", xlsx), ("csv", csv)):
            tracemalloc.start()
            await work()
            figures[f"{kind}_traced"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
        return figures, training_id
    finally:
        if not is_sqlite():
            await DB.close_connection_pool()


async def _rss_child(kind: str, training_id: int) -> None:
    """In a fresh process: the growth of its peak resident memory (C memory of the database
    drivers and xlsxwriter included) while making one download."""
    from app.db import DB, is_sqlite

    if not is_sqlite():
        await DB.start_connection_pool(min_size=1, max_size=2)
    try:
        summary, xlsx, csv = await _downloads(training_id)
        await summary()  # imports and first queries are not what is measured
        before = _peak_kib()
        await (xlsx if kind == "xlsx" else csv)()
        print((_peak_kib() - before) / 1024)
    finally:
        if not is_sqlite():
            await DB.close_connection_pool()


def _peak_kib() -> int:
    """The process's peak resident memory, in KiB. Linux's VmHWM, as ru_maxrss keeps the
    peak of the parent that forked the process (the benchmark, after building the data)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss_delta(kind: str, training_id: int) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--rss", kind, "--training", str(training_id)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="重复次数，取最好的一次")
    parser.add_argument("--no-index", action="store_true", help="去掉 enrollment_report 索引再测")
    parser.add_argument("--rss", choices=("xlsx", "csv"), help=argparse.SUPPRESS)
    parser.add_argument("--training", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss:  # the child process of _rss_delta, on the database it was given
        asyncio.run(_rss_child(args.rss, args.training))
        return

    url, pg_server = prepare_database()
    use_database(url)
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    engine = "PostgreSQL" if pg_server else "SQLite"
    print(f"{engine}：{args.units} 个单位，{args.enrollments:,} 条报名记录")
    try:
        figures, training_id = asyncio.run(
            _measure(args.enrollments, args.units, args.repeat, not args.no_index)
        )
        for kind in ("xlsx", "csv"):
            figures[f"{kind}_rss"] = _rss_delta(kind, training_id)
    finally:
        drop_database(url, pg_server)
    memory = TARGETS["memory_mb"]
    if args.enrollments > 100_000:
        # Beyond 100,000 the target is the city summary in under 1 s and downloads streamed in
        # the same memory; the time of a download grows with its rows and is only reported.
        timed = [("全市汇总表", figures["summary"], 1.0, "s")]
        xlsx, csv = figures["xlsx"], figures["csv"]
        print(f"花名册 .xlsx：{xlsx:.1f} s；.csv：{csv:.1f} s（只报告，不设目标）")
    else:
        timed = [
            ("全市汇总表", figures["summary"], TARGETS["summary"], "s"),
            ("花名册 .xlsx", figures["xlsx"], TARGETS["xlsx"], "s"),
            ("花名册 .csv", figures["csv"], TARGETS["csv"], "s"),
        ]
    checks = [
        *timed,
        (".xlsx 额外内存（tracemalloc 峰值）", figures["xlsx_traced"], memory, "MB"),
        (".xlsx 额外内存（新进程常驻内存峰值增量）", figures["xlsx_rss"], memory, "MB"),
        (".csv 额外内存（tracemalloc 峰值）", figures["csv_traced"], memory, "MB"),
        (".csv 额外内存（新进程常驻内存峰值增量）", figures["csv_rss"], memory, "MB"),
    ]
    ok = True
    for label, value, target, unit in checks:
        passed = value < target
        ok &= passed
        shown = f"{value:.3f} s" if unit == "s" else f"{value:.1f} MB"
        print(f"{label}：{shown}（目标 < {target:g} {unit}）{'通过' if passed else '未达标'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
