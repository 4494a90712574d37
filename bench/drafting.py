"""Benchmark: drafted questions (出题助手) on the shipped notice and on a charter-shaped
document made up in code (`tests/charter_fixture.py`: 9 chapters, 43 articles of
placeholder sentences, no real charter text).

    .venv/bin/python bench/drafting.py [--repeat 5]

Runs the pure drafter (`app/banks/drafting.py`) the way `peixun banks draft` does, module
by module, the other modules of the same document lending their lists as wrong options and
the shipped banks' questions counting as existing ones. Reports, against the targets of
issue 15: drafts per lesson passage of 100 characters or more (the smallest number), drafts
per article and the types in every chapter, the share of drafts passing the strict lint
(`lint_banks`, no error and no warning, the drafts together with the shipped bank) and of
drafts whose answer stands in the cited passage, and the time to draft a 40-article
document. Exits non-zero when a target is missed. Uses no database.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from app.banks.drafting import Draft, Passage, draft_questions  # noqa: E402
from app.banks.lint import course_lessons, lint_banks  # noqa: E402
from app.banks.model import (  # noqa: E402
    LETTERS,
    QUESTION_TYPES,
    ParseResult,
    Question,
    normalize_answer,
)
from app.banks.own_format import BankHeader, parse_bank, render_bank  # noqa: E402
from app.course.files import ModuleText  # noqa: E402
from app.course.lessons import read_course_dir  # noqa: E402
from tests.charter_fixture import article_of, charter_modules  # noqa: E402

COURSE = PROJECT / "course"
BANKS = PROJECT / "question_banks"
TIME_TARGET = 5.0


def _passages(module: ModuleText) -> list[Passage]:
    return [Passage(one.source_ref, one.paragraphs, one.title) for one in module.lessons]


def _shipped(slug: str, banks: Path | None) -> tuple[str, BankHeader, ParseResult] | None:
    path = banks / f"{slug}.md" if banks else None
    if path is None or not path.exists():
        return None
    header, result = parse_bank(path.read_text(encoding="utf-8"), path.name)
    return path.name, header, result


def draft_all(modules: list[ModuleText], banks: Path | None) -> dict[str, list[Draft]]:
    drafts = {}
    for module in modules:
        shipped = _shipped(module.slug, banks)
        existing = shipped[2].questions if shipped else ()
        others = [p for m in modules if m.slug != module.slug for p in _passages(m)]
        drafts[module.slug] = draft_questions(
            _passages(module), bank_slug=module.slug, document=others, existing=existing
        )
    return drafts


def _answers(question: Question) -> list[str]:
    if question.type == "fill_blank":
        return [group[0] for group in question.blanks]
    if question.type in ("single", "multiple"):
        return [question.options[LETTERS.index(letter)] for letter in question.answer]
    return []


def checks(
    modules: list[ModuleText], drafts: dict[str, list[Draft]], lessons: dict, banks: Path | None
) -> tuple[int, int, int]:
    """(drafts, drafts with no lint finding, drafts whose answers stand in the passage)."""
    total = clean = faithful = 0
    for module in modules:
        questions = [draft.question for draft in drafts[module.slug]]
        passages = {one.source_ref: "\n".join(one.paragraphs) for one in module.lessons}
        text = render_bank(BankHeader(module.slug, module.title, module.slug), questions)
        header, result = parse_bank(text, "drafts.md")
        files = [("drafts.md", header, result)]
        if shipped := _shipped(module.slug, banks):
            files.insert(0, shipped)
        report = lint_banks(files, lessons)
        flagged = {f.line for f in report.findings if f.file == "drafts.md"}
        if None in flagged:
            flagged = {q.line for q in result.questions}
        total += len(questions)
        clean += sum(1 for q in result.questions if q.line not in flagged)
        for question in questions:
            passage = normalize_answer(passages[question.source_ref])
            if all(normalize_answer(a) in passage for a in _answers(question)):
                faithful += 1
    return total, clean, faithful


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %（{part}/{whole}）" if whole else "—"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="计时重复几次，取最好的一次")
    args = parser.parse_args()
    failed = []

    print("== 随平台提供的通知（course/，题库 question_banks/ 中已有的题目不重复）")
    notice = read_course_dir(COURSE)
    drafts = draft_all(notice, BANKS)
    counts = {
        (m.slug, one.source_ref): sum(
            1 for d in drafts[m.slug] if d.question.source_ref == one.source_ref
        )
        for m in notice
        for one in m.lessons
        if one.characters >= 100
    }
    smallest = min(counts.values())
    print(f"课文 {sum(len(m.lessons) for m in notice)} 篇，其中 100 字以上 {len(counts)} 篇")
    written = sum(map(len, drafts.values()))
    print(f"草稿 {written} 题；100 字以上的课文每篇至少 {smallest} 题（目标 ≥ 3）")
    for (slug, ref), n in counts.items():
        print(f"  {slug} [{ref}] {n} 题")
    by_type = Counter(d.question.type for ds in drafts.values() for d in ds)
    print(
        "题型：" + "，".join(f"{label} {by_type[name]}" for name, label in QUESTION_TYPES.items())
    )
    total, clean, faithful = checks(notice, drafts, course_lessons(COURSE), BANKS)
    print(f"严格检查通过：{_rate(clean, total)}；答案在所引课文中：{_rate(faithful, total)}")
    if smallest < 3:
        failed.append("通知：有 100 字以上的课文少于 3 题")
    if clean != total or faithful != total:
        failed.append("通知：有草稿未通过严格检查或答案不在课文中")

    print("\n== 章程形状的测试文本（9 章 43 条，占位句子）")
    charter = charter_modules(9, 43)
    drafts = draft_all(charter, None)
    per_article: Counter[str] = Counter()
    articles: set[str] = set()
    types: dict[str, set[str]] = defaultdict(set)
    for module in charter:
        refs = {one.source_ref: one for one in module.lessons}
        for one in module.lessons:
            articles |= {a for i in range(len(one.paragraphs)) if (a := article_of(one, i))}
        for draft in drafts[module.slug]:
            per_article[article_of(refs[draft.question.source_ref], draft.paragraph) or ""] += 1
            types[module.title].add(draft.question.type)
    least = min(per_article[a] for a in articles)
    written = sum(map(len, drafts.values()))
    print(f"条文 {len(articles)} 条，草稿 {written} 题；每条至少 {least} 题（目标 ≥ 2）")
    for module in charter:
        kinds = "、".join(QUESTION_TYPES[t] for t in QUESTION_TYPES if t in types[module.title])
        print(f"  {module.slug}（{module.title}）：{len(drafts[module.slug])} 题，题型 {kinds}")
    lessons = {
        m.slug: {one.source_ref: "\n".join(one.paragraphs) for one in m.lessons} for m in charter
    }
    total, clean, faithful = checks(charter, drafts, lessons, None)
    print(f"严格检查通过：{_rate(clean, total)}；答案在所引课文中：{_rate(faithful, total)}")
    if least < 2:
        failed.append("章程：有条文少于 2 题")
    if any(types[m.title] != set(QUESTION_TYPES) for m in charter):
        failed.append("章程：有的章缺少某种题型")
    if clean != total or faithful != total:
        failed.append("章程：有草稿未通过严格检查或答案不在课文中")

    print("\n== 计时：40 条的文件")
    best_draft = best_all = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        modules = charter_modules(8, 40)  # reading the outline and making the modules
        planned = time.perf_counter()
        made = draft_all(modules, None)
        finished = time.perf_counter()
        best_draft = min(best_draft, finished - planned)
        best_all = min(best_all, finished - started)
    print(
        f"{len(modules)} 个模块、{sum(map(len, made.values()))} 题：生成草稿 {best_draft:.2f} s，"
        f"连同读取文件结构 {best_all:.2f} s（目标 < {TIME_TARGET:.0f} s，{args.repeat} 次取最好）"
    )
    if best_all >= TIME_TARGET:
        failed.append("40 条的文件生成草稿超过 5 秒")

    print()
    print("未达标：" + "；".join(failed) if failed else "全部达标。")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
