"""Writing a bank out as a file: the own format, GIFT or Excel."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.banks.gift import gift_export_problem, render_gift
from app.banks.model import Question
from app.banks.own_format import BankHeader, render_bank
from app.banks.xlsx import render_xlsx
from app.lib.downloads import XLSX

EXPORTS = {
    "own": (".md", "text/markdown; charset=utf-8"),
    "gift": (".gift.txt", "text/plain; charset=utf-8"),
    "xlsx": (".xlsx", XLSX),
}


def export_bytes(header: BankHeader, questions: Sequence[Question], fmt: str) -> bytes:
    """The file for a bank. GIFT holds one blank a question: others are listed at the top
    of the file as not exported, in a GIFT comment, rather than dropped silently."""
    if fmt == "own":
        return render_bank(header, questions).encode("utf-8")
    if fmt == "xlsx":
        return render_xlsx(questions)
    refused = [(q, reason) for q in questions if (reason := gift_export_problem(q))]
    kept = [q for q in questions if not gift_export_problem(q)]
    notes = [f"// 题库：{header.title}（{header.slug}）"]
    notes += [f"// 未导出：{reason}" for _q, reason in refused]
    return ("\n".join(notes) + "\n\n" + render_gift(kept)).encode("utf-8")


def export_name(slug: str, fmt: str) -> str:
    return slug + EXPORTS[fmt][0]


async def export_banks(slugs: Sequence[str], fmt: str, out_dir: Path) -> list[tuple[Path, int]]:
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
        path.write_bytes(export_bytes(header, questions, fmt))
        written.append((path, len(questions)))
    return written
