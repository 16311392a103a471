"""Unregistered persons (未登记人员): list entries no registry person matches, grouped across
channels when reconciliation runs, shown per village and registered from the group (the
person created through the registry, all entries linked); denials and masking."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core import idnumbers
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
    reconciliation.add_records(
        user=cadre,
        source="police",
        records=[
            RecordInput("王晓明", GRID_A1, dt.date(2022, 1, 5), id_number=number, phone=PHONE)
        ],
    )
    reconciliation.add_records(
        user=cadre,
        source="village",
        records=[
            RecordInput("王小明", GRID_A1, dt.date(2022, 1, 6), phone=PHONE, sex="M"),
            RecordInput("钱多", GRID_A1, dt.date(2022, 1, 6), phone="13600000000"),
        ],
    )
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
    assert gap == {
        "region_code": VILLAGE_A,
        "persons": 2,
        "only_police": 0,
        "only_village": 1,
        "both": 1,
    }
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
    answer = browser(cadre).post(
        f"/screening/reconciliation/unregistered/{group.pk}/register/",
        headers={"HX-Request": "true"},
    )
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
    assert list(
        UnregisteredGroup.objects.filter(person__isnull=True).values_list("name", flat=True)
    ) == ["钱多"]


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
    assert (
        ApiClient(outsider).post(f"{API}/unregistered/{group.pk}/register", {}).status_code == 404
    )
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
        assert (
            ApiClient(user).post(f"{API}/unregistered/{group.pk}/register", {}).status_code == 403
        ), role
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
    same = linkage.Rec(4, "李华", a.id_number)
    assert sorted(map(sorted, linkage.cluster([a, same]))) == [[1, 4]]
    # The same number under a name that contradicts it is evidence, not proof: two groups.
    other = linkage.Rec(5, "张三", a.id_number, "F")
    assert sorted(map(sorted, linkage.cluster([a, other]))) == [[1], [5]]


def test_entries_waiting_for_a_decision_are_grouped_once_rejected(make_user, make_person):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    vague = make_person(
        GRID_A1,
        "赵敏",
        id_number=None,
        phone="13900002222",
        birth_date=dt.date(1992, 2, 2),
        sex="F",
    )
    reconciliation.add_records(
        user=cadre,
        source="tip_off",
        records=[
            RecordInput(
                "赵民", GRID_A1, dt.date(2022, 1, 5), sex="F", birth_date=dt.date(1992, 2, 2)
            )
        ],
    )
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    # Waiting for a person's decision: may be 赵敏, so not listed as unregistered.
    assert not UnregisteredGroup.objects.exists()
    pair = vague.candidates.get()
    reconciliation.decide(user=cadre, pair_id=pair.pk, accept=False)
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    group = UnregisteredGroup.objects.get()
    assert group.name == "赵民" and SourceRecord.objects.get().group == group


# ------------------------------------------ registering someone the village already has


def _off_by_one(number: str, index: int, digit: str) -> str:
    body = number[:index] + digit + number[index + 1 : 17]
    return body + idnumbers.check_char(body)


OWN = idnumbers.make("230231", dt.date(1985, 3, 14), 12, "M")
TYPED = _off_by_one(OWN, 8, "7")  # 1985 typed 1975: a valid number, one digit off


@pytest.fixture
def typed_group(make_user, make_person):
    """The village reported 李建国 under a number one digit off; he was not registered when
    the lists were reconciled, and was registered since from the household register."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    reconciliation.add_records(
        user=cadre,
        source="village",
        records=[
            RecordInput(
                "李建国",
                GRID_A1,
                dt.date(2022, 1, 5),
                id_number=TYPED,
                sex="M",
                birth_date=dt.date(1985, 3, 14),
                phone="13900000001",
            )
        ],
    )
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    group = UnregisteredGroup.objects.get()
    li = make_person(GRID_A1, "李建国", id_number=OWN, phone="13900000001")
    return {"cadre": cadre, "group": group, "person": li}


def test_registering_a_group_whose_person_exists_under_a_one_digit_off_number_offers_them(
    typed_group,
):
    cadre, group, li = typed_group["cadre"], typed_group["group"], typed_group["person"]
    with pytest.raises(reconciliation.SimilarPersons) as caught:
        reconciliation.register_group(user=cadre, group_id=group.pk)
    ((offered, why),) = caught.value.persons
    assert offered == li and "身份证号第 9 位不同" in why.why
    assert Person.objects.filter(name="李建国").count() == 1  # no duplicate
    api = ApiClient(cadre)
    answer = api.post(f"{API}/unregistered/{group.pk}/register", {})
    assert answer.status_code == 409
    body = answer.json()
    assert body["similar"][0]["person"]["id"] == li.pk and body["errors"][0]["field"] == "person_id"
    assert [
        s["person"]["id"] for s in api.get(f"{API}/unregistered/{group.pk}/similar").json()
    ] == [li.pk]
    page = browser(cadre).post(
        f"/screening/reconciliation/unregistered/{group.pk}/register/",
        headers={"HX-Request": "true"},
    )
    text = page.content.decode()
    assert page.status_code == 200 and "关联到此人" in text and "身份证号第 9 位不同" in text
    assert "不是同一人：登记为新人员" in text and OWN in text  # a cadre sees the number whole
    full = browser(cadre).post(f"/screening/reconciliation/unregistered/{group.pk}/register/")
    assert full.status_code == 200 and "是否已登记" in full.content.decode()
    assert Person.objects.filter(name="李建国").count() == 1
    done = browser(cadre).post(
        f"/screening/reconciliation/unregistered/{group.pk}/link/{li.pk}/",
        headers={"HX-Request": "true"},
    )
    assert "名单记录已关联到已登记的李建国" in done.content.decode()
    record = SourceRecord.objects.get()
    assert record.person == li and record.link_method == "confirmed" and record.group is None
    assert not UnregisteredGroup.objects.exists()
    assert Person.objects.filter(name="李建国").count() == 1


def test_registering_anyway_after_checking_creates_the_person(typed_group):
    cadre, group = typed_group["cadre"], typed_group["group"]
    api = ApiClient(cadre)
    answer = api.post(f"{API}/unregistered/{group.pk}/register?despite_similar=true", {})
    assert answer.status_code == 201, answer.content
    created = Person.objects.get(id_number=TYPED)
    assert SourceRecord.objects.get().person == created
    assert Person.objects.filter(name="李建国").count() == 2


def test_the_village_without_such_a_person_registers_at_once_even_without_a_body(reported):
    api = ApiClient(reported["cadre"])
    qian = UnregisteredGroup.objects.get(name="钱多")
    assert api.get(f"{API}/unregistered/{qian.pk}/similar").json() == []
    answer = api.client.post(f"/api/v1{API}/unregistered/{qian.pk}/register")
    assert answer.status_code == 201, answer.content


def test_linking_a_group_denials(typed_group, make_user, make_person):
    group, li = typed_group["group"], typed_group["person"]
    link = f"/screening/reconciliation/unregistered/{group.pk}/link/{li.pk}/"
    api_link = f"{API}/unregistered/{group.pk}/link"
    similar = f"{API}/unregistered/{group.pk}/similar"
    outsider = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    assert browser(outsider).post(link).status_code == 404
    assert ApiClient(outsider).post(api_link, {"person_id": li.pk}).status_code == 404
    assert ApiClient(outsider).get(similar).status_code == 404
    assert browser().post(link).status_code == 302
    assert ApiClient().post(api_link, {"person_id": li.pk}).status_code == 401
    assert ApiClient().get(similar).status_code == 401
    supply = make_user(Role.SUPPLY_OFFICER, VILLAGE_A)
    assert ApiClient(supply).get(similar).status_code == 403
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)  # may read, may not link
    assert browser(doctor).post(link).status_code == 403
    assert ApiClient(doctor).post(api_link, {"person_id": li.pk}).status_code == 403
    inspector = ApiClient(make_user(Role.INSPECTOR, VILLAGE_A))  # masked numbers
    (seen,) = inspector.get(similar).json()
    assert seen["person"]["id_number"] == idnumbers.mask(OWN)
    assert browser(typed_group["cadre"]).get(link).status_code == 405
    cadre = ApiClient(typed_group["cadre"])
    elsewhere = make_person(VILLAGE_A[:9] + "202001", "李建国", id_number=None)
    wrong = cadre.post(api_link, {"person_id": elsewhere.pk})
    assert wrong.status_code == 404  # another village: outside the cadre's jurisdiction
    hq = ApiClient(make_user(Role.COUNTY_HQ, VILLAGE_A[:6]))
    wrong = hq.post(api_link, {"person_id": elsewhere.pk})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "person_id"
    assert cadre.post(api_link, {"person_id": "1"}).status_code == 422
    answer = cadre.post(api_link, {"person_id": li.pk})
    assert answer.status_code == 200 and answer.json()["person"]["id"] == li.pk
    assert SourceRecord.objects.get().person == li
