"""The question editor's form (pure): reading a typed question back into the model, filling
the form from a question, the live preview's lines, and the next free question number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.banks.lint import Finding
from app.banks.model import (
    FIELD_LABELS as QUESTION_FIELD_LABELS,
)
from app.banks.model import (
    LETTERS,
    QUESTION_TYPES,
    TRUE_FALSE,
    Question,
    answer_lines,
    blank_count,
)
from app.lib.forms import typed_text

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
RESERVED_SLUGS = ("import", "template.xlsx")  # /banks/import is the import page
BANK_FALLBACK = "tiku"  # a bank whose title gives no identifier is numbered: tiku-1, tiku-2 …
KEY_MAX, SLUG_MAX, TITLE_MAX, REF_MAX = 64, 80, 200, 100  # what the tables hold
TEXT_MAX, OPTION_MAX = 5000, 500
DIFFICULTIES = {1: "易", 2: "中", 3: "难"}
STATUSES = {"active": "启用", "inactive": "已停用", "review": "待复核", "all": "全部"}
OPTION_FIELDS = tuple(f"option_{letter}" for letter in LETTERS)
CORRECT_FIELDS = tuple(f"correct_{letter}" for letter in LETTERS)
FORM_FIELDS = (
    "key", "type", "stem", *OPTION_FIELDS, *CORRECT_FIELDS, "tf", "blanks", "explanation",
    "source_ref", "source_ref_other", "difficulty", "tags", "evidence",
)  # fmt: skip
FIELD_LABELS = {"key": "题号", **QUESTION_FIELD_LABELS, "tf": "答案"}
_TAG_SEPARATORS = re.compile(r"[,，、\n]")
_ALTERNATIVES = re.compile(r"(?<!\\)/")
_NOT_IN_BLANKS = ("|", "；", ";")  # the bank file format separates answers with them


# ---------------------------------------------------------------- the editor's form (pure)


def clean_form(data: Mapping[str, Any]) -> dict[str, str]:
    """The editor's fields as text: one kind of newline, no control characters."""
    return {name: typed_text(data.get(name, "")) for name in FORM_FIELDS}


def key_problem(key: str) -> str | None:
    if not key:
        return "请填写题号。"
    if len(key) > KEY_MAX or not KEY.match(key):
        return f"题号只能由字母、数字和“-”“_”“.”组成，最多 {KEY_MAX} 个字符。"
    if key == "new":
        return "题号“new”是系统保留的，请换一个。"
    return None


def _choices(form: Mapping[str, str], kind: str, errors: dict[str, str]):
    """The filled options (blank ones dropped) and the answer in the letters they end up with."""
    options: list[str] = []
    answer: list[str] = []
    on_blank: list[str] = []
    for letter in LETTERS:
        text = form.get(f"option_{letter}", "").strip()
        marked = bool(form.get(f"correct_{letter}", "").strip())
        if not text:
            if marked:
                on_blank.append(letter)
            continue
        if marked:
            answer.append(LETTERS[len(options)])
        options.append(text)
    label = QUESTION_TYPES[kind]
    if len(options) < 2:
        errors["options"] = f"{label}题至少要有两个选项，现在有 {len(options)} 个。"
    elif any(len(option) > OPTION_MAX for option in options):
        errors["options"] = f"每个选项最多 {OPTION_MAX} 个字。"
    if on_blank:
        letters = "、".join(on_blank)
        errors["answer"] = f"答案“{letters}”不在选项中：选项 {letters} 没有填写。"
    elif not answer:
        errors["answer"] = "请勾选正确答案。"
    elif kind == "single" and len(answer) != 1:
        errors["answer"] = f"单选题只能有一个正确答案，现在勾选了 {len(answer)} 个。"
    return tuple(options), tuple(answer)


def _blanks(text: str, stem: str, errors: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    lines = text.strip("\n").split("\n") if text.strip() else []
    groups = []
    for number, line in enumerate(lines, start=1):
        alternatives = tuple(a.strip().replace("\\/", "/") for a in _ALTERNATIVES.split(line))
        if not all(alternatives):
            errors["blanks"] = f"第 {number} 行（第 {number} 空）有空白的答案。"
        elif any(mark in a for a in alternatives for mark in _NOT_IN_BLANKS):
            errors["blanks"] = f"第 {number} 空的答案中不能有“|”“；”。"
        groups.append(alternatives)
    count = blank_count(stem)
    if count == 0:
        errors.setdefault("stem", "填空题的题干中没有空：请用三个下划线 ___ 标出每个空。")
    elif not groups:
        errors["blanks"] = "请填写每个空的答案，一行一个空。"
    elif count != len(groups):
        errors.setdefault(
            "blanks", f"题干中有 {count} 个空，答案却有 {len(groups)} 行（一行一个空）。"
        )
    return tuple(groups)


def question_from_form(form: Mapping[str, str], key: str) -> tuple[Question, dict[str, str]]:
    """The question the editor's form describes, and every problem by field (in Chinese).
    The question is built even when there are problems, for the preview."""
    errors: dict[str, str] = {}
    kind = form.get("type", "")
    stem = form.get("stem", "").strip()
    if kind not in QUESTION_TYPES:
        errors["type"] = "请选择题型。"
    if not stem:
        errors["stem"] = "请填写题干。"
    elif len(stem) > TEXT_MAX:
        errors["stem"] = f"题干太长（最多 {TEXT_MAX} 个字）。"
    options: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    blanks: tuple[tuple[str, ...], ...] = ()
    if kind in ("single", "multiple"):
        options, answer = _choices(form, kind, errors)
    elif kind == "true_false":
        if form.get("tf", "").strip() in TRUE_FALSE:
            answer = (form["tf"].strip(),)
        else:
            errors["tf"] = "请选择“对”或“错”。"
    elif kind == "fill_blank":
        blanks = _blanks(form.get("blanks", ""), stem, errors)
    source_ref = form.get("source_ref_other", "").strip() or form.get("source_ref", "").strip()
    if len(source_ref) > REF_MAX:
        errors["source_ref"] = f"出处太长（最多 {REF_MAX} 个字）。"
    difficulty = form.get("difficulty", "").strip()
    if difficulty not in ("", "1", "2", "3"):
        errors["difficulty"] = "难度请选择 1、2 或 3。"
    explanation, evidence = form.get("explanation", "").strip(), form.get("evidence", "").strip()
    tags = tuple(dict.fromkeys(t.strip() for t in _TAG_SEPARATORS.split(form.get("tags", ""))))
    for name, value in (("explanation", explanation), ("evidence", evidence), ("tags", tags)):
        if len(str(value)) > TEXT_MAX:
            errors[name] = f"{FIELD_LABELS[name]}太长（最多 {TEXT_MAX} 个字）。"
    question = Question(
        key=key,
        type=kind,
        stem=stem,
        options=options,
        answer=answer,
        blanks=blanks,
        explanation=explanation,
        source_ref=source_ref,
        difficulty=int(difficulty) if difficulty in ("1", "2", "3") else None,
        tags=tuple(t for t in tags if t),
        evidence=evidence,
    )
    return question, errors


def form_of(question: Question) -> dict[str, str]:
    """The editor's form filled in with a question; `question_from_form` gives it back."""
    form = dict.fromkeys(FORM_FIELDS, "")
    form.update(
        key=question.key,
        type=question.type,
        stem=question.stem,
        explanation=question.explanation,
        source_ref=question.source_ref,
        difficulty="" if question.difficulty is None else str(question.difficulty),
        tags="、".join(question.tags),
        evidence=question.evidence,
    )
    for letter, option in zip(LETTERS, question.options, strict=False):
        form[f"option_{letter}"] = option
    if question.type == "true_false":
        form["tf"] = question.answer[0] if question.answer else ""
    elif question.type != "fill_blank":
        form.update({f"correct_{letter}": "1" for letter in question.answer})
    form["blanks"] = "\n".join(
        "/".join(a.replace("/", "\\/") for a in group) for group in question.blanks
    )
    return form


def next_key(bank_slug: str, taken: set[str]) -> str:
    n = 1
    while f"{bank_slug}-{n:03d}" in taken:
        n += 1
    return f"{bank_slug}-{n:03d}"


def preview_of(
    question: Question,
    errors: Mapping[str, str] | None = None,
    findings: tuple[Finding, ...] = (),
    position: int = 1,
) -> dict[str, Any]:
    """What `banks/_preview.html` shows: the card (when there is one to show) and the answer.
    `position` numbers the card (several cards on one page need distinct numbers)."""
    shown = question.type in QUESTION_TYPES and bool(question.stem)
    item = {"position": position, "type": question.type, "stem": question.stem}
    return {
        "question": question,
        "item": {**item, "options": question.options} if shown else None,
        "answer": answer_lines(question),
        "errors": [(FIELD_LABELS.get(f, f), text) for f, text in (errors or {}).items()],
        "findings": findings,
    }
