"""Reading uploaded documents (.txt, .md, .docx) and the character and line helpers of the
document parser.

Pure code: bytes in, text out; no database, no web framework, no file writes. The parsing
itself (numbering, outline, metadata) lives in `app.course.outline` and `app.course.documents`; the
public names here are re-exported by `app.course.documents`.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import docx
from docx.table import Table


class DocumentError(ValueError):
    """The file or text cannot be read as a document; str(e) says why, in Chinese."""


# ---------------------------------------------------------------- characters

_WIDE_PUNCTUATION = frozenset("“”‘’…—·")
SENTENCE_END = frozenset("。！？!?")
PARAGRAPH_END = frozenset("。！？；：”’」』）》…!?;:)")
COMMA_ETC = frozenset("，、；：。！？,;:!?")


def _is_wide(ch: str) -> bool:
    return ch in _WIDE_PUNCTUATION or unicodedata.east_asian_width(ch) in ("W", "F")


def display_width(text: str) -> int:
    """Printed width in half-character units: Chinese characters count 2, Latin ones 1."""
    return sum(2 if _is_wide(ch) else 1 for ch in text)


_SPACES = re.compile(r"\s+")


def clean_line(line: str) -> str:
    """Strip a line; drop whitespace touching a Chinese character, keep one between Latin."""
    line = line.strip()

    def replace(match: re.Match[str]) -> str:
        before, after = line[match.start() - 1], line[match.end()]
        return "" if _is_wide(before) or _is_wide(after) else " "

    return _SPACES.sub(replace, line)


def join_pieces(before: str, after: str) -> str:
    """Join two pieces of one paragraph: a space only between two Latin words."""
    a, b = before[-1:], after[:1]
    latin = a.isascii() and b.isascii() and a.isalnum() and b.isalnum()
    if latin and not (a.isdigit() and b.isdigit()):
        return before + " " + after
    return before + after


def join_all(pieces: list[str]) -> str:
    joined = ""
    for piece in pieces:
        joined = join_pieces(joined, piece) if joined else piece
    return joined


# ---------------------------------------------------------------- lines

MD_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")


@dataclass(frozen=True)
class Line:
    text: str  # cleaned
    width: int  # printed width of the line as extracted
    md: int = 0  # markdown heading level


def split_lines(text: str, markdown: bool) -> list[Line]:
    lines = []
    for raw in text.splitlines():
        md = 0
        match = MD_HEADING.match(raw) if markdown else None
        if match:
            md, raw = len(match.group(1)), match.group(2)
        lines.append(Line(clean_line(raw), display_width(raw.strip()), md))
    return lines


# ---------------------------------------------------------------- reading files


def read_text(filename: str, content: bytes) -> str:
    """The text of an uploaded .txt, .md or .docx file.

    .txt: UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030. .md: UTF-8.
    .docx: one line per paragraph in document order, empty paragraphs as blank lines, the
    paragraphs of table cells in place of the table. Raises DocumentError with a Chinese
    message for an unknown extension, an empty file, undecodable bytes or a broken .docx.
    """
    suffix = _suffix(filename)
    if suffix == ".doc":
        raise DocumentError(
            f"文件“{filename}”是旧版 Word 格式（.doc），无法读取："
            "请在 Word 中另存为 .docx 后再上传。"
        )
    if suffix not in (".txt", ".md", ".docx"):
        kind = f"“{suffix}”" if suffix else "（没有扩展名）"
        raise DocumentError(
            f"不支持的文件类型{kind}（文件“{filename}”）：请上传 .txt、.md 或 .docx 文件。"
        )
    if not content:
        raise DocumentError(f"文件“{filename}”是空的。")
    if suffix == ".docx":
        text = _docx_text(filename, content)
    else:
        encodings = ("utf-8-sig", "gb18030") if suffix == ".txt" else ("utf-8-sig",)
        text = _decode(filename, content, encodings)
    if not text.strip():
        raise DocumentError(f"文件“{filename}”是空的。")
    return text


def source_for(filename: str) -> str | None:
    """The `source` for parse_document of text read from this file; None means detect."""
    return {".docx": "docx", ".md": "markdown"}.get(_suffix(filename))


def _suffix(filename: str) -> str:
    return PurePath(filename.replace("\\", "/")).suffix.lower()


def _decode(filename: str, content: bytes, encodings: tuple[str, ...]) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) and "gb18030" in encodings:
        encodings = ("utf-16", *encodings)
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    tried = "UTF-8 和 GBK" if "gb18030" in encodings else "UTF-8"
    raise DocumentError(
        f"文件“{filename}”无法读取：文字编码无法识别（已尝试 {tried}），"
        "请另存为 UTF-8 编码的文本文件后再上传。"
    )


def _docx_text(filename: str, content: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(content))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                seen: set[Any] = set()  # cell elements: a merged cell is listed per column
                for row in block.rows:
                    for cell in row.cells:
                        if cell._tc not in seen:
                            seen.add(cell._tc)
                            lines.extend(p.text for p in cell.paragraphs)
            else:
                lines.append(block.text)
    except Exception as error:  # python-docx raises many kinds of error on a broken file
        raise DocumentError(
            f"文件“{filename}”无法读取：它不是有效的 Word 文档（.docx）。"
        ) from error
    return "\n".join(lines)
