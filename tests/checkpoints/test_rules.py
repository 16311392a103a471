"""The passage rules as data: health-code colours, fever, risk areas, pass-card limits at the
edge of the week (Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.checkpoints import rules

RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEVERITY = {"pass": 0, "restrict": 1, "refuse": 2}
colours = st.sampled_from(["green", "yellow", "red", "none", "purple"])
temps = st.none() | st.decimals(min_value=Decimal("34.0"), max_value=Decimal("42.0"), places=1)
checks = st.builds(
    rules.Check,
    code_colour=colours,
    temperature=temps,
    itinerary_ok=st.booleans(),
    mask=st.booleans(),
    risk_area=st.sampled_from(["", "某市某区"]),
    card_outings_left=st.none() | st.integers(min_value=0, max_value=5),
)


@RELAXED
@given(checks)
def test_red_and_missing_codes_are_always_refused(check):
    ruling = rules.rule(check)
    if check.code_colour in ("red", "none", "purple"):
        assert ruling.verdict == "refuse"
    if check.card_outings_left == 0:
        assert ruling.verdict == "refuse"


@RELAXED
@given(checks)
def test_green_passes_only_when_nothing_else_is_wrong(check):
    ruling = rules.rule(check)
    clean = (
        check.code_colour == "green"
        and (check.temperature is None or check.temperature < Decimal("37.3"))
        and check.itinerary_ok
        and not check.risk_area
        and check.card_outings_left != 0
    )
    assert (ruling.verdict == "pass") == clean
    if check.code_colour == "yellow":
        assert ruling.verdict in ("restrict", "refuse")


@RELAXED
@given(checks, temps)
def test_a_fever_never_makes_a_verdict_milder(check, other):
    fever = rules.Check(**{**check.__dict__, "temperature": Decimal("38.5")})
    assert SEVERITY[rules.rule(fever).verdict] >= SEVERITY[rules.rule(check).verdict]
    assert SEVERITY[rules.rule(fever).verdict] >= 1


@RELAXED
@given(checks)
def test_every_verdict_but_pass_says_why(check):
    ruling = rules.rule(check)
    assert ruling.verdict == "pass" or ruling.reasons
    assert rules.default_outcome(ruling) != "passed" or ruling.verdict != "refuse"


def test_rules_are_data_a_changed_table_changes_the_verdict():
    yellow = rules.Check(code_colour="yellow")
    assert rules.rule(yellow).verdict == "restrict"
    assert rules.rule(yellow, {"yellow": "refuse"}).verdict == "refuse"


def test_week_runs_monday_to_monday_in_shanghai():
    sh = rules.SHANGHAI
    sunday_late = dt.datetime(2026, 12, 6, 23, 59, tzinfo=sh)
    monday = dt.datetime(2026, 12, 7, 0, 0, tzinfo=sh)
    assert rules.week_bounds(sunday_late)[1] == monday
    assert rules.week_bounds(monday)[0] == monday
    # 16:30 UTC on Sunday is already Monday 00:30 in Shanghai.
    utc_sunday = dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC)
    assert rules.week_bounds(utc_sunday)[0] == monday


def test_third_outing_allowed_fourth_refused_and_next_week_fresh():
    sh = rules.SHANGHAI
    used = [dt.datetime(2026, 12, 7, h, tzinfo=sh) for h in (8, 12)]
    moment = dt.datetime(2026, 12, 9, 9, tzinfo=sh)
    assert rules.outings_left(3, used, moment) == 1  # the 3rd may go
    used.append(moment)
    assert rules.outings_left(3, used, moment) == 0  # the 4th may not
    assert rules.rule(rules.Check("green", card_outings_left=0)).verdict == "refuse"
    next_monday = dt.datetime(2026, 12, 14, 0, 0, tzinfo=sh)
    assert rules.outings_left(3, used, next_monday) == 3
    last_minute = dt.datetime(2026, 12, 13, 23, 59, tzinfo=sh)
    assert rules.outings_left(3, used, last_minute) == 0


@RELAXED
@given(st.text(max_size=30))
def test_risk_area_matching_never_crashes(text):
    found = rules.matches_risk_area(text, [("420106", "武汉市武昌区"), ("", "")])
    assert found in ("", "武汉市武昌区")


def test_risk_area_matching():
    areas = [("420106", "武汉市武昌区")]
    assert rules.matches_risk_area("湖北省武汉市武昌区", areas) == "武汉市武昌区"
    assert rules.matches_risk_area("420106001", areas) == "武汉市武昌区"
    assert rules.matches_risk_area("哈尔滨市", areas) == ""
    assert rules.matches_risk_area("武", areas) == ""
