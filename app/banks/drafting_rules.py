"""What the question drafter finds in a lesson's text (pure): sentences and, in each, the
spans a question can be made of. Used by `app/banks/drafting.py`.

Every span is a slice of the sentence it was found in, and every sentence a slice of its
paragraph (a numbering label such as "（一）" or "第五条" at its start left out), so an
answer taken from a span stands word for word in the passage.

- Sentences end at 。！？ (a ； ends a part of a sentence, see `sentence_parts`); a
  paragraph without such an end is a heading, and so is a labelled sentence that opens a
  paragraph with more after it ("（一）精心组织舆论宣传。"), unless it is an article (第五条).
- Enumerations are items joined by "、" inside one clause: the middle items are whole, the
  first and last are cut to the length of the others, at a marker where there is one
  ("明确区域性、行业性工会联合会" gives 区域性, 行业性; "……等" and "……的" end the last item).
- Two phrases joined by 和/与/及 at the start of a clause that end alike make a list of two
  ("讲话精神和十八大精神"); parallel clauses are three or more clauses in a row that begin
  with the same words ("以忠诚可靠……，以劳动创造……，以过硬本领……").
- Quoted terms (“…”), titles (《…》), numbers and dates with their unit, and the predicate
  of a defining sentence ("……是……", the words after its last 的) are single spans.
- The distractor pool is every item of every list of a document: wrong options and the
  swapped item of a wrong 判断 are taken from it, never made up.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.banks.model import normalize_answer

# A numbering label at the start of a paragraph: 一、 （一） (一) 1. 1、 第五条.
_LABEL = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]"
    r"|第[〇一二三四五六七八九十百]+条[\s　]*)"
)
_SENTENCE_END = "。！？"
_CLAUSE = re.compile(r"[^，,；;：:。！？]+")
_BRACKETS = set("（）()【】[]“”‘’《》「」\"'")
MIN_SENTENCE = 8  # shorter sentences make no question
MAX_ITEM = 12  # characters: longer pieces between 、 are not items of a list
# Words after which the first item of a list begins, longest first.
_LEFT_MARKERS = sorted(
    (
        "明确", "包括", "坚持", "通过", "开展", "加强", "树立", "推动", "实现", "做到",
        "营造", "发挥", "推进", "增强", "提高", "围绕", "具有", "享有", "履行", "负责",
        "以", "在", "把", "对", "和", "与", "及", "为", "是", "的", "了", "有", "要", "将",
        "由", "向", "从", "按", "即", "并", "做", "设", "含", "做好", "做实", "抓好", "落实",
        "举办", "利用", "结合", "组织", "开设", "形成", "强化", "深化", "突出", "注重",
    ),
    key=len,
    reverse=True,
)  # fmt: skip
# Words before which the last item of a list ends.
_RIGHT_MARKERS = ("等", "的", "和", "与", "及", "为", "是", "中", "上", "方面")
_QUOTED = re.compile(r"“([^“”]{2,20})”|‘([^‘’]{2,20})’|「([^「」]{2,20})」")
_TITLE = re.compile(r"《([^《》]{2,40})》")
_CN = "〇零一二三四五六七八九十百千万两"
_NUMBER = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日(?:至\d{1,2}日)?|\d{1,2}月\d{1,2}日(?:至\d{1,2}日)?"
    r"|\d{4}年|\d+(?:\.\d+)?(?:%|个|次|年|人|名|项|天|届|条|章|周|岁|小时|分钟|万|亿)"
    rf"|[{_CN}]+(?:个|次|年|届|项|条|章|人|名|天|周|岁|方面)"
    r"|[二三四五六七八九十]{2,3}大"
)
_NOT_DEFINING = ("但是", "于是", "还是", "凡是", "只是", "可是", "不是", "是否", "要是", "若是")
_PARALLEL_WORDS = set("以在把对为让用向从")
_PARTICLES = set("了的地得着和与及或")  # no item of a list begins or ends with one


@dataclass(frozen=True)
class Sentence:
    """A sentence of a lesson: `text` is a slice of paragraph `paragraph`."""

    text: str
    paragraph: int


@dataclass(frozen=True)
class Span:
    """A piece of a sentence a question can ask for: `text == sentence.text[start:end]`."""

    start: int
    end: int
    text: str
    rule: str  # "quoted", "title", "number", "definition", "enumeration", "parallel"


@dataclass(frozen=True)
class Listing:
    """The items of an enumeration (or of parallel clauses) in one sentence, in order."""

    items: tuple[Span, ...]
    rule: str  # "enumeration" or "parallel"

    @property
    def start(self) -> int:
        return self.items[0].start

    @property
    def end(self) -> int:
        return self.items[-1].end


# ------------------------------------------------------------------------------ sentences


def strip_label(text: str) -> tuple[str, bool]:
    """The text without its numbering label, and whether it had one."""
    match = _LABEL.match(text)
    return (text[match.end() :], True) if match else (text, False)


def split_sentences(paragraphs: Sequence[str]) -> list[Sentence]:
    """The sentences of a lesson's paragraphs that can carry a question, in order."""
    sentences: list[Sentence] = []
    for index, raw in enumerate(paragraphs):
        paragraph = raw.replace("\n", "")
        if not any(mark in paragraph for mark in _SENTENCE_END):
            continue  # a heading
        pieces = re.findall(rf"[^{_SENTENCE_END}]+[{_SENTENCE_END}]?", paragraph)
        for number, piece in enumerate(pieces):
            text, labelled = strip_label(piece.strip())
            article = piece.lstrip().startswith("第")
            if labelled and not article and number == 0 and len(pieces) > 1 and len(text) <= 60:
                continue  # "（一）精心组织舆论宣传。": the heading of what follows
            if len(text) >= MIN_SENTENCE:
                sentences.append(Sentence(text, index))
    return sentences


def sentence_parts(text: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of a sentence between ； (the end mark kept in the part)."""
    parts, start = [], 0
    for match in re.finditer(r"[；;]", text):
        parts.append((start, match.end()))
        start = match.end()
    if start < len(text):
        parts.append((start, len(text)))
    return parts


def clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of a sentence: the runs between ，；：。！？."""
    return [(m.start(), m.end()) for m in _CLAUSE.finditer(text)]


# --------------------------------------------------------------------------- single spans


def quoted_terms(sentence: Sentence) -> list[Span]:
    spans = []
    for match in _QUOTED.finditer(sentence.text):
        group = next(n for n in (1, 2, 3) if match.group(n) is not None)
        spans.append(Span(match.start(group), match.end(group), match.group(group), "quoted"))
    return spans


def titles(sentence: Sentence) -> list[Span]:
    return [Span(m.start(1), m.end(1), m.group(1), "title") for m in _TITLE.finditer(sentence.text)]


def numbers(sentence: Sentence) -> list[Span]:
    """Numbers and dates with their unit; a lone 一 or 两 (一个, 两次) is too common to ask."""
    spans = []
    for match in _NUMBER.finditer(sentence.text):
        text = match.group(0)
        numeral = text.rstrip("个次年届项条章人名天周岁方面大")
        if numeral in ("一", "两", "百", "千", "万", "零", "〇") or (
            match.start() > 0 and sentence.text[match.start() - 1] == "第" and text[-1] == "个"
        ):
            continue
        spans.append(Span(match.start(), match.end(), text, "number"))
    return spans


def definitions(sentence: Sentence) -> list[Span]:
    """The predicate of "……是……" (after its last 的, as in "……的……是……的重大政治任务")."""
    spans = []
    text = sentence.text
    for start, end in clauses(text):
        clause = text[start:end]
        position = clause.find("是")
        while position >= 0 and any(
            clause[max(0, position - 1) : position + 1] == word
            or clause[position : position + 2] == word
            for word in _NOT_DEFINING
        ):
            position = clause.find("是", position + 1)
        if position < 0 or (position < 2 and start == 0):
            continue  # the subject may stand in the clause before: "……，是……"
        predicate_start = start + position + 1
        predicate = text[predicate_start:end]
        cut = predicate.rfind("的")
        if cut >= 0:
            predicate_start += cut + 1
            predicate = predicate[cut + 1 :]
        if 2 <= len(predicate) <= 12 and not _BRACKETS & set(predicate):
            spans.append(Span(predicate_start, end, predicate, "definition"))
    return spans


def stable(text: str) -> int:
    """A number for ordering that is the same on every run (unlike hash())."""
    return zlib.crc32(text.encode("utf-8"))


# ---------------------------------------------------------------------------- enumerations


def _plain(item: str) -> bool:
    return (
        2 <= len(item) <= MAX_ITEM
        and not _BRACKETS & set(item)
        and not item.isdigit()
        and item[0] not in _PARTICLES
        and item[-1] not in _PARTICLES
    )


def _first_item(part: str, length: int | None, whole: bool) -> str | None:
    """The first item of a list: the end of `part`, the clause's text before the first 、.

    Candidates are what follows a marker (one at the start of a whole clause, or the last
    one in it) and the whole part; the one closest to `length` (the other items') wins, a
    one-character marker within 1 character of it, a longer one within 2. Without a
    length, only a marker at the start of a whole clause or a short whole part will do."""
    candidates: list[tuple[str, int]] = []  # (item, length of the marker before it)
    for marker in _LEFT_MARKERS:
        if whole and part.startswith(marker) and len(part) - len(marker) >= 2:
            candidates.append((part[len(marker) :], len(marker)))
        at = part.rfind(marker)
        if length is not None and at >= 0 and len(part) - at - len(marker) >= 2:
            candidates.append((part[at + len(marker) :], len(marker)))
    if whole and len(part) <= 8:
        candidates.append((part, 1))
    if length is None:
        short = [item for item, _ in candidates if len(item) <= 8]
        return short[0] if short else None
    fitting = [
        (-marker, abs(len(item) - length), item)
        for item, marker in candidates
        if abs(len(item) - length) <= (1 if marker == 1 else 2)
    ]
    if fitting:
        return min(fitting)[2]
    return part[-length:] if len(part) > length else part


def _last_item(part: str, length: int | None, whole: bool) -> str | None:
    """The last item of a list: the start of `part`, the clause's text after the last 、.
    It ends before 等, or before another marker near the other items' length, or with
    its clause when that is about as long; else it is cut to that length."""
    stop = part.find("等")
    if 2 <= stop <= MAX_ITEM:
        return part[:stop]
    low, high = (2, 8) if length is None else (max(2, length - 2), length + 2)
    for at in range(low, min(high, len(part) - 1) + 1):
        if part[at:].startswith(_RIGHT_MARKERS):
            return part[:at]
    if whole and len(part) <= (8 if length is None else length + 1):
        return part
    if length is None:
        return None
    return part[:length]


def _after_verb(part: str) -> str | None:
    """What follows the last two-character marker (明确, 坚持…) of `part`, if 2–8 long."""
    best: tuple[int, str] | None = None
    for marker in _LEFT_MARKERS:
        at = part.rfind(marker)
        rest = part[at + len(marker) :]
        if len(marker) >= 2 and at >= 0 and 2 <= len(rest) <= 8 and (best is None or at > best[0]):
            best = (at, rest)
    return best[1] if best else None


def enumerations(sentence: Sentence) -> list[Listing]:
    """The lists of a sentence ("明确……、……、……"), each item a span of the sentence."""
    found = []
    text = sentence.text
    for start, end in clauses(text):
        parts = text[start:end].split("、")
        if len(parts) < 2 or not all(_plain(p) for p in parts[1:-1]):
            continue
        middle = [len(p) for p in parts[1:-1]]
        first_whole = _first_item(parts[0], None, True) if len(parts[0]) <= 10 else None
        length = sorted(middle)[len(middle) // 2] if middle else None
        if length is None and first_whole is not None:
            length = len(first_whole)
        if length is None and len(parts[-1]) <= 8:
            length = len(parts[-1])
        if length is None:
            anchored = _after_verb(parts[0])
            length = len(anchored) if anchored else None
        first = _first_item(parts[0], length, len(parts[0]) <= 10)
        last = _last_item(parts[-1], length, True)
        if first is None or last is None:
            continue
        pieces = [first, *parts[1:-1], last]
        if not all(_plain(p) for p in pieces) or len(set(pieces)) < len(pieces):
            continue
        if max(map(len, pieces)) > 3 * min(map(len, pieces)):
            continue
        spans, at = [], start + len(parts[0]) - len(first)
        for piece in pieces:
            spans.append(Span(at, at + len(piece), piece, "enumeration"))
            at += len(piece) + 1
        found.append(Listing(tuple(spans), "enumeration"))
    return found


def pairs(sentence: Sentence) -> list[Listing]:
    """Two phrases joined by 和, 与 or 及 at the start of a clause that end alike
    ("习近平总书记重要讲话精神和中国工会十八大精神"): a list of two."""
    found = []
    text = sentence.text
    for start, end in clauses(text):
        clause = text[start:end]
        if "、" in clause:
            continue
        match = re.search(r"[和与及]", clause)
        if match is None:
            continue
        left, right = clause[: match.start()], clause[match.end() :]
        offset = 0
        for marker in _LEFT_MARKERS:
            if left.startswith(marker) and len(left) - len(marker) >= 4:
                offset = len(marker)
                break
        first = left[offset:]
        ending = first[-2:]
        stop = right.find(ending)
        if len(first) > MAX_ITEM or stop < 0:
            continue
        second = right[: stop + 2]
        if _plain(first) and _plain(second) and first != second and len(second) >= 4:
            at = start + offset
            found.append(
                Listing(
                    (
                        Span(at, at + len(first), first, "enumeration"),
                        Span(
                            start + match.end(),
                            start + match.end() + len(second),
                            second,
                            "enumeration",
                        ),
                    ),
                    "enumeration",
                )
            )
    return found


def parallel_clauses(sentence: Sentence) -> list[Listing]:
    """Three or more clauses in a row that open with the same words (at least two
    characters, or one such as 以/在/把); each clause is an item."""
    text = sentence.text
    runs: list[Listing] = []
    spans = [(s, e) for s, e in clauses(text) if 4 <= e - s <= 40]
    index = 0
    while index < len(spans):
        group = [spans[index]]
        opening = ""
        for following in spans[index + 1 :]:
            if following[0] > group[-1][1] + 1:
                break
            common = _common_prefix(text[group[0][0] : group[0][1]], text[slice(*following)])
            alike = len(common) >= 2 or (common and common[0] in _PARALLEL_WORDS)
            if alike and (not opening or common.startswith(opening[:1])):
                opening = opening or common
                group.append(following)
                continue
            break
        if len(group) >= 3:
            items = tuple(Span(s, e, text[s:e], "parallel") for s, e in group)
            if len({item.text for item in items}) == len(items):
                runs.append(Listing(items, "parallel"))
            index += len(group)
        else:
            index += 1
    return runs


def _common_prefix(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


def single_spans(sentence: Sentence) -> list[Span]:
    """Every quoted term, title, number and definition of a sentence, without overlaps
    (the first found is kept)."""
    spans: list[Span] = []
    for span in (
        *quoted_terms(sentence),
        *titles(sentence),
        *numbers(sentence),
        *definitions(sentence),
    ):
        if all(span.end <= other.start or span.start >= other.end for other in spans):
            spans.append(span)
    return spans


# ------------------------------------------------------------------------ distractor pool


def distractor_pool(lessons: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Every item of every list in the lessons (each given by its paragraphs), once, in order."""
    seen: dict[str, None] = {}
    for paragraphs in lessons:
        for sentence in split_sentences(paragraphs):
            for listing in listings(sentence):
                for item in listing.items:
                    seen.setdefault(item.text, None)
    return tuple(seen)


def listings(sentence: Sentence) -> list[Listing]:
    """Every list of a sentence: enumerations, pairs and parallel clauses."""
    return [*enumerations(sentence), *pairs(sentence), *parallel_clauses(sentence)]


def distractors(
    pool: Sequence[str], target: str, passage: str, avoid: Iterable[str], count: int
) -> list[str]:
    """`count` phrases of the pool like `target` (ending alike first, then closest in
    length) that the lesson (`passage`, normalised) does not contain and that differ from
    `avoid`; [] when there are too few."""
    avoided = {normalize_answer(text) for text in avoid}
    chosen: list[str] = []
    ranked = sorted(
        (item for item in pool if len(target) / 2 <= len(item) <= len(target) * 2),
        key=lambda item: (
            item[-1] != target[-1],  # 报告会 for 研讨会 before 云直播
            abs(len(item) - len(target)),
            stable(f"{target}|{item}"),
        ),
    )
    for item in ranked:
        norm = normalize_answer(item)
        if not norm or norm in avoided or norm in passage:
            continue
        chosen.append(item)
        avoided.add(norm)
        if len(chosen) == count:
            return chosen
    return []
