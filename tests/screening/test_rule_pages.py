"""The rule pages of screening: the county HQ adds and edits risk areas and publishes a new
control policy version; errors on the field, version conflicts, denials."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from fangkong.core.models import TaskRecord
from fangkong.core.roles import Role
from fangkong.screening.models import ControlPolicy, RiskArea
from tests.conftest import COUNTY, VILLAGE_A

from .conftest import WUHAN_JIANGHAN
from .test_pages import browser

AREA = {
    "region_code": WUHAN_JIANGHAN,
    "place": "武汉市江汉区",
    "level": "high",
    "valid_from": "2022-01-01",
    "valid_to": "",
    "notice": "国务院联防联控机制通知",
}


def _policy_post(**changes):
    data = {
        "region_code": COUNTY,
        "title": "拜泉县返乡人员管控（第二版）",
        "notice": "拜防指〔2022〕2号",
        "high_measure": "centralised",
        "high_look_back_days": "14",
        "high_days": "14",
        "high_home_days": "7",
        "high_test_days": "1, 4, 7, 14",
        "medium_measure": "home",
        "medium_look_back_days": "14",
        "medium_days": "7",
        "medium_home_days": "0",
        "medium_test_days": "1，7",
    }
    data.update(changes)
    return data


@freeze_time("2022-01-10 12:00:00")
def test_hq_adds_a_risk_area_from_the_home_page(hq):
    c = browser(hq)
    home = c.get("/screening/").content.decode()
    assert "/screening/risk-areas/new/" in home and "/screening/policies/new/" in home
    page = c.get("/screening/risk-areas/new/").content.decode()
    assert "添加风险地区" in page and "风险等级" in page and "尚未解除的留空" in page
    answer = c.post("/screening/risk-areas/new/", AREA)
    assert answer.status_code == 302 and answer.url == "/screening/"
    area = RiskArea.objects.get()
    assert (area.place, area.level, area.version) == ("武汉市江汉区", "high", 1)
    assert "风险地区已添加" in c.get(answer.url).content.decode()


@freeze_time("2022-01-10 12:00:00")
def test_risk_area_errors_are_shown_on_their_field(hq):
    c = browser(hq)
    page = c.post(
        "/screening/risk-areas/new/", {**AREA, "region_code": "42", "valid_to": "2021-12-01"}
    ).content.decode()
    assert 'id="id_valid_to_error"' in page and "结束日期早于开始日期" in page
    assert RiskArea.objects.count() == 0
    page = c.post("/screening/risk-areas/new/", {**AREA, "region_code": "4201x"}).content.decode()
    assert 'id="id_region_code_error"' in page and "区划代码应为2、4、6、9或12位数字" in page
    assert RiskArea.objects.count() == 0


@freeze_time("2022-01-10 12:00:00")
def test_hq_edits_a_risk_area_and_a_stale_version_is_a_conflict(hq, high_area):
    c = browser(hq)
    url = f"/screening/risk-areas/{high_area.pk}/edit/"
    assert url in c.get("/screening/").content.decode()
    page = c.get(url).content.decode()
    assert "修改风险地区" in page and 'name="version" value="1"' in page
    answer = c.post(url, {**AREA, "valid_to": "2022-01-09", "version": "1"})
    assert answer.status_code == 302
    high_area.refresh_from_db()
    assert high_area.version == 2 and str(high_area.valid_to) == "2022-01-09"
    # A second editor still holds version 1: told, nothing overwritten, input kept.
    page = c.post(url, {**AREA, "place": "江汉区", "version": "1"}).content.decode()
    assert "该记录已被他人修改" in page and "当前内容" in page
    assert 'name="version" value="2"' in page and 'value="江汉区"' in page
    high_area.refresh_from_db()
    assert high_area.place == "武汉市江汉区" and high_area.version == 2


@freeze_time("2022-01-10 12:00:00")
def test_hq_publishes_a_new_version_prefilled_from_the_current_one(hq, policy):
    c = browser(hq)
    page = c.get("/screening/policies/new/").content.decode()
    assert "发布新版管控政策" in page and "现行第1版" in page
    assert 'value="拜泉县返乡人员管控"' in page and 'value="1, 4, 7, 14"' in page
    answer = c.post("/screening/policies/new/", _policy_post())
    new = ControlPolicy.objects.get(region_code=COUNTY, version=2)
    record = TaskRecord.objects.get()
    assert answer.status_code == 302 and answer.url == f"/tasks/{record.pk}/"
    assert {r.level: (r.days, r.test_days) for r in new.rules.all()} == {
        "high": (14, [1, 4, 7, 14]),
        "medium": (7, [1, 7]),
    }
    assert ControlPolicy.objects.get(version=1).rules.count() == 3  # never changed


@freeze_time("2022-01-10 12:00:00")
def test_policy_errors_are_shown_on_the_rule_field(hq, policy):
    c = browser(hq)
    page = c.post(
        "/screening/policies/new/",
        _policy_post(medium_days="0", high_look_back_days="90", high_test_days="1, x"),
    ).content.decode()
    assert 'id="id_high_test_days_error"' in page
    assert ControlPolicy.objects.count() == 1
    page = c.post(
        "/screening/policies/new/", _policy_post(medium_days="0", high_look_back_days="90")
    ).content.decode()
    assert 'id="id_medium_days_error"' in page and "该措施须填写天数" in page
    assert 'id="id_high_look_back_days_error"' in page
    assert ControlPolicy.objects.count() == 1 and TaskRecord.objects.count() == 0


@pytest.mark.parametrize("role", [Role.VILLAGE_CADRE, Role.VILLAGE_DOCTOR])
def test_roles_without_the_rules_action_get_403(make_user, high_area, role):
    c = browser(make_user(role, VILLAGE_A))
    assert "/screening/risk-areas/new/" not in c.get("/screening/").content.decode()
    for path in (
        "/screening/risk-areas/new/",
        f"/screening/risk-areas/{high_area.pk}/edit/",
        "/screening/policies/new/",
    ):
        assert c.get(path).status_code == 403, path
    assert c.post("/screening/risk-areas/new/", AREA).status_code == 403
    assert c.post("/screening/policies/new/", _policy_post()).status_code == 403
    assert RiskArea.objects.count() == 1 and ControlPolicy.objects.count() == 0


def test_unknown_area_is_404_and_policy_outside_the_county_is_404(hq):
    c = browser(hq)
    assert c.get("/screening/risk-areas/999999/edit/").status_code == 404
    answer = c.post("/screening/policies/new/", _policy_post(region_code="420103"))
    # Not a choice of the form: refused on the field, nothing published.
    assert answer.status_code == 200 and 'id="id_region_code_error"' in answer.content.decode()
    assert ControlPolicy.objects.count() == 0


def test_home_page_names_the_villages(make_user, county):
    from fangkong.screening.models import SourceRecord

    SourceRecord.objects.create(
        source="police", name="张伟", region_code=VILLAGE_A, reported_on="2022-01-05"
    )
    page = browser(make_user(Role.COUNTY_HQ, COUNTY)).get("/screening/").content.decode()
    assert "富强村" in page and VILLAGE_A not in page  # names, not codes
