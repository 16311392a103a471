"""The offline round's sync and work set (issue 20), at the API: per-record answers,
idempotency by key, conflicts never overwritten, jurisdiction, revoked tokens, the
installable app's manifest and service worker."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from freezegun import freeze_time

from fangkong.core import tokens
from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.quarantine import services
from fangkong.quarantine.models import Alert, HealthCheck
from tests.conftest import GRID_C1, VILLAGE_C

from .conftest import local

pytestmark = pytest.mark.django_db
SYNC = "/quarantine/field/sync"
WORKSET = "/quarantine/field/workset"
NINE = local(2026, 3, 1, 9)


def _row(order, key=None, version=None, **fields):
    row = {
        "key": key or str(uuid.uuid4()),
        "order_id": order.pk,
        "version": version or order.version,
        "taken_at": (NINE - dt.timedelta(minutes=20)).isoformat(),
        "normal": True,
    }
    row.update(fields)
    return row


@freeze_time(NINE)
def test_the_same_batch_twice_stores_each_reading_once(
    api_as, doctor, make_order, make_person, household
):
    orders = [make_order(person=make_person(name=f"人{i}", household=household)) for i in range(3)]
    rows = [
        _row(orders[0]),
        _row(orders[1], normal=False, temperature="38.4"),
        _row(orders[2], normal=False, at_home=False),
    ]
    api = api_as(doctor)
    first = api.post(SYNC, {"readings": rows})
    assert first.status_code == 200, first.content
    body = first.json()
    assert [r["status"] for r in body["results"]] == ["stored"] * 3
    assert body["results"][1]["alerts"] == ["fever"]
    again = api.post(SYNC, {"readings": rows})
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 3
    assert HealthCheck.objects.count() == 3
    assert Alert.objects.count() == 2  # the fever and the absence, raised once
    assert set(HealthCheck.objects.values_list("client_id", flat=True)) == {r["key"] for r in rows}


@freeze_time(NINE)
def test_a_changed_order_is_a_conflict_with_the_servers_values(
    api_as, doctor, cadre, make_order, make_person, household
):
    extended = make_order(person=make_person(name="延期", household=household))
    released = make_order(person=make_person(name="已结束", household=household))
    based_on = extended.version
    services.extend_order(
        user=cadre,
        order_id=extended.pk,
        version=extended.version,
        ends_at=extended.ends_at + dt.timedelta(days=3),
        reason="复检阳性",
    )
    services.end_order_early(
        user=cadre, order_id=released.pk, version=released.version, reason="转走"
    )
    rows = [_row(extended, version=based_on), _row(released, version=released.version)]
    answer = api_as(doctor).post(SYNC, {"readings": rows}).json()
    first, second = answer["results"]
    assert first["status"] == "conflict" and first["server"]["version"] == based_on + 1
    assert "第 1 版 → 第 2 版" in first["message"]
    assert second["status"] == "conflict" and second["server"]["status"] == "ended_early"
    assert HealthCheck.objects.count() == 0  # nothing stored until the user decides
    # The user checks and resends on the new version: stored.
    retry = _row(extended, key=rows[0]["key"], version=based_on + 1)
    assert api_as(doctor).post(SYNC, {"readings": [retry]}).json()["results"][0]["status"] == (
        "stored"
    )


@freeze_time(NINE)
def test_an_implausible_reading_is_answered_and_the_rest_stored(
    api_as, doctor, make_order, make_person, household
):
    a, b = (make_order(person=make_person(name=n, household=household)) for n in ("甲", "乙"))
    rows = [_row(a, normal=False, temperature="55.0"), _row(b)]
    results = api_as(doctor).post(SYNC, {"readings": rows}).json()["results"]
    assert [r["status"] for r in results] == ["invalid", "stored"]
    assert results[0]["errors"][0]["field"] == "temperature"
    assert HealthCheck.objects.count() == 1


@freeze_time(NINE)
def test_a_device_of_village_a_cannot_write_village_c(
    api_as, doctor, make_user, make_order, make_person
):
    cadre_c = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    other = make_order(
        person=make_person(
            GRID_C1, "外村人", household=Household.objects.create(region_id=GRID_C1)
        ),
        by=cadre_c,
    )
    results = api_as(doctor).post(SYNC, {"readings": [_row(other)]}).json()["results"]
    assert results[0]["status"] == "not_found"
    assert HealthCheck.objects.count() == 0


@freeze_time(NINE)
def test_the_work_set_holds_only_the_users_village_and_no_id_numbers(
    api_as, doctor, make_user, make_order, make_person, household
):
    mine = make_order(person=make_person(name="本村人", household=household))
    cadre_c = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    theirs = make_order(
        person=make_person(
            GRID_C1, "外村人", household=Household.objects.create(region_id=GRID_C1)
        ),
        by=cadre_c,
    )
    response = api_as(doctor).get(WORKSET)
    assert response.status_code == 200
    entries = response.json()["round"]
    assert [e["order_id"] for e in entries] == [mine.pk]
    assert theirs.pk not in {e["order_id"] for e in entries}
    text = response.content.decode()
    assert "外村人" not in text
    assert mine.person.id_number not in text
    assert entries[0]["version"] == mine.version


@freeze_time(NINE)
def test_a_revoked_device_token_is_refused_by_sync_and_work_set(
    api_as, doctor, make_order, household, make_person
):
    order = make_order(person=make_person(name="张三", household=household))
    api = api_as(doctor)
    assert api.get(WORKSET).status_code == 200
    token = ApiToken.objects.get(user=doctor)
    tokens.revoke(user=doctor, token_id=token.pk, channel="web")
    assert api.post(SYNC, {"readings": [_row(order)]}).status_code == 401
    assert api.get(WORKSET).status_code == 401
    assert HealthCheck.objects.count() == 0


@freeze_time(NINE)
def test_roles_without_checks_are_refused(api_as, make_user, make_order):
    order = make_order()
    officer = make_user(Role.SUPPLY_OFFICER, "230231")
    assert api_as(officer).post(SYNC, {"readings": [_row(order)]}).status_code == 403
    assert api_as(officer).get(WORKSET).status_code == 403
    assert api_as(None).get(WORKSET).status_code == 401


@freeze_time(NINE)
def test_malformed_keys_and_oversized_batches_are_422(api_as, doctor, make_order):
    order = make_order()
    api = api_as(doctor)
    assert api.post(SYNC, {"readings": [_row(order, key="has space")]}).status_code == 422
    assert api.post(SYNC, {"readings": []}).status_code == 422


def test_the_app_is_installable_from_the_site_root(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker["Service-Worker-Allowed"] == "/"
    assert worker["Content-Type"].startswith("text/javascript")
    text = worker.content.decode()
    assert text.startswith("self.FIELD = ")
    assert "/static/vendor/htmx/htmx.min.js" in text and "/quarantine/round/" in text
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["start_url"] == "/"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


@freeze_time(NINE)
def test_the_round_page_carries_the_versions_and_the_sync_bar(client_for, doctor, make_order):
    order = make_order()
    page = client_for(doctor).get("/quarantine/round/").content.decode()
    assert f'data-version="{order.version}"' in page
    assert "立即同步" in page and "data-field-round" in page
    assert 'rel="manifest"' in page and "fangkong/field.js" in page


def test_a_changed_shell_file_gives_a_new_worker_version(monkeypatch):
    """The worker's version is a digest of itself and the shell: changing a vendored file
    installs a new worker, whose activation drops the old cache (sw.js)."""
    from fangkong.web import field

    before = field._worker()
    original = field._read
    monkeypatch.setattr(
        field, "_read", lambda p: original(p) + (b"//x" if p == "fangkong/field.js" else b"")
    )
    after = field._worker()
    version = lambda text: text.split('"version": "')[1].split('"')[0]  # noqa: E731
    assert version(before) != version(after)
    assert "caches.delete" in after and "skipWaiting" in after
