"""The read-only JSON API under /api/v1, for other systems of the unions: its endpoints and
its OpenAPI schema.

A request carries `Authorization: Bearer <token>`; the token (made by federation staff on
/admin/api-tokens, stored only as its SHA-256) is scoped to one unit's subtree, and every
query here is limited to that subtree. No session cookie and no CSRF token are involved,
and errors are JSON `{"error": "…"}`, never the HTML error pages.

The token is checked in app/api/auth.py, errors are answered by app/api/errors.py, and the
bodies returned are the Structs of app/api/schemas.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import Parameter

from app.api.auth import Access, token_access
from app.api.errors import ApiError, exception_handlers
from app.api.schemas import (
    BatchList,
    BatchOut,
    CadreCredit,
    CadreCreditList,
    CreditNumbers,
    CreditSummary,
    CreditUnit,
    Numbers,
    Roster,
    RosterEntry,
    Summary,
    TrainingList,
    TrainingOut,
    UnitRef,
    UnitSummary,
)
from app.lib.parsing import MAX_ID, valid_id
from app.reports.credit_report import (
    CreditReport,
    credit_figure_cells,
    load_credit_report_at,
    parse_year,
)
from app.reports.queries import Filters, load_breakdown, roster_slice
from app.reports.rows import (
    ROSTER_WIDTH,
    RosterRow,
    completed_time,
    figure_cells,
    hours_cell,
    roster_ids,
    score_cell,
)
from app.reports.strokes import stroke_key
from app.reports.summary import Figures
from app.tables import TRAINING_KINDS, Batch, Training, Unit
from app.trainings.access import token_training, visible_to_token
from app.trainings.credit_rules import SOURCES

API_PATH = "/api/v1"
SCHEMA_PATH = f"{API_PATH}/schema"
MAX_PAGE_SIZE = 1000


# ---------------------------------------------------------------------------------------
# Queries, always within the token's subtree. The figures and the roster are those of the
# reports (app/reports): the same queries, roll-up and rounding as the 汇总表 and 花名册.


async def _batch_of(training_id: int, batch_id: int | None) -> int | None:
    if batch_id is None:
        return None
    found = valid_id(batch_id) and await Batch.exists().where(
        Batch.id == batch_id, Batch.training == training_id
    )
    if not found:
        raise NotFoundException("这项培训没有这个期次。")
    return batch_id


async def _batches(training_ids: list[int]) -> dict[int, list[BatchOut]]:
    by_training: dict[int, list[BatchOut]] = {i: [] for i in training_ids}
    if not training_ids:
        return by_training
    rows = await (
        Batch.select()
        .where(Batch.training.is_in(training_ids))
        .order_by(Batch.sort_order, Batch.starts_on, Batch.id)
    )
    for b in rows:
        by_training[b["training"]].append(
            BatchOut(
                id=b["id"],
                name=b["name"],
                starts_on=b["starts_on"],
                ends_on=b["ends_on"],
                place=b["place"],
                capacity=b["capacity"],
            )
        )
    return by_training


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _figures_out(figures: Figures) -> dict[str, Any]:
    """The fields of Numbers: the cells of the 汇总表 for these figures, as JSON numbers."""
    enrolled, completed, not_completed, rate, average, hours = figure_cells(figures)
    return {
        "enrolled": enrolled,
        "completed": completed,
        "not_completed": not_completed,
        "completion_rate": rate,
        "average_score": _as_float(average),
        "hours": float(hours),
    }


def _roster_entry(row: Sequence[Any]) -> RosterEntry:
    """One enrollment of the 花名册 (its score and 学时 as the 花名册 gives them)."""
    r = RosterRow._make(row[:ROSTER_WIDTH])
    ids = roster_ids(row)
    return RosterEntry(
        enrollment_id=ids.enrollment,
        cadre_id=ids.account,
        name=r.name,
        position=r.position,
        unit=UnitRef(id=r.unit, name=r.unit_name),
        batch=None if ids.batch is None else UnitRef(id=ids.batch, name=r.batch_name or ""),
        lessons_read=r.lessons_read,
        lessons_required=r.lessons_required,
        quiz_score=_as_float(score_cell(r.quiz_score)),
        quiz_passed=bool(r.quiz_passed),
        sessions_attended=r.sessions_attended,
        sessions_total=r.sessions_total,
        hours=float(hours_cell(r.hours)),
        completed_at=completed_time(r.completed_minute),
    )


# ---------------------------------------------------------------------------------------
# The endpoints.

_ERRORS = {
    # Litestar would document its own {status_code, detail} body; the API answers {"error": …}.
    400: ResponseSpec(ApiError, description="参数不正确（例如页码不是正整数）"),
    401: ResponseSpec(ApiError, description="没有令牌，或令牌无效、已撤销"),
    404: ResponseSpec(ApiError, description="培训（或期次）不存在，或不在令牌的单位范围内"),
}
_ID = Parameter(description="培训 id")


@get("/trainings", name="api_trainings", summary="培训列表", responses={401: _ERRORS[401]})
async def list_trainings(access: NamedDependency[Access]) -> TrainingList:
    """令牌范围内可见的启用培训及其期次：主办单位在范围内、有面向范围内单位的期次，或有范围内人员报名。"""
    rows = await (
        Training.select(
            Training.id,
            Training.title,
            Training.kind,
            Training.credit_hours,
            Training.unit.as_alias("unit_id"),
            Training.unit.name.as_alias("unit_name"),
        )
        .where(visible_to_token(access.path))
        .order_by(Training.id, ascending=False)
    )
    batches = await _batches([t["id"] for t in rows])
    return TrainingList(
        items=[
            TrainingOut(
                id=t["id"],
                title=t["title"],
                kind=t["kind"],
                kind_name=TRAINING_KINDS.get(t["kind"], t["kind"]),
                organiser=UnitRef(id=t["unit_id"], name=t["unit_name"]),
                credit_hours=t["credit_hours"],
                batches=batches[t["id"]],
            )
            for t in rows
        ]
    )


@get(
    "/trainings/{training_id:int}/batches",
    name="api_training_batches",
    summary="培训的期次",
    responses=_ERRORS,
)
async def training_batches(
    access: NamedDependency[Access], training_id: Annotated[int, _ID]
) -> BatchList:
    """一项培训的全部期次：名称、日期、地点、名额。"""
    training = await token_training(access.path, training_id)
    return BatchList(
        training_id=training["id"], items=(await _batches([training["id"]]))[training["id"]]
    )


@get(
    "/trainings/{training_id:int}/summary",
    name="api_training_summary",
    summary="按单位汇总的完成情况",
    responses=_ERRORS,
)
async def training_summary(
    access: NamedDependency[Access],
    training_id: Annotated[int, _ID],
    batch: Annotated[int | None, Parameter(description="只统计这个期次")] = None,
) -> Summary:
    """令牌范围内每个单位本级报名人员的报名数、完成数、完成率、平均分和学时，以及合计。"""
    training = await token_training(access.path, training_id)
    batch_id = await _batch_of(training["id"], batch)
    breakdown = await load_breakdown(
        Filters(path=access.path, training_id=training["id"], batch_id=batch_id)
    )
    out = []
    for unit in breakdown.units:  # in tree order
        own = breakdown.own_figures(unit["id"])
        if not unit["active"] and not own.enrolled:
            continue
        out.append(
            UnitSummary(
                unit_id=unit["id"],
                name=unit["name"],
                depth=unit["depth"],
                level=unit["depth"] - access.depth,
                **_figures_out(own),
            )
        )
    return Summary(
        training_id=training["id"],
        batch_id=batch_id,
        units=out,
        total=Numbers(**_figures_out(breakdown.total)),
    )


@get(
    "/trainings/{training_id:int}/roster",
    name="api_training_roster",
    summary="报名学员名单及进度",
    responses={
        **_ERRORS,
        403: ResponseSpec(ApiError, description="所选单位不在令牌的单位范围内"),
    },
)
async def training_roster(
    access: NamedDependency[Access],
    training_id: Annotated[int, _ID],
    page: Annotated[int, Parameter(ge=1, le=MAX_ID, description="页码，从 1 开始")] = 1,
    page_size: Annotated[
        int, Parameter(ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")
    ] = 500,
    unit: Annotated[int | None, Parameter(description="只列出这个单位及其下级单位的人员")] = None,
    batch: Annotated[int | None, Parameter(description="只列出这个期次的人员")] = None,
) -> Roster:
    """令牌范围内报名人员的学习进度，分页；按单位、期次筛选。不含手机号等联系信息。"""
    training = await token_training(access.path, training_id)
    batch_id = await _batch_of(training["id"], batch)
    path = access.path
    if unit is not None:
        row = None
        if valid_id(unit):
            row = await Unit.select(Unit.path).where(Unit.id == unit).first()
        if row is None:
            raise NotFoundException("没有找到这个单位。")
        if not row["path"].startswith(access.path):
            raise PermissionDeniedException("这个单位不在令牌的单位范围内。")
        path = row["path"]
    # The rows of the 花名册, in its order: units in tree order, names by 姓氏笔画.
    filters = Filters(path=path, training_id=training["id"], batch_id=batch_id)
    breakdown = await load_breakdown(filters)
    total = breakdown.total.enrolled
    rows = await roster_slice(filters, breakdown, stroke_key, (page - 1) * page_size, page_size)
    return Roster(
        training_id=training["id"],
        total=total,
        page=page,
        page_size=page_size,
        pages=max(1, -(-total // page_size)),
        items=[_roster_entry(row) for row in rows],
    )


# ---------------------------------------------------------------------------------------
# 学时 by unit: the report of app/reports/credit_report.py, within the token's subtree.


async def _unit_path(access: Access, unit: int | None) -> str:
    """The token's subtree, or the unit asked for within it (404 none, 403 outside)."""
    if unit is None:
        return access.path
    row = None
    if valid_id(unit):
        row = await Unit.select(Unit.path).where(Unit.id == unit).first()
    if row is None:
        raise NotFoundException("没有找到这个单位。")
    if not row["path"].startswith(access.path):
        raise PermissionDeniedException("这个单位不在令牌的单位范围内。")
    return row["path"]


def _credit_numbers(figures: Figures) -> CreditNumbers:
    cadres, hours, average, below = credit_figure_cells(figures)
    return CreditNumbers(
        cadres=int(cadres or 0),
        hours=float(hours or 0),
        average_hours=None if average is None else float(average),
        below=int(below or 0),
    )


async def _credit_report(access: Access, year: int | None, unit: int | None) -> CreditReport:
    path = await _unit_path(access, unit)
    return await load_credit_report_at(None, path, parse_year(year))


_YEAR = Parameter(ge=2000, le=2100, description="年度，默认为今年")
_CREDIT_ERRORS = {
    **_ERRORS,
    403: ResponseSpec(ApiError, description="所选单位不在令牌的单位范围内"),
    404: ResponseSpec(ApiError, description="单位不存在"),
}


@get(
    "/credits/summary",
    name="api_credit_summary",
    summary="按单位汇总的年度学时",
    responses=_CREDIT_ERRORS,
)
async def credit_summary(
    access: NamedDependency[Access],
    year: Annotated[int | None, _YEAR] = None,
    unit: Annotated[int | None, Parameter(description="只统计这个单位及其下级单位")] = None,
) -> CreditSummary:
    """令牌范围内每个单位本级干部的人数、学时合计、人均学时和未达到年度学时要求的人数，连同本单位及下级单位的小计，以及合计。"""
    report = await _credit_report(access, year, unit)
    breakdown = report.breakdown
    out = []
    for u in report.units:  # in tree order
        own = breakdown.own_figures(u["id"])
        if not u["active"] and not own.enrolled:
            continue
        numbers = _credit_numbers(own)
        out.append(
            CreditUnit(
                unit_id=u["id"],
                name=u["name"],
                depth=u["depth"],
                level=u["depth"] - access.depth,
                cadres=numbers.cadres,
                hours=numbers.hours,
                average_hours=numbers.average_hours,
                below=numbers.below,
                subtree=_credit_numbers(breakdown.subtree_figures(u["path"])),
            )
        )
    return CreditSummary(year=report.year, units=out, total=_credit_numbers(breakdown.total))


@get(
    "/credits/cadres",
    name="api_credit_cadres",
    summary="干部年度学时和学时催学名单",
    responses=_CREDIT_ERRORS,
)
async def credit_cadres(
    access: NamedDependency[Access],
    year: Annotated[int | None, _YEAR] = None,
    unit: Annotated[int | None, Parameter(description="只列出这个单位及其下级单位的干部")] = None,
    below: Annotated[
        bool, Parameter(description="只列出未达到年度学时要求的干部（学时催学名单）")
    ] = False,
    page: Annotated[int, Parameter(ge=1, le=MAX_ID, description="页码，从 1 开始")] = 1,
    page_size: Annotated[
        int, Parameter(ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")
    ] = 500,
) -> CadreCreditList:
    """令牌范围内每名干部的年度学时（合计和按来源）、适用的年度要求和尚差学时，按单位（组织树顺序）和姓氏笔画排序，分页。"""
    report = await _credit_report(access, year, unit)
    cadres = await report.cadres(below_only=below)
    start = (page - 1) * page_size
    return CadreCreditList(
        year=report.year,
        total=len(cadres),
        page=page,
        page_size=page_size,
        pages=max(1, -(-len(cadres) // page_size)),
        items=[
            CadreCredit(
                cadre_id=c.account,
                name=c.name,
                position=c.position,
                unit=UnitRef(id=c.unit, name=c.unit_name),
                hours=float(hours_cell(c.total)),
                by_source={
                    s: float(hours_cell(h)) for s, h in zip(SOURCES, c.sources, strict=True)
                },
                required=c.required,
                missing=float(hours_cell(c.missing)),
                below=c.below,
            )
            for c in cadres[start : start + page_size]
        ],
    )


router = Router(
    path=API_PATH,
    route_handlers=[
        list_trainings,
        training_batches,
        training_summary,
        training_roster,
        credit_summary,
        credit_cadres,
    ],
    dependencies={"access": Provide(token_access)},
    exception_handlers=exception_handlers,
    # The app leaves its HTML pages out of the schema; the API is what it documents.
    include_in_schema=True,
    security=[{"BearerToken": []}],
    tags=["培训数据"],
    cache_control=CacheControlHeader(no_store=True),
)


def openapi_config() -> OpenAPIConfig:
    """The schema of the API alone, served as JSON at /api/v1/schema/openapi.json."""
    return OpenAPIConfig(
        title="工会干部培训平台 API",
        version="1.0.0",
        description="只读接口：按令牌所属单位及其下级单位的范围提供培训、期次、完成情况和学员进度。"
        "请求头带 `Authorization: Bearer <令牌>`；令牌由市总工会管理员在“接口令牌”页面创建。",
        path=SCHEMA_PATH,
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http", scheme="bearer", description="市总工会管理员创建的接口令牌"
                )
            }
        ),
        use_handler_docstrings=True,
    )
