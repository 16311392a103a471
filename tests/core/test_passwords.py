"""Passwords: Argon2 first, earlier PBKDF2 hashes upgraded on the next login, validators."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.test import Client

from fangkong.core.errors import ValidationFailed
from fangkong.core.roles import Role
from fangkong.core.users import create_user

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Fangkong-2026"
PRODUCT_HASHERS = [
    "fangkong.core.hashers.FangkongArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


def test_the_product_hashes_with_argon2_first():
    # tests/conftest.py swaps in MD5 for speed; the product's own list is in settings.py.
    import importlib

    import fangkong.settings

    assert importlib.reload(fangkong.settings).PASSWORD_HASHERS == PRODUCT_HASHERS


def test_a_pbkdf2_hash_is_upgraded_to_argon2_on_the_next_login(settings, make_user):
    settings.PASSWORD_HASHERS = PRODUCT_HASHERS
    user = make_user(Role.VILLAGE_CADRE, "230231106201", username="old")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    response = Client().post("/login/", {"username": "old", "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=2,p=2$")
    assert Client().post("/login/", {"username": "old", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [("zhangwei", "84736251940"), ("zhangwei", "zhangwei2026"), ("lihua", "short")],
)
def test_numeric_similar_and_short_passwords_are_refused(county, username, password):
    with pytest.raises(ValidationFailed) as refused:
        create_user(username=username, password=password, role=Role.ADMIN, region_codes=[])
    assert {e.field for e in refused.value.errors} == {"password"}
    assert django_settings.AUTH_PASSWORD_VALIDATORS
