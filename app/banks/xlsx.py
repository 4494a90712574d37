"""The Excel (.xlsx) question importer, exporter and template (pure: bytes in, data out).

One row per question on the first worksheet, under a header row (the first non-empty row that
names 题型 or 题干; at most 10 non-empty rows are searched, so a title row may precede it)::

    题型 | 题干 | 选项A … 选项H | 答案 | 解析 | 出处 | 难度 | 标签 | 依据 | 编号

- Column names ignore spaces, full-width forms and a trailing `*`; 题目 is taken for 题干 and
  答案解析 for 解析. Required columns: 题型, 题干, 答案. Unknown columns are ignored.
- 题型: 单选/多选/判断/填空 (also 单选题, 单项选择题, 多项选择题, 判断题, 是非题, 填空题 …).
- 答案 of 单选/多选: letters (`ABD`, `A,B`, `a、b`, full-width `ＡＢ`).
- 答案 of 判断: 对/错, 正确/错误, √/×, ✓/✗ (stored as 对/错).
- 答案 of 填空: one group per blank (`___` in the stem), blanks separated by `|`, accepted
  alternatives within a blank separated by `/`; `\\|`, `\\/` and `\\\\` write a literal `|`,
  `/` or `\\` (the exporter escapes them, so any answer text survives a round trip).
- 难度: 1、2、3 (or 易/中/难); 标签 separated by 、 or commas or line breaks; 依据 is the
  fidelity marker (the passage words a paraphrased answer relies on).
- 编号: the question's stable key; when the column is absent or the cell is empty the key is
  `xlsx-001`, `xlsx-002`, … by the question's position.
- Text cells are taken as written (spaces and line breaks inside the cell are kept) so that
  own → xlsx → own loses nothing; a cell that holds only spaces counts as empty for
  题型, 题干, 选项 and 答案.

Every problem names the row and the cell (“第 7 行 D 列（选项B）：……”); a question with
problems is left out and the result is then not `ok`. A file that can't be used as a whole
(not an .xlsx, encrypted, over 10 MB or 20,000 rows, formulas, images) raises
`BankFormatError` and nothing is returned.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, time

from app.banks.model import (
    LETTERS,
    QUESTION_TYPES,
    BankFormatError,
    ParseResult,
    Problem,
    Question,
    blank_count,
)
from app.lib.sheets import cell_text
from app.lib.spreadsheets import add_instructions

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "TEMPLATE_EXAMPLES",
    "parse_xlsx",
    "render_xlsx",
    "template_xlsx",
]

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
# Uncompressed size of the whole package: guards against zip bombs.
_MAX_UNZIPPED = 200 * 1024 * 1024
OPTION_COLUMNS = tuple(f"选项{letter}" for letter in LETTERS)
COLUMNS = ("题型", "题干", *OPTION_COLUMNS, "答案", "解析", "出处", "难度", "标签", "依据", "编号")
_REQUIRED = ("题型", "题干", "答案")
_ALIASES = {"题目": "题干", "答案解析": "解析", "题号": "编号", "试题类型": "题型"}

_TYPE_NAMES: dict[str, str] = {}
for _name, _label in QUESTION_TYPES.items():
    _TYPE_NAMES[_label] = _name
    _TYPE_NAMES[f"{_label}题"] = _name
_TYPE_NAMES.update(
    {
        "单项选择": "single",
        "单项选择题": "single",
        "单选择题": "single",
        "多项选择": "multiple",
        "多项选择题": "multiple",
        "是非": "true_false",
        "是非题": "true_false",
        "填空题目": "fill_blank",
    }
)
_TRUE = ("对", "正确", "√", "✓", "✔", "是")
_FALSE = ("错", "错误", "×", "✗", "✘", "否", "x", "X")
_DIFFICULTY = {"1": 1, "2": 2, "3": 3, "易": 1, "中": 2, "难": 3}
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LETTER_SEPARATORS = re.compile(r"[\s,，、;；/]+")
_TAG_SEPARATORS = re.compile(r"[,，、\n]")
_HEADER_MARK = re.compile(r"^\*+|(?:\*|\((?:必填|选填|可选|非必填)\))+$")
_HEADER_SEARCH_ROWS = 10
_SHOW_MAX = 30


# ------------------------------------------------------------------------------ helpers


def _show(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= _SHOW_MAX else text[:_SHOW_MAX] + "…"


def _header_key(value: object) -> str:
    if not isinstance(value, str):
        return ""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    key = _HEADER_MARK.sub("", key)
    return _ALIASES.get(key, key)


def _cell_text(value: object) -> str:
    """A cell's text: strings as written, 2.0 -> "2", dates in ISO form, TRUE/FALSE as 对/错."""
    return cell_text(value, booleans=("对", "错"), strip=False)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _escape_answer(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("/", "\\/")


def _split_blanks(text: str) -> list[list[str]]:
    """`甲/乙|丙` -> [["甲", "乙"], ["丙"]]; `\\|`, `\\/`, `\\\\` are literal; parts stripped."""
    groups: list[list[str]] = [[]]
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "\\|/":
            current.append(text[index + 1])
            index += 2
            continue
        if char in "|/":
            groups[-1].append("".join(current).strip())
            current = []
            if char == "|":
                groups.append([])
        else:
            current.append(char)
        index += 1
    groups[-1].append("".join(current).strip())
    return groups


# ------------------------------------------------------------------------ opening a file


def _check_package(content: bytes) -> None:
    """Refuse what is not a plain .xlsx package before openpyxl sees it."""
    if len(content) > MAX_BYTES:
        size = len(content) / 1024 / 1024
        raise BankFormatError(
            f"文件太大（{size:.1f} MB），超过 {MAX_BYTES // 1024 // 1024} MB 的上限。"
            "请把题目分成几个文件分别导入。"
        )
    if not content:
        raise BankFormatError("文件是空的，请检查后重新上传。")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise BankFormatError(
            "无法读取此文件：它是旧版 .xls 文件或设置了打开密码（已加密）。"
            "请取消密码，并用 Excel 另存为 .xlsx 后重新上传。"
        )
    not_xlsx = BankFormatError(
        "无法读取此文件：它不是有效的 Excel（.xlsx）文件。请用 Excel 另存为 .xlsx 后重新上传。"
    )
    if not content.startswith(b"PK"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise not_xlsx from exc
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names and not any(name.endswith("workbook.xml") for name in names):
        raise BankFormatError(
            "无法读取此文件：它是一个压缩包，但不是 Excel（.xlsx）工作簿。"
            "请用 Excel 另存为 .xlsx 后重新上传。"
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise BankFormatError("无法读取此文件：文件已加密。请取消密码后重新上传。")
    if sum(info.file_size for info in infos) > _MAX_UNZIPPED:
        raise BankFormatError("文件解压后过大，无法导入。请把题目分成几个文件分别导入。")
    if any(
        name.startswith(("xl/media/", "xl/drawings/", "xl/embeddings/"))
        or name == "xl/cellimages.xml"
        for name in names
    ):
        raise BankFormatError(
            "工作簿中含有图片、图表或嵌入对象，题库不支持。请删除图片（题目只能是文字）后重新上传。"
        )


def _read_rows(content: bytes) -> list[tuple[int, list[object]]]:
    """(Excel row number, cell values) of the first worksheet; formulas refused."""
    _check_package(content)
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise BankFormatError(
            "无法读取此文件：Excel 文件已损坏或不是有效的 .xlsx 文件。"
            "请用 Excel 另存为 .xlsx 后重新上传。"
        ) from exc
    rows: list[tuple[int, list[object]]] = []
    formulas: list[str] = []
    data_rows = 0
    try:
        if not workbook.worksheets:
            raise BankFormatError("文件中没有工作表，请检查后重新上传。")
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values: list[object] = []
            for index, cell in enumerate(cells):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or (
                    value is not None and not isinstance(value, (str, int, float, date, time))
                ):
                    formulas.append(f"{_column_letter(index)}{number}")
                values.append(value)
            if any(_cell_text(value).strip() for value in values):
                data_rows += 1
                if data_rows > MAX_ROWS + 1:  # the header row is one of them
                    raise BankFormatError(f"文件超过 {MAX_ROWS} 行题目，请分成几个文件分别导入。")
            rows.append((number, values))
    except BankFormatError:
        raise
    except Exception as exc:  # a broken sheet may only fail while its rows are read
        raise BankFormatError(
            "无法读取此文件：Excel 文件已损坏或不是有效的 .xlsx 文件。"
            "请用 Excel 另存为 .xlsx 后重新上传。"
        ) from exc
    finally:
        workbook.close()
    if formulas:
        shown = "、".join(formulas[:10]) + ("等" if len(formulas) > 10 else "")
        raise BankFormatError(
            f"表格中含有公式（{shown} 单元格），题库只接受文字。"
            "请把这些单元格复制后“选择性粘贴 → 数值”，再重新上传。"
        )
    return rows


# ------------------------------------------------------------------------------ parsing


def parse_xlsx(content: bytes) -> ParseResult:
    """Read the questions of an .xlsx file (first worksheet), reporting every problem.

    Raises BankFormatError (Chinese message) when the file as a whole can't be used.
    """
    rows = _read_rows(content)
    header_row, columns = _find_header(rows)
    problems: list[Problem] = []
    questions: list[Question] = []
    seen_keys: dict[str, int] = {}
    position = 0  # data rows so far: generated keys follow the rows, not the good questions
    for number, values in rows:
        if number <= header_row:
            continue
        cells = {
            column: _cell_text(values[index]) if index < len(values) else ""
            for column, index in columns.items()
        }
        if not any(text.strip() for text in cells.values()):
            continue

        def problem(column: str | None, message: str, number: int = number) -> None:
            if column is None or column not in columns:
                problems.append(Problem(number, f"第 {number} 行：{message}"))
            else:
                letter = _column_letter(columns[column])
                problems.append(
                    Problem(number, f"第 {number} 行 {letter} 列（{column}）：{message}")
                )

        count_before = len(problems)
        for column, index in columns.items():
            if index < len(values) and values[index] in _EXCEL_ERRORS:
                problem(column, f"单元格是错误值“{values[index]}”，请改为文字。")
        position += 1
        question = _row_question(cells, number, position, problem)
        if question is not None and question.key in seen_keys:
            problem("编号", f"编号“{question.key}”与第 {seen_keys[question.key]} 行重复。")
        if question is not None:
            seen_keys.setdefault(question.key, number)
        if question is not None and len(problems) == count_before:
            questions.append(question)
    if not questions and not problems:
        problems.append(Problem(header_row, f"第 {header_row} 行是列名行，下面没有题目。"))
    return ParseResult(questions=tuple(questions), problems=tuple(problems))


_EXCEL_ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!")


def _find_header(rows: Sequence[tuple[int, list[object]]]) -> tuple[int, dict[str, int]]:
    """The header row's number and canonical column -> index (leftmost wins)."""
    seen = 0
    first: tuple[int, dict[str, int]] | None = None
    for number, values in rows:
        if not any(_cell_text(value).strip() for value in values):
            continue
        seen += 1
        found: dict[str, int] = {}
        for index, value in enumerate(values):
            key = _header_key(value)
            if key in COLUMNS and key not in found:
                found[key] = index
        if first is None:
            first = (number, found)
        if "题型" in found or "题干" in found:
            _require(number, found)
            return number, found
        if seen >= _HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise BankFormatError("文件的第一个工作表是空的，请检查后重新上传。")
    _require(*first)
    return first  # pragma: no cover - _require raises


def _require(number: int, found: dict[str, int]) -> None:
    missing = [column for column in _REQUIRED if column not in found]
    if missing:
        raise BankFormatError(
            f"缺少必填列：{'、'.join(missing)}。第 {number} 行被当作列名行，"
            f"列名应为：{'、'.join(COLUMNS[:-1])}（编号可选）。可下载模板对照填写。"
        )


def _row_question(
    cells: dict[str, str], number: int, position: int, problem: Callable[..., None]
) -> Question | None:
    kind_text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cells.get("题型", "")))
    kind = _TYPE_NAMES.get(kind_text)
    if not kind_text:
        problem("题型", "缺少题型（单选、多选、判断或填空）。")
    elif kind is None:
        problem("题型", f"题型应为单选、多选、判断或填空，现在是“{_show(kind_text)}”。")
    stem = cells.get("题干", "")
    if not stem.strip():
        problem("题干", "缺少题干。")
    key = cells.get("编号", "").strip() or f"xlsx-{position:03d}"
    if not _KEY.match(key):
        problem("编号", f"编号只能由字母、数字、“.”“_”“-”组成，现在是“{_show(key)}”。")
    difficulty = None
    written = unicodedata.normalize("NFKC", cells.get("难度", "")).strip()
    if written:
        difficulty = _DIFFICULTY.get(written)
        if difficulty is None:
            problem("难度", f"难度应为 1、2 或 3（或 易/中/难），现在是“{_show(written)}”。")
    options = _options(cells, kind, problem)
    answer_text = cells.get("答案", "")
    if not answer_text.strip():
        problem("答案", "缺少答案。")
    answer: tuple[str, ...] = ()
    blanks: tuple[tuple[str, ...], ...] = ()
    if kind in ("single", "multiple") and answer_text.strip():
        answer = _letters(answer_text, kind, len(options), problem)
    elif kind == "true_false" and answer_text.strip():
        answer = _true_false(answer_text, problem)
    elif kind == "fill_blank" and answer_text.strip():
        blanks = _blanks(answer_text, stem, problem)
    if kind is None:
        return None
    tags = tuple(tag.strip() for tag in _TAG_SEPARATORS.split(cells.get("标签", "")) if tag.strip())

    return Question(
        key=key,
        type=kind,
        stem=stem,
        options=tuple(options),
        answer=answer,
        blanks=blanks,
        explanation=cells.get("解析", ""),
        source_ref=cells.get("出处", ""),
        difficulty=difficulty,
        tags=tags,
        evidence=cells.get("依据", ""),
        line=number,
    ).as_read()


def _options(cells: dict[str, str], kind: str | None, problem: Callable[..., None]) -> list[str]:
    written = [cells.get(column, "") for column in OPTION_COLUMNS]
    filled = [index for index, text in enumerate(written) if text.strip()]
    if kind in ("true_false", "fill_blank"):
        if filled:
            label = QUESTION_TYPES[kind]
            problem(OPTION_COLUMNS[filled[0]], f"{label}题不应填写选项。")
        return []
    if not filled:
        if kind is not None:
            problem("选项A", f"{QUESTION_TYPES[kind]}题至少要有两个选项，现在没有。")
        return []
    last = filled[-1]
    for index in range(last):
        if not written[index].strip():
            problem(
                OPTION_COLUMNS[index],
                f"选项{LETTERS[index]}是空的，但后面还有选项；选项应从 A 起连续填写。",
            )
    options = written[: last + 1]
    if kind is not None and len(options) < 2:
        problem(OPTION_COLUMNS[1], f"{QUESTION_TYPES[kind]}题至少要有两个选项，现在只有 1 个。")
    return options


def _letters(
    text: str, kind: str, option_count: int, problem: Callable[..., None]
) -> tuple[str, ...]:
    written = text.strip()
    letters = _LETTER_SEPARATORS.sub("", unicodedata.normalize("NFKC", written)).upper()
    given = LETTERS[:option_count]
    shown = f"A–{given[-1]}" if given else "无"
    for letter in dict.fromkeys(letters):
        if letter not in given:
            problem("答案", f"答案中的“{letter}”不在选项中（现有选项：{shown}）。")
    if len(set(letters)) != len(letters):
        problem("答案", f"答案“{_show(written)}”中有重复的字母。")
    count = len(set(letters))
    if kind == "single" and count != 1:
        problem("答案", f"单选题必须有且只有一个答案，现在是“{_show(written)}”。")
    if kind == "multiple" and count == 0:
        problem("答案", f"多选题至少要有一个答案，现在是“{_show(written)}”。")
    return tuple(sorted(set(letters)))


def _true_false(text: str, problem: Callable[..., None]) -> tuple[str, ...]:
    written = unicodedata.normalize("NFKC", text).strip()
    if written in _TRUE or text.strip() in _TRUE:
        return ("对",)
    if written in _FALSE or text.strip() in _FALSE:
        return ("错",)
    problem("答案", f"判断题的答案应为 对/错、正确/错误 或 √/×，现在是“{_show(text.strip())}”。")
    return ()


def _blanks(text: str, stem: str, problem: Callable[..., None]) -> tuple[tuple[str, ...], ...]:
    groups = _split_blanks(text)
    for number, group in enumerate(groups, start=1):
        if not all(group):
            problem("答案", f"第 {number} 个空的答案中有空白项（检查“|”和“/”）。")
    expected = blank_count(stem)
    if expected == 0:
        problem("题干", f"填空题的题干中没有空（用“{'_' * 3}”标出每个空）。")
    elif expected != len(groups):
        problem(
            "答案",
            f"题干中有 {expected} 个空，答案却有 {len(groups)} 组"
            "（各空的答案用“|”分隔，同一空的几种答案用“/”分隔）。",
        )
    return tuple(tuple(group) for group in groups)


# ---------------------------------------------------------------------------- rendering


_WIDTHS = {"题型": 8, "题干": 44, "答案": 12, "解析": 36, "出处": 14, "难度": 6, "标签": 14}
_WIDTHS.update({"依据": 24, "编号": 16, **dict.fromkeys(OPTION_COLUMNS, 16)})


def _row_values(question: Question) -> list[str]:
    label = QUESTION_TYPES.get(question.type)
    if label is None:
        raise ValueError(f"未知题型：{question.type}")
    if len(question.options) > len(LETTERS):
        raise ValueError(f"选项最多 {len(LETTERS)} 个：{question.key}")
    if question.type == "fill_blank":
        answer = "|".join("/".join(_escape_answer(a) for a in group) for group in question.blanks)
    else:
        answer = "".join(question.answer)
    options = list(question.options) + [""] * (len(LETTERS) - len(question.options))
    difficulty = "" if question.difficulty is None else str(question.difficulty)
    return [
        label,
        question.stem,
        *options,
        answer,
        question.explanation,
        question.source_ref,
        difficulty,
        "、".join(question.tags),
        question.evidence,
        question.key,
    ]


def _workbook(rows: Sequence[Sequence[str]], example: bool = False):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils.exceptions import IllegalCharacterError
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题库"
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=col, value=column)
        cell.font = Font(bold=True, color="C00000" if column in _REQUIRED else "000000")
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[cell.column_letter].width = _WIDTHS.get(column, 12)
    for row_number, values in enumerate(rows, start=2):
        for col, value in enumerate(values, start=1):
            if value == "":
                continue
            cell = sheet.cell(row=row_number, column=col)
            try:
                cell.value = value
            except IllegalCharacterError as exc:
                raise ValueError(
                    f"第 {row_number} 行含有 Excel 不能保存的控制字符，无法导出。"
                ) from exc
            cell.data_type = "s"  # text, even when it starts with "=" (never a formula)
            cell.number_format = "@"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if example:
                cell.font = Font(italic=True, color="808080")
    sheet.freeze_panes = "A2"
    kinds = DataValidation(type="list", formula1='"单选,多选,判断,填空"', allow_blank=True)
    kinds.error = "请选择 单选、多选、判断 或 填空。"
    kinds.errorTitle = "题型"
    sheet.add_data_validation(kinds)
    kinds.add(f"A2:A{MAX_ROWS + 1}")
    return workbook


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_xlsx(questions: Sequence[Question]) -> bytes:
    """An .xlsx file of the questions; `parse_xlsx(render_xlsx(qs))` gives back `qs`."""
    return _save(_workbook([_row_values(question) for question in questions]))


# The template's example rows, one per type: generic placeholders, no facts.
TEMPLATE_EXAMPLES = (
    Question(
        key="example-001",
        type="single",
        stem="【示例】单选题的题干写在这里，只有一个正确答案。",
        options=("第一个选项", "第二个选项", "第三个选项", "第四个选项"),
        answer=("B",),
        explanation="【示例】说明为什么 B 是正确答案。",
        source_ref="一（一）",
        difficulty=1,
        tags=("示例",),
    ),
    Question(
        key="example-002",
        type="multiple",
        stem="【示例】多选题的题干写在这里，有两个或更多正确答案。",
        options=("第一个选项", "第二个选项", "第三个选项", "第四个选项"),
        answer=("A", "B", "D"),
        explanation="【示例】说明为什么 A、B、D 正确、C 错误。",
        source_ref="一（二）",
        difficulty=2,
        tags=("示例",),
    ),
    Question(
        key="example-003",
        type="true_false",
        stem="【示例】判断题写一句完整的陈述，答案填“对”或“错”。",
        answer=("对",),
        explanation="【示例】说明这句话为什么对或错。",
        source_ref="二",
        difficulty=1,
        tags=("示例",),
    ),
    Question(
        key="example-004",
        type="fill_blank",
        stem="【示例】填空题用三个下划线 ___ 标出每个空，可以有多个空：___。",
        blanks=(("第一空答案", "第一空的另一种说法"), ("第二空答案",)),
        explanation="【示例】说明答案出自文件的哪句话。",
        source_ref="三（一）",
        difficulty=3,
        tags=("示例", "填空"),
        evidence="文件中与答案对应的原文",
    ),
)

_NOTES = (
    ("列名", "是否必填", "填写说明"),
    ("题型", "必填", "单选、多选、判断、填空（也可写 单选题、多项选择题 等）。"),
    ("题干", "必填", "题目文字（也可用列名“题目”）。填空题用三个下划线 ___ 标出每个空。"),
    (
        "选项A…选项H",
        "单选/多选必填",
        "单选题、多选题至少两个选项，从 选项A 起连续填写，最多到 选项H；判断题、填空题不填。",
    ),
    (
        "答案",
        "必填",
        "单选、多选填字母，如 B、ABD、A,B；判断题填 对/错（也可写 正确/错误、√/×）；"
        "填空题按空的顺序填写，各空之间用“|”分隔，同一空可接受的几种答案用“/”分隔，"
        "如 第一空|答案一/答案二。答案本身含“|”“/”“\\”时，在前面加“\\”。",
    ),
    ("解析", "建议填写", "说明答案为什么正确（也可用列名“答案解析”）。"),
    ("出处", "建议填写", "题目依据的课程章节，如 一（二）。"),
    ("难度", "选填", "1、2、3（或 易、中、难）。"),
    ("标签", "选填", "多个标签用顿号“、”或逗号分隔。"),
    ("依据", "选填", "答案是对原文的概括时，填写原文中的对应文字。"),
    ("编号", "选填", "题目的固定编号（字母、数字、. _ -）；不填时按顺序自动编为 xlsx-001 等。"),
    ("", "", ""),
    ("注意事项", "", "1. 第一行是列名，请不要修改；列名后的“*”可有可无。每行一道题。"),
    ("", "", "2. 第 2～5 行灰色斜体是各题型的示例，导入前请删除或改成实际题目。"),
    ("", "", f"3. 一次最多导入 {MAX_ROWS} 题，文件不超过 {MAX_BYTES // 1024 // 1024} MB。"),
    ("", "", "4. 只能填写文字：不能使用公式，不能插入图片。"),
    ("", "", "5. 导入前系统会先检查并列出每一行、每个单元格的问题；全部改正后才会导入。"),
)


def template_xlsx() -> bytes:
    """The downloadable template: header, one example row per type, and a 填写说明 sheet."""
    rows = [[*_row_values(question)[:-1], ""] for question in TEMPLATE_EXAMPLES]
    workbook = _workbook(rows, example=True)
    add_instructions(workbook, _NOTES)
    return _save(workbook)
