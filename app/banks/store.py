"""Banks in the database: loading files into it, saving edits as new versions, reading back.

A question's content lives in `QuestionVersion` rows that are never changed: saving a changed
question adds a version and marks it current, so a paper that froze an older one keeps it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from piccolo.query.functions.aggregate import Max

from app.banks.formats import FORMATS, BankFile, read_bank_file
from app.banks.lint import DUPLICATE_STEM, ERROR, Finding, bank_files, lint_banks
from app.banks.merge import CHANGED, NEW, STATUS_NAMES, Change, plan_merge, summary
from app.banks.model import QUESTION_TYPES, Question
from app.banks.own_format import BankHeader, parse_bank
from app.db import write_transaction
from app.tables import Bank, Lesson, Module, QuestionVersion
from app.tables import Question as QuestionRow

SLUG_CHARS = "小写字母、数字和“-”"


class BankImportError(ValueError):
    """An import refused as a whole; the message is Chinese."""


# ---------------------------------------------------------------- rows ↔ questions


def version_values(question: Question) -> dict[str, Any]:
    """The QuestionVersion column values holding a question's content."""
    return {
        "type": question.type,
        "stem": question.stem,
        "options": json.dumps(list(question.options), ensure_ascii=False),
        "answer": json.dumps(list(question.answer), ensure_ascii=False),
        "blanks": json.dumps([list(b) for b in question.blanks], ensure_ascii=False),
        "explanation": question.explanation,
        "source_ref": question.source_ref,
        "difficulty": question.difficulty,
        "tags": json.dumps(list(question.tags), ensure_ascii=False),
        "evidence": question.evidence,
    }


def question_of(key: str, row: dict[str, Any]) -> Question:
    """The question a QuestionVersion row holds (with the key of its question)."""
    return Question(
        key=key,
        type=row["type"],
        stem=row["stem"],
        options=tuple(json.loads(row["options"])),
        answer=tuple(json.loads(row["answer"])),
        blanks=tuple(tuple(b) for b in json.loads(row["blanks"])),
        explanation=row["explanation"],
        source_ref=row["source_ref"],
        difficulty=row["difficulty"],
        tags=tuple(json.loads(row["tags"])),
        evidence=row["evidence"],
    )


VERSION_COLUMNS = (
    QuestionVersion.id,
    QuestionVersion.version,
    QuestionVersion.type,
    QuestionVersion.stem,
    QuestionVersion.options,
    QuestionVersion.answer,
    QuestionVersion.blanks,
    QuestionVersion.explanation,
    QuestionVersion.source_ref,
    QuestionVersion.difficulty,
    QuestionVersion.tags,
    QuestionVersion.evidence,
    QuestionVersion.question.id.as_alias("question_id"),
    QuestionVersion.question.key.as_alias("key"),
    QuestionVersion.question.active.as_alias("active"),
)


async def current_rows(bank_id: int, *, active_only: bool = False) -> list[dict[str, Any]]:
    """The current version of every question in a bank, in the bank's order."""
    query = QuestionVersion.select(*VERSION_COLUMNS).where(
        QuestionVersion.question.bank == bank_id, QuestionVersion.is_current.eq(True)
    )
    if active_only:
        query = query.where(QuestionVersion.question.active.eq(True))
    return await query.order_by(QuestionVersion.question.sort_order, QuestionVersion.question.id)


async def current_questions(bank_id: int, *, active_only: bool = False) -> dict[str, Question]:
    rows = await current_rows(bank_id, active_only=active_only)
    return {row["key"]: question_of(row["key"], row) for row in rows}


async def module_passages(module_id: int | None) -> dict[str, str]:
    """{source_ref: passage} of a module's active lessons, as the lint checks them."""
    if module_id is None:
        return {}
    rows = await Lesson.select(Lesson.source_ref, Lesson.body).where(
        Lesson.module == module_id, Lesson.active.eq(True)
    )
    return {row["source_ref"]: row["body"].replace("\n\n", "\n") for row in rows}


# ---------------------------------------------------------------- writing


async def _add_version(question_id: int, question: Question, user_id: int | None) -> None:
    latest = await QuestionVersion.select(Max(QuestionVersion.version).as_alias("n")).where(
        QuestionVersion.question == question_id
    )
    await QuestionVersion.update({QuestionVersion.is_current: False}).where(
        QuestionVersion.question == question_id
    )
    await QuestionVersion.insert(
        QuestionVersion(
            question=question_id,
            version=(latest[0]["n"] or 0) + 1,
            is_current=True,
            created_by=user_id,
            **version_values(question),
        )
    )


async def apply_changes(bank_id: int, changes: Sequence[Change], user_id: int | None) -> None:
    """Write a merge plan; the caller holds the write transaction."""
    ids = {
        row["key"]: row
        for row in await QuestionRow.select(
            QuestionRow.id, QuestionRow.key, QuestionRow.sort_order
        ).where(QuestionRow.bank == bank_id)
    }
    last = max((row["sort_order"] for row in ids.values()), default=0)
    for change in changes:
        if change.status == NEW:
            last += 1
            row = QuestionRow(bank=bank_id, key=change.key, sort_order=last)
            await row.save()
            await _add_version(row.id, change.question, user_id)
        elif change.status == CHANGED:
            await _add_version(ids[change.key]["id"], change.question, user_id)


async def save_question(bank_id: int, question: Question, user_id: int | None, *, new: bool) -> str:
    """Save one question edited in the browser; returns NEW, CHANGED or UNCHANGED."""
    async with write_transaction():
        existing = await current_questions(bank_id)
        if new and question.key in existing:
            raise BankImportError(f"题号“{question.key}”已经有了，请换一个题号。")
        if not new and question.key not in existing:
            raise BankImportError(f"题库中没有题号“{question.key}”。")
        (change,) = plan_merge(existing, [question], "")
        await apply_changes(bank_id, [change], user_id)
        return change.status


# ---------------------------------------------------------------- importing files


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do (or did): shown the same in the browser and the terminal."""

    filename: str
    format: str
    bank_slug: str
    bank_title: str
    module_slug: str | None
    bank_exists: bool
    changes: tuple[Change, ...] = ()
    skipped: tuple[Any, ...] = ()
    problems: tuple[str, ...] = ()  # errors: nothing is imported while there are any
    warnings: tuple[str, ...] = ()
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.changes)

    @property
    def counts(self) -> dict[str, int]:
        return summary(self.changes)

    def lines(self) -> list[str]:
        """The preview as text, one line each, for the terminal."""
        name = f"题库“{self.bank_title}”（{self.bank_slug}）"
        out = [f"文件：{self.filename}（{FORMATS[self.format]}）→ {name}"]
        if not self.bank_exists:
            out.append("这是一个新题库。")
        types = "，".join(f"{QUESTION_TYPES[t]} {n}" for t, n in self.by_type.items() if n)
        out.append(f"读到 {len(self.changes)} 题：{types or '无'}")
        counts = self.counts
        out.append("，".join(f"{STATUS_NAMES[s]} {counts[s]}" for s in STATUS_NAMES))
        out += [f"跳过：{s.reason}" for s in self.skipped]
        out += [f"错误：{p}" for p in self.problems]
        out += [f"警告：{w}" for w in self.warnings]
        if self.problems:
            out.append(f"有 {len(self.problems)} 个错误，没有导入任何题目。")
        return out


def _finding_text(finding: Finding) -> str:
    return f"第 {finding.line} 行：{finding.message}" if finding.line else finding.message


async def preview_import(
    bank_file: BankFile,
    filename: str,
    bank_slug: str | None = None,
    bank_title: str | None = None,
) -> ImportPreview:
    """Check a read bank file against the database and plan what importing it changes."""
    header = bank_file.header
    slug = (bank_slug or (header.slug if header else "")).strip().lower()
    problems = [p.message for p in bank_file.result.problems]
    if not slug:
        problems.insert(0, "请指定导入到哪个题库（题库标识）。")
    elif not all(c.isascii() and (c.isalnum() or c == "-") for c in slug):
        problems.insert(0, f"题库标识“{slug}”只能由{SLUG_CHARS}组成。")
    bank = await Bank.select(Bank.id, Bank.title, Bank.module).where(Bank.slug == slug).first()
    module_slug = header.module if header else None
    module_id = bank["module"] if bank else None
    if module_slug:
        module = await Module.select(Module.id).where(Module.slug == module_slug).first()
        module_id = module["id"] if module else None  # the lint reports an unknown module
    elif module_id is not None:
        found = await Module.select(Module.slug).where(Module.id == module_id).first()
        module_slug = found["slug"] if found else None
    title = bank_title or (header.title if header else "") or (bank["title"] if bank else slug)
    lint = lint_banks(
        [(filename, BankHeader(slug, title, module_slug or ""), bank_file.result)],
        {module_slug: await module_passages(module_id)} if module_slug and module_id else {},
    )
    parse_messages = {p.message for p in bank_file.result.problems}
    warnings = []
    for finding in lint.findings:
        text = _finding_text(finding)
        if finding.message.startswith("未导入的题目") or text in parse_messages:
            continue
        if finding.level == ERROR and finding.check != DUPLICATE_STEM:
            problems.append(text)
        else:
            # The same stem twice is allowed in an import (Moodle's example file has it);
            # the lint still refuses it in the shipped banks.
            warnings.append(text)
    if not bank_file.result.questions and not bank_file.result.problems:
        problems.append("文件中没有可导入的题目。")
    existing = await current_questions(bank["id"]) if bank else {}
    changes = plan_merge(existing, bank_file.result.questions, slug) if slug else ()
    by_type = Counter(q.type for q in bank_file.result.questions)
    return ImportPreview(
        filename=filename,
        format=bank_file.format,
        bank_slug=slug,
        bank_title=title,
        module_slug=module_slug,
        bank_exists=bank is not None,
        changes=tuple(changes),
        skipped=bank_file.result.skipped,
        problems=tuple(problems),
        warnings=tuple(warnings),
        by_type={t: by_type[t] for t in QUESTION_TYPES},
    )


async def import_preview(
    preview: ImportPreview, user_id: int | None, *, dry_run: bool = False
) -> dict[str, int]:
    """Write a checked preview all at once; raises BankImportError if it has problems."""
    if not preview.ok:
        raise BankImportError("；".join(preview.problems) or "文件中没有可导入的题目。")
    if dry_run:
        return preview.counts
    async with write_transaction():
        module_id = None
        if preview.module_slug:
            module = await Module.select(Module.id).where(Module.slug == preview.module_slug)
            module_id = module[0]["id"] if module else None
        bank = await Bank.select(Bank.id).where(Bank.slug == preview.bank_slug).first()
        if bank is None:
            saved = Bank(slug=preview.bank_slug, title=preview.bank_title, module=module_id)
            await saved.save()
            bank_id = saved.id
        else:
            bank_id = bank["id"]
            await Bank.update(
                {Bank.title: preview.bank_title, Bank.module: module_id, Bank.active: True}
            ).where(Bank.id == bank_id)
        # Planned again inside the transaction: an edit made since the preview is not undone.
        existing = await current_questions(bank_id)
        changes = plan_merge(existing, [c.question for c in preview.changes], preview.bank_slug)
        await apply_changes(bank_id, changes, user_id)
        return summary(changes)


async def import_file(
    path: Path, fmt: str = "auto", bank_slug: str | None = None, dry_run: bool = False
) -> tuple[ImportPreview, dict[str, int] | None]:
    """`peixun banks import`: the preview, and the counts written (None when refused)."""
    bank_file = read_bank_file(path.name, path.read_bytes(), fmt)
    preview = await preview_import(bank_file, path.name, bank_slug)
    if not preview.ok:
        return preview, None
    return preview, await import_preview(preview, None, dry_run=dry_run)


async def load_bank_dir(folder: Path) -> tuple[int, int]:
    """Load every bank file in a folder (the shipped banks); all or nothing.
    Returns (banks, questions written as new or changed)."""
    previews = []
    for path in bank_files([folder]):
        header, result = parse_bank(path.read_text(encoding="utf-8"), path.name)
        preview = await preview_import(BankFile("own", header, result), path.name)
        if not preview.ok:
            raise BankImportError(f"{path.name}：" + "；".join(preview.problems))
        previews.append(preview)
    written = 0
    async with write_transaction():
        for preview in previews:
            counts = await import_preview(preview, None)
            written += counts[NEW] + counts[CHANGED]
    return len(previews), written


# ---------------------------------------------------------------- reading back


async def bank_for_export(slug: str) -> tuple[BankHeader, list[Question]] | None:
    """A bank's header and its active questions' current versions, in order."""
    bank = await Bank.select(Bank.id, Bank.slug, Bank.title, Bank.module.slug).where(
        Bank.slug == slug
    )
    if not bank:
        return None
    row = bank[0]
    questions = await current_questions(row["id"], active_only=True)
    return BankHeader(row["slug"], row["title"], row["module.slug"] or ""), list(questions.values())


__all__ = [
    "BankImportError",
    "ImportPreview",
    "apply_changes",
    "bank_for_export",
    "current_questions",
    "current_rows",
    "import_file",
    "import_preview",
    "load_bank_dir",
    "module_passages",
    "preview_import",
    "question_of",
    "save_question",
    "version_values",
]
