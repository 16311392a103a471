"""Omissions and penalties: found by another channel, not reported by the village in time;
amounts before and after the cut-off; the ledger per village; denials."""

from __future__ import annotations

from fangkong.core.roles import Role
from fangkong.screening.models import Omission, SourceRecord
from tests.conftest import COUNTY, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

RULE = {
    "region_code": COUNTY,
    "amount_before": 2000,
    "amount_after": 5000,
    "cutoff": "2022-01-10",
    "deadline_days": 1,
}


def put(client, path, body):
    import json

    return client.client.put("/api/v1" + path, json.dumps(body), content_type="application/json")


def linked(person, source, day):
    return SourceRecord.objects.create(
        source=source,
        name=person.name,
        region_code=person.region_code,
        reported_on=day,
        person=person,
        link_method="id",
    )


def test_omissions_found_with_amounts_evidence_and_ledger(make_user, make_person):
    hq = ApiClient(make_user(Role.COUNTY_HQ, COUNTY))
    assert put(hq, "/screening/penalty-rule", RULE).status_code == 200
    never = make_person(GRID_A1, "甲")
    late = make_person(GRID_A1, "乙")
    on_time = make_person(GRID_A1, "丙")
    after_cutoff = make_person(GRID_C1, "丁")
    linked(never, "police", "2022-01-05")
    linked(late, "tip_off", "2022-01-05")
    linked(late, "village", "2022-01-08")
    linked(on_time, "checkpoint", "2022-01-05")
    linked(on_time, "village", "2022-01-06")
    linked(after_cutoff, "police", "2022-01-12")
    answer = hq.post("/screening/omissions/find", {"region_code": COUNTY})
    assert answer.json() == {"created": 3}
    assert hq.post("/screening/omissions/find", {"region_code": COUNTY}).json() == {"created": 0}
    assert (
        Omission.objects.get(person=late).evidence
        == "群众举报于2022-01-05发现，村至2022-01-08才上报（时限1天）"
    )
    assert Omission.objects.get(person=never).evidence == "公安推送于2022-01-05发现，村未上报"
    ledger = {v["region_code"]: v for v in hq.get("/screening/omissions").json()}
    assert ledger[GRID_A1[:12]]["count"] == 2 and ledger[GRID_A1[:12]]["total"] == 4000
    assert ledger[GRID_C1[:12]]["total"] == 5000
    village_a = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A)).get("/screening/omissions")
    assert [v["region_code"] for v in village_a.json()] == [GRID_A1[:12]]


def test_omission_denials(make_user, make_person):
    hq = ApiClient(make_user(Role.COUNTY_HQ, COUNTY))
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    assert put(cadre, "/screening/penalty-rule", RULE).status_code == 403
    assert cadre.post("/screening/omissions/find", {"region_code": COUNTY}).status_code == 403
    assert put(ApiClient(), "/screening/penalty-rule", RULE).status_code == 401
    assert ApiClient().post("/screening/omissions/find", {"region_code": COUNTY}).status_code == 401
    assert ApiClient().get("/screening/omissions").status_code == 401
    supply = ApiClient(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    assert supply.get("/screening/omissions").status_code == 403
    other_county_hq = ApiClient(make_user(Role.COUNTY_HQ, VILLAGE_C))
    assert put(other_county_hq, "/screening/penalty-rule", RULE).status_code == 404
    assert hq.post("/screening/omissions/find", {"region_code": COUNTY}).status_code == 400
