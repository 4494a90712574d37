"""A quiz's scores as .xlsx, for trainers: one row per finished attempt (practice left out)
with the cadre, the unit, the times, the score, 合格, which attempt of theirs it was and
whether it is the one that counts (the quiz's 计分方式, `core.counted_attempt`, as the quiz
page shows it).

The file takes the attempts page's filters (unit and its subtree, status, passed) and its
guard: trainers and federation staff, who see every unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Annotated, Any

from litestar import Request, Router, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from app.accounts.guards import requires_role
from app.accounts.units import tree_order
from app.lib.downloads import XLSX, file_chunks, stream_download
from app.quizzes.core import IN_PROGRESS, counted_attempt
from app.quizzes.stats import DIGITS, PASSED_FILTERS, STATUS_FILTERS, quiz_by_slug, under_unit
from app.reports.writers import DATETIME, INTEGER, NUMBER, TEXT, XlsxBook, filename
from app.settings import get_settings
from app.tables import Attempt, Quiz, Unit

SCORE_HEADERS = ("姓名", "单位", "开始时间", "交卷时间", "得分", "合格", "第几次", "是否计分")
SCORE_KINDS = (TEXT, TEXT, DATETIME, DATETIME, NUMBER, TEXT, INTEGER, TEXT)


@dataclass(frozen=True)
class ScoreRow:
    attempt_id: int
    account_id: int
    name: str
    unit_name: str
    unit_place: int  # the unit's place in tree order
    started_at: datetime
    finished_at: datetime | None
    score: float | None
    passed: bool | None
    status: str
    number: int  # 1 for the cadre's first finished attempt, in the order finished
    counted: bool


def score_rows(
    attempts: Sequence[Mapping[str, Any]], policy: str, unit_places: Mapping[int, int]
) -> list[ScoreRow]:
    """Every finished attempt with its number and whether it counts, computed over each
    cadre's finished attempts (pure); ordered by unit (tree order), name, cadre, number."""
    by_account: dict[int, list[Mapping[str, Any]]] = {}
    for attempt in sorted(
        attempts, key=lambda a: (a["finished_at"] is None, a["finished_at"], a["id"])
    ):
        by_account.setdefault(attempt["account"], []).append(attempt)
    rows = []
    for account, done in by_account.items():
        counts = counted_attempt([(a["id"], a["score"] or 0) for a in done], policy)
        for number, a in enumerate(done, start=1):
            rows.append(
                ScoreRow(
                    attempt_id=a["id"],
                    account_id=account,
                    name=a["cadre_name"],
                    unit_name=a["unit_name"],
                    unit_place=unit_places.get(a["unit_id"], len(unit_places)),
                    started_at=a["started_at"],
                    finished_at=a["finished_at"],
                    score=a["score"],
                    passed=a["passed"],
                    status=a["status"],
                    number=number,
                    counted=a["id"] == counts,
                )
            )
    rows.sort(key=lambda r: (r.unit_place, r.name, r.account_id, r.number))
    return rows


def _minute(value: datetime | None) -> str | None:
    if value is None:
        return None
    return f"{value.astimezone(get_settings().timezone):%Y-%m-%d %H:%M}"


def row_cells(row: ScoreRow) -> list[str | float | int | None]:
    passed = None if row.passed is None else ("是" if row.passed else "否")
    return [
        row.name,
        row.unit_name,
        _minute(row.started_at),
        _minute(row.finished_at),
        row.score,
        passed,
        row.number,
        "是" if row.counted else "否",
    ]


async def finished_attempts_of(quiz_id: int, unit_path: str | None) -> list[dict[str, Any]]:
    conditions: list[Any] = [
        Attempt.quiz == quiz_id,
        Attempt.practice.eq(False),
        Attempt.status != IN_PROGRESS,
    ]
    if unit_path:
        conditions.append(under_unit(Attempt.account.unit.path, unit_path))
    return await Attempt.select(
        Attempt.id,
        Attempt.account,
        Attempt.status,
        Attempt.started_at,
        Attempt.finished_at,
        Attempt.score,
        Attempt.passed,
        Attempt.account.name.as_alias("cadre_name"),
        Attempt.account.unit.as_alias("unit_id"),
        Attempt.account.unit.name.as_alias("unit_name"),
    ).where(*conditions)


async def score_book(title: str, info: str, rows: Sequence[ScoreRow]) -> IO[bytes]:
    book = XlsxBook()
    try:
        sheet = book.add_sheet("成绩", title, info, SCORE_HEADERS, SCORE_KINDS)
        await sheet.write_page([row_cells(r) for r in rows])
    except BaseException:
        book.discard()
        raise
    return await book.close()


@get("/quizzes/{quiz_slug:str}/scores.xlsx", name="quiz_scores_xlsx")
async def quiz_scores_xlsx(
    request: Request,
    quiz_slug: FromPath[str],
    unit_id: Annotated[str, QueryParameter(name="unit")] = "",
    status: FromQuery[str] = "",
    passed: FromQuery[str] = "",
) -> Stream:
    """The attempts page's finished attempts, for its filters, as .xlsx."""
    quiz = await quiz_by_slug(quiz_slug)
    policy = (await Quiz.select(Quiz.counted_attempt).where(Quiz.id == quiz["id"]).first())[
        "counted_attempt"
    ]
    units = tree_order(
        await Unit.select(Unit.id, Unit.name, Unit.path, Unit.parent, Unit.sort_order)
    )
    unit = None
    if DIGITS.fullmatch(unit_id):
        unit = next((u for u in units if u["id"] == int(unit_id)), None)
    attempts = await finished_attempts_of(quiz["id"], unit["path"] if unit else None)
    rows = score_rows(attempts, policy, {u["id"]: n for n, u in enumerate(units)})
    if status in STATUS_FILTERS and status not in ("", "finished"):
        rows = [r for r in rows if r.status == status]
    if passed in PASSED_FILTERS and passed:
        rows = [r for r in rows if r.passed is (passed == "yes")]
    scope = unit["name"] if unit else "全部单位"
    today = datetime.now(UTC).astimezone(get_settings().timezone)
    info = "　　".join(
        (
            f"统计范围：{scope}（含下级单位）",
            f"导出日期：{today:%Y年%m月%d日}",
            f"共 {len(rows)} 次作答",
        )
    )
    file = await score_book(f"{quiz['title']} 成绩", info, rows)
    name = filename(
        quiz["title"], "成绩", unit["name"] if unit else "", f"{today:%Y%m%d}", suffix="xlsx"
    )
    return stream_download(file_chunks(file), name, XLSX)


# The attempts page's guard (app.quizzes.admin): trainers and federation staff.
router = Router(path="/admin", guards=[requires_role("trainer")], route_handlers=[quiz_scores_xlsx])
