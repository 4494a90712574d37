"""Two versions of the placeholder charter (tests/charter_fixture.py) compared clause by
clause: an article edited in a few words, one removed, one added, two renumbered."""

from __future__ import annotations

from app.course.amendment import (
    align_versions,
    change_lessons,
    changed_refs,
    diff_segments,
    is_new_version,
    normalise_title,
    removed_note,
    touched_clauses,
)
from app.course.documents import DocumentMeta, parse_document
from app.course.files import SourceInfo
from tests.charter_fixture import (
    ADDED,
    ARTICLE_LINE,
    TITLE,
    amended_text,
    charter_text,
    chinese_number,
)


def versions():
    old_text = charter_text(3, 12)
    return parse_document(old_text), parse_document(amended_text(old_text))


def old_of(segments):
    return "".join(text for op, text in segments if op != "insert")


def new_of(segments):
    return "".join(text for op, text in segments if op != "delete")


def test_versions_are_recognised_as_one_document():
    old, new = versions()
    assert old.meta.title == TITLE
    assert new.meta.title == TITLE + "（修正案）"
    assert is_new_version(old.meta, new.meta)


def test_alignment_kinds_and_refs():
    old, new = versions()
    changes = align_versions(old, new)
    got = [(c.kind, c.old_ref, c.new_ref) for c in changes]
    same = "unchanged"
    assert got == [
        (same, "第一章 第一条", "第一章 第一条"),
        ("changed", "第一章 第二条", "第一章 第二条"),
        (same, "第一章 第三条", "第一章 第三条"),
        (same, "第一章 第四条", "第一章 第四条"),
        (same, "第二章 第五条", "第二章 第五条"),
        (same, "第二章 第六条", "第二章 第六条"),
        ("added", None, "第二章 第七条"),
        (same, "第二章 第七条", "第二章 第八条"),
        (same, "第二章 第八条", "第二章 第九条"),
        ("removed", "第三章 第九条", None),
        (same, "第三章 第十条", "第三章 第十条"),
        (same, "第三章 第十一条", "第三章 第十一条"),
        (same, "第三章 第十二条", "第三章 第十二条"),
    ]
    assert [c.renumbered for c in changes if c.kind == same].count(True) == 2
    added = changes[6]
    assert added.new_text == "第七条" + ADDED and added.old_text == ""
    assert added.segments == (("insert", added.new_text),)
    removed = changes[9]
    assert removed.old_text.startswith("第九条") and removed.new_text == ""
    assert removed.segments == (("delete", removed.old_text),)


def test_segments_rebuild_both_texts_and_mark_the_changed_words():
    old, new = versions()
    changes = align_versions(old, new)
    for change in changes:
        assert old_of(change.segments) == change.old_text
        assert new_of(change.segments) == change.new_text
        ops = [op for op, _ in change.segments]
        if change.kind == "unchanged" and not change.renumbered:
            assert ops == ["equal"]
        # No one-character confetti: an equal run between two changes is longer than one.
        for k in range(1, len(change.segments) - 1):
            op, text = change.segments[k]
            if op == "equal":
                assert len(text) > 1, change.segments
    edited = changes[1]
    assert "对会员大会负责" in edited.old_text
    assert "对理事会负责并报告工作" in edited.new_text
    marked_old = "".join(t for op, t in edited.segments if op == "delete")
    marked_new = "".join(t for op, t in edited.segments if op == "insert")
    assert marked_old == "会员大"
    assert marked_new == "理事" + "并报告工作"
    # The words around the change are not marked.
    assert ("equal", "负责") in edited.segments or any(
        op == "equal" and "负责" in t for op, t in edited.segments
    )
    renumbered = changes[7]
    assert renumbered.segments[:3] == (("equal", "第"), ("delete", "七"), ("insert", "八"))


def test_changed_refs_are_the_old_refs_of_changed_and_removed_clauses():
    old, new = versions()
    assert changed_refs(align_versions(old, new)) == ["第一章 第二条", "第三章 第九条"]
    assert changed_refs(align_versions(old, old)) == []


def test_the_same_version_is_all_unchanged():
    old, _ = versions()
    changes = align_versions(old, old)
    assert {c.kind for c in changes} == {"unchanged"}
    assert len(changes) == 12


def test_diff_segments_merge_runs_split_by_one_character():
    segments = diff_segments("甲乙丙丁", "甲戊丙己")
    assert segments == (("equal", "甲"), ("delete", "乙丙丁"), ("insert", "戊丙己"))
    assert diff_segments("", "") == ()
    assert diff_segments("相同", "相同") == (("equal", "相同"),)
    segments = diff_segments("会员每年参加两次活动", "会员每年参加三次集体活动")
    assert old_of(segments) == "会员每年参加两次活动"
    assert new_of(segments) == "会员每年参加三次集体活动"
    assert segments[0] == ("equal", "会员每年参加")


def test_a_clause_renumbered_and_edited_is_found_by_its_text():
    text = charter_text(1, 5)
    lines = text.splitlines()
    bodies = [ARTICLE_LINE.sub("", line) for line in lines[2:]]
    bodies[2] = bodies[2].replace("具体时间", "具体日期和地点")
    bodies[3] = ADDED  # the same number, another text: removed and added, not changed
    bodies.insert(0, "示例协会的名称为示例协会。")
    new_lines = lines[:2] + [f"第{chinese_number(n + 1)}条　{b}" for n, b in enumerate(bodies)]
    changes = align_versions(parse_document(text), parse_document("\n".join(new_lines)))
    got = [(c.kind, c.old_ref, c.new_ref) for c in changes]
    assert got == [
        ("added", None, "第一章 第一条"),
        ("unchanged", "第一章 第一条", "第一章 第二条"),
        ("unchanged", "第一章 第二条", "第一章 第三条"),
        ("changed", "第一章 第三条", "第一章 第四条"),
        ("removed", "第一章 第四条", None),
        ("added", None, "第一章 第五条"),
        ("unchanged", "第一章 第五条", "第一章 第六条"),
    ]
    edited = changes[3]
    assert [t for op, t in edited.segments if op == "insert"] == ["四", "日期和地点"]


NOTICE = """关于示例工作安排的通知
一、总体要求
各小组按计划整理档案，按时报送名单。
二、工作步骤
（一）准备阶段。各小组核对名单，登记信息。
（二）实施阶段。各小组组织会议，汇总意见。
三、有关要求
各小组要加强协调，及时报送总结。
"""


def test_documents_without_articles_align_by_section():
    old = parse_document(NOTICE)
    text = NOTICE.replace("登记信息", "登记并更新信息").replace(
        "三、有关要求", "三、经费保障\n各小组做好账目保管。\n四、有关要求"
    )
    new = parse_document(text)
    got = [(c.kind, c.old_ref, c.new_ref) for c in align_versions(old, new)]
    assert got == [
        ("unchanged", "一", "一"),
        ("unchanged", "二", "二"),
        ("changed", "二（一）", "二（一）"),
        ("unchanged", "二（二）", "二（二）"),
        ("added", None, "三"),
        ("unchanged", "三", "四"),
    ]


def test_is_new_version():
    charter = DocumentMeta(title="《示例协会章程》")
    assert is_new_version(charter, DocumentMeta(title="示例协会章程（修正案）"))
    assert is_new_version(charter, DocumentMeta(title=" 示例协会 章程 (修正案)"))
    assert not is_new_version(charter, DocumentMeta(title="示例协会工作细则"))
    numbered = DocumentMeta(doc_number="示协发〔2025〕3号", title="关于甲的通知")
    assert is_new_version(numbered, DocumentMeta(doc_number="示协发〔2025〕3号", title="乙"))
    assert not is_new_version(numbered, DocumentMeta(doc_number="示协发〔2025〕4号", title="丙"))
    assert not is_new_version(DocumentMeta(), DocumentMeta())
    assert not is_new_version(SourceInfo(title="", doc_number="", file="a.txt"), DocumentMeta())
    assert is_new_version(
        SourceInfo(title="示例协会章程", doc_number="", file="a.txt"),
        {"title": "《示例协会章程》（修正案）", "doc_number": None},
    )
    assert normalise_title("《示例协会章程（修正案）》") == "示例协会章程"


# ---------------------------------------------------------------- questions to check, the lesson


def _passage(document, refs):
    """The text of a lesson made of these clauses, as the course holds it."""
    return "\n\n".join(c.old_text for c in align_versions(document, document) if c.old_ref in refs)


def test_a_question_resting_on_a_changed_clause_is_touched():
    old, new = versions()
    changes = align_versions(old, new)
    lesson = _passage(old, {"第一章 第一条", "第一章 第二条", "第一章 第三条", "第一章 第四条"})
    touched = touched_clauses(lesson, ["对会员大会负责"], changes)
    assert [c.old_ref for c in touched] == ["第一章 第二条"]
    # Its answer stands only in article 1, which did not change: nothing to check.
    assert touched_clauses(lesson, ["编写通知"], changes) == []
    # Without anchors (a 判断题 without 依据) every changed clause of the passage counts.
    assert [c.old_ref for c in touched_clauses(lesson, [], changes)] == ["第一章 第二条"]
    # An anchor found nowhere in the unchanged clauses counts as resting on the change.
    assert touched_clauses(lesson, ["不在原文中的话"], changes)


def test_removed_and_renumbered_clauses():
    old, new = versions()
    changes = align_versions(old, new)
    removed = _passage(old, {"第三章 第九条"})
    assert [c.kind for c in touched_clauses(removed, ["监督机构"], changes)] == ["removed"]
    renumbered = _passage(old, {"第二章 第七条"})  # now 第八条, word for word
    assert touched_clauses(renumbered, [], changes) == []


def test_the_lesson_of_the_changes_is_the_new_text():
    old, new = versions()
    changes = align_versions(old, new)
    lessons = change_lessons(changes)
    assert [(lesson.source_ref, lesson.title) for lesson in lessons] == [
        ("第一章 第二条", "第一章 第二条（修改）"),
        ("第二章 第七条", "第二章 第七条（新增）"),
    ]
    new_text = "\n".join(c.new_text for c in changes if c.new_text)
    assert all(p in new_text for lesson in lessons for p in lesson.paragraphs)
    assert "对理事会负责并报告工作" in lessons[0].paragraphs[0]
    assert "对会员大会负责" in lessons[0].key_points and "修改前" in lessons[0].key_points
    assert ADDED in lessons[1].paragraphs[0] and lessons[1].key_points == ""
    note = removed_note(changes)
    assert "第三章 第九条" in note and "监督机构" in note
    assert change_lessons(align_versions(old, old)) == [] and removed_note([]) == ""
