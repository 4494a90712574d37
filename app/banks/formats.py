"""Which format an uploaded bank file is in, and reading it (pure).

Text files may be UTF-8 or GBK; Word documents (.docx) are read as pasted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from app.banks.aiken import parse_aiken
from app.banks.gift import parse_gift
from app.banks.model import BankFormatError, ParseResult
from app.banks.own_format import BankHeader, parse_bank
from app.banks.pasted_text import parse_pasted_text
from app.banks.xlsx import MAX_BYTES, parse_xlsx
from app.course.text import DocumentError, read_text

FORMATS = {
    "own": "本平台题库格式（.md）",
    "gift": "GIFT（Moodle）",
    "aiken": "Aiken",
    "xlsx": "Excel（.xlsx）",
    "text": "Word 中的题目文本（.docx、.txt 或粘贴）",
}
SUFFIXES = (".md", ".txt", ".gift", ".docx", ".xlsx")
_GIFT_ANSWER = re.compile(r"\{[^{}]*(?:[=~]|\bT(?:RUE)?\b|\bF(?:ALSE)?\b)[^{}]*\}", re.S)
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*[A-Z]\s*$", re.M)


@dataclass(frozen=True)
class BankFile:
    """A bank file as read: its format, its front matter (own format only) and questions."""

    format: str
    header: BankHeader | None
    result: ParseResult


def suffix(filename: str) -> str:
    return PurePath(filename.replace("\\", "/")).suffix.lower()


def detect_format(filename: str, text: str | None) -> str:
    """The likely format of a file from its extension and, for text, its content."""
    ext = suffix(filename)
    if ext == ".xlsx":
        return "xlsx"
    if ext == ".docx" or text is None:
        return "text"
    if ext == ".gift":
        return "gift"
    body = text.removeprefix("\ufeff").lstrip()
    if body.startswith("---") and re.search(r"^##\s+\S+\s+\S", body, re.M):
        return "own"
    if _AIKEN_ANSWER.search(body):
        return "aiken"
    if _GIFT_ANSWER.search(body):
        return "gift"
    return "text"


def read_bank_file(filename: str, content: bytes, fmt: str = "auto") -> BankFile:
    """Read an uploaded bank file; raises BankFormatError (Chinese) for a file that can't be
    read at all. Problems inside a readable file are in `result.problems`."""
    ext = suffix(filename)
    if ext not in SUFFIXES:
        raise BankFormatError(
            f"不支持的文件类型“{ext or '（没有扩展名）'}”："
            "请上传 .md、.txt、.gift、.docx 或 .xlsx 文件。"
        )
    if len(content) > MAX_BYTES:
        raise BankFormatError(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，无法导入。")
    if fmt not in (*FORMATS, "auto"):
        raise BankFormatError(f"不认识的格式“{fmt}”。")
    if ext == ".xlsx" or fmt == "xlsx":
        if ext != ".xlsx":
            raise BankFormatError("Excel 格式的题库请上传 .xlsx 文件。")
        return BankFile("xlsx", None, parse_xlsx(content))
    # read_text knows .txt, .md and .docx; a .gift file is plain text read as .txt, under
    # a stand-in name that its messages must not show.
    read_as = filename + ".txt" if ext == ".gift" else filename
    try:
        text = read_text(read_as, content)
    except DocumentError as error:
        message = str(error).replace(f"“{read_as}”", f"“{filename}”")
        raise BankFormatError(message) from None
    return read_bank_text(text, fmt if fmt != "auto" else detect_format(filename, text), filename)


def read_bank_text(text: str, fmt: str, filename: str = "") -> BankFile:
    """Read bank text in a text format (own, gift, aiken or text)."""
    if fmt == "own":
        header, result = parse_bank(text, filename)
        return BankFile("own", header, result)
    parsers = {"gift": parse_gift, "aiken": parse_aiken, "text": parse_pasted_text}
    if fmt not in parsers:
        raise BankFormatError(f"格式“{FORMATS.get(fmt, fmt)}”不是文本格式。")
    return BankFile(fmt, None, parsers[fmt](text))
