"""API tokens: short-lived, renewable, capped per user, listed and revoked (own, or anyone's
for an administrator), revoked by a password change, and a page under the user's account."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from freezegun import freeze_time

from fangkong.core.models import ApiToken, AuditEvent
from fangkong.core.roles import Role
from tests.conftest import VILLAGE_A

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Fangkong-2026"
START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


class OtherFastHasher(MD5PasswordHasher):
    """A second fast hasher, so a login re-hashes the password as Argon2 does in production."""

    algorithm = "md5other"


def _bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def _login(username: str) -> str:
    response = Client().post(
        "/api/v1/auth/token",
        {"username": username, "password": PASSWORD},
        content_type="application/json",
        headers={"User-Agent": "FangkongApp/2.1"},
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cadre")


def test_tokens_are_short_lived_and_renewed_by_exchange(cadre, settings):
    settings.API_TOKEN_TTL_HOURS = 12
    with freeze_time(START) as clock:
        token = _login("cadre")
        clock.tick(dt.timedelta(hours=11))
        renewed = _bearer(token).post("/api/v1/auth/token/renew")
        assert renewed.status_code == 200
        new = renewed.json()["token"]
        assert _bearer(token).get("/api/v1/me").status_code == 401  # the old one is gone
        clock.tick(dt.timedelta(hours=11))
        assert _bearer(new).get("/api/v1/me").status_code == 200
        clock.tick(dt.timedelta(hours=2))
        assert _bearer(new).get("/api/v1/me").status_code == 401  # expired: 12 h


def test_renewal_stops_at_the_maximum_age_of_the_login(cadre, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    settings.API_TOKEN_MAX_AGE_DAYS = 2
    with freeze_time(START) as clock:
        token = _login("cadre")
        for _ in range(2):
            clock.tick(dt.timedelta(hours=23))
            token = _bearer(token).post("/api/v1/auth/token/renew").json()["token"]
        clock.tick(dt.timedelta(hours=3))
        refused = _bearer(token).post("/api/v1/auth/token/renew")
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "token"


def test_a_user_holds_a_capped_number_of_live_tokens_oldest_revoked(cadre, settings):
    settings.API_TOKENS_PER_USER = 3
    with freeze_time(START) as clock:
        issued = []
        for _ in range(5):
            issued.append(_login("cadre"))
            clock.tick(1)
        live = [t for t in issued if _bearer(t).get("/api/v1/me").status_code == 200]
    assert live == issued[-3:]
    assert ApiToken.objects.filter(user=cadre, revoked=False).count() == 3


def test_listing_and_revoking_ones_own_tokens(cadre, make_user):
    phone = _login("cadre")
    laptop = _login("cadre")
    listed = _bearer(laptop).get("/api/v1/auth/tokens").json()
    assert len(listed) == 2 and {t["client"] for t in listed} == {"FangkongApp/2.1"}
    assert [t["current"] for t in listed] == [True, False]
    other = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="other")
    other_token = _login("other")
    others_id = ApiToken.objects.get(user=other).pk
    assert _bearer(laptop).delete(f"/api/v1/auth/tokens/{others_id}").status_code == 404
    assert _bearer(laptop).get("/api/v1/auth/tokens?username=other").status_code == 403
    phone_id = listed[1]["id"]
    assert _bearer(laptop).delete(f"/api/v1/auth/tokens/{phone_id}").status_code == 204
    assert _bearer(phone).get("/api/v1/me").status_code == 401
    assert _bearer(other_token).get("/api/v1/me").status_code == 200
    assert AuditEvent.objects.filter(object_type="api_token", username="cadre").exists()


def test_an_administrator_lists_and_revokes_anyones_tokens(cadre, make_user):
    make_user(Role.ADMIN, username="root")
    token = _login("cadre")
    admin = _login("root")
    listed = _bearer(admin).get("/api/v1/auth/tokens?username=cadre").json()
    assert [t["username"] for t in listed] == ["cadre"]
    assert _bearer(admin).delete(f"/api/v1/auth/tokens/{listed[0]['id']}").status_code == 204
    assert _bearer(token).get("/api/v1/me").status_code == 401


def test_a_password_change_revokes_every_token_but_a_rehash_does_not(cadre, settings):
    token = _login("cadre")
    cadre.refresh_from_db()
    cadre.set_password("An0ther-Passw0rd!")
    cadre.save()
    assert _bearer(token).get("/api/v1/me").status_code == 401
    # An upgrade of the hash on login (PBKDF2 -> Argon2) is no password change.
    settings.PASSWORD_HASHERS = [
        "tests.core.test_tokens.OtherFastHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    response = Client().post(
        "/api/v1/auth/token",
        {"username": "cadre", "password": "An0ther-Passw0rd!"},
        content_type="application/json",
    )
    new = response.json()["token"]
    cadre.refresh_from_db()
    assert cadre.password.startswith("md5other$")
    assert _bearer(new).get("/api/v1/me").status_code == 200


def test_the_account_page_lists_and_revokes_own_tokens(cadre, make_user):
    token = _login("cadre")
    other = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="other")
    _login("other")
    client = Client()
    client.force_login(cadre)
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and "FangkongApp/2.1" in page.content.decode()
    mine = ApiToken.objects.get(user=cadre)
    theirs = ApiToken.objects.get(user=other)
    assert client.post("/account/tokens/", {"token": theirs.pk}).status_code == 404
    assert client.post("/account/tokens/", {"token": mine.pk}).status_code == 302
    assert _bearer(token).get("/api/v1/me").status_code == 401
    _login("cadre")
    client.post("/account/tokens/", {"all": "1"})
    assert not ApiToken.objects.filter(user=cadre, revoked=False).exists()
    assert ApiToken.objects.filter(user=other, revoked=False).exists()
    assert Client().get("/account/tokens/").status_code == 302  # login first
