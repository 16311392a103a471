"""Login, logout, the failed-login throttle, and that every page asks for a login."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.core.models import AuditEvent

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_in_chinese(county):
    body = Client().get("/login/").content.decode()
    assert "<h1>登录</h1>" in body and "用户名" in body and "密码" in body


def test_login_and_land_on_the_role_home(cadre):
    client = Client()
    response = client.post("/login/", {"username": "cadre_a", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    # "/" opens the role's work for today (a village cadre: the places to inspect).
    home = client.get("/", follow=True)
    assert home.redirect_chain and "李建国" in home.content.decode()
    assert "李建国" in client.get("/overview/").content.decode()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, username="cadre_a").exists()


def test_login_follows_next_but_never_off_site(cadre):
    response = Client().post(
        "/login/?next=/persons/", {"username": "cadre_a", "password": PASSWORD}
    )
    assert response["Location"] == "/persons/"
    response = Client().post(
        "/login/", {"username": "cadre_a", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_wrong_password_says_so_in_chinese(cadre):
    response = Client().post("/login/", {"username": "cadre_a", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in response.client.session


def test_repeated_failures_are_throttled(cadre, settings):
    settings.LOGIN_THROTTLE_MAX_FAILURES = 3
    settings.LOGIN_THROTTLE_BACKOFF_SECONDS = 120
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "cadre_a", "password": "wrong"})
    # Even the right password is refused while throttled.
    response = client.post("/login/", {"username": "cadre_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多，请2分钟后再试" in response.content.decode()
    assert int(response["Retry-After"]) in (119, 120)
    assert "_auth_user_id" not in client.session


def test_throttle_message_in_english(cadre, settings):
    settings.LOGIN_THROTTLE_MAX_FAILURES = 1
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    client.post("/login/", {"username": "cadre_a", "password": "wrong"})
    response = client.post("/login/", {"username": "cadre_a", "password": PASSWORD})
    assert "Too many failed logins; try again in 2 seconds" in response.content.decode()


def test_logout_is_a_post(cadre, login_client):
    client = login_client(cadre)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/regions/",
        "/regions/230231106201/",
        "/persons/",
        "/persons/1/",
        "/persons/1/edit/",
        "/persons/new/",
        "/households/",
        "/households/1/",
        "/households/1/edit/",
        "/households/new/",
        "/tasks/",
        "/tasks/1/",
        "/tasks/1/progress/",
        "/modules/screening/",
    ],
)
def test_every_page_but_login_requires_a_login(county, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_an_expired_form_gets_a_clear_page(cadre):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cadre)
    response = client.post("/persons/new/", {"name": "张三"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()
