"""Writing a bank out as a file: the own format, GIFT or Excel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.banks.gift import gift_export_problem, render_gift
from app.banks.model import Question
from app.banks.own_format import BankHeader, render_bank
from app.banks.xlsx import render_xlsx
from app.lib.downloads import XLSX

# Text types without a charset: the response adds "; charset=utf-8" (see app.lib.downloads).
EXPORTS = {
    "own": (".md", "text/markdown"),
    "gift": (".gift.txt", "text/plain"),
    "xlsx": (".xlsx", XLSX),
}


@dataclass(frozen=True)
class Export:
    """A bank written as a file: its bytes, how many questions it holds and, for each
    question the format cannot hold, why it was left out."""

    content: bytes
    written: int
    left_out: tuple[str, ...] = ()


def export_file(header: BankHeader, questions: Sequence[Question], fmt: str) -> Export:
    """The file for a bank. GIFT holds one blank a question: the others are left out, named
    in `left_out` and at the top of the file in a GIFT comment, never dropped silently."""
    if fmt == "own":
        return Export(render_bank(header, questions).encode("utf-8"), len(questions))
    if fmt == "xlsx":
        return Export(render_xlsx(questions), len(questions))
    refused = [(q, reason) for q in questions if (reason := gift_export_problem(q))]
    kept = [q for q in questions if not gift_export_problem(q)]
    notes = [f"// 题库：{header.title}（{header.slug}）"]
    notes += [f"// 未导出：{reason}" for _q, reason in refused]
    content = ("\n".join(notes) + "\n\n" + render_gift(kept)).encode("utf-8")
    return Export(content, len(kept), tuple(reason for _q, reason in refused))


def export_bytes(header: BankHeader, questions: Sequence[Question], fmt: str) -> bytes:
    """The file for a bank (see `export_file`)."""
    return export_file(header, questions, fmt).content


def export_name(slug: str, fmt: str) -> str:
    return slug + EXPORTS[fmt][0]


async def export_banks(slugs: Sequence[str], fmt: str, out_dir: Path) -> list[tuple[Path, Export]]:
    """`peixun banks export`: write each bank named (every bank when none) to `out_dir`."""
    from app.banks.store import bank_for_export
    from app.tables import Bank

    if not slugs:
        slugs = [row["slug"] for row in await Bank.select(Bank.slug).order_by(Bank.slug)]
    found = []
    for slug in slugs:
        bank = await bank_for_export(slug)
        if bank is None:
            raise LookupError(f"没有题库“{slug}”。")
        found.append(bank)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for header, questions in found:
        path = out_dir / export_name(header.slug, fmt)
        export = export_file(header, questions, fmt)
        path.write_bytes(export.content)
        written.append((path, export))
    return written
