"""Unregistered persons (未登记人员): list entries no registry person matches, grouped across
channels when reconciliation runs, shown per village and registered from the group (the
person created through the registry, all entries linked); denials and masking."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.people.models import Person, PersonChange
from fangkong.screening import linkage, reconciliation
from fangkong.screening.models import SourceRecord, UnregisteredGroup
from fangkong.screening.reconciliation import RecordInput
from tests.conftest import GRID_A1, VILLAGE_A, VILLAGE_C, new_id_number
from tests.people.conftest import ApiClient

from .test_pages import browser

API = "/screening"
PHONE = "13700001234"
MASKED = "137****1234"
BORN = dt.date(1990, 4, 2)


@pytest.fixture
def reported(make_user, make_person):
    """The police report 王晓明 by ID number; the village reports 王小明 (same sound, same
    phone, no ID); the village also reports 钱多, whom nobody else names."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    make_person(GRID_A1, "李强", phone="13900001111")  # registered: not part of any group
    number = new_id_number(BORN, "M")
    reconciliation.add_records(user=cadre, source="police", records=[
        RecordInput("王晓明", GRID_A1, dt.date(2022, 1, 5), id_number=number, phone=PHONE)])
    reconciliation.add_records(user=cadre, source="village", records=[
        RecordInput("王小明", GRID_A1, dt.date(2022, 1, 6), phone=PHONE, sex="M"),
        RecordInput("钱多", GRID_A1, dt.date(2022, 1, 6), phone="13600000000")])
    summary = reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    assert summary.unregistered == 2
    return {"cadre": cadre, "id_number": number}


def test_two_channels_reporting_one_unregistered_person_make_one_group(reported):
    wang = UnregisteredGroup.objects.get(name="王晓明")  # the entry with the ID speaks
    assert wang.sources == ["police", "village"] and wang.records_count == 2
    assert {r.name for r in wang.records.all()} == {"王晓明", "王小明"}
    assert wang.region_code == GRID_A1 and wang.first_reported == dt.date(2022, 1, 5)
    qian = UnregisteredGroup.objects.get(name="钱多")
    assert qian.sources == ["village"] and qian.records_count == 1
    # Grouped once: the gaps count 王 as one person in both lists.
    (gap,) = reconciliation.gaps(reported["cadre"])
    assert gap == {"region_code": VILLAGE_A, "persons": 2, "only_police": 0,
                   "only_village": 1, "both": 1}
    # Stored, and a later run finds the same groups under the same ids.
    reconciliation.reconcile(user=reported["cadre"], region_code=GRID_A1)
    assert set(UnregisteredGroup.objects.values_list("pk", flat=True)) == {wang.pk, qian.pk}


def test_reconciliation_page_lists_unregistered_persons_by_village(reported):
    page = browser(reported["cadre"]).get("/screening/reconciliation/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "未登记人员" in body and "富强村" in body
    assert "王晓明" in body and "王小明" in body and "钱多" in body
    assert "公安" in body and "村（社区）上报" in body and "登记入库" in body
    assert PHONE in body and reported["id_number"] in body  # cadres see them whole


def test_registering_a_group_creates_the_person_and_links_all_its_entries(reported):
    cadre = reported["cadre"]
    group = UnregisteredGroup.objects.get(name="王晓明")
    answer = browser(cadre).post(f"/screening/reconciliation/unregistered/{group.pk}/register/",
                                 headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "已登记王晓明" in answer.content.decode()
    person = Person.objects.get(id_number=reported["id_number"])
    assert person.name == "王晓明" and person.phone == PHONE and person.region_code == GRID_A1
    assert person.source == "police" and person.category == "returnee"
    assert person.birth_date == BORN and person.sex == "M"
    assert PersonChange.objects.filter(person=person, by=cadre).exists()
    records = SourceRecord.objects.filter(group=group)
    assert {(r.person_id, r.link_method) for r in records} == {(person.pk, "registered")}
    group.refresh_from_db()
    assert group.person == person and group.registered_by == cadre
    page = browser(cadre).get("/screening/reconciliation/").content.decode()
    assert "王小明" not in page and "钱多" in page
    again = ApiClient(cadre).post(f"{API}/unregistered/{group.pk}/register", {})
    assert again.status_code == 400
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)  # nothing new to group
    assert list(UnregisteredGroup.objects.filter(person__isnull=True)
                .values_list("name", flat=True)) == ["钱多"]  # fmt: skip


def test_registering_through_the_api_without_id_number(reported):
    api = ApiClient(reported["cadre"])
    (village,) = api.get(f"{API}/unregistered").json()
    qian = next(g for g in village["groups"] if g["name"] == "钱多")
    answer = api.post(f"{API}/unregistered/{qian['id']}/register", {})
    assert answer.status_code == 201, answer.content
    person = Person.objects.get(pk=answer.json()["person"]["id"])
    assert person.id_number is None and person.phone == "13600000000"
    assert SourceRecord.objects.get(name="钱多").person == person


def test_outsiders_neither_see_nor_register_a_group(reported, make_user):
    group = UnregisteredGroup.objects.get(name="王晓明")
    url = f"/screening/reconciliation/unregistered/{group.pk}/register/"
    outsider = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    assert "王晓明" not in browser(outsider).get("/screening/reconciliation/").content.decode()
    assert ApiClient(outsider).get(f"{API}/unregistered").json() == []
    assert browser(outsider).post(url).status_code == 404
    assert ApiClient(outsider).post(f"{API}/unregistered/{group.pk}/register", {}).status_code \
        == 404
    assert browser().post(url).status_code == 302  # to the login page
    assert ApiClient().get(f"{API}/unregistered").status_code == 401
    assert ApiClient().post(f"{API}/unregistered/{group.pk}/register", {}).status_code == 401
    supply = make_user(Role.SUPPLY_OFFICER, VILLAGE_A)
    assert ApiClient(supply).get(f"{API}/unregistered").status_code == 403
    assert browser(supply).post(url).status_code == 403
    # A doctor reads but may not register; checkpoint staff may not register persons.
    for role in (Role.VILLAGE_DOCTOR, Role.CHECKPOINT_STAFF, Role.INSPECTOR):
        user = make_user(role, VILLAGE_A)
        assert browser(user).post(url).status_code == 403, role
        assert ApiClient(user).post(f"{API}/unregistered/{group.pk}/register", {}).status_code \
            == 403, role
    assert browser(make_user(Role.VILLAGE_CADRE, VILLAGE_A)).get(url).status_code == 405
    inspector = make_user(Role.INSPECTOR, VILLAGE_A)  # masked ID number and phone
    page = browser(inspector).get("/screening/reconciliation/").content.decode()
    assert "王晓明" in page and MASKED in page and PHONE not in page
    assert reported["id_number"] not in page and "登记入库" not in page
    assert not Person.objects.filter(name="王晓明").exists()
    assert not SourceRecord.objects.filter(person__isnull=False).exists()


def test_cluster_never_joins_two_valid_id_numbers_through_a_third_record():
    a = linkage.Rec(1, "李华", new_id_number(BORN, "M"), "M", BORN, PHONE)
    bridge = linkage.Rec(2, "李华", "", "M", BORN, PHONE)
    c = linkage.Rec(3, "李华", new_id_number(BORN, "M"), "M", BORN, PHONE)
    groups = linkage.cluster([a, bridge, c])
    assert len(groups) == 2 and not any({1, 3} <= set(g) for g in groups)
    same = linkage.Rec(4, "张三", a.id_number)
    assert sorted(map(sorted, linkage.cluster([a, same]))) == [[1, 4]]


def test_entries_waiting_for_a_decision_are_grouped_once_rejected(make_user, make_person):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    vague = make_person(GRID_A1, "赵敏", id_number=None, phone="13900002222",
                        birth_date=dt.date(1992, 2, 2), sex="F")
    reconciliation.add_records(user=cadre, source="tip_off", records=[
        RecordInput("赵民", GRID_A1, dt.date(2022, 1, 5), sex="F",
                    birth_date=dt.date(1992, 2, 2))])  # fmt: skip
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    # Waiting for a person's decision: may be 赵敏, so not listed as unregistered.
    assert not UnregisteredGroup.objects.exists()
    pair = vague.candidates.get()
    reconciliation.decide(user=cadre, pair_id=pair.pk, accept=False)
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    group = UnregisteredGroup.objects.get()
    assert group.name == "赵民" and SourceRecord.objects.get().group == group
