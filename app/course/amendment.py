"""What an amendment changed: two versions of one document aligned clause by clause.

Pure code: two parsed documents (`app.course.documents.Document`) in, a list of
`ClauseChange` out; no database, no files.

A clause is an article (第X条, with its items and closing text) when both versions have
articles; otherwise every numbered section with its own text (its heading paragraph and
the text after its children, not its children, which are clauses of their own). A
section of an article document that is not an article but has text of its own (a 总则
before the first chapter) is a clause too, kept apart from the articles.

Clauses are paired in three passes:

1. the same text (number left aside), in document order: unchanged clauses, also those
   renumbered because a clause was inserted or removed before them;
2. the same number (第X条, or the section's 出处) when the texts are still somewhat alike
   (`SAME_NUMBER`), or
3. texts alike enough whatever their numbers (`SIMILAR`), for a clause both renumbered
   and edited.

Passes 2 and 3 pair the most alike texts first (difflib ratio, the same number counting
`NUMBER_BONUS` more), so a clause edited and renumbered finds its new place even when
another clause now carries its old number.

What is left of the old version was removed, what is left of the new one was added. The
changes come in the new version's order, each removed clause after the clause that
followed it before.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from app.course.documents import Document, Section
from app.course.files import LessonText

__all__ = [
    "KINDS",
    "ClauseChange",
    "Segment",
    "align_versions",
    "change_lessons",
    "changed_refs",
    "diff_segments",
    "is_new_version",
    "normalise_title",
    "removed_note",
    "touched_clauses",
]

KINDS = ("added", "removed", "changed", "unchanged")

Segment = tuple[str, str]  # (op, text), op in "equal", "insert", "delete"

SIMILAR = 0.6  # texts this alike are one clause, whatever their numbers
SAME_NUMBER = 0.35  # under the same number, texts this alike are one clause
NUMBER_BONUS = 0.1  # how much the same number adds to the likeness of two texts

_ARTICLE = re.compile(r"第[〇零一二三四五六七八九十百千\d]+条")


@dataclass(frozen=True)
class Clause:
    ref: str  # 出处 as in the outline: "第二章 第五条", "二（一）"
    key: str  # what pass 2 compares: "第五条", or the 出处 of a section
    text: str  # the clause's paragraphs joined by "\n", numbers and all
    body: str  # the text without its leading number, what passes 1 and 3 compare


@dataclass(frozen=True)
class ClauseChange:
    kind: str  # one of KINDS
    old_ref: str | None  # None for an added clause
    new_ref: str | None  # None for a removed clause
    old_text: str  # "" for an added clause
    new_text: str  # "" for a removed clause
    segments: tuple[Segment, ...]  # old → new; equal + delete = old, equal + insert = new

    @property
    def renumbered(self) -> bool:
        """Paired clauses whose number (出处) differs between the versions."""
        return (
            self.old_ref is not None and self.new_ref is not None and (self.old_ref != self.new_ref)
        )


# ---------------------------------------------------------------- the clauses


def _is_article(section: Section) -> bool:
    return bool(_ARTICLE.fullmatch(section.number))


def _walk(sections: Iterable[Section]) -> Iterator[Section]:
    for section in sections:
        yield section
        yield from _walk(section.children)


def _subtree_paragraphs(section: Section) -> list[str]:
    out = list(section.paragraphs)
    for child in section.children:
        out.extend(_subtree_paragraphs(child))
    out.extend(section.after)
    return out


def _strip_number(text: str, number: str) -> str:
    return text[len(number) :].lstrip() if number and text.startswith(number) else text


def _clause(section: Section, paragraphs: list[str], key: str) -> Clause:
    text = "\n".join(paragraphs)
    return Clause(section.source_ref, key, text, _strip_number(text, section.number))


def _has_articles(document: Document) -> bool:
    return any(_is_article(section) for section in _walk(document.sections))


def clauses(document: Document, *, articles: bool) -> list[Clause]:
    """The document's clauses in reading order (see the module docstring)."""
    out: list[Clause] = []

    def visit(section: Section) -> None:
        if articles and _is_article(section):
            out.append(_clause(section, _subtree_paragraphs(section), section.number))
            return
        own = list(section.paragraphs) + list(section.after)
        if not articles or len(own) > 1:
            out.append(_clause(section, own, section.source_ref))
        for child in section.children:
            visit(child)

    for section in document.sections:
        visit(section)
    return out


# ---------------------------------------------------------------- pairing


def _pair_same_text(old: list[Clause], new: list[Clause], pairs: dict[int, int]) -> None:
    matcher = SequenceMatcher(None, [c.body for c in old], [c.body for c in new], autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[block.a + k] = block.b + k
    # A clause moved elsewhere, the same text: paired when its text is found once only.
    taken = set(pairs.values())
    free_new: dict[str, list[int]] = {}
    for j, clause in enumerate(new):
        if j not in taken:
            free_new.setdefault(clause.body, []).append(j)
    free_old: dict[str, list[int]] = {}
    for i, clause in enumerate(old):
        if i not in pairs:
            free_old.setdefault(clause.body, []).append(i)
    for body, olds in free_old.items():
        news = free_new.get(body, [])
        if len(olds) == 1 and len(news) == 1:
            pairs[olds[0]] = news[0]


def _ratio(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SAME_NUMBER or matcher.quick_ratio() < SAME_NUMBER:
        return 0.0
    return matcher.ratio()


def _pair_alike(old: list[Clause], new: list[Clause], pairs: dict[int, int]) -> None:
    free_old = [i for i in range(len(old)) if i not in pairs]
    taken = set(pairs.values())
    free_new = [j for j in range(len(new)) if j not in taken]
    candidates: list[tuple[float, int, int]] = []
    for i in free_old:
        for j in free_new:
            same = old[i].key == new[j].key
            ratio = _ratio(old[i].body, new[j].body)
            if ratio >= SIMILAR or (same and ratio >= SAME_NUMBER):
                candidates.append((-(ratio + (NUMBER_BONUS if same else 0.0)), i, j))
    candidates.sort()
    used_new: set[int] = set()
    for _, i, j in candidates:
        if i not in pairs and j not in used_new:
            pairs[i] = j
            used_new.add(j)


# ---------------------------------------------------------------- the diff


def diff_segments(old: str, new: str) -> tuple[Segment, ...]:
    """Character by character (Chinese has no spaces between words), merged into readable
    runs: a single equal character between two changes joins them, so "甲乙丙" → "甲丁丙"
    … never shows one-character confetti. Joining the "equal" and "delete" texts gives
    `old` back, the "equal" and "insert" texts give `new`."""
    if old == new:
        return (("equal", old),) if old else ()
    codes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    out: list[Segment] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def emit(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    def flush() -> None:
        emit("delete", "".join(deleted))
        emit("insert", "".join(inserted))
        deleted.clear()
        inserted.clear()

    for n, (op, a1, a2, b1, b2) in enumerate(codes):
        if op == "equal":
            between = (deleted or inserted) and n + 1 < len(codes)
            if between and a2 - a1 <= 1:
                deleted.append(old[a1:a2])
                inserted.append(new[b1:b2])
                continue
            flush()
            emit("equal", old[a1:a2])
            continue
        deleted.append(old[a1:a2])
        inserted.append(new[b1:b2])
    flush()
    return tuple(out)


# ---------------------------------------------------------------- the alignment


def align_versions(old: Document, new: Document) -> list[ClauseChange]:
    """Every clause of both versions, paired: added, removed, changed or unchanged (the same
    text; it may have been renumbered, see `ClauseChange.renumbered`)."""
    articles = _has_articles(old) and _has_articles(new)
    before, after = clauses(old, articles=articles), clauses(new, articles=articles)
    pairs: dict[int, int] = {}
    _pair_same_text(before, after, pairs)
    _pair_alike(before, after, pairs)

    placed: list[tuple[float, int, ClauseChange]] = []
    partner = {j: i for i, j in pairs.items()}
    for j, clause in enumerate(after):
        i = partner.get(j)
        if i is None:
            change = ClauseChange(
                "added", None, clause.ref, "", clause.text, diff_segments("", clause.text)
            )
            placed.append((j, -1, change))
            continue
        was = before[i]
        kind = "unchanged" if was.body == clause.body else "changed"
        segments = diff_segments(was.text, clause.text)
        change = ClauseChange(kind, was.ref, clause.ref, was.text, clause.text, segments)
        placed.append((j, i, change))
    for i, clause in enumerate(before):
        if i in pairs:
            continue
        earlier = [pairs[k] for k in range(i) if k in pairs]
        position = max(earlier) + 0.5 if earlier else -0.5
        change = ClauseChange(
            "removed", clause.ref, None, clause.text, "", diff_segments(clause.text, "")
        )
        placed.append((position, i, change))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [change for _, _, change in placed]


def changed_refs(changes: Iterable[ClauseChange]) -> list[str]:
    """The old 出处 of the changed and removed clauses, in order, each once: questions citing
    them are to be checked against the new text."""
    out: list[str] = []
    for change in changes:
        if change.kind in ("changed", "removed") and change.old_ref and change.old_ref not in out:
            out.append(change.old_ref)
    return out


# ---------------------------------------------------------------- questions to check


def _squeeze(text: str) -> str:
    """Text as passages and anchors are compared: NFKC, no whitespace, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def touched_clauses(
    passage: str, anchors: Sequence[str], changes: Iterable[ClauseChange]
) -> list[ClauseChange]:
    """The changed or removed clauses of the old version that a question citing `passage`
    (the text of its 出处 in the old version) may rest on.

    A passage can hold several clauses (a lesson of three short articles). Every changed or
    removed clause in it counts, unless the question's `anchors` (the words it rests on: its
    依据, or its answers) all stand in clauses of the passage that did not change and in none
    that did. With no anchors, every changed clause of the passage counts."""
    text = _squeeze(passage)
    inside = [c for c in changes if c.old_text and _squeeze(c.old_text) in text]
    touched = [c for c in inside if c.kind in ("changed", "removed")]
    if not touched or not anchors:
        return touched
    kept = [_squeeze(c.old_text) for c in inside if c.kind == "unchanged"]
    moved = [_squeeze(c.old_text) for c in touched]
    for anchor in (_squeeze(a) for a in anchors):
        if not anchor or not any(anchor in clause for clause in kept):
            return touched
        if any(anchor in clause for clause in moved):
            return touched
    return []


# ---------------------------------------------------------------- the lesson “本次修改了什么”


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def change_lessons(changes: Iterable[ClauseChange]) -> list[LessonText]:
    """A lesson for every changed or added clause, in the new version's order: its paragraphs
    the new version's own text, under the clause's new 出处; a changed clause's 学习要点
    quote the text before the change."""
    lessons = []
    for change in changes:
        if change.kind not in ("changed", "added") or not change.new_ref:
            continue
        paragraphs = tuple(p for p in change.new_text.split("\n") if p.strip())
        if change.kind == "added":
            lessons.append(LessonText(change.new_ref, f"{change.new_ref}（新增）", paragraphs))
            continue
        was = f"修改前（{change.old_ref}）：" if change.renumbered else "修改前："
        lessons.append(
            LessonText(
                change.new_ref,
                f"{change.new_ref}（修改）",
                paragraphs,
                f"{was}\n\n{_quote(change.old_text)}",
            )
        )
    return lessons


def removed_note(changes: Iterable[ClauseChange]) -> str:
    """The removed clauses, quoted (Markdown), for the note of the lesson's module."""
    removed = [c for c in changes if c.kind == "removed"]
    if not removed:
        return ""
    parts = ["新版删去了以下条文："]
    parts += [f"**{c.old_ref}**\n\n{_quote(c.old_text)}" for c in removed]
    return "\n\n".join(parts)


# ---------------------------------------------------------------- same document?

_AMENDMENT_MARK = re.compile(r"[（(]\s*修\s*正\s*案?\s*[）)]")


def normalise_title(title: str | None) -> str:
    """The title as compared: without 《》, “（修正案）” and whitespace."""
    if not title:
        return ""
    text = "".join(title.split())
    text = _AMENDMENT_MARK.sub("", text)
    return text.replace("《", "").replace("》", "")


def _field(meta: Any, name: str) -> str:
    value = meta.get(name) if isinstance(meta, dict) else getattr(meta, name, None)
    return "".join(str(value).split()) if value else ""


def is_new_version(old_meta: Any, new_meta: Any) -> bool:
    """Whether a document is a version of one imported before: the same 文号, or the same
    title once normalised (`normalise_title`). Takes a `DocumentMeta`, a `SourceInfo` or a
    dict with "doc_number" and "title"."""
    old_number, new_number = _field(old_meta, "doc_number"), _field(new_meta, "doc_number")
    if old_number and old_number == new_number:
        return True
    old_title = normalise_title(_field(old_meta, "title"))
    return bool(old_title) and old_title == normalise_title(_field(new_meta, "title"))
