"""Fixtures of the places tests: cadres of villages A and C, places in each, a fake
problems list (the reports module is not merged in this branch)."""

from __future__ import annotations

import pytest

from fangkong.core import problems
from fangkong.core.roles import Role
from fangkong.places import services
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C


class FakeSink:
    """A problems list keyed by source, as the reports module promises."""

    def __init__(self) -> None:
        self.raised: dict[str, problems.ProblemDraft] = {}

    def raise_problem(self, draft: problems.ProblemDraft) -> problems.ProblemRef:
        self.raised.setdefault(draft.source, draft)
        pk = list(self.raised).index(draft.source) + 1
        return problems.ProblemRef(pk, draft.source, "open", "")

    def status_of(self, sources: list[str]) -> dict[str, problems.ProblemRef]:
        return {
            s: problems.ProblemRef(list(self.raised).index(s) + 1, s, "open", "")
            for s in sources
            if s in self.raised
        }


@pytest.fixture
def sink():
    before = problems._sink
    fake = FakeSink()
    problems.register_sink(fake)
    yield fake
    problems._sink = before


@pytest.fixture
def cadre_a(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, display_name="村干部甲")


@pytest.fixture
def cadre_c(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_C, display_name="村干部丙")


@pytest.fixture
def township(make_user):
    return make_user(Role.TOWNSHIP, FUQIANG, display_name="镇干部")


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


@pytest.fixture
def make_place():
    def make(actor, kind="supermarket", name="便民超市", region=GRID_A1, **extra):
        return services.register_place(
            actor=actor,
            data=services.PlaceInput(
                kind=kind,
                name=name,
                region_code=region,
                manager_name="王老板",
                manager_phone="13912340000",
                **extra,
            ),
        )

    return make


@pytest.fixture
def place_a(cadre_a, make_place):
    return make_place(cadre_a)


@pytest.fixture
def place_c(cadre_c, make_place):
    return make_place(cadre_c, name="东升超市", region=GRID_C1)
