"""Personal self-report links: no account, only the person's own order, revocable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from freezegun import freeze_time

from fangkong.core.errors import NotFound
from fangkong.quarantine import services
from fangkong.quarantine.models import Alert, SelfReportLink

from .conftest import local

pytestmark = pytest.mark.django_db
API = "/api/v1/quarantine/self"


@freeze_time(local(2026, 3, 1, 9))
def test_a_link_reads_and_writes_only_its_own_order(make_order, make_person, household, doctor):
    mine = make_order(name="张伟")
    theirs = make_order(person=make_person(name="李娜", household=household))
    token = services.issue_self_report_link(user=doctor, order_id=mine.pk)
    assert len(token) >= 40
    assert not SelfReportLink.objects.filter(token_hash=token).exists()  # only the hash
    client = Client()
    body = client.get(f"{API}/{token}").json()
    assert body["name"] == "张*"
    assert "id_number" not in body and "phone" not in body
    response = client.post(
        f"{API}/{token}/checks", {"temperature": "38.1"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert mine.checks.get().method == "self"
    assert theirs.checks.count() == 0
    assert Alert.objects.get().order_id == mine.pk
    # A body that names another order changes nothing: the token decides.
    client.post(
        f"{API}/{token}/checks",
        {"temperature": "36.5", "order_id": theirs.pk},
        content_type="application/json",
    )
    assert theirs.checks.count() == 0
    # The web page is the same person only, and works without logging in.
    page = client.get(f"/quarantine/me/{token}/")
    assert page.status_code == 200
    assert "李娜" not in page.content.decode() and "张*" in page.content.decode()
    assert page["Cache-Control"] == "no-store"


@freeze_time(local(2026, 3, 1, 9))
def test_a_revoked_or_guessed_link_stops_working(make_order, doctor):
    order = make_order()
    token = services.issue_self_report_link(user=doctor, order_id=order.pk)
    client = Client()
    assert client.get(f"{API}/{token}").status_code == 200
    services.revoke_self_report_links(user=doctor, order_id=order.pk)
    assert client.get(f"{API}/{token}").status_code == 404
    assert (
        client.post(
            f"{API}/{token}/checks", {"temperature": "36.5"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get(f"/quarantine/me/{token}/").status_code == 404
    assert client.get(f"{API}/{'A' * 43}").status_code == 404
    assert client.get(f"{API}/short").status_code == 422
    # A new link replaces the old one.
    first = services.issue_self_report_link(user=doctor, order_id=order.pk)
    second = services.issue_self_report_link(user=doctor, order_id=order.pk)
    assert client.get(f"{API}/{first}").status_code == 404
    assert client.get(f"{API}/{second}").status_code == 200


@freeze_time(local(2026, 3, 16, 9))
def test_a_link_stops_working_when_the_isolation_ends(make_order, doctor, cadre):
    order = make_order()
    token = services.issue_self_report_link(user=doctor, order_id=order.pk)
    services.release_order(user=cadre, order_id=order.pk, version=order.version)
    with pytest.raises(NotFound):
        services.order_for_token(token)


@freeze_time(local(2026, 3, 1, 9))
def test_implausible_self_reports_are_refused_and_supplies_can_be_asked(make_order, doctor):
    order = make_order()
    token = services.issue_self_report_link(user=doctor, order_id=order.pk)
    client = Client()
    response = client.post(
        f"{API}/{token}/checks", {"temperature": "45.0"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "43.0" in response.json()["errors"][0]["message"]
    response = client.post(
        f"{API}/{token}/supplies",
        {"category": "food", "items": "大米 10 斤"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert order.supply_requests.get().requested_via_link
    page = client.post(f"/quarantine/me/{token}/", {"temperature": "36.6"})
    assert page.status_code == 302
    assert order.checks.get().temperature == Decimal("36.6")


def _self_check(client: Client, token: str, temperature: str, **extra):
    return client.post(
        f"{API}/{token}/checks",
        {"temperature": temperature, **extra},
        content_type="application/json",
    )


def test_a_burst_through_one_link_stores_one_reading_per_window(make_order, doctor):
    with freeze_time(local(2026, 3, 1, 9)) as clock:
        order = make_order()
        token = services.issue_self_report_link(user=doctor, order_id=order.pk)
        client = Client()
        answers = [_self_check(client, token, "38.5").status_code for _ in range(30)]
        assert answers[0] == 201 and set(answers[1:]) == {400}
        assert order.checks.count() == 1
        assert Alert.objects.filter(order=order).count() == 1
        clock.move_to(local(2026, 3, 1, 15))  # the afternoon window
        assert _self_check(client, token, "38.6", client_id="phone-2").status_code == 201
        # A retry of that reading (same client id) is the same reading, not a refusal.
        assert _self_check(client, token, "38.6", client_id="phone-2").status_code == 201
        assert order.checks.count() == 2
        # The morning's fever alert is still open: the afternoon fever joins it.
        open_fever = Alert.objects.filter(order=order, kind="fever", handled_at__isnull=True)
        assert open_fever.count() == 1


def test_outside_the_windows_one_reading_per_half_hour(make_order, doctor):
    with freeze_time(local(2026, 3, 1, 22)) as clock:
        order = make_order()
        token = services.issue_self_report_link(user=doctor, order_id=order.pk)
        client = Client()
        assert _self_check(client, token, "36.5").status_code == 201
        assert _self_check(client, token, "36.5").status_code == 400
        clock.tick(31 * 60)
        assert _self_check(client, token, "36.5").status_code == 201


@freeze_time(local(2026, 3, 1, 9))
def test_supply_requests_through_a_link_are_limited(make_order, doctor, cadre):
    order = make_order()
    token = services.issue_self_report_link(user=doctor, order_id=order.pk)
    client = Client()

    def ask():
        return client.post(
            f"{API}/{token}/supplies",
            {"category": "food", "items": "大米 10 斤"},
            content_type="application/json",
        )

    assert [ask().status_code for _ in range(5)] == [201, 201, 201, 400, 400]
    assert order.supply_requests.count() == 3
    waiting = order.supply_requests.first()
    services.deliver_supplies(user=cadre, request_id=waiting.pk)
    assert ask().status_code == 201
