"""Drafted questions (出题助手): each rule, the fidelity guarantee, the targets of issue 15
on the shipped notice and on a charter-shaped document made up for tests, and
`peixun banks draft` from the command line to an import."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.banks.draft_store import ModuleNotFound, draft_module
from app.banks.drafting import (
    Draft,
    Passage,
    difficulty_of,
    draft_questions,
    next_keys,
)
from app.banks.drafting_rules import (
    Sentence,
    definitions,
    distractor_pool,
    enumerations,
    numbers,
    pairs,
    parallel_clauses,
    quoted_terms,
    split_sentences,
    titles,
)
from app.banks.lint import course_lessons, lint_banks
from app.banks.model import LETTERS, QUESTION_TYPES, Question, normalize_answer
from app.banks.own_format import BankHeader, parse_bank, render_bank
from app.course.files import ModuleText
from app.course.lessons import read_course_dir
from app.settings import get_settings
from tests.charter_fixture import article_of, charter_modules
from tests.test_cli import peixun, query

# A small made-up document: the lesson asked about, and another lesson whose lists give
# the wrong options.
LESSON = Passage(
    "一",
    (
        "一、做好示例工作",
        "示例协会要积极营造全方位、多层次、广覆盖的学习氛围。"
        "会员大会是示例协会的最高议事机构。"
        "示例协会每年开展“读书月”活动。理事会每届任期五年，成员可以连选连任。",
    ),
)
OTHER = Passage(
    "二",
    ("理事会负责整理档案、核对名单、发布通知、汇总意见等事项，做到高标准、严要求、重实效。",),
)


def one_sentence(text: str) -> Sentence:
    return Sentence(text, 0)


def answers_of(question: Question) -> list[str]:
    if question.type == "fill_blank":
        return [group[0] for group in question.blanks]
    if question.type in ("single", "multiple"):
        return [question.options[LETTERS.index(letter)] for letter in question.answer]
    return []


def by_type(drafts: list[Draft], kind: str) -> list[Question]:
    return [draft.question for draft in drafts if draft.question.type == kind]


# ---------------------------------------------------------------------------- the rules


def test_sentences_leave_out_headings_and_numbering_labels() -> None:
    sentences = split_sentences(
        (
            "三、抓好学习贯彻，把目标任务落到实处",
            "（一）精心组织舆论宣传。要坚持线上线下相结合，营造宣传声势。",
            "第五条　本会设理事会，负责日常工作。",
        )
    )
    assert [(s.text, s.paragraph) for s in sentences] == [
        ("要坚持线上线下相结合，营造宣传声势。", 1),
        ("本会设理事会，负责日常工作。", 2),
    ]


def test_an_enumeration_gives_its_items_cut_at_markers_and_lengths() -> None:
    def items(text: str) -> list[list[str]]:
        return [[item.text for item in found.items] for found in enumerations(one_sentence(text))]

    assert items("积极营造全方位、多层次、广覆盖的宣传声势。") == [["全方位", "多层次", "广覆盖"]]
    assert items("通过举办专题学习会、报告会、研讨会等，开展培训。") == [
        ["专题学习会", "报告会", "研讨会"]
    ]
    assert items("在有关条文中明确区域性、行业性工会联合会组织形式。") == [["区域性", "行业性"]]
    assert items("没有列举的句子，只有逗号。") == []
    sentence = one_sentence("积极营造全方位、多层次、广覆盖的宣传声势。")
    for item in enumerations(sentence)[0].items:
        assert sentence.text[item.start : item.end] == item.text


def test_two_phrases_that_end_alike_make_a_list_of_two() -> None:
    found = pairs(one_sentence("讲话精神和十八大精神内容十分丰富，涉及各个方面。"))
    assert [[item.text for item in pair.items] for pair in found] == [["讲话精神", "十八大精神"]]


def test_parallel_clauses_that_open_alike_are_items() -> None:
    found = parallel_clauses(
        one_sentence("以忠诚可靠赓续本色，以劳动创造担当使命，以过硬本领展现风采。")
    )
    assert [[item.text for item in run.items] for run in found] == [
        ["以忠诚可靠赓续本色", "以劳动创造担当使命", "以过硬本领展现风采"]
    ]


def test_quoted_terms_titles_numbers_and_definitions() -> None:
    assert [
        s.text for s in quoted_terms(one_sentence("开展“微宣讲”活动，发挥‘互联网+’优势。"))
    ] == [
        "微宣讲",
        "互联网+",
    ]
    assert [s.text for s in titles(one_sentence("持续办好《焦作工人》品牌栏目。"))] == ["焦作工人"]
    found = numbers(one_sentence("2023年10月9日至12日大会召开，每届任期五年，是一个时期的任务。"))
    assert [s.text for s in found] == ["2023年10月9日至12日", "五年"]  # not 一个
    assert [
        s.text for s in definitions(one_sentence("坚持党对工会的全面领导是最高政治原则。"))
    ] == ["最高政治原则"]
    # "……是……的……": the words after the last 的.
    sentence = one_sentence("贯彻落实目标任务，是当前一个时期各级工会的重大政治任务。")
    assert [s.text for s in definitions(sentence)] == ["重大政治任务"]
    assert definitions(one_sentence("这不是一个定义，但是很长。")) == []


def test_fill_blanks_come_from_every_kind_of_span() -> None:
    drafts = draft_questions([LESSON], bank_slug="demo", document=[OTHER])
    fills = {draft.rule: draft.question for draft in drafts if draft.question.type == "fill_blank"}
    assert {"enumeration", "quoted", "number", "definition"} <= set(fills)
    quoted = fills["quoted"]
    assert quoted.blanks == (("读书月",),) and "“___”" in quoted.stem
    assert fills["definition"].blanks == (("最高议事机构",),)
    assert fills["number"].blanks == (("五年",),)
    for question in fills.values():
        assert question.stem.count("___") == 1
        assert question.explanation.startswith("原文：“") and question.source_ref == "一"


def test_a_title_becomes_a_blank() -> None:
    lesson = Passage("一", ("联合广播电视台持续办好《示例之声》品牌栏目，深入报道学习举措。",))
    (title,) = [d.question for d in draft_questions([lesson], bank_slug="t") if d.rule == "title"]
    assert title.blanks == (("示例之声",),) and "《___》" in title.stem


def test_single_choice_wrong_options_are_phrases_of_the_document_not_of_the_lesson() -> None:
    drafts = draft_questions([LESSON], bank_slug="demo", document=[OTHER])
    singles = by_type(drafts, "single")
    assert singles
    pool = set(distractor_pool([LESSON.paragraphs, OTHER.paragraphs]))
    lesson_text = normalize_answer(LESSON.text)
    for question in singles:
        assert len(question.options) == 4 and len(question.answer) == 1
        right = question.options[LETTERS.index(question.answer[0])]
        assert right in LESSON.text and "（　）" in question.stem
        for option in question.options:
            assert option in pool  # a phrase found in the document, never made up
            if option != right:
                assert normalize_answer(option) not in lesson_text
    # Without another list in the document there is nothing to draw wrong options from.
    alone = draft_questions([LESSON], bank_slug="demo")
    assert not by_type(alone, "single") and not by_type(alone, "multiple")


def test_multiple_choice_keeps_every_item_of_the_list() -> None:
    drafts = draft_questions([LESSON], bank_slug="demo", document=[OTHER])
    (question,) = by_type(drafts, "multiple")
    assert sorted(answers_of(question)) == sorted(["全方位", "多层次", "广覆盖"])
    wrong = [o for o in question.options if o not in answers_of(question)]
    assert 1 <= len(wrong) <= 2 and all(o in OTHER.text for o in wrong)
    assert question.stem == "示例协会要积极营造（　）的学习氛围。"


def test_true_false_is_a_sentence_as_written_or_with_one_item_swapped() -> None:
    lesson = Passage(
        "一",
        (
            "示例协会要积极营造全方位、多层次、广覆盖的学习氛围。"
            "会员应当做到讲政治、守规矩、重品行。"
            "会员大会每年召开一次全体会议，听取理事会报告。",
        ),
    )
    drafts = draft_questions([lesson], bank_slug="demo", document=[OTHER])
    judged = by_type(drafts, "true_false")
    right = [q for q in judged if q.answer == ("对",)]
    wrong = [q for q in judged if q.answer == ("错",)]
    assert right and wrong
    for question in right:
        assert question.stem in lesson.text
    for question in wrong:
        assert question.stem not in lesson.text
        swapped, original = question.explanation.split("题中的“")[1].split("”，原文是“")
        original = original.rstrip("”。")
        assert original in lesson.text and swapped in OTHER.text
        assert question.stem.replace(swapped, original) in lesson.text
        assert question.explanation.startswith("原文：“")


def test_difficulty_follows_the_documented_rule() -> None:
    def q(kind: str, **fields) -> Question:
        return Question(key="k", type=kind, stem="题干___", **fields)

    assert difficulty_of(q("true_false", answer=("对",))) == 1
    assert difficulty_of(q("true_false", answer=("错",))) == 2
    assert difficulty_of(q("single", options=("多层次", "乙"), answer=("A",))) == 1
    assert difficulty_of(q("single", options=("一二三四五", "乙"), answer=("A",))) == 2
    assert difficulty_of(q("multiple", options=("甲", "乙", "丙"), answer=("A", "B"))) == 2
    assert difficulty_of(q("multiple", options=tuple("甲乙丙丁戊"), answer=tuple("ABCD"))) == 3
    assert difficulty_of(q("fill_blank", blanks=(("最高议事机构",),))) == 2
    assert difficulty_of(q("fill_blank", blanks=(("认真学习宣传贯彻精神",),))) == 3
    drafts = draft_questions([LESSON], bank_slug="demo", document=[OTHER])
    assert all(d.question.difficulty == difficulty_of(d.question) for d in drafts)


def test_the_same_input_gives_the_same_drafts() -> None:
    modules = read_course_dir(get_settings().course_dir)
    first = [draft_module_text(module, modules) for module in modules]
    second = [draft_module_text(module, modules) for module in modules]
    assert first == second


def test_no_draft_repeats_an_existing_question_and_keys_follow_the_bank() -> None:
    first = draft_questions([LESSON], bank_slug="demo", document=[OTHER])
    existing = [
        dataclasses.replace(d.question, key=f"demo-{n:03d}") for n, d in enumerate(first, 1)
    ]
    assert draft_questions([LESSON], bank_slug="demo", document=[OTHER], existing=existing) == []
    # One old question kept: the drafts like it are left out, the rest come back after it.
    kept = existing[:1]
    again = draft_questions([LESSON], bank_slug="demo", document=[OTHER], existing=kept)
    assert len(again) == len(first) - 1
    assert kept[0].stem not in {d.question.stem for d in again}
    assert [d.question.key for d in again][:2] == ["demo-002", "demo-003"]
    assert next_keys("demo", ["demo-007", "demo-x", "other-050"], 2) == ["demo-008", "demo-009"]


def test_per_lesson_caps_the_drafts_of_each_lesson() -> None:
    modules = read_course_dir(get_settings().course_dir)
    module = next(m for m in modules if m.slug == "luoshi-zhiyao")
    drafts = draft_module_drafts(module, modules, per_lesson=2)
    counts = Counter(d.question.source_ref for d in drafts)
    assert counts and max(counts.values()) == 2


_PIECES = st.sampled_from(
    ["示例", "协会", "会员", "明确", "是", "的", "和", "等", "“", "”", "《", "》", "、", "，", "；",
     "。", "：", "（一）", "第五条", "2023年", "五年", "十八大", "要", "以", "\n", "|", ";", " "]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=60).map("".join), min_size=1, max_size=4))
def test_any_text_gives_only_faithful_well_formed_drafts(paragraphs: list[str]) -> None:
    lesson = Passage("一", tuple(paragraphs))
    drafts = draft_questions([lesson], bank_slug="x", document=[OTHER])
    text = normalize_answer(lesson.text)
    for draft in drafts:
        for answer in answers_of(draft.question):
            assert normalize_answer(answer) in text
    if drafts:
        rendered = render_bank(BankHeader("x", "x", "x"), [d.question for d in drafts])
        header, result = parse_bank(rendered)
        assert result.ok
        report = lint_banks([("x.md", header, result)], {"x": {"一": lesson.text}})
        assert report.findings == (), [str(f) for f in report.findings]


# ---------------------------------------------------------------- fidelity and targets


def passages(module: ModuleText) -> list[Passage]:
    return [
        Passage(lesson.source_ref, lesson.paragraphs, lesson.title) for lesson in module.lessons
    ]


def shipped_bank(slug: str) -> tuple[Question, ...]:
    path = get_settings().question_bank_dir / f"{slug}.md"
    return (
        parse_bank(path.read_text(encoding="utf-8"), path.name)[1].questions
        if path.exists()
        else ()
    )


def draft_module_drafts(
    module: ModuleText, modules: list[ModuleText], per_lesson: int | None = None
) -> list[Draft]:
    others = [p for m in modules if m.slug != module.slug for p in passages(m)]
    return draft_questions(
        passages(module),
        bank_slug=module.slug,
        document=others,
        existing=shipped_bank(module.slug),
        per_lesson=per_lesson,
    )


def draft_module_text(module: ModuleText, modules: list[ModuleText]) -> str:
    header = BankHeader(module.slug, module.title, module.slug)
    return render_bank(header, [d.question for d in draft_module_drafts(module, modules)])


def assert_faithful_and_lint_clean(modules: list[ModuleText], lessons: dict) -> list[Draft]:
    """Every answer stands in its cited passage; each module's written file passes the
    strict lint (no error, no warning), also together with its shipped bank."""
    everything = []
    for module in modules:
        drafts = draft_module_drafts(module, modules)
        refs = {lesson.source_ref: lesson for lesson in module.lessons}
        for draft in drafts:
            passage = normalize_answer("\n".join(refs[draft.question.source_ref].paragraphs))
            answers = answers_of(draft.question)
            assert draft.question.type == "true_false" or answers
            for answer in answers:
                assert normalize_answer(answer) in passage, draft.question
            assert draft.question.explanation.startswith("原文：“")
            assert draft.question.difficulty in (1, 2, 3)
        text = draft_module_text(module, modules)
        header, result = parse_bank(text, f"{module.slug}.md")
        assert result.ok and len(result.questions) == len(drafts)
        banks = [(f"{module.slug}-drafts.md", header, result)]
        shipped = get_settings().question_bank_dir / f"{module.slug}.md"
        if shipped.exists():
            banks.insert(0, (shipped.name, *parse_bank(shipped.read_text(encoding="utf-8"))))
        report = lint_banks(banks, lessons)
        assert report.findings == (), [str(f) for f in report.findings]
        everything += drafts
    return everything


def test_shipped_notice_every_draft_is_faithful_and_passes_the_strict_lint() -> None:
    settings = get_settings()
    modules = read_course_dir(settings.course_dir)
    drafts = assert_faithful_and_lint_clean(modules, course_lessons(settings.course_dir))
    assert {d.question.type for d in drafts} == set(QUESTION_TYPES)


def test_shipped_notice_gives_three_drafts_for_every_passage_of_100_characters() -> None:
    modules = read_course_dir(get_settings().course_dir)
    checked = 0
    for module in modules:
        counts = Counter(d.question.source_ref for d in draft_module_drafts(module, modules))
        for lesson in module.lessons:
            if lesson.characters >= 100:
                checked += 1
                assert counts[lesson.source_ref] >= 3, (module.slug, lesson.source_ref)
    assert checked >= 12


def charter_lessons(modules: list[ModuleText]) -> dict[str, dict[str, str]]:
    return {
        m.slug: {lesson.source_ref: "\n".join(lesson.paragraphs) for lesson in m.lessons}
        for m in modules
    }


def test_charter_every_draft_is_faithful_and_passes_the_strict_lint() -> None:
    modules = charter_modules()
    drafts = assert_faithful_and_lint_clean(modules, charter_lessons(modules))
    assert any(d.question.answer == ("错",) for d in drafts)


def test_charter_two_drafts_per_article_and_every_type_in_every_chapter() -> None:
    modules = charter_modules()
    assert len(modules) == 9
    per_article: Counter[str] = Counter()
    articles = set()
    types = defaultdict(set)
    for module in modules:
        refs = {lesson.source_ref: lesson for lesson in module.lessons}
        for lesson in module.lessons:
            articles |= {a for i in range(len(lesson.paragraphs)) if (a := article_of(lesson, i))}
        for draft in draft_module_drafts(module, modules):
            article = article_of(refs[draft.question.source_ref], draft.paragraph)
            per_article[article or ""] += 1
            types[module.slug].add(draft.question.type)
    assert len(articles) == 43
    assert min(per_article[article] for article in articles) >= 2
    assert all(types[m.slug] == set(QUESTION_TYPES) for m in modules), types


# ------------------------------------------------------------------- from the database


async def test_drafting_a_module_of_the_database_uses_its_bank_and_its_document(content) -> None:
    source, drafts = await draft_module("luoshi-zhiyao")
    assert source.bank.slug == "luoshi-zhiyao" and source.bank.module == "luoshi-zhiyao"
    shipped = shipped_bank("luoshi-zhiyao")
    assert {q.key for q in source.existing} == {q.key for q in shipped}
    # The other modules of the notice (same 文号) lend their lists as wrong options.
    assert {p.source_ref for p in source.document} >= {"导语", "二（一）", "二（四）"}
    assert drafts and all(d.question.key not in {q.key for q in shipped} for d in drafts)
    stems = {normalize_answer(q.stem) for q in shipped}
    assert all(normalize_answer(d.question.stem) not in stems for d in drafts)
    with pytest.raises(ModuleNotFound, match="没有找到课程模块“nope”"):
        await draft_module("nope")


# ------------------------------------------------------------------ the command line


def test_banks_draft_writes_a_file_the_strict_lint_passes_and_import_accepts(tmp_path) -> None:
    db = tmp_path / "peixun.sqlite3"
    assert peixun("init", db=db).returncode == 0
    out = tmp_path / "草稿.md"
    drafted = peixun("banks", "draft", "luoshi-zhiyao", "--out", str(out), db=db)
    assert drafted.returncode == 0, drafted.stderr
    header, result = parse_bank(out.read_text(encoding="utf-8"), out.name)
    total = len(result.questions)
    assert header == BankHeader("luoshi-zhiyao", "抓好学习贯彻题库", "luoshi-zhiyao")
    assert total > 20 and result.ok
    assert f"已写出 {out}：{total} 题（单选 " in drafted.stdout
    assert "peixun banks import" in drafted.stdout

    lint = peixun("banks", "lint", "--strict", str(out), db=db)
    assert lint.returncode == 0, lint.stdout
    assert lint.stdout.splitlines()[-1] == f"共 {total} 题，0 个错误，0 个警告"
    shipped = str(get_settings().question_bank_dir / "luoshi-zhiyao.md")
    together = peixun("banks", "lint", "--strict", shipped, str(out), db=db)
    assert together.returncode == 0, together.stdout  # and none repeats a shipped question

    before = query(db, "SELECT count(*) FROM question")[0][0]
    imported = peixun("banks", "import", str(out), db=db)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert f"已导入：新题 {total}，新版本 0，未变 0。" in imported.stdout
    assert query(db, "SELECT count(*) FROM question")[0][0] == before + total

    # Everything the lessons give is in the bank now: nothing new to draft.
    again = peixun("banks", "draft", "luoshi-zhiyao", "--out", str(tmp_path / "再.md"), db=db)
    assert again.returncode == 1 and "没有可以生成的新题目" in again.stderr
    assert not (tmp_path / "再.md").exists()

    capped = peixun("banks", "draft", "xuexi-daodu", "--per-lesson", "2", "--out", str(out), db=db)
    assert capped.returncode == 0, capped.stderr
    counts = Counter(q.source_ref for q in parse_bank(out.read_text(encoding="utf-8"))[1].questions)
    assert counts == {"导语": 2, "一": 2}

    unknown = peixun("banks", "draft", "nope", "--out", str(out), db=db)
    assert unknown.returncode == 1
    assert "没有找到课程模块“nope”" in unknown.stderr and "Traceback" not in unknown.stderr
