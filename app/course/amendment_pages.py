"""What an amendment changed, for trainers: the list of new versions, the comparison page
(old and new side by side, the changed words marked), publishing the lesson
“本次修改了什么”, and drafting questions from it (`app/banks/draft_pages.py`)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.banks.pages import create_bank
from app.course.files import CourseFileError
from app.course.importing import (
    SLUG_MAX,
    ImportRefused,
    existing_modules,
    slug_prefix,
    write_new_modules,
)
from app.course.lessons import read_course_dir, sync_course
from app.course.versions import (
    KIND_NAMES,
    VersionFileError,
    amendments,
    change_module_text,
    compare_versions,
    load_amendment,
    new_version_source,
    reviews_of,
)
from app.db import write_transaction
from app.lib.identifiers import first_free
from app.settings import get_settings
from app.tables import Amendment, Bank, Module

logger = logging.getLogger(__name__)


@get("/amendments", name="amendments")
async def amendment_list() -> Template:
    return Template("amendments/list.html", context={"amendments": await amendments()})


async def _change_module(slug: str) -> dict | None:
    if not slug:
        return None
    return await (
        Module.select(Module.id, Module.slug, Module.title, Module.active)
        .where(Module.slug == slug)
        .first()
    )


@get("/amendments/{amendment_id:int}", name="amendment")
async def amendment_page(amendment_id: FromPath[int], show: FromQuery[str] = "") -> Template:
    amendment = await load_amendment(amendment_id)
    problem, changes = "", []
    try:
        changes = compare_versions(
            get_settings().course_dir, amendment["old_source"], amendment["new_source"]
        )
    except VersionFileError as error:
        problem = str(error)
    counts = Counter(change.kind for change in changes)
    renumbered = sum(1 for c in changes if c.kind == "unchanged" and c.renumbered)
    shown = changes if show == "all" else [c for c in changes if c.kind != "unchanged"]
    module = await _change_module(amendment["change_module"])
    reviews = await reviews_of(amendment_id)
    return Template(
        "amendments/page.html",
        context={
            "amendment": amendment,
            "problem": problem,
            "changes": shown,
            "show_all": show == "all",
            "counts": counts,
            "renumbered": renumbered,
            "kind_names": KIND_NAMES,
            "module": module,
            "reviews": reviews,
            "open_reviews": sum(1 for r in reviews if r["resolved_at"] is None),
        },
    )


def _back(request: Request, amendment_id: int) -> Redirect:
    return Redirect(request.app.route_reverse("amendment", amendment_id=amendment_id))


@post("/amendments/{amendment_id:int}/publish", name="amendment_publish")
async def amendment_publish(request: Request, amendment_id: FromPath[int]) -> Redirect:
    amendment = await load_amendment(amendment_id)
    module = await _change_module(amendment["change_module"])
    if module is not None and module["active"]:
        flash(request, f"“{module['title']}”已经发布过了。", "info")
        return _back(request, amendment_id)
    course_dir: Path = get_settings().course_dir
    written: list[Path] = []
    try:
        changes = compare_versions(course_dir, amendment["old_source"], amendment["new_source"])
        kept = course_dir / amendment["new_source"]
        content = kept.read_bytes()
        rows = await Module.select(Module.slug)
        taken = {*existing_modules(course_dir), *(row["slug"] for row in rows)}
        base = f"{slug_prefix(kept.name, content)[: SLUG_MAX - 10]}-xiugai"
        slug = first_free(base, taken, "xiugai")
        text = change_module_text(amendment, changes, slug, await new_version_source(amendment))
        async with write_transaction():
            written = write_new_modules([text], course_dir, content, kept)
            await sync_course(read_course_dir(course_dir), published={slug})
            await Amendment.update({Amendment.change_module: slug}).where(
                Amendment.id == amendment_id
            )
            await audit.record(request, "course.amendment_publish", None, f"发布“{text.title}”")
    except Exception as error:
        for path in written:  # the database is rolled back; the file goes too
            path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            error = VersionFileError(f"无法读取新版文件“{amendment['new_source']}”。")
        elif not isinstance(error, VersionFileError | ImportRefused | CourseFileError):
            logger.exception("发布“本次修改了什么”失败：%s", amendment["new_source"])
            error = ImportRefused("系统出错了。")
        flash(request, f"没有发布，课程和数据库都没有改动：{error}", "error")
        return _back(request, amendment_id)
    flash(request, f"已发布“{text.title}”（{len(text.lessons)} 篇课文）。", "success")
    return _back(request, amendment_id)


@post("/amendments/{amendment_id:int}/draft", name="amendment_draft")
async def amendment_draft(request: Request, amendment_id: FromPath[int]) -> Redirect:
    """The drafts of the lesson “本次修改了什么”, in its bank (made on first use)."""
    amendment = await load_amendment(amendment_id)
    module = await _change_module(amendment["change_module"])
    if module is None or not module["active"]:
        flash(request, "请先发布“本次修改了什么”，再从修改处出题。", "error")
        return _back(request, amendment_id)
    bank = await (
        Bank.select(Bank.slug)
        .where(Bank.module == module["id"], Bank.active.eq(True))
        .order_by(Bank.id)
        .first()
    )
    slug = bank["slug"] if bank else await create_bank(request, module["title"], module["id"])
    return Redirect(request.app.route_reverse("bank_drafts", bank_slug=slug))


router = Router(
    path="/",
    guards=[requires_role("trainer")],
    route_handlers=[amendment_list, amendment_page, amendment_publish, amendment_draft],
)
