"""Ordering names by 姓氏笔画 (Unihan kTotalStrokes) and by pinyin: pure, no database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports import make_strokes
from app.reports.strokes import (
    COMPOUND_SURNAMES,
    UNKNOWN_STROKES,
    name_pinyin,
    pinyin_key,
    sort_names,
    split_name,
    stroke_key,
    stroke_table,
    strokes,
    surname_strokes,
)


@pytest.mark.parametrize(
    ("char", "count"),
    [
        ("王", 4),
        ("李", 7),
        ("张", 7),
        ("刘", 6),
        ("陈", 7),
        ("赵", 9),
        ("丁", 2),
        ("欧", 8),
        ("一", 1),
        ("范", 8),  # Unihan gives "8 9": the simplified count comes first
        ("龘", 48),
        ("㐀", 5),  # Extension A
    ],
)
def test_known_stroke_counts(char, count):
    assert strokes(char) == count


def test_characters_without_data_go_last():
    assert strokes("A") == UNKNOWN_STROKES
    assert strokes("·") == UNKNOWN_STROKES
    assert sort_names(["Anna", "王五"]) == ["王五", "Anna"]


def test_the_table_covers_the_unified_ideographs_and_extension_a():
    table = stroke_table()
    assert len(table) > 27000
    assert all(0x3400 <= c <= 0x4DBF or 0x4E00 <= c <= 0x9FFF for c in table)
    assert min(table.values()) >= 1


def test_compound_surnames_count_as_one():
    assert split_name("欧阳修") == ("欧阳", "修")
    assert split_name("司马光") == ("司马", "光")
    assert split_name("诸葛亮") == ("诸葛", "亮")
    assert split_name("欧阳") == ("欧", "阳")  # two characters: a surname and a given name
    assert split_name("王五") == ("王", "五")
    assert surname_strokes("欧阳修") == 8
    assert surname_strokes("诸葛亮") == 10
    assert {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容"} <= (
        COMPOUND_SURNAMES
    )


def test_the_order_of_an_official_roster():
    names = ["赵六", "陈二", "张三", "李四", "刘一", "王五", "丁七", "欧阳修", "欧明", "司马光"]
    assert sort_names(names) == [
        "丁七",  # 2
        "王五",  # 4
        "司马光",  # 司 5
        "刘一",  # 6
        "陈二",  # 7: chen < li < zhang, as pinyin stands in for 起笔
        "李四",
        "张三",
        "欧明",  # 欧 8, then 欧阳 right after
        "欧阳修",
        "赵六",  # 9
    ]


def test_the_given_name_orders_people_of_one_surname():
    assert sort_names(["王五", "王一", "王一丁", "王", "王二"]) == [
        "王",
        "王一",
        "王一丁",
        "王二",
        "王五",
    ]


def test_surname_readings_and_pinyin_order():
    assert name_pinyin("单雄信") == ("shan4", "xiong2", "xin4")
    assert name_pinyin("曾国藩")[0] == "zeng1"
    assert name_pinyin("尉迟恭")[:2] == ("yu4", "chi2")
    names = ["王五", "李四", "张三", "刘一", "陈二", "李", "吕布", "卢布"]
    assert sort_names(names, "pinyin") == [
        "陈二",
        "李",
        "李四",
        "刘一",
        "卢布",
        "吕布",
        "王五",
        "张三",
    ]


def test_one_surname_stays_together_even_with_a_homophone_of_equal_strokes():
    # 张 and 陈 both have 7 strokes; 章 11. People of one surname are never interleaved.
    ordered = sort_names(["张伟", "陈伟", "张一", "陈一", "章一"])
    assert ordered == ["陈一", "陈伟", "张一", "张伟", "章一"]


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
COMMON = st.sampled_from(list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗丁一二三伟芳娜秀英敏静"))
NAMES = st.one_of(
    st.text(HAN, min_size=1, max_size=4),
    st.text(COMMON, min_size=1, max_size=3),
    st.tuples(
        st.sampled_from(sorted(COMPOUND_SURNAMES)), st.text(COMMON, min_size=1, max_size=2)
    ).map("".join),
)


@settings(max_examples=300)
@given(st.lists(NAMES, max_size=40))
def test_stroke_order_holds_for_any_names(names):
    ordered = sort_names(names)
    assert sorted(ordered) == sorted(names)
    counts = [surname_strokes(n) for n in ordered]
    assert counts == sorted(counts)
    # Every surname's people are together.
    surnames = [split_name(n)[0] for n in ordered]
    seen: set[str] = set()
    for n, surname in enumerate(surnames):
        if surname in seen:
            assert surnames[n - 1] == surname
        seen.add(surname)
    # Sorting is stable under shuffling: the key decides everything.
    assert sort_names(list(reversed(names))) == ordered


@settings(max_examples=300)
@given(st.lists(NAMES, max_size=40))
def test_pinyin_order_holds_for_any_names(names):
    ordered = sort_names(names, "pinyin")
    syllables = [name_pinyin(n) for n in ordered]
    assert syllables == sorted(syllables)
    assert sort_names(list(reversed(names)), "pinyin") == ordered


@settings(max_examples=200)
@given(NAMES, NAMES)
def test_keys_compare_like_their_parts(a, b):
    if a != b:
        assert stroke_key(a) != stroke_key(b)
        assert pinyin_key(a) != pinyin_key(b)
    if surname_strokes(a) < surname_strokes(b):
        assert stroke_key(a) < stroke_key(b)


def test_the_data_file_is_what_make_strokes_writes(tmp_path):
    lines = [
        "# Unicode version: 15.0.0",
        "U+4E00\tkTotalStrokes\t1",
        "U+4E01\tkRSUnicode\t1.1",
        "U+4E01\tkTotalStrokes\t2",
        "U+8303\tkTotalStrokes\t8 9",
        "U+20000\tkTotalStrokes\t7",
    ]
    counts, version = make_strokes.read_counts(lines)
    assert version == "15.0.0"
    assert counts[0x4E00] == 1 and counts[0x4E01] == 2 and counts[0x8303] == 8
    text = make_strokes.encode(counts, version)
    line = next(x for x in text.splitlines() if x.startswith("4E00 "))
    assert line[5:8] == "120"  # 一 1, 丁 2, 丂 no data
    assert len(line) == 5 + 64
    # The committed file holds the same for these code points.
    assert strokes("一") == 1 and strokes("丁") == 2
