"""The `peixun` command."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import io
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from app.course.files import CourseFileError
from app.lib.seeding import KINDS
from app.settings import SECRET_KEY_HINT, SettingsError, get_settings


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _run(coro):
    try:
        return asyncio.run(coro)
    except SettingsError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"无法连接数据库：{error}。请检查 DATABASE_URL 和数据库服务是否已启动。")


async def _migrate() -> str:
    """Run the migrations not yet run, without Piccolo's English progress; says what it did."""
    from piccolo.apps.migrations.commands.check import CheckMigrationManager
    from piccolo.apps.migrations.commands.forwards import run_forwards

    pending = await CheckMigrationManager("all").havent_ran_count()
    with contextlib.redirect_stdout(io.StringIO()):
        result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise click.ClickException(f"数据库迁移失败：{result.message}")
    return f"数据库已升级（执行了 {pending} 个迁移）" if pending else "数据库已是最新"


async def _init(take: frozenset[str] = frozenset()) -> str:
    """Create or upgrade the database and load the content files. Where a file and an edit
    made in the browser disagree the browser's is kept and named, unless `take` names the
    kind ("course", "banks", "quizzes" or "all") whose files to take."""
    from app.db import DB, is_sqlite, prepare_sqlite_file

    if is_sqlite():
        prepare_sqlite_file(DB.path)
    from app.banks.model import BankFormatError
    from app.banks.store import BankImportError, load_bank_dir
    from app.course.lessons import read_course_dir, sync_course
    from app.course.versions import note_new_versions
    from app.quizzes.definitions import read_quiz_dir, sync_quizzes
    from app.quizzes.files import QuizFileError

    click.echo(await _migrate())
    try:
        modules = read_course_dir(get_settings().course_dir)
    except CourseFileError as error:
        raise click.ClickException(f"课程文件有误，课程未更新：\n{error}") from None
    taking = {kind: kind in take or "all" in take for kind in KINDS}
    module_count, lesson_count, kept = await sync_course(modules, take_files=taking["course"])
    for amendment in await note_new_versions(get_settings().course_dir):
        kept.append(f"导入的文件是之前导入文件的新版本，修改对比见网页：/amendments/{amendment}")
    try:
        bank_count, written, kept_banks = await load_bank_dir(
            get_settings().question_bank_dir, take_files=taking["banks"]
        )
    except (BankImportError, BankFormatError) as error:
        raise click.ClickException(f"题库文件有误，题库未更新：\n{error}") from None
    try:
        quizzes = read_quiz_dir(get_settings().question_bank_dir / "quizzes")
        quiz_count, kept_quizzes = await sync_quizzes(quizzes, take_files=taking["quizzes"])
    except QuizFileError as error:
        problems = "\n".join(error.problems)
        raise click.ClickException(f"测验文件有误，测验未更新：\n{problems}") from None
    ready = (
        f"数据库已就绪；课程 {module_count} 个模块、{lesson_count} 篇课文；"
        f"题库 {bank_count} 个（新增或更新 {written} 题）；测验 {quiz_count} 个。"
    )
    return "\n".join([ready, *kept, *kept_banks, *kept_quizzes])


async def _database_ready() -> bool:
    """True when the database exists and every migration has run."""
    from piccolo.apps.migrations.commands.check import CheckMigrationManager

    import app.db  # noqa: F401  (points Piccolo at the project's database)

    try:
        return await CheckMigrationManager("peixun").havent_ran_count() == 0
    except Exception:  # no database, or no migration table yet
        return False


def _require_database() -> None:
    if not _run(_database_ready()):
        _fail("数据库尚未创建或需要升级，请先运行：peixun init（演示请运行：peixun demo）")


@click.group(help="工会干部培训与测验平台")
def main() -> None:
    try:
        get_settings()
    except SettingsError as error:
        _fail(str(error))


@main.command(
    help="创建数据库或升级到最新结构，载入课程、题库和测验文件；重复运行不会改动任何数据。"
    "文件只补充新的内容：网页上修改过的测验和题目、网页上发布的模块，与文件不同时保留网页上的，"
    "并逐个说明。"
)
@click.option(
    "--take-files",
    "take",
    type=click.Choice(["all", *KINDS]),
    is_flag=False,
    flag_value="all",
    multiple=True,
    help="与网页上的修改不同时改用文件中的内容；可只指定一类："
    + "、".join(f"{kind}（{name}）" for kind, name in KINDS.items())
    + "，可以重复指定",
)
def init(take: tuple[str, ...]) -> None:
    click.echo(_run(_init(frozenset(take))))


@main.command(help="初始化数据库并写入演示数据（焦作市单位树、约 2,000 名干部、4 个演示账号）。")
@click.option("--cadres", default=2000, show_default=True, help="演示干部人数")
def demo(cadres: int) -> None:
    from app.demo.loading import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoRefused, load_demo

    async def run() -> str:
        await _init()
        return await load_demo(cadre_count=cadres)

    try:
        click.echo(_run(run()))
    except DemoRefused as error:
        _fail(str(error))
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, name, *_ in DEMO_ACCOUNTS:
        click.echo(f"  {username:<14}{name}")


@main.command(help="启动网站。")
@click.option("--host", default=None, help="监听地址（默认 PEIXUN_HOST 或 127.0.0.1）")
@click.option("--port", default=None, type=int, help="端口（默认 PEIXUN_PORT 或 8000）")
@click.option("--workers", default=None, type=int, help="进程数（默认 PEIXUN_WORKERS 或 1）")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    from app.demo.loading import demo_secret_key

    settings = get_settings()
    _require_database()
    if not settings.secret_key:
        try:
            secret = _run(demo_secret_key())
        except Exception:  # e.g. a database not yet created by `peixun init`: not a demo
            secret = None
        if not secret:
            _fail(
                "没有设置 SECRET_KEY，网站拒绝启动（只有演示数据库可以不设置）。请先设置：\n"
                f"  {SECRET_KEY_HINT}"
            )
        os.environ["SECRET_KEY"] = secret
        get_settings.cache_clear()
        click.echo("演示模式：使用演示数据库中保存的密钥。")
    host = host or settings.host
    port = port or settings.port
    click.echo(f"网站地址：http://{host}:{port}")
    uvicorn.run(
        "app.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        log_level="info",
        # Behind a reverse proxy, the addresses whose X-Forwarded-For is trusted.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Phones keep their connection between answers; closed too early (uvicorn's 5 s), a
        # request sent on it as it closes fails.
        timeout_keep_alive=75,
    )


@main.group(help="管理账号。")
def users() -> None:
    pass


@users.command("create", help="创建账号，例如第一位市总工会管理员。")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["cadre", "trainer", "unit_admin", "federation_admin"]),
)
@click.option("--unit", "unit_name", required=True, help="所在单位的完整名称")
@click.option("--username", required=True, help="用户名（手机号或工号）")
@click.option("--name", required=True, help="姓名")
@click.option("--generate-password", is_flag=True, help="生成初始密码并显示一次，首次登录须修改")
def users_create(
    role: str, unit_name: str, username: str, name: str, generate_password: bool
) -> None:
    from app.accounts.commands import create_user

    _require_database()
    password = None
    if not generate_password:
        password = getpass.getpass("密码：")
        if getpass.getpass("再输入一次：") != password:
            _fail("两次输入的密码不一致。")
    click.echo(_run(create_user(role, unit_name, username, name, password)))


@main.group(help="管理干部。")
def cadres() -> None:
    pass


@cadres.command(
    "import", help="从 .xlsx 或 .csv 导入干部（列：姓名、单位、职务、手机号，可选 性别、工号）。"
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@click.option(
    "--passwords",
    "passwords_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="初始密码清单的保存位置（.xlsx）",
)
def cadres_import(file: Path, dry_run: bool, passwords_path: Path | None) -> None:
    from app.accounts.commands import import_file

    _require_database()
    if passwords_path is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        passwords_path = Path("var") / f"初始密码-{stamp}.xlsx"
    ok, message = _run(import_file(file, dry_run, passwords_path))
    if not ok:
        _fail(message)
    click.echo(message)


@main.group(help="导入官方文件，生成课程模块。")
def documents() -> None:
    pass


@documents.command("import", help="显示文件的结构；加 --write 写入 course/ 成为课程模块。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出文件结构")
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="模块方案（YAML）：哪些部分组成哪个模块",
)
@click.option("--write", is_flag=True, help="写入课程文件夹")
def documents_import(file: Path, as_json: bool, plan_path: Path | None, write: bool) -> None:
    import json

    from app.course.documents import outline_json
    from app.course.importing import ImportRefused, earlier_version, import_document

    try:
        result = import_document(file, get_settings().course_dir, plan_path, write)
    except ImportRefused as error:
        _fail(f"“{file.name}”未导入：{error}")
    if as_json:
        click.echo(json.dumps(outline_json(result.document), ensure_ascii=False, indent=2))
    else:
        meta = result.document.meta
        for label, value in (
            ("文号", meta.doc_number),
            ("标题", meta.title),
            ("发文单位", meta.issuer),
            ("日期", meta.date),
        ):
            if value:
                click.echo(f"{label}：{value}")
        for module in result.modules:
            click.echo(f"模块 {module.order}：{module.title}（{module.slug}）")
            for lesson in module.lessons:
                click.echo(f"  [{lesson.source_ref}] {lesson.title}（{lesson.characters} 字）")
    if write:
        click.echo(
            f"已写入 {len(result.written)} 个文件。运行 peixun init 后课程在网站上生效。",
            err=as_json,
        )
    if earlier := earlier_version(get_settings().course_dir, result.document.meta, file.name):
        click.echo(
            f"这是“{earlier}”的新版本：两个版本都保留。运行 peixun init 后，在网页“导入文件”"
            "→“文件的新版本”中查看修改对比；旧版题库中出处有修改的题目会标为待复核。",
            err=as_json,
        )


@main.group(help="管理题库。")
def banks() -> None:
    pass


@banks.command("lint", help="检查题库文件（默认检查题库文件夹中的全部题库）。")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="有警告也算不通过")
def banks_lint(files: tuple[Path, ...], strict: bool) -> None:
    from app.banks.lint import format_report, lint_paths

    settings = get_settings()
    try:
        report = lint_paths(files or (settings.question_bank_dir,), settings.course_dir)
    except CourseFileError as error:
        _fail(f"课程文件有误，无法检查出处：\n{error}")
    click.echo(format_report(report))
    if report.errors or (strict and report.warnings):
        sys.exit(1)


@banks.command("import", help="把题库文件导入数据库：先显示预览；有错误时什么也不写入。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "own", "gift", "aiken", "xlsx", "text"]),
    default="auto",
    show_default=True,
    help="文件格式（auto：按扩展名和内容判断）",
)
@click.option("--bank", "bank_slug", default=None, help="导入到哪个题库（题库标识）")
@click.option("--dry-run", is_flag=True, help="只检查和预览，不写入")
@click.option(
    "--as-new",
    is_flag=True,
    help="与题库中已有题目对应、内容有改动的题作为新题添加（默认更新原题，存为新版本，"
    "文件中没有的解析、出处等保留原值）",
)
def banks_import(file: Path, fmt: str, bank_slug: str | None, dry_run: bool, as_new: bool) -> None:
    from app.banks.model import BankFormatError
    from app.banks.store import import_file

    _require_database()
    try:
        preview, written = _run(import_file(file, fmt, bank_slug, dry_run, as_new=as_new))
    except BankFormatError as error:
        _fail(f"“{file.name}”未导入：{error}")
    click.echo("\n".join(preview.lines()))
    if written is None:
        sys.exit(1)
    verb = "检查通过，未写入（--dry-run）" if dry_run else "已导入"
    new, changed, same = written["new"], written["changed"], written["unchanged"]
    click.echo(f"{verb}：新题 {new}，新版本 {changed}，未变 {same}。")


@banks.command("export", help="把数据库中的题库写回文件（默认写到题库文件夹）。")
@click.argument("slugs", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["own", "gift", "xlsx"]),
    default="own",
    show_default=True,
    help="导出格式",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="写到哪个文件夹（默认题库文件夹）",
)
def banks_export(slugs: tuple[str, ...], fmt: str, out_dir: Path | None) -> None:
    from app.banks.exporting import export_banks

    _require_database()
    try:
        written = _run(export_banks(slugs, fmt, out_dir or get_settings().question_bank_dir))
    except LookupError as error:
        _fail(str(error))
    for path, export in written:
        left_out = f"；另有 {len(export.left_out)} 题无法写成 {fmt.upper()}，未导出"
        click.echo(f"已写出 {path}（{export.written} 题{left_out if export.left_out else ''}）")
        for reason in export.left_out:
            click.echo(f"  未导出：{reason}")


@banks.command(
    "draft",
    help="从课程模块的课文中生成题目草稿（单选、多选、判断、填空），写成题库文件，"
    "在文本编辑器中审阅后用 peixun banks import 导入。每题注明出处，解析引用原文。",
)
@click.argument("module")
@click.option(
    "--per-lesson",
    type=click.IntRange(min=1),
    default=None,
    help="每篇课文最多生成几题（默认：能生成的全部）",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="写到哪个文件（.md）",
)
def banks_draft(module: str, per_lesson: int | None, out_path: Path) -> None:
    from collections import Counter

    from app.banks.draft_store import ModuleNotFound, draft_module
    from app.banks.model import QUESTION_TYPES
    from app.banks.own_format import render_bank

    _require_database()
    try:
        source, drafts = _run(draft_module(module, per_lesson))
    except ModuleNotFound as error:
        _fail(str(error))
    if not drafts:
        _fail(
            f"模块“{source.module_title}”没有可以生成的新题目：课文中可以出题的句子，"
            "题库中都已有相同或几乎相同的题目。未写出文件。"
        )
    try:
        out_path.write_text(
            render_bank(source.bank, [draft.question for draft in drafts]), encoding="utf-8"
        )
    except OSError as error:
        _fail(f"无法写出“{out_path}”：{error.strerror or error}。")
    by_type = Counter(draft.question.type for draft in drafts)
    parts = "，".join(f"{label} {by_type[name]}" for name, label in QUESTION_TYPES.items())
    lessons = len({draft.question.source_ref for draft in drafts})
    click.echo(
        f"已写出 {out_path}：{len(drafts)} 题（{parts}），来自 {lessons} 篇课文，"
        f"题号接在题库“{source.bank.title}”（{source.bank.slug}）已有的题目之后。"
    )
    click.echo(f"请审阅、修改或删除后导入：peixun banks import {out_path}")


@main.command(help="备份正在使用的数据库（SQLite 在线备份；PostgreSQL 用 pg_dump）。")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), required=False)
def backup(target: Path | None) -> None:
    from app.backup import BackupError
    from app.backup import backup as make_backup

    _require_database()
    if target is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        url = get_settings().database_url
        target = Path("var") / f"备份-{stamp}.{'sqlite3' if url.startswith('sqlite') else 'dump'}"
    try:
        written = make_backup(get_settings().database_url, target)
    except BackupError as error:
        _fail(str(error))
    click.echo(f"已备份到 {written}")


@main.command(help="用备份文件替换数据库中的全部内容（请先停止网站）。")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再询问，直接恢复")
def restore(source: Path, yes: bool) -> None:
    from app.backup import BackupError
    from app.backup import restore as restore_backup

    if not yes:
        click.confirm("数据库中现有的全部内容将被备份替换，确定吗？", abort=True)
    try:
        restore_backup(get_settings().database_url, source)
    except BackupError as error:
        _fail(str(error))
    click.echo(f"已从 {source} 恢复。")


if __name__ == "__main__":
    main()
