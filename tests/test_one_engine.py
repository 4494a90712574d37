"""One reporting engine: for every unit, the JSON API's summary, the 汇总表 .xlsx and the
dashboard give the same 应训, 已完成, 完成率, 平均成绩 and 学时; the API's roster is the
花名册 .xlsx, row for row.

The numbers are chosen so that a difference would show: a different completion count and
share in every unit, scores with two decimals (88.25 rounds to 88.2, a mean of the units'
averages is not the average of everyone), 学时 such as 2.675 and 0.005 (rounded one by one
and then added, or added and then rounded, they differ), and a withdrawn enrollment that
counts nowhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from openpyxl import load_workbook

from app.accounts.units import create_unit
from app.settings import get_settings
from app.tables import Batch, Enrollment, Training, Unit
from tests.conftest import login, make_user
from tests.test_api import bearer, make_token

API = "/api/v1"
DONE = datetime(2026, 11, 20, 6, 30, 45, tzinfo=UTC)  # 14:30 in Beijing; seconds dropped

# unit, name, position, batch (0 or 1), score, 学时, completed
ENROLLMENTS = [
    ("city", "王市一", "副主席", 0, 88.25, 1.5, True),
    ("city", "王市二", "", 1, None, 0.25, False),
    ("city", "王市三", "委员", 0, 79.9, 2.125, False),
    ("jiefang", "赵区一", "主席", 0, 85.35, 1.125, True),
    ("jiefang", "赵区二", "", 1, None, 0.0, False),
    ("hospital", "孙院一", "委员", 0, 90.5, 2.125, True),
    ("hospital", "孙院二", "委员", 1, 71.25, 1.0, True),
    ("hospital", "孙院三", "", 0, 60.0, 0.333, False),
    ("hospital", "孙院四", "委员", 1, None, 0.005, False),
    ("zhongzhan", "钱站一", "主席", 0, 99.95, 3.0, True),
    ("zhongzhan", "钱站二", "委员", 1, 66.65, 2.675, False),
    ("zhongzhan", "钱站三", "", 0, 75.0, 0.1, False),
    ("zhongzhan", "钱站四", "委员", 1, None, 0.2, False),
    ("zhongzhan", "丁站五", "委员", 0, 58.85, 1.1, False),
]
WITHDRAWN = ("hospital", "孙院五", "委员", 0, 10.0, 100.0, True)
CHILDREN = {"city": ["zhongzhan", "jiefang"], "jiefang": ["hospital"]}  # in tree order
PARENT = {"jiefang": "city", "zhongzhan": "city", "hospital": "jiefang"}


def subtree(key: str) -> list[str]:
    return [key, *(k for child in CHILDREN.get(key, []) for k in subtree(child))]


async def _enroll(training, batch, unit, person, score, hours, completed, active=True):
    await Enrollment(
        training=training.id,
        batch=batch.id,
        account=person.id,
        unit=unit.id,
        active=active,
        lessons_required=6,
        lessons_read=6 if completed else 3,
        quiz_score=score,
        quiz_passed=score is not None and score >= 60,
        hours=hours,
        completed_at=DONE if completed else None,
    ).save()


@pytest.fixture
async def city(db) -> dict[str, Any]:
    """焦作市总工会 with 解放区总工会 (with 解放区人民医院工会 under it) and 中站区总工会 (no
    unit under it); cadres of every unit enrolled in one training; a token for every unit."""
    units = {"city": await create_unit("焦作市总工会", "city_federation", None)}
    units["jiefang"] = await create_unit("解放区总工会", "county_federation", units["city"])
    units["hospital"] = await create_unit(
        "解放区人民医院工会", "grassroots_union", units["jiefang"]
    )
    units["zhongzhan"] = await create_unit("中站区总工会", "county_federation", units["city"])
    admin = await make_user("admin", units["city"], "federation_admin", "王市总")
    training = Training(title="工会法专题培训", kind="special", unit=units["city"].id)
    await training.save()
    batches = [Batch(training=training.id, name="第一期", sort_order=0)]
    batches.append(Batch(training=training.id, name="第二期", sort_order=1))
    for batch in batches:
        await batch.save()
    other = Training(title="另一项培训", kind="special", unit=units["city"].id)
    await other.save()
    other_batch = Batch(training=other.id, name="一期")
    await other_batch.save()
    for n, (unit, name, position, batch, score, hours, done) in enumerate(
        [*ENROLLMENTS, WITHDRAWN]
    ):
        person = await make_user(f"1390000{n:04d}", units[unit], name=name, position=position)
        active = (unit, name) != WITHDRAWN[:2]
        await _enroll(training, batches[batch], units[unit], person, score, hours, done, active)
        # The same cadre in another training: counted in neither report of this one.
        await _enroll(other, other_batch, units[unit], person, 50.0, 9.0, True)
    return {
        "units": units,
        "training": training,
        "batches": batches,
        "tokens": {key: await make_token(unit, admin) for key, unit in units.items()},
    }


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Shown:
    """应训, 已完成, 完成率 (as a page shows it), 平均成绩, 学时."""

    enrolled: int
    completed: int
    rate: str
    average: float | None
    hours: float


NOTHING = Shown(0, 0, "—", None, 0.0)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def from_numbers(enrolled, completed, rate, average, hours) -> Shown:
    """Figures given as numbers (the API's fields, an .xlsx row's cells)."""
    if enrolled:
        assert rate == pytest.approx(completed / enrolled, rel=1e-15, abs=0)
    else:
        assert rate is None
    return Shown(
        enrolled,
        completed,
        _percent(rate),
        None if average is None else float(average),
        float(hours),
    )


def from_api(numbers: dict[str, Any]) -> Shown:
    assert numbers["not_completed"] == numbers["enrolled"] - numbers["completed"]
    for key in ("completion_rate", "average_score", "hours"):
        assert numbers[key] is None or isinstance(numbers[key], float), (key, numbers)
    return from_numbers(
        numbers["enrolled"],
        numbers["completed"],
        numbers["completion_rate"],
        numbers["average_score"],
        numbers["hours"],
    )


def from_page(cells: list[str]) -> Shown:
    """A row of the dashboard's table: 单位, 应训, 已完成, 未完成, 完成率, 平均成绩, 参训学时."""
    assert int(cells[3]) == int(cells[1]) - int(cells[2])
    return Shown(
        int(cells[1]),
        int(cells[2]),
        cells[4],
        None if cells[5] == "—" else float(cells[5]),
        float(cells[6]),
    )


class _Table(HTMLParser):
    """The rows of the dashboard's <table class="data report">, as the text of their cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_table = self.in_body = False
        self.cell: list[str] | None = None
        self.in_small = False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "report" in (dict(attrs).get("class") or ""):
            self.in_table = True
        elif self.in_table and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag in ("th", "td"):
            self.cell = []
        elif tag == "small":
            self.in_small = True  # （含下级）, after a name

    def handle_endtag(self, tag):
        if tag == "small":
            self.in_small = False
        elif tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.in_table = False

    def handle_data(self, data):
        if self.cell is not None and not self.in_small:
            self.cell.append(data)


class Reader:
    """The three outputs, read back for one batch (or all)."""

    def __init__(self, client, city, batch: int | None) -> None:
        self.client, self.city = client, city
        self.params = {"batch": batch} if batch else {}
        self.units: dict[str, Unit] = city["units"]
        self.training = city["training"].id

    def name(self, key: str) -> str:
        return self.units[key].name

    async def api(self, key: str) -> dict[str, Any]:
        """The API's summary with the token of this unit."""
        response = await self.client.get(
            f"{API}/trainings/{self.training}/summary",
            params=self.params,
            headers=bearer(self.city["tokens"][key]),
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def xlsx(self, key: str | None = None) -> dict[str, list]:
        """The 汇总表 .xlsx (of one unit's subtree, or the whole training): name → cells."""
        params = {**self.params, **({"unit": self.units[key].id} if key else {})}
        response = await self.client.get(
            f"/reports/trainings/{self.training}/summary.xlsx", params=params
        )
        assert response.status_code == 200, response.text
        sheet = load_workbook(io.BytesIO(response.content))["汇总"]
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
        assert len({r[0] for r in rows}) == len(rows)
        for row in rows:
            assert row[3] == row[1] - row[2]
        return {row[0]: row[1:] for row in rows}

    async def dashboard(self, key: str) -> dict[str, Shown]:
        """The dashboard's table at this unit: name → figures."""
        response = await self.client.get(
            "/reports",
            params={"training": self.training, "unit": self.units[key].id, **self.params},
        )
        assert response.status_code == 200, response.text
        table = _Table()
        table.feed(response.text)
        assert table.rows
        return {cells[0]: from_page(cells) for cells in table.rows}


def _xlsx_figures(row: list) -> Shown:
    enrolled, completed, _, rate, average, hours = row
    return from_numbers(enrolled, completed, rate, average, hours)


def _expected(keys: list[str], batch: int | None) -> tuple[int, int, float | None, float]:
    """Counted by hand from ENROLLMENTS: 应训, 已完成, the mean score, 学时."""
    rows = [e for e in ENROLLMENTS if e[0] in keys and (batch is None or e[3] == batch)]
    scores = [e[4] for e in rows if e[4] is not None]
    return (
        len(rows),
        sum(1 for e in rows if e[6]),
        sum(scores) / len(scores) if scores else None,
        sum(e[5] for e in rows),
    )


def _check_against_hand(shown: Shown, keys: list[str], batch: int | None) -> None:
    enrolled, completed, average, hours = _expected(keys, batch)
    assert (shown.enrolled, shown.completed) == (enrolled, completed), keys
    if average is None:
        assert shown.average is None
    else:
        assert shown.average == pytest.approx(average, abs=0.05 + 1e-9)
    assert shown.hours == pytest.approx(hours, abs=0.005 + 1e-9)


# ------------------------------------------------------------------------------ the tests


@pytest.mark.parametrize("batch", [None, 0, 1], ids=["all", "first", "second"])
async def test_every_unit_has_the_same_figures_in_the_api_the_xlsx_and_the_dashboard(
    client, city, batch
):
    await login(client, "admin")
    batch_id = None if batch is None else city["batches"][batch].id
    read = Reader(client, city, batch_id)
    whole = await read.xlsx()
    assert list(whole) == [
        "焦作市总工会（小计）",
        "焦作市总工会（本级）",
        "中站区总工会",
        "解放区总工会（小计）",
        "解放区总工会（本级）",
        "解放区人民医院工会",
        "合计",
    ]
    city_api = await read.api("city")
    own_in_city_api = {u["unit_id"]: from_api(u) for u in city_api["units"]}
    assert len(own_in_city_api) == 4

    for key, unit in read.units.items():
        name = unit.name
        has_children = key in CHILDREN
        api = await read.api(key)
        page = await read.dashboard(key)
        part = await read.xlsx(key)

        # The unit's own cadres (本级).
        own = {
            "API, the unit's token": from_api(
                next(u for u in api["units"] if u["unit_id"] == unit.id)
            ),
            "API, the city's token": own_in_city_api[unit.id],
            ".xlsx of the city": _xlsx_figures(
                whole.get(f"{name}（本级）", [0, 0, 0, None, None, 0])
                if has_children
                else whole[name]
            ),
            "dashboard at the unit": page.get(f"{name}（本级）", NOTHING),
        }
        assert len(set(own.values())) == 1, (name, own)
        _check_against_hand(own["API, the unit's token"], [key], batch)

        # The unit with everything below it.
        below = {
            "API total, the unit's token": from_api(api["total"]),
            ".xlsx of the city": _xlsx_figures(whole[f"{name}（小计）" if has_children else name]),
            ".xlsx of the unit, 合计": _xlsx_figures(part["合计"]),
            "dashboard at the unit, 合计": page["合计"],
        }
        if key in PARENT:
            below["dashboard at the parent"] = (await read.dashboard(PARENT[key]))[name]
        else:
            below[".xlsx of the city, 合计"] = _xlsx_figures(whole["合计"])
        assert len(set(below.values())) == 1, (name, below)
        _check_against_hand(below["API total, the unit's token"], subtree(key), batch)

        # The API lists the units of the token's subtree, each with its own cadres only.
        listed = {u["unit_id"]: from_api(u) for u in api["units"]}
        assert set(listed) == {read.units[k].id for k in subtree(key)}
        for other, figures in listed.items():
            assert figures == own_in_city_api[other]
        for unit_row in api["units"]:
            assert unit_row["level"] == unit_row["depth"] - unit.depth


def _minute(value: datetime | str) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value


async def test_the_api_roster_is_the_xlsx_roster_row_for_row(client, city):
    await login(client, "admin")
    training = city["training"].id
    tz = get_settings().timezone
    first = city["batches"][0].id
    for params in ({}, {"batch": first}, {"unit": city["units"]["jiefang"].id, "batch": first}):
        response = await client.get(f"/reports/trainings/{training}/roster.xlsx", params=params)
        sheet = load_workbook(io.BytesIO(response.content))["明细"]
        # 单位, 姓名, 职务, 期次, 测验成绩, 完成时间 (a date, or 未完成), 学时
        expected = [
            (r[1], r[2], r[3] or "", r[5], r[7], _minute(r[9]), r[10])
            for r in sheet.iter_rows(min_row=4, values_only=True)
        ]
        assert expected

        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = (
                await client.get(
                    f"{API}/trainings/{training}/roster",
                    params={**params, "page": page, "page_size": 4},
                    headers=bearer(city["tokens"]["city"]),
                )
            ).json()
            assert body["total"] == len(expected)
            assert body["pages"] == -(-len(expected) // 4)
            items += body["items"]
            if page >= body["pages"]:
                break
            page += 1
        assert len({i["enrollment_id"] for i in items}) == len(items)
        given = [
            (
                i["unit"]["name"],
                i["name"],
                i["position"],
                i["batch"]["name"],
                i["quiz_score"],
                (
                    datetime.fromisoformat(i["completed_at"])
                    .astimezone(tz)
                    .strftime("%Y-%m-%d %H:%M")
                    if i["completed_at"]
                    else "未完成"
                ),
                i["hours"],
            )
            for i in items
        ]
        assert given == expected, params
        if not params:
            everyone = {i["name"]: i for i in items}
    # Scores and 学时 as the 花名册 rounds them; the time of completion to the minute.
    scores = [everyone[n]["quiz_score"] for n in ("王市一", "钱站一", "钱站二")]
    assert scores == [88.2, 100.0, 66.7]
    assert [everyone[n]["hours"] for n in ("钱站二", "孙院三", "孙院四")] == [2.67, 0.33, 0.01]
    assert datetime.fromisoformat(everyone["赵区一"]["completed_at"]) == DONE.replace(second=0)
    assert everyone["赵区二"]["completed_at"] is None
    # The 花名册's order: units in tree order (中站区 before 解放区), names by 姓氏笔画.
    assert list(everyone)[:8] == [
        "王市一", "王市二", "王市三", "丁站五", "钱站一", "钱站二", "钱站三", "钱站四"
    ]  # fmt: skip
