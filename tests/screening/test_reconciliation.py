"""Reconciliation: linkage on generated data with known truth, candidate pairs decided by a
person and reused, per-village gaps, and denials for every endpoint."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from fangkong.core.roles import Role
from fangkong.screening import linkage
from fangkong.screening.models import CandidatePair, SourceRecord
from tests.conftest import COUNTY, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C, new_id_number
from tests.people.conftest import ApiClient

API = "/screening"


def test_linkage_on_generated_lists_meets_precision_and_recall():
    """A small run of the benchmark's generator: known truth, realistic noise."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from screening_linkage import build

    police, village = build(4000, seed=3)
    links = linkage.link(police, village)
    auto = [lk for lk in links if lk.score >= linkage.AUTO_LINK]
    truth = {r.key[1] for r in police} & {r.key[1] for r in village}
    correct = sum(1 for lk in auto if lk.left[1] == lk.right[1])
    assert correct / len(auto) >= 0.99
    assert correct / len(truth) >= 0.97


def test_homophone_names_without_id_link_on_birth_date_and_phone():
    born = dt.date(1990, 5, 6)
    left = [linkage.Rec(1, "张伟", "", "M", born, "13912345678")]
    right = [linkage.Rec("a", "张维", "", "M", born, "13912345678"),
             linkage.Rec("b", "张伟", "", "M", dt.date(1971, 2, 3), "13800000000")]
    (link,) = linkage.link(left, right)
    assert link.right == "a" and link.score >= linkage.AUTO_LINK and "姓名同音" in link.why


def test_two_different_valid_id_numbers_never_link():
    born = dt.date(1990, 5, 6)
    a = linkage.Rec(1, "王芳", new_id_number(born, "F"), "F", born, "13912345678")
    b = linkage.Rec(2, "王芳", new_id_number(born, "F"), "F", born, "13912345678")
    assert linkage.link([a], [b]) == []


@pytest.fixture
def lists(make_user, make_person):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    born = dt.date(1988, 8, 8)
    known = make_person(GRID_A1, "李强", id_number=new_id_number(born), phone="13900001111")
    vague = make_person(GRID_A1, "赵敏", id_number=None, phone="13900002222",
                        birth_date=dt.date(1992, 2, 2), sex="F")
    c_person = make_person(GRID_C1, "孙丽")
    return {"cadre": cadre, "hq": hq, "known": known, "vague": vague, "c": c_person}


def post_records(client, source, records):
    return client.post(f"{API}/records", {"source": source, "records": records})


def test_reconcile_links_by_id_queues_doubtful_pairs_and_reuses_decisions(lists):
    cadre = ApiClient(lists["cadre"])
    known, vague = lists["known"], lists["vague"]
    police = [
        {"name": "李强", "id_number": known.id_number, "region_code": GRID_A1,
         "reported_on": "2022-01-05"},
        {"name": "赵民", "region_code": GRID_A1, "reported_on": "2022-01-05", "sex": "F",
         "birth_date": "1992-02-02"},  # a homophone, no ID, no phone: only a candidate
        {"name": "钱多", "region_code": GRID_A1, "reported_on": "2022-01-05",
         "phone": "13700000000"},  # nobody in the registry
    ]  # fmt: skip
    assert post_records(cadre, "police", police).status_code == 201
    village = [{"name": "李强", "phone": "13900001111", "birth_date": "1988-08-08",
                "sex": "M", "region_code": GRID_A1, "reported_on": "2022-01-06"}]
    assert post_records(cadre, "village", village).status_code == 201
    answer = cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    assert answer.status_code == 202
    linked = SourceRecord.objects.filter(person=known)
    assert {r.link_method for r in linked} == {"id", "auto"}
    (pair,) = cadre.get(f"{API}/candidates").json()
    assert pair["person"]["id"] == vague.pk and pair["record"]["name"] == "赵民"
    assert cadre.post(f"{API}/candidates/{pair['id']}/decision", {"accept": False}).status_code \
        == 200
    cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    assert CandidatePair.objects.filter(status="pending").count() == 0  # rejection reused
    again = cadre.post(f"{API}/candidates/{pair['id']}/decision", {"accept": True})
    assert again.status_code == 400
    gaps = {g["region_code"]: g for g in cadre.get(f"{API}/gaps").json()}
    assert gaps[GRID_A1[:12]] == {"region_code": GRID_A1[:12], "persons": 3,
                                  "only_police": 2, "only_village": 0, "both": 1}


def test_confirming_links_the_record(lists):
    cadre = ApiClient(lists["cadre"])
    post_records(cadre, "tip_off", [{"name": "赵民", "region_code": GRID_A1, "sex": "F",
                                     "reported_on": "2022-01-05", "birth_date": "1992-02-02"}])
    cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    (pair,) = cadre.get(f"{API}/candidates").json()
    cadre.post(f"{API}/candidates/{pair['id']}/decision", {"accept": True})
    record = SourceRecord.objects.get()
    assert record.person == lists["vague"] and record.link_method == "confirmed"


def test_reconciliation_denials(lists, make_user):
    cadre = ApiClient(lists["cadre"])
    post_records(cadre, "police", [{"name": "赵民", "region_code": GRID_A1, "sex": "F",
                                    "reported_on": "2022-01-05", "birth_date": "1992-02-02"}])
    cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    pair = CandidatePair.objects.get()
    record = {"name": "某", "region_code": GRID_A1, "reported_on": "2022-01-05"}
    calls = [
        ("post", "/records", {"source": "police", "records": [record]}),
        ("post", "/reconcile", {"region_code": VILLAGE_A}),
        ("get", "/candidates", None),
        ("post", f"/candidates/{pair.pk}/decision", {"accept": True}),
        ("get", "/gaps", None),
    ]
    anon, supply = ApiClient(), ApiClient(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    doctor = ApiClient(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))  # view only
    for method, path, body in calls:
        def send(c, method=method, path=path, body=body):
            return c.get(API + path) if body is None else getattr(c, method)(API + path, body)
        assert send(anon).status_code == 401, path
        assert send(supply).status_code == 403, path
        if method == "post":
            assert send(doctor).status_code == 403, path
    outsider = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert outsider.post(f"{API}/candidates/{pair.pk}/decision",
                         {"accept": True}).status_code == 404
    assert outsider.post(f"{API}/reconcile", {"region_code": VILLAGE_A}).status_code == 404
    assert outsider.get(f"{API}/candidates").json() == []
    assert outsider.get(f"{API}/gaps").json() == []
    bad = post_records(outsider, "police", [record])
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "records.0.region_code"
    random.seed(0)
