"""Hypothesis strategies for questions, shared by the bank formats' round-trip tests."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import assume
from hypothesis import strategies as st

from app.banks.model import LETTERS, Question, blank_count

CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
ANY = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
KEY = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True)


def question_strategy(specials: Sequence[str], never: Sequence[str] = ()):
    """Questions of every type whose text mixes Chinese, any character and `specials`;
    texts equal to one of `never` are not generated."""
    piece = st.one_of(CHINESE, ANY, st.sampled_from(list(specials)))
    text = st.lists(piece, max_size=12).map("".join).filter(lambda t: t not in never)
    some_text = text.filter(lambda t: t.strip())
    # Fill-in-the-blank answers and tags can't hold their separators, line breaks or
    # whitespace at their ends (see question_banks/README.md, 限制).
    answer_text = some_text.filter(lambda t: t == t.strip() and not re.search(r"[|；;\n]", t))
    tag = some_text.filter(lambda t: t == t.strip() and not re.search(r"[、,，\n]", t))

    @st.composite
    def questions(draw, key: str) -> Question:
        kind = draw(st.sampled_from(["single", "multiple", "true_false", "fill_blank"]))
        options: tuple[str, ...] = ()
        answer: tuple[str, ...] = ()
        blanks: tuple[tuple[str, ...], ...] = ()
        if kind == "fill_blank":
            parts = draw(st.lists(text.map(lambda t: t.replace("_", "")), min_size=2, max_size=4))
            stem = "___".join(parts)
            assume(stem.strip() and blank_count(stem) >= 1)
            blanks = tuple(
                tuple(draw(st.lists(answer_text, min_size=1, max_size=3)))
                for _ in range(blank_count(stem))
            )
        else:
            stem = draw(some_text)
        if kind in ("single", "multiple"):
            options = tuple(draw(st.lists(some_text, min_size=2, max_size=len(LETTERS))))
            letters = LETTERS[: len(options)]
            size = 1 if kind == "single" else draw(st.integers(2, len(options)))
            answer = tuple(sorted(draw(st.permutations(letters))[:size]))
        elif kind == "true_false":
            answer = (draw(st.sampled_from(["对", "错"])),)
        return Question(
            key=key,
            type=kind,
            stem=stem,
            options=options,
            answer=answer,
            blanks=blanks,
            explanation=draw(text),
            source_ref=draw(st.one_of(st.sampled_from(["导语", "一", "二（四）", "结语"]), text)),
            difficulty=draw(st.one_of(st.none(), st.integers(1, 3))),
            tags=tuple(draw(st.lists(tag, max_size=3))),
            evidence=draw(text),
        )

    return questions
