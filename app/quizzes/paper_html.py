"""One question as a cadre sees it on a paper: the one place its HTML is written.

A paper page shows 30 or so questions; written as a Jinja macro they took about 2 ms of the
page's 2.8 ms of server time, so the question is written here with escaped f-strings (every
text from the bank goes through `escape`) and templates call it as `question_html(item,
response, locked)`: the paper page, and `quizzes/_question.html` for the preview of a
question. `item` is what the page may know of the question (position, type, stem, options:
no answer, no 解析), as a mapping or an object with those attributes; `response` the saved
answer (letters, 对/错, or one text per blank); `locked` disables the inputs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from app.banks.model import BLANK, LETTERS, QUESTION_TYPES

_PARTS = re.compile(f"({BLANK.pattern})")


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def blank_parts(stem: str) -> list[str]:
    """Text and blanks in turn: text, blank, text, …, text."""
    return _PARTS.split(stem)


def _stem(kind: str, stem: str) -> str:
    if kind != "fill_blank":
        return str(escape(stem))
    out = []
    for n, part in enumerate(blank_parts(stem)):
        out.append(
            str(escape(part))
            if n % 2 == 0
            else f'<span class="blank-mark">（{(n + 1) // 2}）</span>'
        )
    return "".join(out)


def _choice(kind: str, name: str, value: str, text: str, checked: bool, locked: bool) -> str:
    marks = (" checked" if checked else "") + (" disabled" if locked else "")
    return (
        f'<label class="option"><input type="{kind}" name="{name}" value="{value}"{marks}>'
        f"{text}</label>"
    )


def question_html(item: Any, response: Sequence[str] = (), locked: bool = False) -> Markup:
    position = int(_field(item, "position"))
    kind = _field(item, "type")
    stem = _field(item, "stem")
    name = f"q{position}"
    chosen = set(response)
    parts = [
        f'<fieldset class="question" id="question-{position}" data-position="{position}">'
        f'<legend class="question-stem"><span class="question-number">{position}.</span>'
        f'<span class="question-type">【{QUESTION_TYPES[kind]}题】</span>'
        f"{_stem(kind, stem)}</legend>"
    ]
    if kind in ("single", "multiple"):
        input_type = "radio" if kind == "single" else "checkbox"
        parts.append('<div class="options">')
        for letter, option in zip(LETTERS, _field(item, "options"), strict=False):
            text = (
                f'<span class="option-letter">{letter}</span>'
                f'<span class="option-text">{escape(option)}</span>'
            )
            parts.append(_choice(input_type, name, letter, text, letter in chosen, locked))
        parts.append("</div>")
    elif kind == "true_false":
        parts.append('<div class="options options-tf">')
        for value, label in (("对", "√ 对"), ("错", "× 错")):
            text = f'<span class="option-text">{label}</span>'
            parts.append(_choice("radio", name, value, text, value in chosen, locked))
        parts.append("</div>")
    else:
        parts.append('<div class="blanks">')
        for n in range(len(blank_parts(stem)) // 2):
            value = escape(response[n]) if n < len(response) else ""
            parts.append(
                f'<label class="blank"><span>第 {n + 1} 空</span>'
                f'<input type="text" name="{name}" maxlength="200" autocomplete="off" '
                f'value="{value}"{" disabled" if locked else ""}></label>'
            )
        parts.append("</div>")
    parts.append("</fieldset>")
    return Markup("".join(parts))


def question_fragments(
    items: Sequence[Mapping[str, Any]], responses: Mapping[int, Sequence[str]]
) -> list[Markup]:
    """Each shown question of a paper (as `shown_items` gives them) with its saved answer."""
    return [question_html(item, responses.get(item["position"], ())) for item in items]
