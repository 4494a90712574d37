"""Two versions of the placeholder charter (tests/charter_fixture.py) compared clause by
clause: an article edited in a few words, one removed, one added, two renumbered."""

from __future__ import annotations

import re

from app.course.amendment import (
    align_versions,
    changed_refs,
    diff_segments,
    is_new_version,
    normalise_title,
)
from app.course.documents import DocumentMeta, parse_document
from app.course.files import SourceInfo
from tests.charter_fixture import TITLE, charter_text, chinese_number

ARTICLE_LINE = re.compile(r"^第[〇一二三四五六七八九十]+条　")
ADDED = "示例协会设立联络小组，负责与各会员小组的日常往来，小组的组成另行规定。"


def amended_text(old: str) -> str:
    """The old text with article 2 edited, an article added after article 6 and article 9
    removed; every article renumbered in order."""
    lines = old.splitlines()
    headings = [line for line in lines[1:] if not ARTICLE_LINE.match(line)]
    bodies = [ARTICLE_LINE.sub("", line) for line in lines[1:] if ARTICLE_LINE.match(line)]
    assert len(headings) == 3 and len(bodies) == 12
    assert "对会员大会负责" in bodies[1]
    bodies[1] = bodies[1].replace("对会员大会负责", "对理事会负责并报告工作")
    removed = bodies[8]
    new_bodies = [*bodies[:6], ADDED, *bodies[6:8], *bodies[9:]]
    assert removed not in new_bodies
    # The second chapter gains the new article, the third loses article 9.
    out = [lines[0] + "（修正案）"]
    n = 0
    for heading, size in zip(headings, (4, 5, 3), strict=True):
        out.append(heading)
        for _ in range(size):
            out.append(f"第{chinese_number(n + 1)}条　{new_bodies[n]}")
            n += 1
    assert n == len(new_bodies)
    return "\n".join(out) + "\n"


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
