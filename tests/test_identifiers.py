"""Identifiers peixun makes from a title: readable, ASCII, numbered past the taken ones."""

from __future__ import annotations

import sqlite3

from app.lib.identifiers import BASE_MAX, candidate, first_free, is_unique_violation


def test_a_chinese_title_reads_as_pinyin_words():
    assert candidate("学习导读题库") == "xuexi-daodu-tiku"
    assert candidate("2023年工会章程（修正案）题库").startswith("2023-nian-gonghui-zhangcheng")
    assert candidate("ABC 测试") == "abc-ceshi"
    assert candidate("Ünïcode Tëst") == "unicode-test"


def test_an_identifier_is_short_lowercase_ascii_and_may_be_empty():
    long = candidate("中国工会第十八次全国代表大会精神学习测验" * 3)
    assert 0 < len(long) <= BASE_MAX and re_ok(long) and not long.endswith("-")
    assert candidate("！！！") == "" and candidate("") == ""


def re_ok(text: str) -> bool:
    return all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in text)


def test_taken_identifiers_are_numbered_on():
    assert first_free("tiku", set(), "x") == "tiku"
    assert first_free("tiku", {"tiku"}, "x") == "tiku-2"
    assert first_free("tiku", {"tiku", "tiku-2"}, "x") == "tiku-3"
    assert first_free("", set(), "ceyan") == "ceyan-1"
    assert first_free("", {"ceyan-1"}, "ceyan") == "ceyan-2"


def test_a_unique_violation_is_recognised():
    assert is_unique_violation(sqlite3.IntegrityError("UNIQUE constraint failed: bank.slug"))
    assert not is_unique_violation(sqlite3.IntegrityError("NOT NULL constraint failed"))
    assert not is_unique_violation(ValueError("x"))
