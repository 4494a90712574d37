"""The GIFT importer and exporter (pure)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.banks.gift import SAFE_SLUG, gift_export_problem, parse_gift, render_gift
from app.banks.model import LETTERS, BankFormatError, Question

MOODLE_EXAMPLES = Path(__file__).parents[2] / "shared" / "fixtures" / "moodle-gift-examples.txt"


def one(text: str) -> Question:
    result = parse_gift(text)
    assert not result.problems, result.problems
    assert not result.skipped, result.skipped
    assert len(result.questions) == 1
    return result.questions[0]


# --- the supported types -------------------------------------------------------------------


def test_single_choice():
    q = one("工会会员大会的职权是？{~任命经理 =选举工会委员会 ~审批预算}")
    assert (q.type, q.stem, q.answer) == ("single", "工会会员大会的职权是？", ("B",))
    assert q.options == ("任命经理", "选举工会委员会", "审批预算")
    assert (q.key, q.line) == ("gift-001", 1)


def test_single_choice_with_partial_credit_keeps_the_full_credit_answer():
    q = one("难题。{~错误 ~%50%半对 =全对}")
    assert (q.type, q.answer) == ("single", ("C",))


def test_multiple_choice_with_weights():
    q = one("哪些属于工会的职责？{~%50%维护职工权益 ~%50%组织培训 ~%-100%经营企业}")
    assert (q.type, q.answer) == ("multiple", ("A", "B"))
    assert q.options == ("维护职工权益", "组织培训", "经营企业")


def test_weights_with_one_positive_option_stay_a_multiple_response_question():
    # Moodle's "multiple answers" question shows check boxes; one right box keeps it 多选.
    q = one("题干{~%100%甲 ~%-50%乙 ~丙}")
    assert (q.type, q.answer) == ("multiple", ("A",))
    back = parse_gift(render_gift([q])).questions[0]
    assert back.same_content(q)


@pytest.mark.parametrize(
    ("mark", "answer"),
    [("T", "对"), ("TRUE", "对"), ("F", "错"), ("FALSE", "错"), ("true", "对")],
)
def test_true_false(mark, answer):
    q = one(f"工会委员会每届任期三年或者五年。{{{mark}}}")
    assert (q.type, q.stem, q.answer, q.options) == (
        "true_false",
        "工会委员会每届任期三年或者五年。",
        (answer,),
        (),
    )


def test_short_answer_becomes_one_blank_at_the_end():
    q = one("工会委员会每届任期几年？{=三年或者五年 =三或五年}")
    assert q.type == "fill_blank"
    assert q.stem == "工会委员会每届任期几年？___"
    assert q.blanks == (("三年或者五年", "三或五年"),)
    assert q.answer == ()


def test_missing_word_puts_the_blank_where_the_braces_were():
    q = one("工会委员会每届任期 {=三年或者五年} 。")
    assert (q.stem, q.blanks) == ("工会委员会每届任期 ___ 。", (("三年或者五年",),))
    choice = one("工会委员会由{~任命 =选举 ~指定}产生。")
    assert (choice.type, choice.stem, choice.answer) == ("single", "工会委员会由___产生。", ("B",))


def test_short_answer_accepts_only_full_credit_answers():
    q = one("耶稣来自{=Nazareth =%75%Nazereth =%25%Bethlehem =%100%拿撒勒}")
    assert q.blanks == (("Nazareth", "拿撒勒"),)


def test_general_and_per_answer_feedback_go_to_the_explanation():
    q = one("题干{~甲#不对 =乙#对了 ####见第二部分。}")
    assert q.explanation == "见第二部分。\nA：不对\nB：对了"
    tf = one("题干{FALSE#答错的反馈#答对的反馈####总评}")
    assert tf.explanation == "总评\n答错时：答错的反馈\n答对时：答对的反馈"
    blank = one("题干{=甲#好 =%50%乙#一般}")
    assert blank.explanation == "“甲”：好"


def test_multi_line_question_reads_as_one_line():
    q = one("::q1::工会委员会\n  每届任期 {\n    ~两年\n    =三年或者五年#对\n} 。")
    assert q.stem == "工会委员会每届任期 ___ 。"
    assert q.options == ("两年", "三年或者五年")
    latin = one("The American holiday of\n  Thanksgiving is{T}")
    assert latin.stem == "The American holiday of Thanksgiving is"


def test_a_chinese_stem_over_several_lines_is_joined_without_spaces():
    text = (
        "::r1::基层工会委员会\n"
        "每届任期三年或者五年，\n"
        "具体任期由会员大会\n"
        "决定。{T\n"
        "####任期届满应当按期\n"
        "换届选举。}\n"
    )
    q = one(text)
    assert q.stem == "基层工会委员会每届任期三年或者五年，具体任期由会员大会决定。"
    assert q.explanation == "任期届满应当按期换届选举。"


# --- escapes, comments, titles, formats, categories ----------------------------------------


@pytest.mark.parametrize("char", ["~", "=", "#", "{", "}", ":"])
def test_each_escape(char):
    q = one(f"::k::题干含\\{char}号{{=选项\\{char}一 ~选项二#反馈\\{char} ####解析\\{char}}}")
    assert q.stem == f"题干含{char}号"
    assert q.options == (f"选项{char}一", "选项二")
    assert q.explanation == f"解析{char}\nB：反馈{char}"


def test_newline_and_backslash_escapes():
    q = one(r"第一行\n第二行，反斜杠\\{T####解析\n第二段}")
    assert q.stem == "第一行\n第二行，反斜杠\\"
    assert q.explanation == "解析\n第二段"


def test_comments_are_ignored_and_the_line_is_where_the_question_starts():
    text = "// 头部注释\n\n// 题前注释\n题干{T}\n\n//只有注释的块\n// 第二行\n\n题二{F}\n"
    result = parse_gift(text)
    assert [(q.line, q.stem) for q in result.questions] == [(4, "题干"), (9, "题二")]
    assert not result.problems and not result.skipped


def test_title_is_the_key_when_it_is_a_safe_slug_and_never_in_the_stem():
    result = parse_gift("::m1-q01::题一{T}\n\n::Kanji Origins::题二{F}\n\n::第三题::题三{T}")
    assert [q.key for q in result.questions] == ["m1-q01", "gift-002", "gift-003"]
    assert [q.stem for q in result.questions] == ["题一", "题二", "题三"]


def test_generated_keys_do_not_collide_with_titles():
    result = parse_gift("::Q::甲{T}\n\n::gift-001::乙{F}")
    assert [q.key for q in result.questions] == ["gift-001-1", "gift-001"]


def test_text_formats():
    q = one("[html]<p>工会<b>委员会</b>&amp;职工</p>{~<i>甲</i> =乙}")
    assert q.stem == "工会委员会&职工"
    assert q.options == ("甲", "乙")
    assert one("[markdown]**工会**委员会{T}").stem == "**工会**委员会"
    assert one("::t1::[plain]<b>原样</b>{T}").stem == "<b>原样</b>"


# As Moodle 4 writes a question bank export: the id number and tags in a comment, text
# formats on the question and, where they differ from it, on answers and feedback.
MOODLE_EXPORT = """\
// question: 0  name: Switch category to $course$/top/默认/工会基础知识
$CATEGORY: $course$/top/默认/工会基础知识


// question: 2041  name: 会员权利
// [id:ghzs-001] [tag:会员] [tag:权利]
::会员权利::[html]<p>下列属于工会会员<strong>权利</strong>的是（&nbsp;&nbsp;）。</p>{
\t=<p>选举权和被选举权</p>#<p>正确，见&ldquo;会员&rdquo;一章。</p>
\t~<p>任命企业负责人</p>#[moodle]不属于会员权利。
\t~[plain]<审批企业预算>
\t####<p>会员的权利</p><p>写在章程的会员一章。</p>
}

// question: 2042  name: 职工之家
// [id:ghzs-002]
// [tag:职工之家]
::职工之家::[moodle]职工之家建设
包括以下哪些方面？{
\t~%50%[html]<p>阵地建设&amp;制度建设</p>#[html]<p>对。<br>阵地和制度。</p>
\t~%50%队伍建设
\t~%-100%[markdown]**经营创收**
\t####[html]<ul><li>阵地</li><li>制度</li></ul>
}

// question: 2043  name: 组织原则
// [id:ghzs-003]
::组织原则::[html]<p>工会实行的组织原则是？</p>{
\t~%100%<p>民主集中制</p>
\t~%-100%<p>行政命令</p>
\t~%-100%<p>自由放任</p>
}
"""


def test_a_moodle_export_with_formats_ids_and_tags():
    result = parse_gift(MOODLE_EXPORT)
    assert not result.problems and not result.skipped
    first, second, third = result.questions
    assert [q.key for q in result.questions] == ["ghzs-001", "ghzs-002", "ghzs-003"]
    assert first.tags == ("category:默认/工会基础知识", "会员", "权利")
    assert second.tags == ("category:默认/工会基础知识", "职工之家")

    assert first.stem == "下列属于工会会员权利的是（ ）。"
    assert first.options == ("选举权和被选举权", "任命企业负责人", "<审批企业预算>")
    assert first.explanation == (
        "会员的权利\n写在章程的会员一章。\nA：正确，见“会员”一章。\nB：不属于会员权利。"
    )
    assert second.stem == "职工之家建设包括以下哪些方面？"
    assert second.options == ("阵地建设&制度建设", "队伍建设", "**经营创收**")
    assert (second.type, second.answer) == ("multiple", ("A", "B"))
    assert second.explanation == "阵地\n制度\nA：对。\n阵地和制度。"
    assert (third.type, third.answer) == ("multiple", ("A",))
    assert third.options == ("民主集中制", "行政命令", "自由放任")


def test_an_id_that_cannot_be_a_key_leaves_the_title_or_place_as_the_key():
    result = parse_gift("// [id:第一题]\n::m1-q01::甲{T}\n\n// [id:a\\]b]\n乙{F}")
    assert [q.key for q in result.questions] == ["m1-q01", "gift-002"]
    clash = parse_gift("// [id:Q-1]\n甲{T}\n\n// [id:Q-1]\n乙{F}")
    assert [p.message for p in clash.problems] == ["第 5 行：Moodle 的 ID“Q-1”与第 2 行的重复。"]


def test_html_scripts_and_entities_become_plain_text():
    q = one("[html]<p>甲&lt;乙&gt;</p><script>alert(1)</script><style>p\\{color: red\\}</style>{T}")
    assert q.stem == "甲<乙>"


def test_render_keeps_text_that_looks_like_a_format_marker():
    q = Question("k", "single", "题", ("[html]<b>甲</b>", "乙"), ("A",), explanation="[plain]解")
    assert parse_gift(render_gift([q])).questions[0].same_content(q)


def test_categories_become_tags():
    text = "$CATEGORY: $course$/top/工会基础\n\n题一{T}\n\n$CATEGORY: 选举\n题二{F}\n\n题三{T}"
    result = parse_gift(text)
    assert [q.tags for q in result.questions] == [
        ("category:工会基础",),
        ("category:选举",),
        ("category:选举",),
    ]


def test_peixun_comment_carries_the_fields_gift_has_no_place_for():
    text = "// peixun: 出处=二（四）; 难度=2; 标签=选举,任期\\,届期; 依据=三年\\;五年\n::q::题{T}"
    q = one(text)
    assert (q.source_ref, q.difficulty, q.evidence) == ("二（四）", 2, "三年;五年")
    assert q.tags == ("选举", "任期,届期")
    assert q.line == 2


# --- malformed input: problems with the line where the question starts ---------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("好题{T}\n\n坏题\n{=甲 ~乙\n\n好题{F}", 3, "没有闭合"),
        ("题{~甲 ~乙}", 1, "没有正确答案"),
        ("题{=%50%甲 ~乙}", 1, "满分"),
        ("题{=甲 =乙 ~丙}", 1, "不止一个满分答案"),
        ("题{=%50%甲 =%50%乙}", 1, "没有满分"),
        ("题\n\n\n题{甲 乙}", 4, "无法识别"),
        ("题{~a ~b ~c ~d ~e ~f ~g ~h =i}", 1, "最多 8 个选项"),
        ("题{=甲}", None, None),
        ("题{~甲}", 1, "至少要有两个选项"),
        ("题} 没有开头", 1, "没有对应的“{”"),
        ("题{=甲} 还有{=乙}", 1, "只能有一组"),
        ("{T}", 1, "题干为空"),
        ("::没有结尾题{T}", 1, "::"),
        ("题{~%500%甲 =乙}", 1, "超出"),
        ("// peixun: 难度=高\n题{T}", 2, "不是整数"),
        ("// peixun: 作者=某人\n题{T}", 2, "无法识别"),
        ("::dup::题一{T}\n\n::dup::题二{F}", 3, "重复"),
    ],
)
def test_malformed_questions_are_problems_with_their_line(text, line, words):
    result = parse_gift(text)
    if words is None:
        assert not result.problems
        return
    assert [p.line for p in result.problems] == [line]
    message = result.problems[0].message
    assert message.startswith(f"第 {line} 行：") and words in message


def test_a_bad_question_does_not_hide_the_others():
    result = parse_gift("甲{T}\n\n乙{~x ~y}\n\n丙{#3}\n\n丁{F}")
    assert [q.stem for q in result.questions] == ["甲", "丁"]
    assert [p.line for p in result.problems] == [3]
    assert [s.line for s in result.skipped] == [5]
    assert not result.ok


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("配对{=a -> 1 =b -> 2 =c -> 3}", "配对题（matching）"),
        ("数值{#1822:1}", "数值题（numerical）"),
        ("问答{}", "问答题（essay）"),
        ("问答{####总评}", "问答题（essay）"),
        ("只是说明文字。", "描述（description"),
    ],
)
def test_unsupported_types_are_skipped_with_a_reason(text, kind):
    result = parse_gift("题{T}\n\n" + text)
    assert len(result.questions) == 1 and not result.problems
    [skipped] = result.skipped
    assert skipped.line == 3
    assert skipped.reason.startswith("第 3 行：" + kind) and "已跳过" in skipped.reason


# --- Moodle's own example file -------------------------------------------------------------


def _blocks_by_hand(text: str) -> list[int]:
    """Start lines of the question blocks: blank-line separated, comment lines left out."""
    starts, current = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            current = None
        elif not line.lstrip().startswith("//") and current is None:
            current = number
            starts.append(number)
    return starts


def test_moodle_example_file_loses_no_question():
    if not MOODLE_EXAMPLES.exists():
        pytest.skip("没有找到 ../shared/fixtures/moodle-gift-examples.txt（只有在工作区里才有）")
    text = MOODLE_EXAMPLES.read_text(encoding="utf-8")
    result = parse_gift(text)
    starts = _blocks_by_hand(text)
    seen = [q.line for q in result.questions] + [s.line for s in result.skipped]
    seen += [p.line for p in result.problems]
    assert sorted(seen) == starts  # every question accounted for, once
    assert not result.problems
    assert (len(result.questions), len(result.skipped)) == (32, 11)

    by_line = {q.line: q for q in result.questions}
    counts: dict[str, int] = {}
    for q in result.questions:
        counts[q.type] = counts.get(q.type, 0) + 1
    assert counts == {"single": 16, "multiple": 2, "true_false": 5, "fill_blank": 9}
    assert by_line[8].options == ("Grant", "Jefferson", "no one") and by_line[8].answer == ("C",)
    assert by_line[10].stem == "Grant is ___ in Grant's tomb."
    assert by_line[45].stem == "Two plus two equals ___." and by_line[45].blanks == (("four", "4"),)
    assert by_line[90].stem == "Japanese characters originally came from what country? ___"
    assert by_line[113].explanation == "答错时：No one is buried in Grant's tomb."
    assert by_line[123].blanks == (("Nazareth",),)  # 75% and 25% answers are not accepted
    assert (by_line[130].type, by_line[130].answer) == ("multiple", ("B", "C"))
    assert by_line[143].options == ("= 2 + 2", "= 2 + 3", "= 2 + 4")
    assert by_line[148].options == ("~", "=", "#", "{", "}", "\\")
    assert by_line[148].answer == ("F",)
    skipped = {s.line: s.reason for s in result.skipped}
    assert sorted(skipped) == [16, 55, 61, 70, 72, 74, 76, 85, 175, 177, 202]
    assert skipped[55].startswith("第 55 行：配对题（matching）")
    assert (
        skipped[202]
        == "第 202 行：数值题（numerical）“Numerical example”，本平台没有这种题型，已跳过。"
    )
    back = parse_gift(render_gift(result.questions)).questions
    assert all(a.same_content(b) for a, b in zip(result.questions, back, strict=True))


# --- writing GIFT --------------------------------------------------------------------------


def test_render_writes_moodle_style_answers():
    questions = (
        Question("m1-q01", "single", "单选{题}", ("甲", "乙=丙"), ("B",), explanation="解析#1"),
        Question("m1-q02", "multiple", "多选", ("甲", "乙", "丙"), ("A", "C")),
        Question("m1-q03", "true_false", "判断", answer=("对",), source_ref="二（四）"),
        Question("m1-q04", "fill_blank", "任期 ___ 年", blanks=(("五", "5"),), tags=("a",)),
    )
    text = render_gift(questions)
    assert "::m1-q01::单选\\{题\\}{\n~甲\n=乙\\=丙\n####解析\\#1\n}" in text
    assert "~%50%甲\n~%-100%乙\n~%50%丙" in text
    assert "// peixun: 出处=二（四）\n::m1-q03::判断{T}" in text
    assert "// peixun: 标签=a\n::m1-q04::任期 {\n=五\n=5\n} 年" in text
    assert [q.line for q in parse_gift(text).questions] == [1, 7, 14, 17]
    back = parse_gift(text).questions
    assert all(a.same_content(b) for a, b in zip(questions, back, strict=True))


def test_render_keeps_answers_that_look_like_weights():
    q = Question("k", "single", "题", ("%50%甲", "乙"), ("A",))
    assert parse_gift(render_gift([q])).questions[0].same_content(q)
    f = Question("k", "fill_blank", "题___", blanks=(("%100%甲",),))
    assert parse_gift(render_gift([f])).questions[0].same_content(f)


def test_render_refuses_what_gift_cannot_hold():
    two_blanks = Question("two", "fill_blank", "___和___", blanks=(("甲",), ("乙",)))
    assert "只能有一个空" in gift_export_problem(two_blanks)
    with pytest.raises(BankFormatError, match="two"):
        render_gift([two_blanks])
    one_answer = Question("m", "multiple", "题", ("甲", "乙"), ("A",))
    assert gift_export_problem(one_answer) is None  # written with weights, read back as 多选
    no_answer = Question("m", "multiple", "题", ("甲", "乙"), ())
    assert "没有答案" in gift_export_problem(no_answer)


# --- round trip own → GIFT → own -----------------------------------------------------------

_ALPHABET = "工会委员会选举职工权益代表大会一二三四（）：，。、abcXYZ019 %<&~=#{}:\\\n"
texts = st.text(_ALPHABET, min_size=1, max_size=12).map(str.strip).filter(bool)
optional = st.one_of(st.just(""), texts)
keys = st.from_regex(SAFE_SLUG, fullmatch=True)
extras = {
    "explanation": optional,
    "source_ref": optional,
    "evidence": optional,
    "difficulty": st.one_of(st.none(), st.integers(1, 5)),
    "tags": st.lists(texts, max_size=3).map(tuple),
}


@st.composite
def choice_questions(draw, kind):
    options = tuple(draw(st.lists(texts, min_size=2, max_size=len(LETTERS))))
    letters = LETTERS[: len(options)]
    if kind == "single":
        answer = (draw(st.sampled_from(letters)),)
    else:
        chosen = draw(st.sets(st.sampled_from(letters), min_size=2))
        answer = tuple(sorted(chosen))
    fields = {name: draw(strategy) for name, strategy in extras.items()}
    return Question(draw(keys), kind, draw(texts), options, answer, **fields)


@st.composite
def true_false_questions(draw):
    fields = {name: draw(strategy) for name, strategy in extras.items()}
    answer = (draw(st.sampled_from(("对", "错"))),)
    return Question(draw(keys), "true_false", draw(texts), answer=answer, **fields)


@st.composite
def fill_blank_questions(draw):
    space = st.sampled_from(("", " "))
    before, after = draw(optional), draw(optional)
    if not before and not after:
        before = draw(texts)
    stem = f"{before}{draw(space)}___{draw(space)}{after}".strip()
    blanks = (tuple(draw(st.lists(texts, min_size=1, max_size=3))),)
    fields = {name: draw(strategy) for name, strategy in extras.items()}
    return Question(draw(keys), "fill_blank", stem, blanks=blanks, **fields)


questions = st.one_of(
    choice_questions("single"),
    choice_questions("multiple"),
    true_false_questions(),
    fill_blank_questions(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(questions, min_size=1, max_size=4, unique_by=lambda q: q.key))
def test_round_trip_own_gift_own(original):
    assert all(gift_export_problem(q) is None for q in original)
    text = render_gift(original)
    result = parse_gift(text)
    assert not result.problems and not result.skipped, (text, result)
    assert len(result.questions) == len(original)
    for before, after in zip(original, result.questions, strict=True):
        assert before.same_content(after), (text, before, after)
    assert re.search(r"^\s*$", text, re.MULTILINE)  # questions are separated by blank lines
