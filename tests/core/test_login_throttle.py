"""The login throttle: per account and address pair, exponential back-off, address ceiling.

Nobody can lock an account's owner out from another address, and one cadre's typos do not
lock out everyone behind the village office's address.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from freezegun import freeze_time

from fangkong.core import login
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Fangkong-2026"
START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def throttle(settings):
    settings.LOGIN_THROTTLE_MAX_FAILURES = 3
    settings.LOGIN_THROTTLE_BACKOFF_SECONDS = 2
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 900
    settings.LOGIN_THROTTLE_ADDRESS_MAX_FAILURES = 20


def _login(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post("/login/", {"username": username, "password": password})


def test_the_backoff_doubles_per_failure_and_is_capped_at_the_window(throttle, settings):
    assert [login.backoff_seconds(n) for n in range(7)] == [0, 0, 0, 2, 4, 8, 16]
    assert login.backoff_seconds(40) == settings.LOGIN_THROTTLE_WINDOW_SECONDS


def test_a_stranger_cannot_lock_the_owner_out_from_another_address(throttle, make_user):
    make_user(Role.VILLAGE_CADRE, "230231106201", username="owner")
    with freeze_time(START):
        for _ in range(10):
            _login("owner", "guess", "203.0.113.9")
        assert _login("owner", "guess", "203.0.113.9").status_code == 429
        # The owner, from the village office, logs in at once.
        assert _login("owner", PASSWORD, "198.51.100.7").status_code == 302


def test_one_cadres_typos_do_not_lock_out_the_office(throttle, make_user):
    make_user(Role.VILLAGE_CADRE, "230231106201", username="typist")
    make_user(Role.VILLAGE_CADRE, "230231106201", username="colleague")
    with freeze_time(START):
        for _ in range(5):
            _login("typist", "wrong", "198.51.100.7")
        assert _login("typist", PASSWORD, "198.51.100.7").status_code == 429
        assert _login("colleague", PASSWORD, "198.51.100.7").status_code == 302


def test_the_wait_grows_exponentially_and_passes(throttle, make_user):
    make_user(Role.VILLAGE_CADRE, "230231106201", username="slow")
    with freeze_time(START) as clock:
        for _ in range(3):
            _login("slow", "wrong", "198.51.100.7")
        refused = _login("slow", PASSWORD, "198.51.100.7")
        assert refused.status_code == 429 and refused["Retry-After"] == "2"
        clock.tick(2)
        assert _login("slow", "wrong", "198.51.100.7").status_code == 200  # 4th failure
        assert _login("slow", PASSWORD, "198.51.100.7")["Retry-After"] == "4"
        clock.tick(4)
        assert _login("slow", PASSWORD, "198.51.100.7").status_code == 302


def test_an_address_spraying_many_accounts_hits_the_ceiling(throttle, make_user):
    make_user(Role.VILLAGE_CADRE, "230231106201", username="target")
    with freeze_time(START) as clock:
        for n in range(20):
            _login(f"user{n}", "Password1", "203.0.113.50")
        response = _login("target", PASSWORD, "203.0.113.50")
        assert response.status_code == 429
        assert int(response["Retry-After"]) == 900
        assert _login("target", PASSWORD, "198.51.100.7").status_code == 302
        clock.tick(901)
        assert _login("target", PASSWORD, "203.0.113.50").status_code == 302


def test_refusals_are_audited_and_the_api_says_when_to_retry(throttle, make_user):
    make_user(Role.VILLAGE_CADRE, "230231106201", username="apiuser")
    client = Client(REMOTE_ADDR="198.51.100.7")
    with freeze_time(START):
        for _ in range(3):
            client.post(
                "/api/v1/auth/token",
                {"username": "apiuser", "password": "wrong"},
                content_type="application/json",
            )
        response = client.post(
            "/api/v1/auth/token",
            {"username": "apiuser", "password": PASSWORD},
            content_type="application/json",
        )
    assert response.status_code == 429 and response["Retry-After"] == "2"
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.LOGIN_FAILED, detail__contains="throttled"
    ).exists()
