"""Reconciliation: linkage on generated data with known truth, candidate pairs decided by a
person and reused, per-village gaps, and denials for every endpoint."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from fangkong.core import idnumbers
from fangkong.core.roles import Role
from fangkong.screening import linkage, reconciliation
from fangkong.screening.models import CandidatePair, SourceRecord, UnregisteredGroup
from fangkong.screening.reconciliation import RecordInput
from tests.conftest import (
    COUNTY,
    FUQIANG,
    GRID_A1,
    GRID_C1,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
    new_id_number,
)
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
    auto = [lk for lk in links if lk.auto]
    truth = {r.key[1] for r in police} & {r.key[1] for r in village}
    correct = sum(1 for lk in auto if lk.left[1] == lk.right[1])
    assert correct / len(auto) >= 0.99
    assert correct / len(truth) >= 0.97


def test_linkage_on_the_harder_generated_lists():
    """A small run of the harder benchmark: neighbours' numbers one edit away, typed
    onto the village list; partial overlap; repeated names; village and group levels."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from screening_linkage_hard import build

    police, village, noise, *_ = build(3000, seed=5)
    assert noise["village: the neighbour's number"] > 0
    links = linkage.link(police, village)
    auto = [lk for lk in links if lk.auto]
    truth = {r.key[1] for r in police} & {r.key[1] for r in village}
    correct = sum(1 for lk in auto if lk.left[1] == lk.right[1])
    review_true = sum(1 for lk in links if not lk.auto and lk.left[1] == lk.right[1])
    assert correct == len(auto)  # no wrong person linked
    assert (correct + review_true) / len(truth) >= 0.99


def test_homophone_names_without_id_link_on_birth_date_and_phone():
    born = dt.date(1990, 5, 6)
    left = [linkage.Rec(1, "张伟", "", "M", born, "13912345678")]
    right = [
        linkage.Rec("a", "张维", "", "M", born, "13912345678"),
        linkage.Rec("b", "张伟", "", "M", dt.date(1971, 2, 3), "13800000000"),
    ]
    (link,) = linkage.link(left, right)
    assert link.right == "a" and link.score >= linkage.AUTO_LINK and "姓名同音" in link.why


def test_two_valid_id_numbers_more_than_one_edit_apart_never_link():
    born = dt.date(1990, 5, 6)
    a = linkage.Rec(1, "王芳", idnumbers.make("230231", born, 10, "F"), "F", born, "13912345678")
    b = linkage.Rec(2, "王芳", idnumbers.make("230231", born, 483, "F"), "F", born, "13912345678")
    assert linkage.link([a], [b]) == []


@pytest.fixture
def lists(make_user, make_person):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    born = dt.date(1988, 8, 8)
    known = make_person(GRID_A1, "李强", id_number=new_id_number(born), phone="13900001111")
    vague = make_person(
        GRID_A1,
        "赵敏",
        id_number=None,
        phone="13900002222",
        birth_date=dt.date(1992, 2, 2),
        sex="F",
    )
    c_person = make_person(GRID_C1, "孙丽")
    return {"cadre": cadre, "hq": hq, "known": known, "vague": vague, "c": c_person}


def post_records(client, source, records):
    return client.post(f"{API}/records", {"source": source, "records": records})


def test_reconcile_links_by_id_queues_doubtful_pairs_and_reuses_decisions(lists):
    cadre = ApiClient(lists["cadre"])
    known, vague = lists["known"], lists["vague"]
    police = [
        {
            "name": "李强",
            "id_number": known.id_number,
            "region_code": GRID_A1,
            "reported_on": "2022-01-05",
        },
        {
            "name": "赵民",
            "region_code": GRID_A1,
            "reported_on": "2022-01-05",
            "sex": "F",
            "birth_date": "1992-02-02",
        },  # a homophone, no ID, no phone: only a candidate
        {
            "name": "钱多",
            "region_code": GRID_A1,
            "reported_on": "2022-01-05",
            "phone": "13700000000",
        },  # nobody in the registry
    ]
    assert post_records(cadre, "police", police).status_code == 201
    village = [
        {
            "name": "李强",
            "phone": "13900001111",
            "birth_date": "1988-08-08",
            "sex": "M",
            "region_code": GRID_A1,
            "reported_on": "2022-01-06",
        }
    ]
    assert post_records(cadre, "village", village).status_code == 201
    answer = cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    assert answer.status_code == 202
    linked = SourceRecord.objects.filter(person=known)
    assert {r.link_method for r in linked} == {"id", "auto"}
    (pair,) = cadre.get(f"{API}/candidates").json()
    assert pair["person"]["id"] == vague.pk and pair["record"]["name"] == "赵民"
    assert (
        cadre.post(f"{API}/candidates/{pair['id']}/decision", {"accept": False}).status_code == 200
    )
    cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    assert CandidatePair.objects.filter(status="pending").count() == 0  # rejection reused
    again = cadre.post(f"{API}/candidates/{pair['id']}/decision", {"accept": True})
    assert again.status_code == 400
    gaps = {g["region_code"]: g for g in cadre.get(f"{API}/gaps").json()}
    assert gaps[GRID_A1[:12]] == {
        "region_code": GRID_A1[:12],
        "persons": 3,
        "only_police": 2,
        "only_village": 0,
        "both": 1,
    }


def test_confirming_links_the_record(lists):
    cadre = ApiClient(lists["cadre"])
    post_records(
        cadre,
        "tip_off",
        [
            {
                "name": "赵民",
                "region_code": GRID_A1,
                "sex": "F",
                "reported_on": "2022-01-05",
                "birth_date": "1992-02-02",
            }
        ],
    )
    cadre.post(f"{API}/reconcile", {"region_code": VILLAGE_A})
    (pair,) = cadre.get(f"{API}/candidates").json()
    cadre.post(f"{API}/candidates/{pair['id']}/decision", {"accept": True})
    record = SourceRecord.objects.get()
    assert record.person == lists["vague"] and record.link_method == "confirmed"


def test_reconciliation_denials(lists, make_user):
    cadre = ApiClient(lists["cadre"])
    post_records(
        cadre,
        "police",
        [
            {
                "name": "赵民",
                "region_code": GRID_A1,
                "sex": "F",
                "reported_on": "2022-01-05",
                "birth_date": "1992-02-02",
            }
        ],
    )
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
    assert (
        outsider.post(f"{API}/candidates/{pair.pk}/decision", {"accept": True}).status_code == 404
    )
    assert outsider.post(f"{API}/reconcile", {"region_code": VILLAGE_A}).status_code == 404
    assert outsider.get(f"{API}/candidates").json() == []
    assert outsider.get(f"{API}/gaps").json() == []
    bad = post_records(outsider, "police", [record])
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "records.0.region_code"
    random.seed(0)


# ------------------------------------------------- the lists as they really disagree

BORN = dt.date(1985, 3, 14)
OWN = idnumbers.make("230231", BORN, 12, "M")


def off_by_one(number: str, index: int, digit: str) -> str:
    body = number[:index] + digit + number[index + 1 : 17]
    return body + idnumbers.check_char(body)


def test_a_number_typed_as_a_neighbours_does_not_make_the_neighbour_reported(
    make_user, make_person
):
    """The village typed 李建国's number one digit off — onto his neighbour 王秀英's. The
    entry links to 李建国; 王秀英 stays "found by the police, never reported by the village"
    (the penalty is not missed) and 李建国 is not counted as omitted."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    li = make_person(GRID_A1, "李建国", id_number=OWN, phone="13900000001")
    neighbour_number = off_by_one(OWN, 16, "6")  # the sex digit: a woman born the same day
    wang = make_person(GRID_A1, "王秀英", id_number=neighbour_number, phone="13900000002")
    assert wang.sex == "F" and wang.birth_date == BORN
    day = dt.date(2022, 1, 5)
    reconciliation.add_records(
        user=cadre,
        source="village",
        records=[
            RecordInput(
                "李建国",
                GRID_A1,
                day,
                id_number=neighbour_number,
                sex="M",
                birth_date=BORN,
                phone="13900000001",
            )
        ],
    )
    reconciliation.add_records(
        user=cadre,
        source="police",
        records=[RecordInput("王秀英", VILLAGE_A, day, id_number=neighbour_number)],
    )
    summary = reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    entry = SourceRecord.objects.get(source="village")
    assert entry.person == li and entry.link_method == "auto"
    assert SourceRecord.objects.get(source="police").person == wang
    assert summary.linked_by_id == 1 and summary.linked_automatically == 1
    assert not CandidatePair.objects.filter(person=wang).exists()
    (gap,) = reconciliation.gaps(cadre)
    assert (gap["only_police"], gap["only_village"], gap["both"]) == (1, 1, 0)


def test_the_same_number_under_another_name_is_a_pair_to_check_not_a_link(make_user, make_person):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    wang = make_person(GRID_A1, "王秀英", id_number=OWN, phone="13900000002")
    reconciliation.add_records(
        user=cadre,
        source="village",
        records=[
            RecordInput(
                "赵铁柱",
                GRID_A1,
                dt.date(2022, 1, 5),
                id_number=OWN,
                sex="F",
                birth_date=dt.date(1962, 7, 1),
                phone="13900000009",
            )
        ],
    )
    summary = reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    assert summary.linked_by_id == 0 and summary.for_review == 1
    assert SourceRecord.objects.get().person is None
    pair = CandidatePair.objects.get()
    assert pair.person == wang and "身份证号相同" in pair.why and "姓名不同" in pair.why


def test_a_valid_mistyped_number_links_to_the_resident_and_makes_no_duplicate(
    make_user, make_person
):
    """Both numbers valid, one digit apart; name, birth date, sex, phone and group agree:
    the entry is the resident, not an "unregistered person" to register again."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    li = make_person(GRID_A1, "李建国", id_number=OWN, phone="13900000001")
    typed = off_by_one(OWN, 8, "7")
    assert idnumbers.is_valid(typed)
    day = dt.date(2022, 1, 5)
    reconciliation.add_records(
        user=cadre,
        source="village",
        records=[
            RecordInput(
                "李建国",
                GRID_A1,
                day,
                id_number=typed,
                sex="M",
                birth_date=BORN,
                phone="13900000001",
            )
        ],
    )
    # A tip-off with the same slip and little else beside it: a pair, the digit named.
    reconciliation.add_records(
        user=cadre, source="tip_off", records=[RecordInput("李建军", GRID_A1, day, id_number=typed)]
    )
    summary = reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    linked = SourceRecord.objects.get(name="李建国")
    assert linked.person == li and linked.link_method == "auto"
    assert summary.unregistered == 0 and not UnregisteredGroup.objects.exists()
    (pair,) = CandidatePair.objects.filter(record__source="tip_off")
    assert pair.person == li and pair.why.startswith("身份证号第 9 位不同")
    page = _browser(cadre).get("/screening/reconciliation/").content.decode()
    assert "身份证号第 9 位不同" in page


def test_links_stay_inside_the_village_unless_the_county_widens_the_run(make_user, make_person):
    """A township run links an entry of village A to nobody of village B, though B has a
    person with the same number, name and birth date; only the county may widen a run, and
    the pairs it finds across villages are marked on the review page."""
    township = make_user(Role.TOWNSHIP, FUQIANG)
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    b_person = make_person(VILLAGE_B + "001", "李建国", id_number=OWN, phone="13900000001")
    day = dt.date(2022, 1, 5)
    reconciliation.add_records(
        user=township,
        source="police",
        records=[RecordInput("李建国", GRID_A1, day, id_number=OWN, sex="M", birth_date=BORN)],
    )
    reconciliation.add_records(
        user=township,
        source="tip_off",
        records=[RecordInput("李剑国", GRID_A1, day, sex="M", birth_date=BORN)],
    )
    summary = reconciliation.reconcile(user=township, region_code=FUQIANG)
    assert summary.scope == "village" and summary.linked_by_id == 0 and summary.for_review == 0
    assert not SourceRecord.objects.filter(person=b_person).exists()
    api = ApiClient(township)
    wider = api.post(f"{API}/reconcile", {"region_code": FUQIANG, "scope": "township"})
    assert wider.status_code == 403
    bad = api.post(f"{API}/reconcile", {"region_code": FUQIANG, "scope": "province"})
    assert bad.status_code == 422
    assert (
        ApiClient(hq)
        .post(f"{API}/reconcile", {"region_code": FUQIANG, "scope": "township"})
        .status_code
        == 202
    )
    assert SourceRecord.objects.get(id_number=OWN).person == b_person
    pair = CandidatePair.objects.get(record__name="李剑国")
    assert pair.person == b_person
    page = _browser(hq).get("/screening/reconciliation/").content.decode()
    assert "其他村" in page and "只与本村" in page


def _browser(user):
    from .test_pages import browser

    return browser(user)
