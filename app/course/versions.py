"""Versions of an imported document: an amended charter imported over the one before.

Both versions stay: each import keeps its file in `course/sources` and its own modules;
`Module.source_file` says which file a module came from. When the course is synced
(`app/course/lessons.sync_course`, after `peixun init` or a publication in the browser), a
file that is a new version of one imported earlier (`amendment.is_new_version`: the same
文号 or title) is recorded once as an `Amendment` (old file, new file), and the questions
whose 出处 it changed or removed are put under review (`app/banks/reviews.py`).

What changed is worked out from the two kept files whenever it is shown
(`amendment.align_versions`), so the page always agrees with the files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.query.functions.aggregate import Count, Min

from app.banks.lint import anchors
from app.banks.store import VERSION_COLUMNS, question_of
from app.course.amendment import (
    ClauseChange,
    align_versions,
    change_lessons,
    is_new_version,
    normalise_title,
    removed_note,
    touched_clauses,
)
from app.course.documents import Document, parse_document
from app.course.files import ModuleText, SourceInfo
from app.course.text import DocumentError, read_text, source_for
from app.db import write_transaction
from app.tables import Amendment, Bank, Lesson, Module, QuestionReview, QuestionVersion

logger = logging.getLogger(__name__)

KIND_NAMES = {"added": "新增", "removed": "删去", "changed": "修改", "unchanged": "未改"}


class VersionFileError(ValueError):
    """A kept version can't be read; the message says which, in Chinese."""


def read_version(course_dir: Path, source_file: str) -> Document:
    """The document a module's `source_file` ("sources/…") names, parsed as on import."""
    path = course_dir / source_file
    name = Path(source_file).name
    try:
        return parse_document(read_text(name, path.read_bytes()), source_for(name))
    except OSError:
        raise VersionFileError(f"课程文件夹中找不到文件“{source_file}”。") from None
    except DocumentError as error:
        raise VersionFileError(f"文件“{source_file}”无法读取：{error}") from None


def compare_versions(course_dir: Path, old_source: str, new_source: str) -> list[ClauseChange]:
    """Every clause of the two kept versions, aligned; raises VersionFileError."""
    return align_versions(
        read_version(course_dir, old_source), read_version(course_dir, new_source)
    )


async def _sources() -> list[dict[str, Any]]:
    """Each imported file once, with its title and 文号, in the order it was first imported."""
    rows = await (
        Module.select(
            Module.source_file,
            Module.source_title,
            Module.doc_number,
            Min(Module.id).as_alias("first"),
        )
        .where(Module.source_file != "")
        .group_by(Module.source_file, Module.source_title, Module.doc_number)
    )
    seen: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["first"]):
        seen.setdefault(row["source_file"], row)
    return list(seen.values())


async def note_new_versions(course_dir: Path) -> list[int]:
    """Record every imported file that is a new version of an earlier one and not recorded
    yet, and put the questions it affects under review, in one write transaction. A
    version whose files can't be read is left for the next sync (logged). Returns the new
    amendments' ids."""
    async with write_transaction():
        sources = await _sources()
        recorded = {row["new_source"] for row in await Amendment.select(Amendment.new_source)}
        made = []
        for n, source in enumerate(sources):
            if source["source_file"] in recorded:
                continue
            meta = {"title": source["source_title"], "doc_number": source["doc_number"]}
            earlier = [
                s
                for s in sources[:n]
                if is_new_version({"title": s["source_title"], "doc_number": s["doc_number"]}, meta)
            ]
            if not earlier:
                continue
            old = earlier[-1]
            try:
                changes = compare_versions(course_dir, old["source_file"], source["source_file"])
            except VersionFileError as error:
                logger.warning("无法比较两个版本：%s", error)
                continue
            amendment = Amendment(
                title=(source["source_title"] or source["source_file"])[:300],
                old_source=old["source_file"],
                new_source=source["source_file"],
            )
            await amendment.save()
            await put_under_review(amendment.id, old["source_file"], changes)
            made.append(amendment.id)
    return made


async def put_under_review(amendment_id: int, old_source: str, changes: list[ClauseChange]) -> int:
    """Put under review the active questions of the old version's banks whose 出处 holds a
    changed or removed clause they may rest on (`amendment.touched_clauses`). Questions
    citing a clause that was only renumbered are left alone: their bank's module still
    holds the old text they cite. Returns how many were put under review."""
    banks = await Bank.select(Bank.id, Bank.module).where(Bank.module.source_file == old_source)
    if not banks:
        return 0
    passages = {
        (row["module"], row["source_ref"]): row["body"]
        for row in await Lesson.select(Lesson.module, Lesson.source_ref, Lesson.body).where(
            Lesson.module.is_in([bank["module"] for bank in banks])
        )
    }
    module_of = {bank["id"]: bank["module"] for bank in banks}
    rows = await QuestionVersion.select(
        *VERSION_COLUMNS, QuestionVersion.question.bank.as_alias("bank")
    ).where(
        QuestionVersion.question.bank.is_in(list(module_of)),
        QuestionVersion.is_current.eq(True),
        QuestionVersion.question.active.eq(True),
    )
    count = 0
    for row in rows:
        ref = row["source_ref"]
        passage = passages.get((module_of[row["bank"]], ref))
        if not ref or passage is None:
            continue
        touched = touched_clauses(passage, anchors(question_of(row["key"], row)), changes)
        if touched:
            await QuestionReview.insert(
                QuestionReview(
                    question=row["question_id"],
                    amendment=amendment_id,
                    reason=review_reason(ref, touched),
                )
            )
            count += 1
    return count


def review_reason(ref: str, touched: list[ClauseChange]) -> str:
    """Why a question is under review, for the bank and the question page."""
    parts = [
        f"{c.old_ref}在新版中{'已删去' if c.kind == 'removed' else '有修改'}"
        + (f"（现为{c.new_ref}）" if c.kind == "changed" and c.renumbered else "")
        for c in touched
    ]
    where = "" if [c.old_ref for c in touched] == [ref] else f"出处“{ref}”中的"
    return f"{where}{'；'.join(parts)}。"


# ---------------------------------------------------------------- pages' reads


async def amendments() -> list[dict[str, Any]]:
    """Every recorded new version, newest first, with how many questions await review."""
    waiting = await (
        QuestionReview.select(QuestionReview.amendment, Count(alias="n"))
        .where(QuestionReview.resolved_at.is_null())
        .group_by(QuestionReview.amendment)
    )
    open_by = {row["amendment"]: row["n"] for row in waiting}
    rows = await Amendment.select().order_by(Amendment.id, ascending=False)
    for row in rows:
        row["under_review"] = open_by.get(row["id"], 0)
    return rows


async def load_amendment(amendment_id: int) -> dict[str, Any]:
    row = await Amendment.select().where(Amendment.id == amendment_id).first()
    if row is None:
        raise NotFoundException("没有这次修改记录。")
    return row


async def reviews_of(amendment_id: int) -> list[dict[str, Any]]:
    """The questions this amendment put under review: where they are and whether settled."""
    return await (
        QuestionReview.select(
            QuestionReview.reason,
            QuestionReview.resolved_at,
            QuestionReview.question.key.as_alias("key"),
            QuestionReview.question.bank.slug.as_alias("bank_slug"),
            QuestionReview.question.bank.title.as_alias("bank_title"),
        )
        .where(QuestionReview.amendment == amendment_id)
        .order_by(QuestionReview.id)
    )


# ---------------------------------------------------------------- the lesson “本次修改了什么”


def change_module_text(
    amendment: dict[str, Any], changes: list[ClauseChange], slug: str, source: SourceInfo
) -> ModuleText:
    """The module “《…》本次修改了什么”: a lesson for each changed or added clause, the
    removed ones quoted in its note; raises VersionFileError when nothing was changed or
    added."""
    lessons = tuple(change_lessons(changes))
    if not lessons:
        raise VersionFileError("新版没有修改或新增的条文，不需要发布“本次修改了什么”。")
    name = normalise_title(amendment["title"]) or amendment["title"]
    note = (
        f"本模块的每篇课文是《{name}》新版中修改或新增的一条，课文是新版原文；"
        "修改的条文在“学习要点”中列出修改前的原文。"
    )
    if removed := removed_note(changes):
        note += "\n\n" + removed
    return ModuleText(
        slug=slug,
        title=f"《{name}》本次修改了什么"[:200],
        order=0,
        source=source,
        note=note,
        lessons=lessons,
    )


async def new_version_source(amendment: dict[str, Any]) -> SourceInfo:
    """The new version's source, as its modules name it."""
    row = await (
        Module.select(Module.source_title, Module.doc_number)
        .where(Module.source_file == amendment["new_source"])
        .first()
    )
    title = row["source_title"] if row else amendment["title"]
    return SourceInfo(title, row["doc_number"] if row else "", amendment["new_source"])
