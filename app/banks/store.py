"""Banks in the database: loading files into it, saving edits as new versions, reading back.

A question's content lives in `QuestionVersion` rows that are never changed: saving a changed
question adds a version and marks it current, so a paper that froze an older one keeps it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from piccolo.query.functions.aggregate import Max

from app.banks.formats import FORMATS, BankFile, read_bank_file
from app.banks.lint import DUPLICATE_STEM, ERROR, PARSE_PROBLEM, Finding, bank_files, lint_banks
from app.banks.merge import (
    ADD,
    CHANGED,
    CHOICE_NAMES,
    NEW,
    STATUS_NAMES,
    Change,
    plan_merge,
    summary,
)
from app.banks.model import QUESTION_TYPES, ParseResult, Question
from app.banks.own_format import BankHeader, parse_bank
from app.banks.reviews import resolve_reviews
from app.db import write_transaction
from app.lib.seeding import KEEP, TAKE, TAKE_HINT, choose, fingerprint
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


async def question_numbers(bank_ids: Collection[int]) -> dict[tuple[int, str], int]:
    """(bank id, key) → the question's number in its bank as pages show it (第 N 题): its
    place in the bank's order, counting deactivated questions, so a number stays put."""
    if not bank_ids:
        return {}
    rows = await (
        QuestionRow.select(QuestionRow.bank, QuestionRow.key)
        .where(QuestionRow.bank.is_in(list(bank_ids)))
        .order_by(QuestionRow.bank, QuestionRow.sort_order, QuestionRow.id)
    )
    numbers: dict[tuple[int, str], int] = {}
    counted: Counter[int] = Counter()
    for row in rows:
        counted[row["bank"]] += 1
        numbers[(row["bank"], row["key"])] = counted[row["bank"]]
    return numbers


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
    await resolve_reviews(question_id, user_id)  # a new version is the trainer's answer


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

    @property
    def read(self) -> int:
        """How many questions were read from the file (also when none can be imported)."""
        return sum(self.by_type.values())

    def lines(self) -> list[str]:
        """The preview as text, one line each, for the terminal."""
        name = f"题库“{self.bank_title}”（{self.bank_slug}）"
        out = [f"文件：{self.filename}（{FORMATS[self.format]}）→ {name}"]
        if not self.bank_exists:
            out.append("这是一个新题库。")
        types = "，".join(f"{QUESTION_TYPES[t]} {n}" for t, n in self.by_type.items() if n)
        out.append(f"读到 {self.read} 题：{types or '无'}")
        counts = self.counts
        out.append("，".join(f"{STATUS_NAMES[s]} {counts[s]}" for s in STATUS_NAMES))
        for change in self.changes:
            out += change_lines(change)
        out += [f"跳过：{s.reason}" for s in self.skipped]
        out += [f"错误：{p}" for p in self.problems]
        out += [f"警告：{w}" for w in self.warnings]
        if self.problems:
            out.append(f"有 {len(self.problems)} 个错误，没有导入任何题目。")
        return out


KEPT = "保留原值（导入的内容中没有）"


def change_lines(change: Change) -> list[str]:
    """What importing one question changes in its matched question, for the terminal."""
    if change.previous is None or change.status not in (CHANGED, NEW):
        return []
    name = f"第 {change.position} 题"
    if change.added_as_new:
        return [f"{name}（{change.key}）{CHOICE_NAMES[ADD]}，题库中的“{change.previous.key}”不变"]
    out = [f"{name}（{change.key}）{STATUS_NAMES[CHANGED]}："]
    for found in change.differences:
        old, new = (" / ".join(v.split("\n")) for v in (found.old, found.new))
        out.append(f"  {found.label}：{old} → {new}")
    if change.kept:
        out.append(f"  {KEPT}：{'、'.join(change.kept_labels)}")
    return out


def _finding_text(finding: Finding) -> str:
    return f"第 {finding.line} 行：{finding.message}" if finding.line else finding.message


async def preview_import(
    bank_file: BankFile,
    filename: str,
    bank_slug: str | None = None,
    bank_title: str | None = None,
    as_new: Container[int] = (),
) -> ImportPreview:
    """Check a read bank file against the database and plan what importing it changes.
    `as_new`: the positions (from 1) of the questions to add as new questions rather than
    update the existing question they match. The questions are checked as they will be
    saved (with the fields they keep) and named by their key in the bank."""
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
    existing = await current_questions(bank["id"]) if bank else {}
    result = bank_file.result
    changes = plan_merge(existing, result.questions, slug, as_new) if slug else ()
    if changes:
        planned = tuple(change.question for change in changes)
        result = ParseResult(planned, result.problems, result.skipped)
    lint = lint_banks(
        [(filename, BankHeader(slug, title, module_slug or ""), result)],
        {module_slug: await module_passages(module_id)} if module_slug and module_id else {},
        {change.key: f"第 {change.position} 题" for change in changes},  # as the preview names it
    )
    warnings = []
    for finding in lint.findings:
        text = _finding_text(finding)
        if finding.message.startswith("未导入的题目") or finding.check == PARSE_PROBLEM:
            continue  # listed already, as the file's reader gave them
        if finding.level == ERROR and finding.check != DUPLICATE_STEM:
            problems.append(text)
        else:
            # The same stem twice is allowed in an import (Moodle's example file has it);
            # the lint still refuses it in the shipped banks.
            warnings.append(text)
    if not bank_file.result.questions and not bank_file.result.problems:
        problems.append("文件中没有可导入的题目。")
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
    path: Path,
    fmt: str = "auto",
    bank_slug: str | None = None,
    dry_run: bool = False,
    *,
    as_new: bool = False,
) -> tuple[ImportPreview, dict[str, int] | None]:
    """`peixun banks import`: the preview, and the counts written (None when refused).
    A question matching an existing one updates it, keeping the fields the file does not
    carry; with `as_new` it is added as a new question instead."""
    bank_file = read_bank_file(path.name, path.read_bytes(), fmt)
    positions = range(1, len(bank_file.result.questions) + 1) if as_new else ()
    preview = await preview_import(bank_file, path.name, bank_slug, as_new=positions)
    if not preview.ok:
        return preview, None
    return preview, await import_preview(preview, None, dry_run=dry_run)


def _file_fingerprint(question: Question) -> str:
    return fingerprint(version_values(question))


async def _load_bank(
    preview: ImportPreview, questions: Sequence[Question], take_files: bool
) -> tuple[int, list[str]]:
    """Load one checked bank file; the caller holds the write transaction. Returns the
    questions written as new or changed and what was kept as the browser left it."""
    module_id = None
    if preview.module_slug:
        module = await Module.select(Module.id).where(Module.slug == preview.module_slug).first()
        module_id = module["id"] if module else None
    header = fingerprint([preview.bank_title, preview.module_slug or ""])
    bank = (
        await Bank.select(
            Bank.id, Bank.title, Bank.module.slug.as_alias("module_slug"), Bank.file_hash
        )
        .where(Bank.slug == preview.bank_slug)
        .first()
    )
    kept = []
    if bank is None:
        saved = Bank(
            slug=preview.bank_slug, title=preview.bank_title, module=module_id, file_hash=header
        )
        await saved.save()
        bank = {"id": saved.id, "title": saved.title, "file_hash": header}
    else:
        # Made in the browser: empty, or its first question was written there.
        first = (
            await QuestionVersion.select(QuestionVersion.created_by)
            .where(QuestionVersion.question.bank == bank["id"])
            .order_by(QuestionVersion.id)
            .first()
        )
        choice = choose(
            recorded=bank["file_hash"],
            file=header,
            current=fingerprint([bank["title"], bank["module_slug"] or ""]),
            made_in_browser=first is None or first["created_by"] is not None,
            take_files=take_files,
        )
        if choice == KEEP:
            kept.append(f"题库“{bank['title']}”的名称或所属模块在网页上修改过，保留网页上的设置；")
        elif choice == TAKE or bank["file_hash"] != header:
            values: dict[Any, Any] = {Bank.file_hash: header}
            if choice == TAKE:
                values.update({Bank.title: preview.bank_title, Bank.module: module_id})
                bank["title"] = preview.bank_title
            await Bank.update(values).where(Bank.id == bank["id"])
    rows = await QuestionVersion.select(
        *VERSION_COLUMNS,
        QuestionVersion.created_by,
        QuestionVersion.question.file_hash.as_alias("file_hash"),
    ).where(QuestionVersion.question.bank == bank["id"], QuestionVersion.is_current.eq(True))
    existing = {row["key"]: row for row in rows}
    taken, remembered, browsers = [], {}, []
    for question in questions:
        file = _file_fingerprint(question)
        row = existing.get(question.key)
        choice = TAKE
        if row is not None:
            choice = choose(
                recorded=row["file_hash"],
                file=file,
                current=_file_fingerprint(question_of(row["key"], row)),
                # Versions written in the browser (editor or import) name who wrote them.
                made_in_browser=row["created_by"] is not None,
                take_files=take_files,
            )
        if choice == KEEP:
            browsers.append(f"“{question.key}”")
        elif choice == TAKE:
            taken.append(question)
            remembered[question.key] = file
        elif row is not None and row["file_hash"] != file:
            remembered[question.key] = file  # the row already says what the file says
    current = {key: question_of(key, row) for key, row in existing.items()}
    changes = plan_merge(current, taken, preview.bank_slug)
    await apply_changes(bank["id"], changes, None)
    for key, file in remembered.items():
        await QuestionRow.update({QuestionRow.file_hash: file}).where(
            QuestionRow.bank == bank["id"], QuestionRow.key == key
        )
    if browsers:
        kept.append(
            f"题库“{bank['title']}”中的题目{'、'.join(browsers)}在网页上修改过，保留网页上的版本；"
        )
    counts = summary(changes)
    return counts[NEW] + counts[CHANGED], [line + TAKE_HINT for line in kept]


async def load_bank_dir(folder: Path, *, take_files: bool = False) -> tuple[int, int, list[str]]:
    """Load every bank file in a folder (the shipped banks); all or nothing.

    Files seed what is new (`app/lib/seeding.py`): a question made or changed in the browser
    gets no new version from a changed file, nor a bank its title and module, unless
    `take_files`. Returns (banks, questions written as new or changed, a line in Chinese
    for each bank where the browser's was kept)."""
    previews = []
    for path in bank_files([folder]):
        header, result = parse_bank(path.read_text(encoding="utf-8"), path.name)
        preview = await preview_import(BankFile("own", header, result), path.name)
        if not preview.ok:
            raise BankImportError(f"{path.name}：" + "；".join(preview.problems))
        previews.append((preview, result.questions))
    written, kept = 0, []
    async with write_transaction():
        for preview, questions in previews:
            count, lines = await _load_bank(preview, questions, take_files)
            written += count
            kept += lines
    return len(previews), written, kept


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
    "change_lines",
    "current_questions",
    "current_rows",
    "import_file",
    "import_preview",
    "load_bank_dir",
    "module_passages",
    "preview_import",
    "question_numbers",
    "question_of",
    "save_question",
    "version_values",
]
