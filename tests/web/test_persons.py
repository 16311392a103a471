"""Person pages: search (name, pinyin, initials, ID, phone), detail, create, edit, history."""

from __future__ import annotations

import re

import pytest

from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.people import services
from fangkong.people.models import Person, PersonChange
from tests.conftest import GRID_A1, GRID_A2, VILLAGE_A, new_id_number

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [row["name"] for row in response.context["rows"]]


@pytest.fixture
def people_a(make_person, zhang):
    make_person(GRID_A2, "张维", phone="13800001111")
    make_person(GRID_A1, "李娜", sex="F", id_number=None, phone="")
    return zhang


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张", ["张伟", "张维"]),
        ("zhangw", ["张伟", "张维"]),
        ("zw", ["张伟", "张维"]),
        ("lina", ["李娜"]),
        ("13800001111", ["张维"]),
        ("138000", ["张维"]),
    ],
)
def test_search(cadre, login_client, people_a, wang_c, query, expected):
    response = login_client(cadre).get("/persons/", {"q": query})
    assert sorted(_names(response)) == sorted(expected)


def test_search_by_id_number(cadre, login_client, people_a):
    response = login_client(cadre).get("/persons/", {"q": people_a.id_number})
    assert _names(response) == ["张伟"]


def test_search_never_reaches_outside_the_jurisdiction(cadre, login_client, people_a, wang_c):
    client = login_client(cadre)
    assert _names(client.get("/persons/", {"q": "wangf"})) == []
    assert _names(client.get("/persons/", {"q": wang_c.id_number})) == []
    assert _names(client.get("/persons/", {"q": wang_c.phone})) == []


def test_live_search_returns_the_results_partial(cadre, login_client, people_a):
    client = login_client(cadre)
    page = client.get("/persons/").content.decode()
    assert 'hx-trigger="input changed delay:300ms' in page  # and on input, for phone keyboards
    response = client.get("/persons/", {"q": "zhangw"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "张伟" in body and "共找到 2 人" in body


def test_filters(cadre, login_client, people_a):
    client = login_client(cadre)
    assert _names(client.get("/persons/", {"region": GRID_A2})) == ["张维"]
    assert _names(client.get("/persons/", {"sex": "F"})) == ["李娜"]
    assert _names(client.get("/persons/", {"category": "returnee"})) == []
    assert len(_names(client.get("/persons/", {"source": "village"}))) == 3


def test_cursor_pagination(cadre, login_client, make_person, monkeypatch):
    monkeypatch.setattr("fangkong.web.views.PAGE_SIZE", 2)
    for name in ("赵一", "赵二", "赵三", "赵四", "赵五"):
        make_person(GRID_A1, name)
    client = login_client(cadre)
    seen = []
    url = "/persons/?q=zhao"
    while url:
        response = client.get(url)
        seen += _names(response)
        url = response.context["next_url"]
    assert sorted(seen) == sorted(["赵一", "赵二", "赵三", "赵四", "赵五"])


def test_bad_cursor_is_a_message_not_an_error(cadre, login_client, people_a):
    response = login_client(cadre).get("/persons/", {"cursor": "garbage"})
    assert response.status_code == 200
    assert "分页游标无效" in response.content.decode()


def test_detail_shows_everything_with_provenance(cadre, login_client, zhang):
    Person.objects.filter(pk=zhang.pk).update(source_file="富强村返乡名单.xlsx", source_row=7)
    body = login_client(cadre).get(f"/persons/{zhang.pk}/").content.decode()
    for text in (
        "张伟",
        zhang.id_number,  # village cadres see the full number
        "13912345678",
        "村（社区）上报",
        "富强村返乡名单.xlsx",
        "富强镇富强村一组18号",
        "常住居民",
    ):
        assert text in body
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.READ_SENSITIVE, object_id=str(zhang.pk), username="cadre_a"
    ).exists()


def test_register_a_person(cadre, login_client, household_a):
    number = new_id_number(sex="F")
    response = login_client(cadre).post(
        "/persons/new/",
        {
            "name": "刘芳",
            "id_number": number,
            "phone": "139 0000 1234",
            "household": household_a.pk,
            "category": "returnee",
        },
    )
    person = Person.objects.get(id_number=number)
    assert response["Location"] == f"/persons/{person.pk}/"
    assert person.region_code == GRID_A1 and person.phone == "13900001234"
    assert person.sex == "F"


def test_validation_errors_are_shown_next_to_each_field_in_chinese(
    cadre, login_client, household_a
):
    response = login_client(cadre).post(
        "/persons/new/",
        {"name": "", "id_number": "230231198503140011", "phone": "12345", "category": "resident"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["name"] == ["姓名不能为空"]
    assert form.errors["region_code"] == ["居住地区划代码或所在户至少填一项"]
    assert form.errors["id_number"] == ["身份证号码校验位错误：最后一位应为 9，实际为 1"]
    assert form.errors["phone"][0].startswith("电话号码 12345 格式不正确")
    body = response.content.decode()
    assert 'id="id_id_number_error"' in body and 'aria-invalid="true"' in body
    assert not Person.objects.filter(name="").exists()


def test_validation_errors_in_english(cadre, login_client):
    response = login_client(cadre, language="en").post(
        "/persons/new/", {"name": "", "region_code": VILLAGE_A, "category": "resident"}
    )
    assert response.context["form"].errors["name"] == ["Name is required"]


def test_edit_the_phone_and_see_the_history(cadre, login_client, zhang):
    client = login_client(cadre)
    form = client.get(f"/persons/{zhang.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(phone="13700007777", reason="本人更换号码")
    response = client.post(f"/persons/{zhang.pk}/edit/", data)
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.phone == "13700007777" and zhang.version == 2
    body = client.get(f"/persons/{zhang.pk}/").content.decode()
    assert "修改记录" in body and "第 2 版" in body and "本人更换号码" in body
    assert "13912345678" in body and "13700007777" in body


def test_edit_with_validation_errors(cadre, login_client, zhang):
    client = login_client(cadre)
    data = client.get(f"/persons/{zhang.pk}/edit/").context["form"].initial
    data = {k: v for k, v in data.items() if v is not None}
    data["phone"] = "1234"
    response = client.post(f"/persons/{zhang.pk}/edit/", data)
    assert response.status_code == 200
    assert "格式不正确" in response.context["form"].errors["phone"][0]
    zhang.refresh_from_db()
    assert zhang.version == 1


def test_a_stale_edit_shows_the_conflict_and_the_current_values(cadre, login_client, zhang):
    client = login_client(cadre)
    data = client.get(f"/persons/{zhang.pk}/edit/").context["form"].initial
    data = {k: v for k, v in data.items() if v is not None}
    # Someone else saves first.
    services.update_person(
        user=cadre, person_id=zhang.pk, expected_version=1, data={"phone": "13611112222"}
    )
    data["phone"] = "13700007777"
    response = client.post(f"/persons/{zhang.pk}/edit/", data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "该记录已被他人修改，请刷新后重试" in body
    assert "当前内容" in body and "13611112222" in body  # what is saved now
    assert 'name="version" value="2"' in body
    zhang.refresh_from_db()
    assert zhang.phone == "13611112222"
    assert PersonChange.objects.filter(person=zhang).count() == 1  # the other writer's only


def test_grid_worker_edits_without_ever_seeing_the_id_number(make_user, login_client, zhang):
    worker = make_user(Role.GRID_WORKER, GRID_A1)
    client = login_client(worker)
    response = client.get(f"/persons/{zhang.pk}/edit/")
    body = response.content.decode()
    assert zhang.id_number not in body
    data = {k: v for k, v in response.context["form"].initial.items() if v is not None}
    data["phone"] = "13500003333"
    assert client.post(f"/persons/{zhang.pk}/edit/", data).status_code == 302
    zhang.refresh_from_db()
    assert zhang.phone == "13500003333"
    assert zhang.id_number  # the masked field was not written back


def test_history_is_hidden_from_roles_without_the_permission(make_user, login_client, zhang):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    body = login_client(doctor).get(f"/persons/{zhang.pk}/").content.decode()
    assert "修改记录" not in body


def test_html_escapes_what_people_type(cadre, login_client, make_person):
    person = make_person(GRID_A1, "<b>张</b>", id_number=None)
    body = login_client(cadre).get(f"/persons/{person.pk}/").content.decode()
    assert "<b>张</b>" not in body and "&lt;b&gt;" in body


def test_the_list_page_carries_no_unmasked_text_for_masked_roles(make_user, login_client, zhang):
    checkpoint = make_user(Role.CHECKPOINT_STAFF, VILLAGE_A)
    body = login_client(checkpoint).get("/persons/").content.decode()
    assert re.search(r"2302\*+\d{3}[\dX]", body)
    assert zhang.id_number not in body and "13912345678" not in body
