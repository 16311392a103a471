"""The web denial matrix, for every role: outside the jurisdiction is 404, a missing
permission is 403, and sensitive fields stay masked in every page a role may open."""

from __future__ import annotations

import pytest

from fangkong.core.roles import Action, Role, can
from fangkong.people import services
from tests.conftest import VILLAGE_A, new_id_number

pytestmark = pytest.mark.django_db

ROLES = list(Role)


def _expected(user, action: Action) -> int:
    """Outside the jurisdiction: 404 when the role may do it at all, else 403."""
    return 404 if can(user, action) else 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_records_of_another_village_are_404_or_403(
    role, make_user, login_client, wang_c, household_c
):
    user = make_user(role, VILLAGE_A)
    client = login_client(user)
    person_view = _expected(user, Action.PERSON_VIEW)
    person_edit = _expected(user, Action.PERSON_EDIT)
    household_view = _expected(user, Action.HOUSEHOLD_VIEW)
    household_edit = _expected(user, Action.HOUSEHOLD_EDIT)
    checks = [
        ("get", f"/persons/{wang_c.pk}/", person_view),
        ("get", f"/persons/{wang_c.pk}/edit/", person_edit),
        ("post", f"/persons/{wang_c.pk}/edit/", person_edit),
        ("get", f"/households/{household_c.pk}/", household_view),
        ("get", f"/households/{household_c.pk}/edit/", household_edit),
        ("post", f"/households/{household_c.pk}/edit/", household_edit),
    ]
    for method, url, status in checks:
        data = {"name": "篡改", "phone": "13800000000", "category": "resident", "version": 1}
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == status, (role, method, url)
        body = response.content.decode()
        assert "王芳" not in body and wang_c.id_number not in body and wang_c.phone not in body
        if status == 404:
            assert "记录不存在或不在您的管辖范围内" in body
        else:
            assert "您的角色无权进行此操作" in body
    wang_c.refresh_from_db()
    assert wang_c.name == "王芳" and wang_c.version == 1


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_lists_and_searches_never_show_another_village(
    role, make_user, login_client, wang_c, household_c
):
    user = make_user(role, VILLAGE_A)
    client = login_client(user)
    for url, params, action in (
        ("/persons/", {"q": "wangf"}, Action.PERSON_VIEW),
        ("/persons/", {"q": wang_c.id_number}, Action.PERSON_VIEW),
        ("/persons/", {"region": wang_c.region_code}, Action.PERSON_VIEW),
        ("/households/", {"q": "东升"}, Action.HOUSEHOLD_VIEW),
    ):
        response = client.get(url, params)
        assert response.status_code == (200 if can(user, action) else 403), (role, url, params)
        body = response.content.decode()
        assert "王芳" not in body and "东升社区一组3号" not in body
    assert client.get(f"/regions/{wang_c.region_code[:12]}/").status_code == 404


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_creating_needs_the_permission(role, make_user, login_client, county):
    user = make_user(role, VILLAGE_A)
    client = login_client(user)
    assert client.get("/persons/new/").status_code == (
        200 if can(user, Action.PERSON_CREATE) else 403
    )
    assert client.get("/households/new/").status_code == (
        200 if can(user, Action.HOUSEHOLD_EDIT) else 403
    )


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_masked_fields_never_appear_unmasked(role, make_user, login_client, cadre, zhang):
    # A history with an old and a new ID number and phone, written by a cadre.
    old_id, old_phone = zhang.id_number, zhang.phone
    new_id = new_id_number()
    services.update_person(
        user=cadre,
        person_id=zhang.pk,
        expected_version=1,
        data={"id_number": new_id, "phone": "13722223333"},
    )
    user = make_user(role, VILLAGE_A)
    client = login_client(user)
    if not can(user, Action.PERSON_VIEW):
        assert client.get(f"/persons/{zhang.pk}/").status_code == 403
        return
    pages = [
        client.get("/persons/"),
        client.get("/persons/", {"q": "zhangw"}),
        client.get("/persons/", {"q": "zhangw"}, HTTP_HX_REQUEST="true"),
        client.get("/persons/", {"q": new_id}),
        client.get(f"/persons/{zhang.pk}/"),
        client.get(f"/households/{zhang.household_id}/"),
    ]
    if can(user, Action.PERSON_EDIT):
        pages.append(client.get(f"/persons/{zhang.pk}/edit/"))
    bodies = []
    for response in pages:
        assert response.status_code == 200
        # The search box and the language switch echo what the user typed: not a leak.
        body = response.content.decode()
        bodies.append(body.replace(f'value="{new_id}"', "").replace(f"q={new_id}", ""))
    text = "\n".join(bodies)
    assert "张伟" in text
    if can(user, Action.HISTORY_VIEW):
        assert "修改记录" in bodies[4]
    for value, action in (
        (old_id, Action.VIEW_ID_NUMBER),
        (new_id, Action.VIEW_ID_NUMBER),
        (old_phone, Action.VIEW_PHONE),
        ("13722223333", Action.VIEW_PHONE),
    ):
        if can(user, action):
            if can(user, Action.HISTORY_VIEW):  # old values live on in the history
                assert value in bodies[4], (role, value)
        else:
            assert value not in text, (role, value)
    if not can(user, Action.VIEW_ID_NUMBER):
        assert new_id[:4] + "*" * 10 + new_id[-4:] in bodies[4]


def test_denials_are_audited(make_user, login_client, wang_c):
    from fangkong.core.models import AuditEvent

    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="prober")
    supply = make_user(Role.SUPPLY_OFFICER, VILLAGE_A, username="stock")
    login_client(cadre).get(f"/persons/{wang_c.pk}/")
    login_client(supply).get("/persons/")
    denied = AuditEvent.objects.filter(kind=AuditEvent.Kind.DENIED, channel="web")
    assert denied.get(username="prober").detail == (
        f"GET /persons/{wang_c.pk}/: not found or outside the jurisdiction"
    )
    assert denied.get(username="stock").detail == "GET /persons/: role may not person.view"
