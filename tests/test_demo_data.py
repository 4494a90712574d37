"""Tests for app.demo.data: the demo union tree and the generated cadres."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from app.demo.data import (
    CADRE_POSITIONS,
    UNIT_KINDS,
    DemoCadre,
    DemoUnit,
    demo_cadres,
    demo_units,
)

PHONE = re.compile(r"^1[3-9]\d{9}$")

COUNTY_FEDERATIONS = (
    "解放区总工会",
    "中站区总工会",
    "马村区总工会",
    "山阳区总工会",
    "修武县总工会",
    "博爱县总工会",
    "武陟县总工会",
    "温县总工会",
    "沁阳市总工会",
    "孟州市总工会",
)

POSITIONS = {
    "工会主席",
    "工会副主席",
    "经费审查委员会主任",
    "女职工委员会主任",
    "组织委员",
    "宣传委员",
    "文体委员",
    "生活委员",
    "劳动保护委员",
    "工会干事",
    "工会委员",
    "办公室主任",
}


@pytest.fixture(scope="module")
def units() -> list[DemoUnit]:
    return demo_units()


@pytest.fixture(scope="module")
def cadres(units: list[DemoUnit]) -> list[DemoCadre]:
    return demo_cadres(units)


def _by_key(units: list[DemoUnit]) -> dict[str, DemoUnit]:
    return {unit.key: unit for unit in units}


# --- units -----------------------------------------------------------------------------------


def test_units_are_the_same_every_time(units: list[DemoUnit]) -> None:
    assert demo_units() == units
    assert demo_units() is not demo_units()  # a fresh list each call


def test_unit_count_is_plausible(units: list[DemoUnit]) -> None:
    assert 60 <= len(units) <= 90


def test_units_are_in_tree_order(units: list[DemoUnit]) -> None:
    seen: set[str] = set()
    for unit in units:
        if unit.parent_key is not None:
            assert unit.parent_key in seen, unit
        seen.add(unit.key)


def test_exactly_one_city_federation_root(units: list[DemoUnit]) -> None:
    roots = [unit for unit in units if unit.parent_key is None]
    assert len(roots) == 1
    root = roots[0]
    assert (root.key, root.name, root.kind) == ("city", "焦作市总工会", "city_federation")
    assert units[0] == root
    assert [u for u in units if u.kind == "city_federation"] == [root]


def test_all_county_federations_under_the_root(units: list[DemoUnit]) -> None:
    counties = {unit.name: unit for unit in units if unit.kind == "county_federation"}
    assert set(counties) == set(COUNTY_FEDERATIONS)
    assert all(unit.parent_key == "city" for unit in counties.values())
    assert counties["解放区总工会"].key == "jiefang"


def test_zone_union_present(units: list[DemoUnit]) -> None:
    zones = [unit for unit in units if unit.kind == "zone_union"]
    assert [unit.name for unit in zones] == ["高新技术产业开发区工会"]
    assert zones[0].parent_key == "city"


def test_industry_and_municipal_unions_present(units: list[DemoUnit]) -> None:
    names = {unit.name: unit for unit in units}
    for name in ("焦作市教育工会", "焦作市卫生健康工会", "焦作市交通运输工会"):
        assert names[name].kind == "industry_union"
        assert names[name].parent_key == "city"
    for name in ("焦作市供电公司工会", "焦作市自来水公司工会", "焦作市第一中学工会"):
        assert names[name].kind == "municipal_grassroots_union"
        assert names[name].parent_key == "city"


def test_names_keys_and_codes_are_unique(units: list[DemoUnit]) -> None:
    for attr in ("name", "key", "code"):
        values = [getattr(unit, attr) for unit in units]
        assert len(values) == len(set(values)), attr


def test_keys_and_codes_are_short_ascii(units: list[DemoUnit]) -> None:
    for unit in units:
        assert re.fullmatch(r"[a-z0-9-]{1,20}", unit.key), unit.key
        assert re.fullmatch(r"[A-Z0-9-]{1,20}", unit.code), unit.code
        assert unit.code.startswith("JZ")


def test_kinds_are_known(units: list[DemoUnit]) -> None:
    assert {unit.kind for unit in units} == set(UNIT_KINDS)


def test_jiefang_g01_is_a_grassroots_union_under_jiefang(units: list[DemoUnit]) -> None:
    unit = _by_key(units)["jiefang-g01"]
    assert unit.kind == "grassroots_union"
    assert unit.parent_key == "jiefang"


def test_every_county_and_the_zone_have_3_to_8_grassroots_unions(units: list[DemoUnit]) -> None:
    children = Counter(u.parent_key for u in units if u.kind == "grassroots_union")
    for unit in units:
        if unit.kind in ("county_federation", "zone_union"):
            assert 3 <= children[unit.key] <= 8, unit.name


def test_grassroots_unions_hang_below_federations(units: list[DemoUnit]) -> None:
    by_key = _by_key(units)
    for unit in units:
        if unit.kind == "grassroots_union":
            parent = by_key[unit.parent_key or ""]
            assert parent.kind in ("county_federation", "zone_union", "industry_union")
        assert unit.name.endswith("工会")


# --- cadres ----------------------------------------------------------------------------------


def test_cadres_are_deterministic_for_a_seed(units: list[DemoUnit]) -> None:
    assert demo_cadres(units, 300, seed=7) == demo_cadres(units, 300, seed=7)


def test_default_cadres_are_deterministic(units: list[DemoUnit], cadres: list[DemoCadre]) -> None:
    assert demo_cadres(units) == cadres


def test_different_seeds_differ(units: list[DemoUnit]) -> None:
    assert demo_cadres(units, 200, seed=1) != demo_cadres(units, 200, seed=2)


def test_two_thousand_cadres_by_default(cadres: list[DemoCadre]) -> None:
    assert len(cadres) == 2000


def test_phones_are_valid_and_unique(cadres: list[DemoCadre]) -> None:
    phones = [cadre.phone for cadre in cadres]
    assert all(PHONE.fullmatch(phone) for phone in phones)
    assert len(set(phones)) == len(phones)


def test_unit_keys_genders_and_positions(units: list[DemoUnit], cadres: list[DemoCadre]) -> None:
    keys = {unit.key for unit in units}
    for cadre in cadres:
        assert cadre.unit_key in keys
        assert cadre.gender in ("男", "女")
        assert cadre.position in POSITIONS
        assert 2 <= len(cadre.name) <= 4
    assert set(CADRE_POSITIONS) == POSITIONS
    assert {cadre.gender for cadre in cadres} == {"男", "女"}


def test_women_committee_heads_are_women(cadres: list[DemoCadre]) -> None:
    heads = [c for c in cadres if c.position == "女职工委员会主任"]
    assert heads
    assert all(c.gender == "女" for c in heads)


def test_every_unit_has_exactly_one_chair(units: list[DemoUnit], cadres: list[DemoCadre]) -> None:
    chairs = Counter(c.unit_key for c in cadres if c.position == "工会主席")
    assert all(chairs[unit.key] == 1 for unit in units)


def test_grassroots_unions_get_most_cadres(units: list[DemoUnit], cadres: list[DemoCadre]) -> None:
    kind = {unit.key: unit.kind for unit in units}
    per_unit = Counter(cadre.unit_key for cadre in cadres)
    grassroots = [per_unit[u.key] for u in units if u.kind == "grassroots_union"]
    federations = [per_unit[u.key] for u in units if kind[u.key] == "county_federation"]
    assert min(grassroots) > max(federations)
    assert sum(per_unit[k] for k, v in kind.items() if v.endswith("grassroots_union")) > 1800


def test_most_positions_are_members_and_officers(cadres: list[DemoCadre]) -> None:
    counts = Counter(cadre.position for cadre in cadres)
    assert counts["工会委员"] + counts["工会干事"] > len(cadres) / 2


def test_other_counts(units: list[DemoUnit]) -> None:
    assert demo_cadres(units, 0) == []
    few = demo_cadres(units, 10)
    assert len(few) == 10
    assert len(demo_cadres(units[:1], 25)) == 25


def test_bad_arguments(units: list[DemoUnit]) -> None:
    with pytest.raises(ValueError):
        demo_cadres(units, -1)
    with pytest.raises(ValueError):
        demo_cadres([], 5)
