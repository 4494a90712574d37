"""The question-bank lint: each check with its file and line, fidelity, the report, the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from app.banks.lint import ERROR, FIDELITY, WARNING, format_report, lint_banks, lint_paths
from app.banks.model import ParseResult, Question
from app.banks.own_format import BankHeader, parse_bank, render_bank
from app.course.files import LessonText, ModuleText, SourceInfo, render_module

ROOT = Path(__file__).resolve().parent.parent
LAST_LINE = re.compile(r"^共 (\d+) 题，(\d+) 个错误，(\d+) 个警告$")

PASSAGE_1 = "2023年10月9日至12日，中国工会第十八次全国代表大会胜利召开。"
PASSAGE_2 = (
    "要分层分类、分期分批对工会工作者进行专题培训、集中轮训，"
    "通过举办专题学习会、报告会、研讨会、云直播、辅导讲座等形式。"
    "要坚持线上线下相结合。"
)
LESSONS = {"m1": {"导语": PASSAGE_1, "三（二）": PASSAGE_2}}


def q(key: str, type_: str = "single", **fields) -> Question:
    base = {"explanation": "见原文。", "source_ref": "导语"}
    if type_ == "single":
        base |= {
            "stem": f"{key}：大会哪一年召开？",
            "options": ("2022年", "2023年", "2024年"),
            "answer": ("B",),
        }
    return Question(key=key, type=type_, **(base | fields))


def bank(questions, file: str = "m1.md", module: str = "m1", slug: str = "m1"):
    header = BankHeader(slug, "测试题库", module)
    parsed_header, result = parse_bank(render_bank(header, questions), file)
    assert result.ok, result.problems
    return file, parsed_header, result


def lint(*banks):
    return lint_banks(list(banks), LESSONS)


def found(report, level: str, text: str) -> list:
    return [f for f in report.findings if f.level == level and text in f.message]


def line_of(result: ParseResult, key: str) -> int:
    return next(question.line for question in result.questions if question.key == key)


GOOD = [
    q("g-1"),
    q(
        "g-2",
        "multiple",
        stem="可以通过举办哪些形式进行专题培训？",
        options=("专题学习会", "运动会", "辅导讲座"),
        answer=("A", "C"),
        source_ref="三（二）",
    ),
    q("g-3", "true_false", stem="大会于2023年召开。", answer=("对",)),
    q(
        "g-4",
        "fill_blank",
        stem="要对工会工作者进行___、___。",
        blanks=(("专题培训", "培训"), ("集中轮训",)),
        source_ref="三（二）",
    ),
    q(
        "g-5",
        stem="开展舆论宣传要坚持怎样的方式？",
        options=("只在线上", "线上与线下相结合"),
        source_ref="三（二）",
        evidence="要坚持线上线下相结合",
    ),
]


def test_a_good_bank_has_no_findings_and_counts_every_type():
    report = lint(bank(GOOD))
    assert report.findings == ()
    assert report.counts == {
        "m1.md": {"single": 2, "multiple": 1, "true_false": 1, "fill_blank": 1}
    }
    text = format_report(report)
    assert "m1.md：单选 2，多选 1，判断 1，填空 1（共 5 题）" in text
    assert text.splitlines()[-1] == "共 5 题，0 个错误，0 个警告"


def test_parse_problems_pass_through_with_their_line():
    text = render_bank(BankHeader("m1", "测试", "m1"), [q("p-1")]).replace("答案：B", "答案：BC")
    header, result = parse_bank(text, "m1.md")
    report = lint(("m1.md", header, result))
    [finding] = report.findings
    assert finding.level == ERROR and finding.file == "m1.md"
    assert finding.line == result.problems[0].line and finding.line is not None
    assert not finding.message.startswith("第 ")
    assert str(finding).startswith(f"m1.md:{finding.line}: 错误: ")


def test_duplicate_keys_across_banks():
    first = bank([q("k-1")], "a.md")
    second = bank([q("k-1", stem="完全不同的另一道题，问的是别的事情吗？")], "b.md")
    report = lint(first, second)
    [finding] = found(report, ERROR, "题号重复")
    assert finding.file == "b.md" and finding.line == line_of(second[2], "k-1")
    assert "a.md:" in finding.message


def test_duplicate_and_near_duplicate_stems():
    stem = "中国工会第十八次全国代表大会于哪一年召开？"
    file, header, result = bank(
        [
            q("s-1", stem=stem),
            q("s-2", stem=" 中国工会第十八次全国代表大会于哪一年召开?"),
            q("s-3", stem="中国工会第十八次全国代表大会是于哪一年召开？"),
        ]
    )
    report = lint((file, header, result))
    [duplicate] = found(report, ERROR, "题干")
    assert duplicate.line == line_of(result, "s-2") and "s-1" in duplicate.message
    [near] = found(report, WARNING, "几乎相同")
    assert near.line == line_of(result, "s-3")


def test_structure_checks_on_questions_from_any_format():
    questions = (
        q("t-1", answer=("D",), line=10),
        q("t-2", answer=("A", "B"), stem="第二题？", line=20),
        q("t-3", "multiple", stem="第三题？", options=("甲", "乙"), answer=("A",), line=30),
        q("t-4", stem="第四题？", options=("2023年", "2023 年"), answer=("A",), line=40),
    )
    report = lint(("x.md", BankHeader("m1", "测试", "m1"), ParseResult(questions)))
    assert [f.line for f in found(report, ERROR, "不在选项中")] == [10]
    assert [f.line for f in found(report, ERROR, "有且只有一个答案")] == [20]
    assert [f.line for f in found(report, WARNING, "只有一个正确答案")] == [30]
    assert not found(report, ERROR, "多选")
    assert [f.line for f in found(report, ERROR, "选项 B 与选项 A 重复")] == [40]


def test_a_multiple_response_question_with_one_right_answer_goes_through_every_format():
    # Moodle's "multiple answers" question with one right box (check boxes, not a radio).
    from app.banks.editor_form import form_of, question_from_form
    from app.banks.gift import parse_gift, render_gift
    from app.banks.pasted_text import parse_pasted_text
    from app.banks.xlsx import parse_xlsx, render_xlsx

    gift = "::m1-q9::工会实行的组织原则是？{~%100%民主集中制 ~%-100%行政命令 ~%-100%自由放任}"
    (read,) = parse_gift(gift).questions
    question = replace(read, explanation="见原文。", source_ref="导语")
    assert (question.type, question.answer) == ("multiple", ("A",))
    report = lint(("m.gift", BankHeader("m1", "测试", "m1"), ParseResult((question,))))
    assert report.errors == 0
    assert len(found(report, WARNING, "是多选题，但只有一个正确答案（A）")) == 1

    _header, own = parse_bank(render_bank(BankHeader("m1", "测试", "m1"), [question]))
    assert own.ok and own.questions[0].same_content(question), own.problems
    xlsx = parse_xlsx(render_xlsx([question]))
    assert xlsx.ok and xlsx.questions[0].same_content(question), xlsx.problems
    assert parse_gift(render_gift([question])).questions[0].same_content(question)
    assert question_from_form(form_of(question), question.key)[1] == {}
    paste = "一、不定项选择题\n1. 工会实行的组织原则是？\nA. 民主集中制 B. 行政命令\n答案：A\n"
    result = parse_pasted_text(paste)
    assert result.ok and result.questions[0].type == "multiple", result.problems


def test_missing_explanation_and_source_are_warnings():
    file, header, result = bank(
        [q("w-1", explanation=""), q("w-2", stem="另一题？", source_ref="")]
    )
    report = lint((file, header, result))
    assert [f.line for f in found(report, WARNING, "缺少解析")] == [line_of(result, "w-1")]
    assert [f.line for f in found(report, WARNING, "缺少出处")] == [line_of(result, "w-2")]
    assert report.errors == 0


def test_source_must_resolve_to_a_lesson_of_the_banks_module():
    file, header, result = bank([q("r-1", source_ref="九")])
    report = lint((file, header, result))
    [finding] = found(report, ERROR, "出处“九”")
    assert finding.line == line_of(result, "r-1")
    other = lint(bank([q("r-2")], "n.md", module="nowhere"))
    assert [(f.file, f.line) for f in found(other, ERROR, "nowhere")] == [("n.md", 1)]


def test_fidelity_catches_a_wrong_answer_key():
    wrong = [
        q("f-1", answer=("C",)),  # 2024年 is not in the passage
        q(
            "f-2",
            "multiple",
            stem="哪些形式？",
            options=("专题学习会", "运动会", "辅导讲座"),
            answer=("A", "B"),
            source_ref="三（二）",
        ),
        q("f-3", "fill_blank", stem="大会于___召开。", blanks=(("2024年",),)),
    ]
    file, header, result = bank(wrong)
    report = lint((file, header, result))
    fidelity = found(report, WARNING, FIDELITY)
    assert [(f.line, f.level) for f in fidelity] == [
        (line_of(result, key), WARNING) for key in ("f-1", "f-2", "f-3")
    ]
    assert "2024年" in fidelity[0].message and "运动会" in fidelity[1].message
    # The same questions with the right keys pass.
    right = [wrong[0].__class__(**{**wrong[0].__dict__, "answer": ("B",)})]
    assert not found(lint(bank(right)), WARNING, FIDELITY)


def test_fidelity_normalises_width_spaces_and_punctuation():
    questions = [q("n-1", options=("２０２２年", " 2023 年。"), answer=("B",))]
    assert lint(bank(questions)).findings == ()


def test_evidence_satisfies_fidelity_only_when_it_is_in_the_passage():
    paraphrase = {
        "stem": "开展舆论宣传要坚持怎样的方式？",
        "options": ("只在线上", "线上与线下相结合"),
        "source_ref": "三（二）",
    }
    assert found(lint(bank([q("e-1", **paraphrase)])), WARNING, FIDELITY)
    assert not found(
        lint(bank([q("e-2", **paraphrase, evidence="线上线下相结合")])), WARNING, FIDELITY
    )
    file, header, result = bank([q("e-3", **paraphrase, evidence="线上与线下相结合")])
    [finding] = found(lint((file, header, result)), WARNING, "依据")
    assert finding.line == line_of(result, "e-3")
    # 判断题: only the evidence is checked, when there is one.
    true_false = {"stem": "大会于2024年召开。", "answer": ("错",)}
    assert not lint(bank([q("e-4", "true_false", **true_false)])).findings
    assert found(
        lint(bank([q("e-5", "true_false", **true_false, evidence="2024年")])), WARNING, "依据"
    )
    assert not lint(bank([q("e-6", "true_false", **true_false, evidence="2023年10月9日")])).findings


def test_last_line_totals():
    file, header, result = bank(
        [
            q("l-1", answer=("C",), explanation=""),
            q("l-2", stem="完全不同的一道题？", source_ref="九"),
        ]
    )
    text = format_report(lint((file, header, result)))
    last = text.splitlines()[-1]
    assert LAST_LINE.match(last)
    assert last == "共 2 题，1 个错误，2 个警告"
    assert format_report(lint()) == "共 0 题，0 个错误，0 个警告"


def test_the_projects_question_banks_have_no_errors():
    report = lint_paths([ROOT / "question_banks"], ROOT / "course")
    text = format_report(report)
    assert report.errors == 0, text
    match = LAST_LINE.match(text.splitlines()[-1])
    assert match and int(match.group(1)) == report.questions
    if not report.counts:
        assert text.splitlines()[-1].startswith("共 0 题")


# ---------------------------------------------------------------------------------- CLI


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir(exist_ok=True)
    module = ModuleText(
        slug="m1",
        title="测试模块",
        order=1,
        source=SourceInfo(),
        lessons=(
            LessonText("导语", "导语", (PASSAGE_1,)),
            LessonText("三（二）", "学习培训", (PASSAGE_2,)),
        ),
    )
    (course / "m1.md").write_text(render_module(module), encoding="utf-8")
    return course


def _lint_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PEIXUN_COURSE_DIR": str(_course(tmp_path)), "PYTHONPATH": str(ROOT)}
    env["PEIXUN_QUESTION_BANK_DIR"] = str(tmp_path / "banks")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "banks", "lint", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_cli_reports_errors_with_file_and_line_and_fails(tmp_path):
    path = tmp_path / "m1.md"
    _file, header, result = bank([q("c-1"), q("c-2", stem="另一题？", source_ref="九")])
    path.write_text(render_bank(header, result.questions), encoding="utf-8")
    done = _lint_cli(tmp_path, str(path))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert f"m1.md:{line_of(result, 'c-2')}: 错误: " in done.stdout
    assert lines[-1] == "共 2 题，1 个错误，0 个警告"


def test_cli_warnings_pass_unless_strict(tmp_path):
    banks = tmp_path / "banks"
    banks.mkdir()
    (banks / "README.md").write_text("说明", encoding="utf-8")
    _file, header, result = bank([q("c-3", explanation="")])
    (banks / "m1.md").write_text(render_bank(header, result.questions), encoding="utf-8")
    done = _lint_cli(tmp_path)  # the default: every bank in the question bank folder
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "共 1 题，0 个错误，1 个警告"
    strict = _lint_cli(tmp_path, "--strict")
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1] == "共 1 题，0 个错误，1 个警告"
