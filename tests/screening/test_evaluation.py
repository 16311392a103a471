"""Evaluation of decisions: matching stays to risk areas, strictest level, reasons in words,
version history and lifting."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from fangkong.screening import services
from fangkong.screening.evaluation import NoPolicy, evaluate_region, latest_run
from fangkong.screening.models import ScreeningDecision, Stay
from fangkong.screening.services import RiskAreaInput, RuleInput
from tests.conftest import COUNTY, GRID_A1, GRID_C1, VILLAGE_A

from .conftest import STANDARD_RULES, TODAY, WUHAN_JIANGHAN


def stay(person, place_code, place, arrived, left):
    return Stay.objects.create(
        person=person,
        region_code=person.region_code,
        place_code=place_code,
        place=place,
        arrived=arrived,
        left=left,
        source="police",
    )


def current(person):
    return ScreeningDecision.objects.get(person=person, run=latest_run(COUNTY))


def test_stay_in_high_risk_area_gives_the_high_rule_with_reason(make_person, policy, high_area):
    person = make_person(GRID_A1, "张伟")
    stay(person, "420103001001", "武汉市江汉区", dt.date(2022, 1, 3), dt.date(2022, 1, 5))
    summary = evaluate_region(region_code=COUNTY, as_of=TODAY)
    decision = current(person)
    assert summary.flagged == 1 and decision.measure == "centralised"
    assert decision.policy_id == policy.pk and decision.level == "high"
    assert decision.reason.startswith(
        "于2022-01-03至01-05在武汉市江汉区（高风险，2022-01-01起）停留"
    )
    assert "集中隔离14天+居家隔离7天" in decision.reason
    assert decision.start_date == dt.date(2022, 1, 6)
    assert decision.end_date == dt.date(2022, 1, 26)


def test_stay_before_the_area_became_risk_or_outside_look_back_is_not_flagged(
    make_person, policy, high_area
):
    before = make_person(GRID_A1, "李娜")
    stay(before, "420103", "武汉市江汉区", dt.date(2021, 12, 20), dt.date(2021, 12, 31))
    evaluate_region(region_code=COUNTY, as_of=TODAY)
    assert not ScreeningDecision.objects.filter(person=before, measure="centralised").exists()
    old = make_person(GRID_A1, "王芳")
    stay(old, "420103", "武汉市江汉区", dt.date(2022, 1, 1), dt.date(2022, 1, 2))
    evaluate_region(region_code=COUNTY, as_of=dt.date(2022, 1, 20))  # 18 days later
    assert not ScreeningDecision.objects.filter(person=old, measure="centralised").exists()


def test_strictest_level_wins_and_other_travel_gets_monitoring(make_person, hq, policy, high_area):
    services.create_risk_areas(
        user=hq,
        reevaluate=False,
        areas=[RiskAreaInput("3101", "上海市", "medium", dt.date(2022, 1, 1))],
    )
    both = make_person(GRID_A1, "赵强")
    stay(both, "310101", "上海市黄浦区", dt.date(2022, 1, 6), dt.date(2022, 1, 8))
    stay(both, "420103", "武汉市江汉区", dt.date(2022, 1, 2), dt.date(2022, 1, 3))
    traveller = make_person(GRID_C1, "钱敏")
    stay(traveller, "110101", "北京市东城区", dt.date(2022, 1, 5), dt.date(2022, 1, 8))
    evaluate_region(region_code=COUNTY, as_of=TODAY)
    assert current(both).level == "high"
    assert current(traveller).measure == "monitoring"
    assert "非风险地区" in current(traveller).reason


def test_free_text_risk_area_matches_by_place_name(make_person, hq, policy):
    services.create_risk_areas(
        user=hq,
        reevaluate=False,
        areas=[RiskAreaInput("", "幸福小区", "medium", dt.date(2022, 1, 1))],
    )
    person = make_person(GRID_A1)
    stay(person, "", "石家庄市幸福小区", dt.date(2022, 1, 4), dt.date(2022, 1, 6))
    evaluate_region(region_code=COUNTY, as_of=TODAY)
    assert current(person).measure == "home"


def test_new_policy_version_keeps_history_and_lifting_is_recorded(
    make_person, hq, policy, high_area
):
    person = make_person(GRID_A1)
    stay(person, "420103", "武汉市江汉区", dt.date(2022, 1, 3), dt.date(2022, 1, 5))
    evaluate_region(region_code=COUNTY, as_of=TODAY)
    v2, _ = services.publish_policy(
        user=hq,
        region_code=COUNTY,
        title="调整",
        notice="",
        reevaluate=False,
        rules=[RuleInput("high", 7, "home", days=7, test_days=(1, 7)), *STANDARD_RULES[1:]],
    )
    evaluate_region(region_code=COUNTY, as_of=TODAY)
    history = list(person.decisions.order_by("decided_at", "id"))
    assert [d.policy.version for d in history] == [1, 2]
    assert history[1].run == latest_run(COUNTY) != history[0].run
    assert history[1].measure == "home" and history[1].policy_id == v2.pk
    services.update_risk_area(
        user=hq, area_id=high_area.pk, version=1, changes={"valid_to": dt.date(2022, 1, 2)}
    )
    evaluate_region(region_code=COUNTY, as_of=TODAY)  # lifted before the stay: other travel
    assert current(person).measure == "monitoring"
    evaluate_region(region_code=COUNTY, as_of=dt.date(2022, 1, 14))  # past the 7-day window
    assert current(person).measure == "none" and "解除" in current(person).reason


def test_evaluation_without_policy_and_only_in_region(make_person, hq, high_area):
    with pytest.raises(NoPolicy):
        evaluate_region(region_code=VILLAGE_A, as_of=TODAY)


@freeze_time("2022-01-10 12:00:00")
def test_publishing_queues_reevaluation_with_progress(make_person, hq, high_area):
    person = make_person(GRID_A1)
    stay(person, WUHAN_JIANGHAN, "武汉市江汉区", dt.date(2022, 1, 3), dt.date(2022, 1, 5))
    policy, record = services.publish_policy(
        user=hq, region_code=COUNTY, title="政策", notice="", rules=STANDARD_RULES
    )
    record.refresh_from_db()
    assert record.status == "succeeded", record.message
    assert "重新研判" in record.message
    assert ScreeningDecision.objects.filter(person=person, policy=policy).exists()


def test_invalid_policy_is_refused_with_field_errors(hq):
    from fangkong.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        services.publish_policy(
            user=hq,
            region_code=COUNTY,
            title="x",
            notice="",
            rules=[
                RuleInput("high", 0, "centralised", days=0, test_days=(30,)),
                RuleInput("high", 14, "bogus"),
            ],
        )
    fields = {e.field for e in err.value.errors}
    assert {
        "rules.0.look_back_days",
        "rules.0.days",
        "rules.0.test_days",
        "rules.1.level",
        "rules.1.measure",
    } <= fields
