"""Small pieces shared by the downloadable Excel templates."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

HEADER_FILL = "DDEBF7"


def add_instructions(
    workbook: Workbook, lines: Iterable[tuple[str, str, str]], widths: tuple[int, int] = (14, 14)
) -> None:
    """A "填写说明" sheet: a bold header row, then (column, required, explanation) rows."""
    notes = workbook.create_sheet("填写说明")
    for line in lines:
        notes.append(list(line))
    for cell in notes[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for row in notes.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = widths[0]
    notes.column_dimensions["B"].width = widths[1]
    notes.column_dimensions["C"].width = 80
    notes.freeze_panes = "A2"
