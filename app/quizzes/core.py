"""Drawing a quiz paper from a pool of questions, and grading it (pure: no I/O).

A quiz draws its questions by rules (type, count, points, optionally banks and 出处).
The paper an attempt gets is frozen as `PaperItem`s, options already in the order shown,
so grading depends only on that paper and the cadre's responses, never on later edits
to the banks. A response is a tuple of strings: single → (letter,), multiple → letters,
true_false → ("对",) or ("错",), fill_blank → one text per blank; () is unanswered.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

from app.banks.model import LETTERS, QUESTION_TYPES, Question, normalize_answer

REVIEW_POLICIES = {
    "score_only": "只显示成绩",
    "answers": "交卷后显示答案和解析",
    "after_close": "测验关闭后显示答案",
}
COUNTED_POLICIES = {"highest": "最高分", "latest": "最后一次", "first": "第一次"}
CHOICE_TYPES = ("single", "multiple")
MAX_BLANK_LENGTH = 200
MAX_QUESTIONS = 300  # on one paper; also keeps the matching's recursion shallow
_TRUE_WORDS = {"对", "true", "√", "✓", "正确"}
_FALSE_WORDS = {"错", "false", "×", "✗", "错误"}
# Characters a browser may send that no answer needs and a database may refuse.
_DROPPED_CATEGORIES = {"Cc", "Cs"}


class DrawError(ValueError):
    """The pool can't satisfy the quiz's rules; the message lists every shortage in Chinese."""


class ResponseError(ValueError):
    """A response a browser sent that can't be an answer; the message is Chinese."""


@dataclass(frozen=True)
class PoolQuestion:
    """One active question version a quiz may draw from."""

    version_id: int  # database id of the frozen question version
    bank: str  # bank slug
    question: Question


@dataclass(frozen=True)
class DrawRule:
    type: str  # question type
    count: int  # how many to draw (>= 1)
    points: float  # points per question of this rule
    banks: tuple[str, ...] = ()  # bank slugs; empty = every bank in the pool
    source_refs: tuple[str, ...] = ()  # empty = any 出处


@dataclass(frozen=True)
class PaperItem:
    """One question as frozen on an attempt's paper, in the order shown."""

    position: int  # 1-based
    version_id: int
    key: str
    type: str
    stem: str
    options: tuple[str, ...]  # in the order shown
    option_order: tuple[int, ...]  # option_order[i] = bank index of shown option i
    answer: tuple[str, ...]  # in shown letters, sorted; or ("对",) / ("错",)
    blanks: tuple[tuple[str, ...], ...]
    points: float
    explanation: str
    source_ref: str


@dataclass(frozen=True)
class ItemResult:
    position: int
    points: float
    awarded: float
    correct: bool  # full points
    answered: bool  # the cadre gave something (for fill_blank: at least one blank)
    blank_correct: tuple[bool, ...]  # fill_blank only, one per blank


@dataclass(frozen=True)
class Grade:
    awarded: float  # points earned, rounded to 2 decimals
    total: float  # points on the paper
    score: float  # awarded scaled to full marks, 1 decimal, rounded half up
    passed: bool
    items: tuple[ItemResult, ...]


# ------------------------------------------------------------------------------ drawing


def rule_shortages(pool: Sequence[PoolQuestion], rules: Sequence[DrawRule]) -> list[str]:
    """Chinese messages for every rule that is invalid or that the pool can't fill, no
    question serving two rules; empty exactly when `draw_paper` will succeed."""
    if not rules:
        return ["测验没有抽题规则。"]
    pool = _unique(pool)
    problems = [text for n, rule in enumerate(rules, 1) for text in _rule_problems(n, rule)]
    valid = [(n, rule) for n, rule in enumerate(rules, 1) if not _rule_problems(n, rule)]
    wanted = sum(rule.count for _, rule in valid)
    if wanted > MAX_QUESTIONS:
        return [*problems, f"一份试卷最多 {MAX_QUESTIONS} 题，抽题规则共要 {wanted} 题。"]
    if _assign(pool, [rule for _, rule in valid], range(len(pool))) is not None:
        return problems
    return problems + _shortages(pool, valid)


def draw_paper(
    pool: Sequence[PoolQuestion],
    rules: Sequence[DrawRule],
    rng: random.Random,
    shuffle_questions: bool,
    shuffle_options: bool,
) -> tuple[PaperItem, ...]:
    """A paper with `count` random questions per rule and no version twice, in rule order
    then pool order unless shuffled; the same for the same seed. Raises DrawError."""
    pool = _unique(pool)
    invalid = [text for n, rule in enumerate(rules, 1) for text in _rule_problems(n, rule)]
    if not rules or invalid or sum(rule.count for rule in rules) > MAX_QUESTIONS:
        raise DrawError("\n".join(rule_shortages(pool, rules)))
    # The matching itself says whether the pool can fill the rules: the messages of
    # `rule_shortages` are worked out only when it can't.
    taken = _assign(pool, list(rules), rng.sample(range(len(pool)), len(pool)))
    if taken is None:
        raise DrawError("\n".join(rule_shortages(pool, rules)) or "抽题失败。")
    picks = [(i, rule) for chosen, rule in zip(taken, rules, strict=True) for i in sorted(chosen)]
    if shuffle_questions:
        rng.shuffle(picks)
    option_rng = rng if shuffle_options else None
    return tuple(
        _paper_item(position, pool[index], rule.points, option_rng)
        for position, (index, rule) in enumerate(picks, start=1)
    )


def _unique(pool: Sequence[PoolQuestion]) -> list[PoolQuestion]:
    """The pool without repeated versions (first kept), so none can be drawn twice."""
    seen: dict[int, PoolQuestion] = {}
    for entry in pool:
        seen.setdefault(entry.version_id, entry)
    return list(seen.values())


def _matches(rule: DrawRule, entry: PoolQuestion) -> bool:
    return (
        entry.question.type == rule.type
        and (not rule.banks or entry.bank in rule.banks)
        and (not rule.source_refs or entry.question.source_ref in rule.source_refs)
    )


def _rule_problems(number: int, rule: DrawRule) -> list[str]:
    problems = []
    if rule.type not in QUESTION_TYPES:
        problems.append(f"规则 {number} 的题型“{rule.type}”不存在。")
    if rule.count < 1:
        problems.append(f"规则 {number} 的题数应至少为 1。")
    if not (math.isfinite(rule.points) and rule.points > 0):
        problems.append(f"规则 {number} 的每题分值应大于 0。")
    return problems


def _assign(
    pool: Sequence[PoolQuestion], rules: Sequence[DrawRule], order: Iterable[int]
) -> list[list[int]] | None:
    """Pool indices per rule filling every rule, none twice, or None when impossible.

    A bipartite matching of rule places to questions (augmenting paths), trying the
    questions in `order`: for rules that don't overlap, each takes the first of its
    questions in that order; overlapping rules give way to each other when needed."""
    order = list(order)
    places = [number for number, rule in enumerate(rules) for _ in range(rule.count)]
    wants = [[i for i in order if _matches(rule, pool[i])] for rule in rules]
    holder: dict[int, int] = {}  # pool index → place

    def seat(place: int, seen: set[int]) -> bool:
        for index in wants[places[place]]:
            if index not in seen:
                seen.add(index)
                if index not in holder or seat(holder[index], seen):
                    holder[index] = place
                    return True
        return False

    if not all(seat(place, set()) for place in range(len(places))):
        return None
    taken: list[list[int]] = [[] for _ in rules]
    for index in order:
        if index in holder:
            taken[places[holder[index]]].append(index)
    return taken


def _shortages(pool: Sequence[PoolQuestion], rules: list[tuple[int, DrawRule]]) -> list[str]:
    """Which numbered rules come up short when each, in order, takes the questions the
    fewest later rules want: a readable account of why no assignment exists."""
    used: set[int] = set()
    messages = []
    for offset, (number, rule) in enumerate(rules):
        later = [other for _, other in rules[offset + 1 :]]
        matching = [i for i, entry in enumerate(pool) if _matches(rule, entry)]
        free = sorted(
            (i for i in matching if i not in used),
            key=lambda i: sum(_matches(other, pool[i]) for other in later),
        )
        if len(free) < rule.count:
            messages.append(_shortage_text(number, rule, len(matching), len(free)))
        used.update(free[: rule.count])
    return messages


def _shortage_text(number: int, rule: DrawRule, matching: int, free: int) -> str:
    parts = [QUESTION_TYPES.get(rule.type, rule.type)]
    parts += [f"题库：{'、'.join(rule.banks)}"] if rule.banks else []
    parts += [f"出处：{'、'.join(rule.source_refs)}"] if rule.source_refs else []
    head = f"规则 {number}（{'，'.join(parts)}）需要 {rule.count} 题，"
    gap = f"还差 {rule.count - free} 题。"
    if matching == free:
        return f"{head}题库中只有 {free} 题，{gap}"
    return f"{head}题库中有 {matching} 题，其中 {matching - free} 题已被前面的规则抽走，{gap}"


def _paper_item(
    position: int, entry: PoolQuestion, points: float, rng: random.Random | None
) -> PaperItem:
    question = entry.question
    order = tuple(range(len(question.options)))
    answer = question.answer
    if question.type in CHOICE_TYPES:
        if rng is not None:
            order = tuple(rng.sample(order, len(order)))
        shown = {LETTERS[bank_index]: LETTERS[i] for i, bank_index in enumerate(order)}
        answer = tuple(sorted(shown[letter] for letter in question.answer))
    return PaperItem(
        position=position,
        version_id=entry.version_id,
        key=question.key,
        type=question.type,
        stem=question.stem,
        options=tuple(question.options[i] for i in order),
        option_order=order,
        answer=answer,
        blanks=question.blanks,
        points=points,
        explanation=question.explanation,
        source_ref=question.source_ref,
    )


# ---------------------------------------------------------------------------- responses


def clean_response(item: PaperItem, raw: Sequence[str]) -> tuple[str, ...]:
    """The canonical response for what a browser sent (see the module docstring);
    raises only ResponseError, with a Chinese message naming the question."""
    values = [str(value) for value in ([raw] if isinstance(raw, str) else raw)]
    folded = [unicodedata.normalize("NFKC", value).strip() for value in values]
    if item.type in CHOICE_TYPES:
        return _clean_choice(item, folded)
    if item.type == "true_false":
        return _clean_true_false(item, folded)
    if item.type == "fill_blank":
        return _clean_blanks(item, values)
    raise ResponseError(f"第 {item.position} 题的题型无法作答。")


def _clean_choice(item: PaperItem, values: list[str]) -> tuple[str, ...]:
    valid = set(LETTERS[: len(item.options)])
    chosen = tuple(sorted({value.upper() for value in values} & valid))
    if item.type == "single" and len(chosen) > 1:
        raise ResponseError(f"第 {item.position} 题是单选题，只能选一个答案。")
    return chosen


def _clean_true_false(item: PaperItem, values: list[str]) -> tuple[str, ...]:
    answers = set()
    for value in values:
        word = value.casefold()
        if word in _TRUE_WORDS:
            answers.add("对")
        elif word in _FALSE_WORDS:
            answers.add("错")
        elif word:
            raise ResponseError(f"第 {item.position} 题只能答“对”或“错”。")
    if len(answers) > 1:
        raise ResponseError(f"第 {item.position} 题不能同时答“对”和“错”。")
    return tuple(answers)


def _clean_blanks(item: PaperItem, values: list[str]) -> tuple[str, ...]:
    texts = []
    for value in [*values, *[""] * len(item.blanks)][: len(item.blanks)]:
        kept = "".join(c for c in value if unicodedata.category(c) not in _DROPPED_CATEGORIES)
        texts.append(kept.strip()[:MAX_BLANK_LENGTH].rstrip())
    return tuple(texts) if any(texts) else ()


def is_answered(item: PaperItem, response: tuple[str, ...]) -> bool:
    """Whether the question is fully answered: for fill_blank, every blank filled."""
    if item.type == "fill_blank":
        return len(response) == len(item.blanks) and all(text.strip() for text in response)
    return bool(response)


def unanswered_positions(
    items: Sequence[PaperItem], responses: Mapping[int, tuple[str, ...]]
) -> list[int]:
    """Positions of the questions not fully answered; `responses` is keyed by position."""
    return [
        item.position for item in items if not is_answered(item, responses.get(item.position, ()))
    ]


def correct_response(item: PaperItem) -> tuple[str, ...]:
    """A response that earns full points: the answer, or per blank an accepted text."""
    if item.type != "fill_blank":
        return item.answer
    return tuple(
        next((text for text in accepted if normalize_answer(text)), accepted[0] if accepted else "")
        for accepted in item.blanks
    )


# ------------------------------------------------------------------------------ grading


def grade_item(
    item: PaperItem, response: tuple[str, ...], partial_credit: bool = False
) -> ItemResult:
    """Points for one response. Single and true_false are all or nothing; multiple too,
    unless `partial_credit`: then no wrong letter earns a share per right letter chosen;
    each fill_blank blank is worth an equal share."""
    answered = any(text.strip() for text in response)
    if item.type == "fill_blank":
        return _grade_blanks(item, response, answered)
    given = set(response)
    expected = set(item.answer)
    correct = bool(expected) and given == expected
    awarded = item.points if correct else 0.0
    if not correct and partial_credit and item.type == "multiple" and given and given <= expected:
        awarded = item.points * len(given) / len(expected)
    return ItemResult(item.position, item.points, awarded, correct, answered, ())


def _grade_blanks(item: PaperItem, response: tuple[str, ...], answered: bool) -> ItemResult:
    blank_correct = tuple(
        index < len(response) and _blank_right(response[index], accepted)
        for index, accepted in enumerate(item.blanks)
    )
    right = sum(blank_correct)
    correct = bool(item.blanks) and right == len(item.blanks)
    # Full points exactly (not a sum of shares), so a perfect paper scores full marks.
    awarded = item.points if correct else item.points * right / max(len(item.blanks), 1)
    return ItemResult(item.position, item.points, awarded, correct, answered, blank_correct)


def _blank_right(given: str, accepted: tuple[str, ...]) -> bool:
    folded = normalize_answer(given)
    # An empty answer is never right, even against an accepted text that folds to nothing.
    return bool(folded) and any(folded == normalize_answer(text) for text in accepted)


def grade_paper(
    items: Sequence[PaperItem],
    responses: Mapping[int, tuple[str, ...]],
    pass_mark: float,
    full_marks: float = 100,
    partial_credit: bool = False,
) -> Grade:
    """The grade of a paper from its frozen items and the responses keyed by position."""
    results = tuple(
        grade_item(item, responses.get(item.position, ()), partial_credit) for item in items
    )
    total = sum(item.points for item in items)
    awarded = sum(result.awarded for result in results)
    score = _score(awarded, total, full_marks)
    return Grade(
        awarded=float(Decimal(str(awarded)).quantize(Decimal("0.01"), ROUND_HALF_UP)),
        total=total,
        score=score,
        passed=score >= pass_mark,
        items=results,
    )


def _score(awarded: float, total: float, full_marks: float) -> float:
    if total <= 0:
        return 0.0
    with localcontext() as context:
        context.prec = 60  # enough that awarded == total gives full marks exactly
        scaled = Decimal(str(awarded)) * Decimal(str(full_marks)) / Decimal(str(total))
        return float(scaled.quantize(Decimal("0.1"), ROUND_HALF_UP))


def wrong_positions(grade: Grade) -> list[int]:
    """Positions not earning full points, answered or not (the cadre's mistakes)."""
    return [result.position for result in grade.items if not result.correct]


def counted_attempt(scores: Sequence[tuple[int, float]], policy: str = "highest") -> int | None:
    """The id of the finished attempt that counts, from (attempt_id, score) in the order
    finished: highest score (earliest on ties), latest or first; None when none."""
    if not scores:
        return None
    if policy == "highest":
        return max(scores, key=lambda pair: pair[1])[0]  # max keeps the first of equals
    if policy == "latest":
        return scores[-1][0]
    if policy == "first":
        return scores[0][0]
    raise ValueError(f"未知的计分方式：{policy}")


# ---------------------------------------------------------------- the grace period

# Answers that arrive this long after the deadline still count (a slow network, a late tap).
GRACE = timedelta(seconds=60)
IN_PROGRESS = "in_progress"


# ------------------------------------------------------- stored forms (JSON in the database)


def rules_json(rules: tuple[DrawRule, ...]) -> str:
    return json.dumps([asdict(rule) for rule in rules], ensure_ascii=False)


def rules_of(text: str) -> tuple[DrawRule, ...]:
    return tuple(
        DrawRule(
            type=r["type"],
            count=int(r["count"]),
            points=float(r["points"]),
            banks=tuple(r.get("banks", ())),
            source_refs=tuple(r.get("source_refs", ())),
        )
        for r in json.loads(text)
    )


def paper_json(items: tuple[PaperItem, ...]) -> str:
    # vars(), not asdict(): the fields are plain values and tuples, which json writes as
    # lists just the same, and asdict's deep copy costs more than the rest of a start.
    return json.dumps([vars(item) for item in items], ensure_ascii=False)


@lru_cache(maxsize=2048)
def paper_of(text: str) -> tuple[PaperItem, ...]:
    """The items of a paper as frozen in an attempt (`paper_json`). A paper never changes
    once drawn and its items are immutable, so the same text gives the same items: the
    answers of an attempt are saved one by one, each reading its paper."""
    items = []
    for raw in json.loads(text):
        raw["options"] = tuple(raw["options"])
        raw["option_order"] = tuple(raw["option_order"])
        raw["answer"] = tuple(raw["answer"])
        raw["blanks"] = tuple(tuple(b) for b in raw["blanks"])
        items.append(PaperItem(**raw))
    return tuple(items)


def total_points(rules: tuple[DrawRule, ...]) -> float:
    return sum(rule.count * rule.points for rule in rules)
