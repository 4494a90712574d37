"""Drawing quiz papers and grading them: properties over random pools, and concrete cases."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from itertools import combinations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.banks.model import LETTERS, Question, normalize_answer
from app.quizzes.core import (
    DrawError,
    DrawRule,
    PaperItem,
    PoolQuestion,
    ResponseError,
    clean_response,
    correct_response,
    counted_attempt,
    draw_paper,
    grade_item,
    grade_paper,
    is_answered,
    rule_shortages,
    unanswered_positions,
    wrong_positions,
)
from tests.bank_strategies import question_strategy

BANKS = ("xuexi-daodu", "gonghui-zhangcheng", "luoshi-zhiyao")
REFS = ("导语", "一", "二（四）", "结语")
TYPES = ("single", "multiple", "true_false", "fill_blank")
SLOW = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

questions = question_strategy(["A", "。", " ", "Ａ"])


def usable(question: Question) -> bool:
    """Every blank has an accepted text that is not empty once normalised."""
    return all(any(normalize_answer(text) for text in accepted) for accepted in question.blanks)


@st.composite
def pools(draw, max_size: int = 14, full_questions: bool = False) -> list[PoolQuestion]:
    """Pools of distinct versions; the questions' text is only generated in full when
    asked (grading), as drawing looks only at type, bank and 出处."""
    size = draw(st.integers(0, max_size))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    pool = []
    for index, version_id in enumerate(ids):
        bank = draw(st.sampled_from(BANKS))
        if full_questions:
            question = draw(questions(f"q{index}").filter(usable))
            pool.append(PoolQuestion(version_id, bank, question))
        else:
            kind, ref = draw(st.sampled_from(TYPES)), draw(st.sampled_from(REFS))
            pool.append(pool_entry(version_id, kind, bank, ref))
    return pool


rule_strategy = st.builds(
    DrawRule,
    type=st.sampled_from(TYPES),
    count=st.integers(1, 3),
    points=st.sampled_from([1, 2, 2.5, 4, 0.3]),
    banks=st.lists(st.sampled_from(BANKS), max_size=2, unique=True).map(tuple),
    source_refs=st.lists(st.sampled_from(REFS), max_size=2, unique=True).map(tuple),
)
rule_lists = st.lists(rule_strategy, min_size=1, max_size=4)


@st.composite
def pools_and_rules(draw):
    """A pool and rules built from its questions, so most can be satisfied."""
    pool = draw(pools().filter(bool))
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        entry = draw(st.sampled_from(pool))
        banks = draw(st.sampled_from([(), (entry.bank,), (entry.bank, BANKS[0])]))
        refs = draw(st.sampled_from([(), (entry.question.source_ref,)]))
        rules.append(DrawRule(entry.question.type, draw(st.integers(1, 2)), 2, banks, refs))
    return pool, rules


def matches(rule: DrawRule, entry: PoolQuestion) -> bool:
    return (
        entry.question.type == rule.type
        and (not rule.banks or entry.bank in rule.banks)
        and (not rule.source_refs or entry.question.source_ref in rule.source_refs)
    )


def pool_entry(version_id: int, kind: str = "single", bank: str = BANKS[0], ref: str = "一"):
    options = ("甲", "乙", "丙", "丁") if kind in ("single", "multiple") else ()
    answer = {"single": ("B",), "multiple": ("A", "C"), "true_false": ("对",)}.get(kind, ())
    stem = "填___和___。" if kind == "fill_blank" else f"题目 {version_id}"
    blanks = (("专题培训", "专题学习"), ("集中轮训",)) if kind == "fill_blank" else ()
    question = Question(f"k{version_id}", kind, stem, options, answer, blanks, source_ref=ref)
    return PoolQuestion(version_id, bank, question)


def item(kind: str, points: float = 4, position: int = 1, **changes) -> PaperItem:
    entry = pool_entry(position, kind)
    paper = draw_paper([entry], [DrawRule(kind, 1, points)], random.Random(0), False, False)
    return replace(paper[0], position=position, **changes)


# ------------------------------------------------------------------------------ drawing


@SLOW
@given(
    st.one_of(st.tuples(pools(), rule_lists), pools_and_rules()),
    st.integers(0, 2**32),
    st.booleans(),
)
def test_draw_respects_rules_or_reports_shortage(pool_rules, seed, shuffle_options):
    pool, rules = pool_rules
    shortages = rule_shortages(pool, rules)
    if shortages:
        with pytest.raises(DrawError) as error:
            draw_paper(pool, rules, random.Random(seed), False, shuffle_options)
        assert str(error.value) == "\n".join(shortages)
        return
    paper = draw_paper(pool, rules, random.Random(seed), False, shuffle_options)
    by_id = {entry.version_id: entry for entry in pool}
    assert len({item.version_id for item in paper}) == len(paper)
    assert [item.position for item in paper] == list(range(1, len(paper) + 1))
    start = 0
    for rule in rules:
        part = paper[start : start + rule.count]
        start += rule.count
        assert len(part) == rule.count
        for drawn in part:
            assert matches(rule, by_id[drawn.version_id])
            assert drawn.points == rule.points and drawn.type == rule.type
        # Within a rule the pool's order is kept.
        order = [pool.index(by_id[drawn.version_id]) for drawn in part]
        assert order == sorted(order)
    assert start == len(paper)


@SLOW
@given(pools_and_rules(), st.integers(0, 2**32))
def test_shuffled_paper_draws_as_many_and_never_repeats(pool_rules, seed):
    pool, rules = pool_rules
    assume(not rule_shortages(pool, rules))
    paper = draw_paper(pool, rules, random.Random(seed), True, True)
    assert len(paper) == sum(rule.count for rule in rules)
    assert len({item.version_id for item in paper}) == len(paper)
    assert Counter(item.type for item in paper) == Counter(
        rule.type for rule in rules for _ in range(rule.count)
    )


@SLOW
@given(pools_and_rules(), st.integers(0, 2**32), st.booleans(), st.booleans())
def test_draw_is_deterministic_for_a_seed(pool_rules, seed, shuffle_questions, shuffle_options):
    pool, rules = pool_rules
    assume(not rule_shortages(pool, rules))
    first = draw_paper(pool, rules, random.Random(seed), shuffle_questions, shuffle_options)
    again = draw_paper(pool, rules, random.Random(seed), shuffle_questions, shuffle_options)
    assert first == again


@SLOW
@given(pools(full_questions=True), st.integers(0, 2**32))
def test_shuffled_options_keep_the_right_answer(pool, seed):
    rules = [DrawRule(kind, sum(e.question.type == kind for e in pool), 2) for kind in TYPES]
    rules = [rule for rule in rules if rule.count]
    assume(rules)
    paper = draw_paper(pool, rules, random.Random(seed), True, True)
    by_id = {entry.version_id: entry.question for entry in pool}
    for drawn in paper:
        question = by_id[drawn.version_id]
        assert sorted(drawn.option_order) == list(range(len(question.options)))
        assert drawn.options == tuple(question.options[i] for i in drawn.option_order)
        if drawn.type in ("single", "multiple"):
            shown = {drawn.option_order[LETTERS.index(letter)] for letter in drawn.answer}
            assert shown == {LETTERS.index(letter) for letter in question.answer}
            assert list(drawn.answer) == sorted(drawn.answer)
        else:
            assert drawn.answer == question.answer and drawn.option_order == ()
    responses = {drawn.position: clean_response(drawn, correct_response(drawn)) for drawn in paper}
    grade = grade_paper(paper, responses, pass_mark=60, full_marks=100)
    assert grade.score == 100 and grade.passed and grade.awarded == grade.total
    assert wrong_positions(grade) == [] and unanswered_positions(paper, responses) == []
    empty = grade_paper(paper, {}, pass_mark=60)
    assert empty.score == 0 and empty.awarded == 0 and not empty.passed
    assert wrong_positions(empty) == [drawn.position for drawn in paper]
    assert unanswered_positions(paper, {}) == [drawn.position for drawn in paper]
    assert not any(result.answered for result in empty.items)


def can_fill(pool: list[PoolQuestion], rules: list[DrawRule], used: frozenset = frozenset()):
    """Brute force: whether some choice of questions fills every rule, none twice."""
    if not rules:
        return True
    free = [e.version_id for e in pool if matches(rules[0], e) and e.version_id not in used]
    return any(
        can_fill(pool, rules[1:], used | set(chosen))
        for chosen in combinations(free, rules[0].count)
    )


@settings(max_examples=300, deadline=None)
@given(pools(max_size=8), st.lists(rule_strategy, min_size=1, max_size=3))
def test_shortage_is_reported_exactly_when_no_assignment_exists(pool, rules):
    rules = [DrawRule("single", rule.count, 1, rule.banks, rule.source_refs) for rule in rules]
    pool = [PoolQuestion(e.version_id, e.bank, replace(e.question, type="single")) for e in pool]
    assert (rule_shortages(pool, rules) == []) == can_fill(pool, rules)


def test_overlapping_rules_are_not_reported_short():
    # Rule 1 takes any single; rule 2 needs the two in bank A, so rule 1 must take B's.
    pool = [
        pool_entry(1),
        pool_entry(2),
        pool_entry(3, bank=BANKS[1]),
        pool_entry(4, bank=BANKS[1]),
    ]
    rules = [DrawRule("single", 2, 1), DrawRule("single", 2, 1, banks=(BANKS[0],))]
    assert rule_shortages(pool, rules) == []
    for seed in range(30):
        paper = draw_paper(pool, rules, random.Random(seed), False, False)
        assert [drawn.version_id for drawn in paper] == [3, 4, 1, 2]


def test_random_draw_varies_when_rules_do_not_overlap():
    pool = [pool_entry(number) for number in range(1, 11)]
    papers = {
        tuple(
            d.version_id
            for d in draw_paper(pool, [DrawRule("single", 3, 1)], random.Random(s), False, False)
        )
        for s in range(20)
    }
    assert len(papers) > 5


def test_shortage_message_names_the_rule_and_gap():
    pool = [pool_entry(1, "true_false")] + [pool_entry(n, ref="二（一）") for n in range(2, 9)]
    rules = [
        DrawRule("true_false", 1, 2),
        DrawRule("single", 10, 4, source_refs=("二（一）", "三")),
    ]
    assert rule_shortages(pool, rules) == [
        "规则 2（单选，出处：二（一）、三）需要 10 题，题库中只有 7 题，还差 3 题。"
    ]
    with pytest.raises(DrawError, match="还差 3 题"):
        draw_paper(pool, rules, random.Random(1), True, True)


def test_shortage_counts_what_earlier_rules_took():
    pool = [pool_entry(n) for n in range(1, 6)]
    rules = [DrawRule("single", 3, 1), DrawRule("single", 4, 1, banks=(BANKS[0],))]
    assert rule_shortages(pool, rules) == [
        "规则 2（单选，题库：xuexi-daodu）需要 4 题，题库中有 5 题，"
        "其中 3 题已被前面的规则抽走，还差 2 题。"
    ]


def test_invalid_rules_are_reported_by_number():
    assert rule_shortages([pool_entry(1)], []) == ["测验没有抽题规则。"]
    rules = [DrawRule("single", 0, 1), DrawRule("single", 1, 0), DrawRule("essay", 1, 1)]
    assert rule_shortages([pool_entry(1)], rules) == [
        "规则 1 的题数应至少为 1。",
        "规则 2 的每题分值应大于 0。",
        "规则 3 的题型“essay”不存在。",
    ]


def test_repeated_versions_in_the_pool_are_drawn_once():
    pool = [pool_entry(1), pool_entry(1)]
    assert rule_shortages(pool, [DrawRule("single", 2, 1)])
    assert len(draw_paper(pool, [DrawRule("single", 1, 1)], random.Random(0), True, True)) == 1


# ---------------------------------------------------------------------------- responses


def test_clean_response_choices():
    single, multiple = item("single"), item("multiple")
    assert clean_response(single, ["b"]) == ("B",)
    assert clean_response(single, ["Ｃ", "Z", "E", ""]) == ("C",)  # E is past the 4 options
    assert clean_response(single, []) == ()
    with pytest.raises(ResponseError, match="第 1 题是单选题"):
        clean_response(single, ["A", "B"])
    assert clean_response(multiple, ["d", "A", "a", " b ", "AB"]) == ("A", "B", "D")


def test_clean_response_true_false():
    judged = item("true_false", position=3)
    for raw, expected in [(["对"], ("对",)), (["true"], ("对",)), (["×"], ("错",)), ([""], ())]:
        assert clean_response(judged, raw) == expected
    assert clean_response(judged, ["FALSE", "错"]) == ("错",)
    with pytest.raises(ResponseError, match="第 3 题只能答"):
        clean_response(judged, ["也许"])
    with pytest.raises(ResponseError, match="不能同时"):
        clean_response(judged, ["对", "错"])


def test_clean_response_fill_blank():
    blanks = item("fill_blank")
    assert clean_response(blanks, [" 专题培训 "]) == ("专题培训", "")
    assert clean_response(blanks, ["a", "b", "c"]) == ("a", "b")
    assert clean_response(blanks, ["", " "]) == ()
    assert clean_response(blanks, ["x" * 500, "a\x00b"]) == ("x" * 200, "ab")
    assert clean_response(blanks, "单个") == ("单个", "")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TYPES),
    st.lists(st.text(max_size=30), max_size=6),
    st.integers(0, 8),
)
def test_clean_response_only_raises_response_error(kind, raw, option_count):
    options = tuple("选项" + letter for letter in LETTERS[:option_count])
    target = item(kind, options=options) if kind in ("single", "multiple") else item(kind)
    try:
        cleaned = clean_response(target, raw)
    except ResponseError as error:
        assert "第 1 题" in str(error)
        return
    assert clean_response(target, cleaned) == cleaned  # canonical: cleaning twice changes nothing
    if kind in ("single", "multiple"):
        assert set(cleaned) <= set(LETTERS[:option_count]) and list(cleaned) == sorted(set(cleaned))
        assert kind == "multiple" or len(cleaned) <= 1
    elif kind == "true_false":
        assert cleaned in ((), ("对",), ("错",))
    else:
        assert cleaned == () or len(cleaned) == len(target.blanks)
        assert all(len(text) <= 200 and text == text.strip() for text in cleaned)


def test_is_answered_needs_every_blank():
    blanks = item("fill_blank")
    assert not is_answered(blanks, ("专题培训", ""))
    assert is_answered(blanks, ("专题培训", "集中轮训"))
    assert not is_answered(item("single"), ())
    assert unanswered_positions([blanks], {1: ("专题培训", "")}) == [1]


# ------------------------------------------------------------------------------ grading


def test_fill_blank_grading_normalises_and_splits_points():
    blanks = item("fill_blank", blanks=(("ＡＢＣ",), ("专题 学习",)))
    full = grade_item(blanks, ("a b c。", "专题学习"))
    assert full.correct and full.awarded == 4 and full.blank_correct == (True, True)
    half = grade_item(blanks, ("abc", "错"))
    assert not half.correct and half.awarded == 2 and half.blank_correct == (True, False)
    assert half.answered and not grade_item(blanks, ()).answered
    assert grade_item(item("fill_blank", blanks=(("。",),)), ("",)).awarded == 0


def test_single_and_true_false_are_all_or_nothing():
    assert grade_item(item("single"), ("B",)).awarded == 4
    assert grade_item(item("single"), ("A",), partial_credit=True).awarded == 0
    assert grade_item(item("true_false"), ("对",)).correct
    assert not grade_item(item("true_false"), ("错",)).correct


def test_multiple_partial_credit():
    multiple = item("multiple", answer=("A", "B", "C", "D"))
    assert grade_item(multiple, ("A", "B")).awarded == 0
    assert grade_item(multiple, ("A", "B"), partial_credit=True).awarded == 2
    assert grade_item(multiple, ("A",), partial_credit=True).awarded == 1
    assert grade_item(multiple, ("A", "E"), partial_credit=True).awarded == 0
    assert grade_item(multiple, (), partial_credit=True).awarded == 0
    full = grade_item(multiple, ("D", "C", "B", "A"), partial_credit=True)
    assert full.correct and full.awarded == 4


def test_score_is_scaled_and_rounded_half_up():
    paper = [item("single", points=1, position=n) for n in range(1, 17)]
    one_right = grade_paper(paper, {1: ("B",)}, pass_mark=60)
    assert one_right.score == 6.3 and one_right.total == 16 and one_right.awarded == 1  # 6.25
    thirds = [item("single", points=1, position=n) for n in range(1, 4)]
    two = grade_paper(thirds, {1: ("B",), 2: ("B",)}, pass_mark=66.7, full_marks=100)
    assert two.score == 66.7 and two.passed and wrong_positions(two) == [3]
    assert grade_paper(thirds, {1: ("B",), 2: ("B",)}, pass_mark=67).passed is False
    assert (
        grade_paper(thirds, {n: ("B",) for n in (1, 2, 3)}, pass_mark=10, full_marks=10).score == 10
    )
    assert grade_paper([], {}, pass_mark=0).score == 0


def test_counted_attempt_policies():
    scores = [(11, 70.0), (12, 90.0), (13, 90.0), (14, 50.0)]
    assert counted_attempt(scores) == 12
    assert counted_attempt(scores, "highest") == 12
    assert counted_attempt(scores, "latest") == 14
    assert counted_attempt(scores, "first") == 11
    assert counted_attempt([], "latest") is None
    with pytest.raises(ValueError):
        counted_attempt(scores, "average")


@given(pools_and_rules(), st.integers(0, 2**16))
@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
def test_a_paper_is_stored_and_read_back_unchanged(pool_rules, seed):
    """`paper_json` writes what `asdict` would, and `paper_of` reads back the same items."""
    import json
    from dataclasses import asdict

    from app.quizzes.core import paper_json, paper_of

    pool, rules = pool_rules
    assume(not rule_shortages(pool, rules))
    paper = draw_paper(pool, rules, random.Random(seed), True, True)
    text = paper_json(paper)
    assert json.loads(text) == json.loads(json.dumps([asdict(item) for item in paper]))
    assert paper_of(text) == paper
