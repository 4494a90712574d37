"""Drafted questions (出题助手): questions of all four types made from a lesson's own
sentences (pure: no I/O, no database; the same input always gives the same drafts).

`draft_questions` takes a module's lessons, the other passages of the same document and
the questions its bank already has, and returns `Draft`s, each holding a `Question` of the
bank model with its 出处 (the lesson's source_ref), a 解析 quoting the original sentence and
a difficulty. What each type is made of (the spans come from `app/banks/drafting_rules.py`):

- 填空: one blank in place of a quoted term, a title, a number or date, the predicate of a
  defining sentence, or one item of an enumeration;
- 单选: an item of an enumeration or of parallel clauses, as （　）, with three wrong
  options; 多选: a whole enumeration as （　）, every item right, with one or two wrong
  options. Wrong options are items of other enumerations of the same document that do
  not occur in the cited lesson: real phrases of the document, never made-up words;
- 判断: a part of a sentence as written (对), or the same with one enumeration item
  swapped for an item of another list of the document (错); the 解析 quotes the original.

Guarantees, checked again before a draft is returned: every answer (the right options, the
blanks) stands word for word in the cited lesson; options differ; a stem is neither the
same as nor nearly the same as (the lint's ratio) another draft's or an existing question's.
So a file of drafts passes `peixun banks lint --strict`.

Difficulty (1 易, 2 中, 3 难), a simple rule: 判断 that is right 1, wrong 2; 单选 1 when the
answer has at most 4 characters, else 2; 多选 2, 3 with 4 or more right items; 填空 2, 3 when
the blank holds more than 6 characters.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.banks.drafting_rules import (
    Listing,
    Sentence,
    Span,
    clauses,
    distractor_pool,
    distractors,
    listings,
    sentence_parts,
    single_spans,
    split_sentences,
    stable,
)
from app.banks.lint import NEAR_DUPLICATE_RATIO
from app.banks.model import LETTERS, Question, blank_count, normalize_answer

__all__ = ["Draft", "Passage", "difficulty_of", "draft_questions", "next_keys"]

BLANK = "___"
PAREN = "（　）"
STEM_LIMIT = 60  # characters of a sentence shown around what is asked, at most
STEM_LEAST = 16  # … and at least, where the sentence has them
STATEMENT_LIMIT = 80  # characters of a 判断 statement
QUOTE_LIMIT = 120  # a longer sentence is quoted by the part that holds the answer
# A little below the lint's ratio, so that what passes here passes there in either order.
SIMILAR = NEAR_DUPLICATE_RATIO - 0.02
TYPE_ORDER = ("fill_blank", "single", "true_false", "multiple")
_ENDS = "，,；;：:、"


@dataclass(frozen=True)
class Passage:
    """A lesson's text: its source_ref (出处) and its paragraphs, word for word."""

    source_ref: str
    paragraphs: tuple[str, ...]
    title: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class Draft:
    """A drafted question and where it comes from: the lesson (`question.source_ref`), the
    paragraph of the lesson, the sentence quoted, and the rule that made it."""

    question: Question
    paragraph: int
    sentence: str
    rule: str


@dataclass(frozen=True)
class _Candidate:
    type: str
    stem: str
    sentence: Sentence
    rule: str
    explanation: str
    options: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    blanks: tuple[tuple[str, ...], ...] = ()


# -------------------------------------------------------------------------- text helpers


def _window(
    text: str, start: int, end: int, limit: int = STEM_LIMIT, least: int = STEM_LEAST
) -> tuple[int, int]:
    """The part of a sentence shown around text[start:end]: the clauses holding it, with
    their neighbours in the same ；-part added until it is `least` characters long (without
    going over `limit`)."""
    part = next(((s, e) for s, e in sentence_parts(text) if s <= start < e), (0, len(text)))
    pieces = [(s, e) for s, e in clauses(text) if part[0] <= s < part[1]]
    if not pieces:
        return part
    inside = [i for i, (s, e) in enumerate(pieces) if e > start and s < end] or [0]
    low, high = inside[0], inside[-1]
    while pieces[high][1] - pieces[low][0] < least:
        grown = False
        for at in (low - 1, high + 1):
            if 0 <= at < len(pieces) and pieces[high][1] - pieces[low][0] < least:
                new_low, new_high = min(low, at), max(high, at)
                if pieces[new_high][1] - pieces[new_low][0] <= limit:
                    low, high, grown = new_low, new_high, True
        if not grown:
            break
    last = pieces[high][1]
    if last < len(text) and text[last] in "。！？；;":
        last += 1
    return pieces[low][0], last


def _shown(text: str) -> str:
    """A piece of a sentence as a stem shows it: no stray comma at either end, one end mark."""
    text = text.strip().strip(_ENDS)
    if text and text[-1] not in "。！？":
        text += "。"
    return text


def _stem(sentence: str, start: int, end: int, filler: str) -> str:
    low, high = _window(sentence, start, end)
    return _shown(sentence[low:start] + filler + sentence[end:high])


def _quote(sentence: str, start: int) -> str:
    """The original words a 解析 quotes: the sentence, or the part of it holding `start`."""
    if len(sentence) > QUOTE_LIMIT:
        low, high = _window(sentence, start, start + 1, QUOTE_LIMIT, QUOTE_LIMIT)
        sentence = sentence[low:high].strip(_ENDS)
    return sentence.replace("“", "‘").replace("”", "’")


def _explain(sentence: str, start: int) -> str:
    return f"原文：“{_quote(sentence, start)}”"


# ---------------------------------------------------------------------------- builders


def fill_blank(sentence: Sentence, span: Span) -> _Candidate | None:
    answer = span.text
    if re.search(r"[；;|\n]", answer) or not answer.strip():
        return None
    stem = _stem(sentence.text, span.start, span.end, BLANK)
    return _Candidate(
        "fill_blank",
        stem,
        sentence,
        span.rule,
        _explain(sentence.text, span.start),
        blanks=((answer,),),
    )


def _ordered(stem: str, options: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(options, key=lambda option: stable(f"{stem}|{option}")))


def single_choice(
    sentence: Sentence, listing: Listing, index: int, pool: Sequence[str], passage: str
) -> _Candidate | None:
    item = listing.items[index]
    wrong = distractors(pool, item.text, passage, [i.text for i in listing.items], 3)
    if not wrong:
        return None
    stem = _stem(sentence.text, item.start, item.end, PAREN)
    options = _ordered(stem, [item.text, *wrong])
    return _Candidate(
        "single",
        stem,
        sentence,
        listing.rule,
        _explain(sentence.text, item.start),
        options=options,
        answer=(LETTERS[options.index(item.text)],),
    )


def multiple_choice(
    sentence: Sentence, listing: Listing, pool: Sequence[str], passage: str
) -> _Candidate | None:
    items = [item.text for item in listing.items]
    if not 2 <= len(items) <= len(LETTERS) - 1:
        return None
    extra = min(2 if len(items) <= 4 else 1, len(LETTERS) - len(items))
    longest = max(items, key=len)
    wrong = distractors(pool, longest, passage, items, extra)
    if not wrong:
        return None
    stem = _stem(sentence.text, listing.start, listing.end, PAREN)
    options = _ordered(stem, [*items, *wrong])
    letters = tuple(sorted(LETTERS[options.index(item)] for item in items))
    return _Candidate(
        "multiple",
        stem,
        sentence,
        listing.rule,
        _explain(sentence.text, listing.start),
        options=options,
        answer=letters,
    )


def statement(sentence: Sentence, start: int, end: int) -> _Candidate | None:
    """判断, 对: the words of the sentence from `start` to `end` as they stand."""
    low, high = _window(sentence.text, start, end, STATEMENT_LIMIT, STATEMENT_LIMIT)
    stem = _shown(sentence.text[low:high])
    if len(stem) < 10:
        return None
    return _Candidate(
        "true_false",
        stem,
        sentence,
        "statement",
        _explain(sentence.text, low) + "；题目与原文一致。",
        answer=("对",),
    )


def swapped_statement(
    sentence: Sentence, listing: Listing, index: int, pool: Sequence[str], passage: str
) -> _Candidate | None:
    """判断, 错: the sentence with one item swapped for an item of another list."""
    item = listing.items[index]
    wrong = distractors(pool, item.text, passage, [i.text for i in listing.items], 1)
    if not wrong:
        return None
    low, high = _window(sentence.text, item.start, item.end, STATEMENT_LIMIT, STATEMENT_LIMIT)
    text = sentence.text
    stem = _shown(text[low : item.start] + wrong[0] + text[item.end : high])
    return _Candidate(
        "true_false",
        stem,
        sentence,
        "swap",
        f"{_explain(text, item.start)}；题中的“{wrong[0]}”，原文是“{item.text}”。",
        answer=("错",),
    )


# ---------------------------------------------------------------------------- candidates


def sentence_candidates(
    sentence: Sentence, turn: int, pool: Sequence[str], passage: str
) -> list[_Candidate]:
    """Every question a sentence can give, its types taking turns from `turn`."""
    found = listings(sentence)
    by_type: dict[str, list[_Candidate | None]] = {name: [] for name in TYPE_ORDER}
    for span in single_spans(sentence):
        by_type["fill_blank"].append(fill_blank(sentence, span))
    for number, listing in enumerate(found):
        size = len(listing.items)
        pick = stable(sentence.text + str(number)) % size
        if listing.rule == "enumeration":
            by_type["fill_blank"].append(fill_blank(sentence, listing.items[pick]))
        by_type["single"].append(single_choice(sentence, listing, (pick + 1) % size, pool, passage))
        if listing.rule == "enumeration":
            by_type["multiple"].append(multiple_choice(sentence, listing, pool, passage))
    parts = sentence_parts(sentence.text)
    for number, (start, end) in enumerate(parts):
        inside = [item for item in found if start <= item.start < end]
        swap = None
        if inside and (turn + number) % 2:
            listing = inside[0]
            swap = swapped_statement(
                sentence, listing, stable(sentence.text) % len(listing.items), pool, passage
            )
        by_type["true_false"].append(swap or statement(sentence, start, end))
    order = TYPE_ORDER[turn % 4 :] + TYPE_ORDER[: turn % 4]
    queues = [[c for c in by_type[name] if c is not None] for name in order]
    interleaved = []
    for rank in range(max(map(len, queues), default=0)):
        interleaved += [queue[rank] for queue in queues if rank < len(queue)]
    return interleaved


# ------------------------------------------------------------------------------ checking


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    for first, second in ((a, b), (b, a)):
        matcher = difflib.SequenceMatcher(None, first, second, autojunk=False)
        if (
            matcher.real_quick_ratio() >= SIMILAR
            and matcher.quick_ratio() >= SIMILAR
            and matcher.ratio() >= SIMILAR
        ):
            return True
    return False


def faithful(question: Question, passage: str) -> bool:
    """Whether every answer of a question stands in the passage (normalised as the lint
    does) and the question is well formed as the lint checks it."""
    text = normalize_answer(passage)
    if question.type == "fill_blank":
        return blank_count(question.stem) == len(question.blanks) > 0 and all(
            group and normalize_answer(group[0]) in text for group in question.blanks
        )
    if question.type in ("single", "multiple"):
        options = [normalize_answer(option) for option in question.options]
        if len(set(options)) != len(options) or not all(options):
            return False
        right = [LETTERS.index(letter) for letter in question.answer]
        wanted = 1 if question.type == "single" else 2
        return len(right) >= wanted and all(options[i] in text for i in right)
    return question.answer in (("对",), ("错",))


def difficulty_of(question: Question) -> int:
    """1 易, 2 中, 3 难, by the rule in the module's description."""
    if question.type == "true_false":
        return 1 if question.answer == ("对",) else 2
    if question.type == "single":
        right = question.options[LETTERS.index(question.answer[0])]
        return 1 if len(right) <= 4 else 2
    if question.type == "multiple":
        return 3 if len(question.answer) >= 4 else 2
    return 3 if any(len(group[0]) > 6 for group in question.blanks) else 2


def next_keys(bank_slug: str, taken: Iterable[str], count: int) -> list[str]:
    """`count` new keys `{bank}-NNN` after the highest number the bank already uses."""
    used = set(taken)
    pattern = re.compile(rf"{re.escape(bank_slug)}-(\d+)")
    numbers = [int(m.group(1)) for key in used if (m := pattern.fullmatch(key))]
    number, keys = max(numbers, default=0), list[str]()
    while len(keys) < count:
        number += 1
        key = f"{bank_slug}-{number:03d}"
        if key not in used:
            keys.append(key)
    return keys


# ------------------------------------------------------------------------------- drafting


def draft_questions(
    lessons: Sequence[Passage],
    *,
    bank_slug: str,
    document: Sequence[Passage] = (),
    existing: Sequence[Question] = (),
    per_lesson: int | None = None,
) -> list[Draft]:
    """Drafts for `lessons` (one module), in lesson order, keyed `{bank_slug}-NNN` after the
    bank's `existing` questions, none like one of them. `document` holds the other
    passages of the same document, whose lists give wrong options too. `per_lesson` caps
    the drafts of each lesson (None: every draft that passes)."""
    pool = distractor_pool(p.paragraphs for p in [*lessons, *document])
    seen = [normalize_answer(question.stem) for question in existing]
    chosen: list[tuple[Passage, int, _Candidate]] = []
    for passage in lessons:
        text = normalize_answer(passage.text)
        queues: dict[int, list[list[_Candidate]]] = {}
        for turn, sentence in enumerate(split_sentences(passage.paragraphs)):
            found = sentence_candidates(sentence, turn, pool, text)
            queues.setdefault(sentence.paragraph, []).append(found)
        order = _round_robin([_round_robin(sentences) for sentences in queues.values()])
        taken: list[tuple[int, _Candidate]] = []
        for position, candidate in enumerate(order):
            if per_lesson is not None and len(taken) >= per_lesson:
                break
            stem = normalize_answer(candidate.stem)
            if any(_similar(stem, other) for other in seen):
                continue
            seen.append(stem)
            taken.append((position, candidate))
        taken.sort(key=lambda pair: (pair[1].sentence.paragraph, pair[0]))
        chosen += [(passage, position, candidate) for position, candidate in taken]
    keys = next_keys(bank_slug, [question.key for question in existing], len(chosen))
    drafts = []
    for key, (passage, _, candidate) in zip(keys, chosen, strict=True):
        question = _question(key, passage.source_ref, candidate)
        if faithful(question, passage.text):
            sentence = candidate.sentence
            drafts.append(Draft(question, sentence.paragraph, sentence.text, candidate.rule))
    return drafts


def _round_robin(queues: Sequence[Sequence[_Candidate]]) -> list[_Candidate]:
    merged = []
    for rank in range(max(map(len, queues), default=0)):
        merged += [queue[rank] for queue in queues if rank < len(queue)]
    return merged


def _question(key: str, source_ref: str, candidate: _Candidate) -> Question:
    question = Question(
        key=key,
        type=candidate.type,
        stem=candidate.stem,
        options=candidate.options,
        answer=candidate.answer,
        blanks=candidate.blanks,
        explanation=candidate.explanation,
        source_ref=source_ref,
    )
    return dataclasses.replace(question, difficulty=difficulty_of(question))
