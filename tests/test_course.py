"""The shipped course is what the importer makes of the notice, word for word."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document as WordDocument

from app.course.documents import parse_document
from app.course.files import (
    CourseFileError,
    LessonText,
    ModuleText,
    SourceInfo,
    parse_module,
    render_module,
)
from app.course.importing import ImportRefused, import_document
from app.course.lessons import read_course_dir
from app.course.plan import PlanError, build_modules, default_plan, parts_of, read_plan

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
NOTICE = COURSE / "sources" / "notice-jiaozuo-2023-93.txt"
PLAN = COURSE / "plans" / "notice-jiaozuo-2023-93.yaml"
SHARED_NOTICE = ROOT.parent / "shared" / "source" / "notice-jiaozuo-2023-93.txt"

# Written for these tests; not the text of any real charter.
TEST_CHARTER = """测试用章程（非正式文本）

总则

本章程是为测试文件导入而编写的示例文本，不是任何组织的正式章程。

第一章 会员

第一条 示例条文一，内容较短。

第二条 示例条文二，内容也较短。

第三条 示例条文三，这一条写得比较长，用来检查较长的条文单独成为一课。为了达到长度界限，这\
里多写几句：示例文字、示例文字、示例文字、示例文字、示例文字。它包含足够多的文字，超过了合\
并短条文的长度界限，因此不会与前后的条文合并在同一篇课文之中，而是自己成为一篇课文，方便学\
员逐条阅读和理解其中的规定。

第二章 组织

第四条 示例条文四。

第五条 示例条文五。
"""


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_project_keeps_its_own_copy_of_the_notice():
    if not SHARED_NOTICE.exists():
        pytest.skip("没有 ../shared（用户的克隆中没有它）：跳过与共享原件的比对")
    assert NOTICE.read_bytes() == SHARED_NOTICE.read_bytes()


def test_the_shipped_course_is_what_the_importer_makes_of_the_notice(tmp_path):
    shutil.copytree(COURSE / "sources", tmp_path / "sources")
    result = import_document(NOTICE, tmp_path, PLAN, write=True)
    assert [m.slug for m in result.modules] == [
        "xuexi-daodu",
        "zhongyao-jianghua",
        "dangzhongyang-zhici",
        "shibada-baogao",
        "gonghui-zhangcheng",
        "luoshi-zhiyao",
    ]
    for module in result.modules:
        shipped = (COURSE / f"{module.slug}.md").read_text(encoding="utf-8")
        assert (tmp_path / f"{module.slug}.md").read_text(encoding="utf-8") == shipped


def test_every_lesson_is_the_notice_word_for_word_and_nothing_is_left_out():
    modules = read_course_dir(COURSE)
    assert [m.title for m in modules][:2] == ["学习导读", "习近平总书记重要讲话精神"]
    lesson_text = "".join(p for m in modules for lesson in m.lessons for p in lesson.paragraphs)
    source = _squash(NOTICE.read_text(encoding="utf-8"))
    start = source.index("2023年10月9日至12日，中国工会第十八次")
    end = source.index("情况要及时报告市总工会。") + len("情况要及时报告市总工会。")
    assert _squash(lesson_text) == source[start:end]


def test_modules_that_only_name_a_document_say_so_and_how_to_import_it():
    by_slug = {m.slug: m for m in read_course_dir(COURSE)}
    for slug in ("shibada-baogao", "gonghui-zhangcheng"):
        note = by_slug[slug].note
        assert "不在通知之中" in note and "没有收录" in note
        assert "peixun documents import" in note
    assert [lesson.source_ref for lesson in by_slug["gonghui-zhangcheng"].lessons] == ["二（四）"]


def test_the_json_outline_of_the_notice():
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "documents", "import", str(NOTICE), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outline = json.loads(result.stdout)
    assert outline["meta"]["doc_number"] == "焦工文〔2023〕93号"
    assert outline["meta"]["date"] == "2023年11月8日"
    assert outline["meta"]["issuer"] == "焦作市总工会"
    assert [s["source_ref"] for s in outline["sections"]] == ["一", "二", "三"]
    assert [len(s["children"]) for s in outline["sections"]] == [0, 4, 4]
    assert outline["sections"][2]["children"][1]["number"] == "（二)"


def test_module_files_round_trip_and_keep_key_points_apart():
    module = ModuleText(
        slug="ceshi",
        title="测试",
        order=3,
        source=SourceInfo("测试文件", "测试〔2023〕1号", "sources/x.txt"),
        note="说明文字。",
        lessons=(LessonText("第一章 第一条", "第一条", ("第一条 甲。", "乙。"), "- 要点"),),
    )
    text = render_module(module)
    assert "## 第一条 {#第一章 第一条}" in text
    assert "::: 学习要点\n- 要点\n:::" in text
    assert parse_module(text) == module
    assert module.lessons[0].slug == "第一章-第一条"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("没有文件头", "第 1 行"),
        ("---\nslug: A B\ntitle: x\n---\n## 甲 {#一}\n正文", "slug"),
        ("---\nslug: a\ntitle: x\n---\n正文在标题之前", "第 5 行"),
        ("---\nslug: a\ntitle: x\n---\n## 没有出处\n正文", "第 5 行"),
        ("---\nslug: a\ntitle: x\n---\n## 甲 {#一}\n正文\n## 乙 {#一}\n", "重复"),
        ("---\nslug: a\ntitle: x\n---\n## 甲 {#一}\n::: 学习要点\n没有结束", "没有以“:::”结束"),
    ],
)
def test_bad_module_files_are_named_by_line(text, message):
    with pytest.raises(CourseFileError, match=message):
        parse_module(text, "x.md")


def test_a_charter_becomes_a_module_per_chapter_with_short_articles_grouped():
    document = parse_document(TEST_CHARTER)
    modules = build_modules(document, default_plan(document, "ceshi"), SourceInfo())
    assert [m.title for m in modules] == ["总则", "会员", "组织"]
    assert [lesson.source_ref for lesson in modules[0].lessons] == ["总则"]
    assert [lesson.source_ref for lesson in modules[1].lessons] == [
        "第一章 第一条至第二条",
        "第一章 第三条",
    ]
    assert [lesson.title for lesson in modules[2].lessons] == ["第四条至第五条"]


def test_text_after_an_articles_items_is_read_in_the_articles_lesson():
    # Written for this test; not the text of any real rules.
    document = parse_document(
        "第一条 为测试导入，制定本测试办法。\n"
        "第二条 测试小组履行下列职责：\n"
        "（一）编写测试文本；\n"
        "（二）核对解析结果。\n"
        "测试小组的职责由组长分工落实。\n"
        "第三条 测试小组每月汇总一次结果。\n"
    )
    parts = {part.source_ref: part.paragraphs for part in parts_of(document)}
    assert parts["第二条"] == (
        "第二条测试小组履行下列职责：",
        "（一）编写测试文本；",
        "（二）核对解析结果。",
        "测试小组的职责由组长分工落实。",
    )
    assert "第二条（二）" not in parts
    lessons = build_modules(document, default_plan(document, "ceshi"), SourceInfo())
    by_ref = {lesson.source_ref: lesson for module in lessons for lesson in module.lessons}
    assert by_ref["第二条"].paragraphs[-1] == "测试小组的职责由组长分工落实。"


def test_a_word_document_imports(tmp_path):
    word = WordDocument()
    for line in TEST_CHARTER.splitlines():
        if line.strip():
            word.add_paragraph(line)
    path = tmp_path / "ceshi-zhangcheng.docx"
    word.save(path)
    result = import_document(path, tmp_path / "course", write=True)
    assert [m.slug for m in result.modules] == [
        "ceshi-zhangcheng-1",
        "ceshi-zhangcheng-2",
        "ceshi-zhangcheng-3",
    ]
    assert (tmp_path / "course" / "sources" / "ceshi-zhangcheng.docx").exists()
    assert len(read_course_dir(tmp_path / "course")) == 3


def test_a_plan_that_leaves_a_part_out_writes_nothing(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("modules:\n  - {slug: a, title: 甲, parts: [导语, 一]}\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="没有放进任何模块"):
        import_document(NOTICE, tmp_path / "course", plan, write=True)
    assert not (tmp_path / "course").exists()


def test_a_plan_naming_an_unknown_or_repeated_part_is_refused():
    document = parse_document(NOTICE.read_text(encoding="utf-8"))
    plan = read_plan("modules:\n  - {slug: a, title: 甲, parts: [一, 一, 四]}\n", "plan.yaml")
    with pytest.raises(PlanError) as refused:
        build_modules(document, plan, SourceInfo())
    assert "没有出处“四”" in str(refused.value)
    assert "出处“一”同时用在" in str(refused.value)


def test_a_document_without_structure_writes_nothing(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("这只是一段没有编号的文字。\n第二段也没有编号。\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="没有在文件中找到可识别的结构"):
        import_document(path, tmp_path / "course", write=True)
    assert not (tmp_path / "course").exists()


def test_an_empty_file_is_refused_with_a_message(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ImportRefused, match="空"):
        import_document(path, tmp_path / "course", write=True)
