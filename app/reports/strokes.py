"""Ordering names the way official Chinese rosters do: by 姓氏笔画, or by pinyin.

Stroke counts come from the Unicode Han Database (Unihan), field kTotalStrokes, compacted
into `strokes.txt` by `make_strokes.py` and read once. Unihan has no 起笔 (first-stroke)
data, so names whose strokes tie are put in pinyin order, an approximation of the
横竖撇点折 order that printed rosters use for equal counts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pypinyin import Style, lazy_pinyin

STROKES_FILE = Path(__file__).with_name("strokes.txt")
_ZERO = 48
# Characters Unihan does not cover (Latin letters, "·" in minority names) go after all Han.
UNKNOWN_STROKES = 99

# Two-character surnames, ordered as one surname; by the strokes of their first character,
# then of the second (so 欧阳 comes right after all the 欧).
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "令狐", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里",
        "呼延", "澹台", "公冶", "太史", "申屠", "万俟", "闻人", "钟离", "宗政", "濮阳",
    }
)  # fmt: skip

# Surnames read differently from the everyday reading pypinyin gives a lone character.
SURNAME_READINGS = {
    "单": ("shan4",),
    "曾": ("zeng1",),
    "解": ("xie4",),
    "仇": ("qiu2",),
    "区": ("ou1",),
    "查": ("zha1",),
    "朴": ("piao2",),
    "盖": ("ge3",),
    "覃": ("qin2",),
    "缪": ("miao4",),
    "翟": ("zhai2",),
    "乐": ("yue4",),
    "尉迟": ("yu4", "chi2"),
    "长孙": ("zhang3", "sun1"),
    "万俟": ("mo4", "qi2"),
}


@cache
def stroke_table() -> dict[int, int]:
    """Code point → stroke count, read from `strokes.txt` on first use."""
    table: dict[int, int] = {}
    for line in STROKES_FILE.read_text(encoding="ascii").splitlines():
        if not line or line.startswith("#"):
            continue
        start, counts = line.split(" ", 1)
        first = int(start, 16)
        for offset, mark in enumerate(counts):
            if mark != "0":
                table[first + offset] = ord(mark) - _ZERO
    return table


def strokes(char: str) -> int:
    """The stroke count of one character; UNKNOWN_STROKES when Unihan has none."""
    return stroke_table().get(ord(char), UNKNOWN_STROKES)


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name); a compound surname counts as one when a given name follows."""
    name = name.strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


# Sort keys are plain strings built with str.translate, which maps a whole name in C (the
# keys of 100,000 names take about 0.2 s; tuples built in Python took twice as long). Parts
# of a key end with _END, below every character a part holds, so a shorter part sorts
# first ("王一" < "王一丁").
_END = "\x01"
_SYLLABLE_WIDTH = 7  # the longest syllable with its tone digit: "zhuang1"


class _Table(dict):
    """A str.translate table that fills itself: code point → key text of that character."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, code: int) -> str:
        value = self[code] = self.make(chr(code))
        return value


def _stroke_mark(char: str) -> str:
    return chr(_ZERO + strokes(char))


def _syllable(char: str) -> str:
    """The pinyin of one character with its tone digit ("zhang1"), padded to a fixed width
    so that syllables compare one by one; a character that is not Han stands for itself."""
    syllable = lazy_pinyin(char, style=Style.TONE3, neutral_tone_with_five=True)[0]
    return syllable[:_SYLLABLE_WIDTH].ljust(_SYLLABLE_WIDTH, "\x00")


_STROKES = _Table(_stroke_mark)
_SYLLABLES = _Table(_syllable)
_SURNAMES: dict[str, tuple[str, str]] = {}  # surname → (its stroke-order key, its pinyin key)


def _surname_keys(surname: str) -> tuple[str, str]:
    """A surname's place in stroke order — character by character: strokes, then pinyin in
    place of 起笔, then the character itself, so one surname stays together — and its pinyin."""
    keys = _SURNAMES.get(surname)
    if keys is None:
        reading = SURNAME_READINGS.get(surname)
        if reading:
            pinyin = "".join(s.ljust(_SYLLABLE_WIDTH, "\x00") for s in reading)
        else:
            pinyin = surname.translate(_SYLLABLES)
        strokes_key = "".join(
            _stroke_mark(c) + pinyin[n * _SYLLABLE_WIDTH : (n + 1) * _SYLLABLE_WIDTH] + c
            for n, c in enumerate(surname)
        )
        keys = _SURNAMES[surname] = (strokes_key, pinyin)
    return keys


def name_pinyin(name: str) -> tuple[str, ...]:
    """Syllables of the name, one per character ("zhang1"), with surname readings (单 shan4)."""
    surname, given = split_name(name)
    text = _surname_keys(surname)[1] + given.translate(_SYLLABLES)
    return tuple(
        text[n : n + _SYLLABLE_WIDTH].rstrip("\x00") for n in range(0, len(text), _SYLLABLE_WIDTH)
    )


def surname_strokes(name: str) -> int:
    """The stroke count a name is first ordered by: its surname's (first) character's."""
    surname, _ = split_name(name)
    return strokes(surname[0]) if surname else 0


def stroke_key(name: str) -> str:
    """Sort key for 姓氏笔画 order: the surname first (the strokes of its first character,
    then, for equal counts, pinyin in place of 起笔, since Unihan has no 起笔 data to order
    them by 横竖撇点折; one surname stays together, and 欧阳 comes right after every 欧);
    then the strokes of the given name's characters in turn; then its pinyin where those
    tie; then the name itself."""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        surname, given = name[:2], name[2:]
    else:
        surname, given = name[:1], name[1:]
    keys = _SURNAMES.get(surname) or _surname_keys(surname)
    return (
        keys[0]
        + _END
        + given.translate(_STROKES)
        + _END
        + given.translate(_SYLLABLES)
        + _END
        + name
    )


def pinyin_key(name: str) -> str:
    """Sort key for pinyin order: syllable by syllable (the tone within a syllable), then the
    strokes of the characters in turn, then the name itself."""
    surname, given = split_name(name)
    keys = _SURNAMES.get(surname) or _surname_keys(surname)
    return keys[1] + given.translate(_SYLLABLES) + _END + name.translate(_STROKES) + _END + name


ORDERS = {"strokes": stroke_key, "pinyin": pinyin_key}
ORDER_NAMES = {"strokes": "按姓氏笔画", "pinyin": "按姓名拼音"}


def sort_names(names, order: str = "strokes") -> list[str]:
    """The names in roster order ("strokes" or "pinyin")."""
    return sorted(names, key=ORDERS[order])
