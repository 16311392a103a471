"""The Django admin: mounted only when configured, logged into through the throttled and
audited login page, and holding no personal data that the role matrix would mask."""

from __future__ import annotations

import importlib

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import clear_url_caches

from fangkong.core.models import AuditEvent, LoginFailure
from fangkong.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Fangkong-2026"


def _reload_urls() -> None:
    import fangkong.urls

    importlib.reload(fangkong.urls)
    clear_url_caches()


@pytest.fixture
def admin_mounted(settings):
    settings.FANGKONG_ADMIN_ENABLED = True
    _reload_urls()
    yield
    settings.FANGKONG_ADMIN_ENABLED = False
    _reload_urls()


@pytest.fixture
def superuser(make_user):
    return make_user(Role.ADMIN, username="root", is_staff=True, is_superuser=True)


def test_the_admin_is_not_mounted_unless_configured(superuser):
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404


def test_the_admin_login_page_sends_to_the_throttled_login(admin_mounted, superuser):
    response = Client().get("/admin/login/?next=/admin/core/region/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/core/region/"
    assert Client().get("/admin/")["Location"].startswith("/admin/login/")


def test_posting_a_password_to_the_admin_login_logs_nobody_in(admin_mounted, superuser):
    client = Client()
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_admin_logins_are_throttled_and_audited(admin_mounted, superuser, settings):
    settings.LOGIN_THROTTLE_MAX_FAILURES = 2
    client = Client()
    for _ in range(4):
        client.post("/login/?next=/admin/", {"username": "root", "password": "wrong"})
    assert LoginFailure.objects.filter(username="root").exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED).count() >= 2
    response = client.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 429


def test_a_logged_in_administrator_reaches_the_admin(admin_mounted, superuser):
    client = Client()
    response = client.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, username="root").exists()


# A field named like these holds a person's contact or identity data.
SENSITIVE_NAMES = ("id_number", "phone", "birth_date")
# Public numbers of places, not of persons.
PUBLIC_NUMBERS = {("quarantine", "isolationsite", "phone")}


def _reaches_a_person(model: type[models.Model]) -> bool:
    """The model is a person record, or points at one (a case, a contact, a notice...)."""
    if model._meta.app_label == "people":
        return True
    return any(
        f.is_relation
        and f.related_model is not None
        and f.related_model._meta.app_label == "people"
        for f in model._meta.get_fields()
        if not f.auto_created or f.concrete
    )


def _admins():
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline in model_admin.inlines:
            yield inline.model, inline(model, admin.site)


def test_no_admin_page_holds_personal_data(rf, superuser):
    request = rf.get("/admin/")
    request.user = superuser
    offenders = []
    for model, model_admin in _admins():
        meta = model._meta
        if _reaches_a_person(model):
            offenders.append(f"{meta.label} (person data)")
            continue
        shown = set(model_admin.get_fields(request))
        shown |= set(getattr(model_admin, "list_display", ()))
        shown |= set(getattr(model_admin, "search_fields", ()))
        for name in shown:
            if not isinstance(name, str):
                continue
            key = (meta.app_label, meta.model_name, name)
            if any(word in name for word in SENSITIVE_NAMES) and key not in PUBLIC_NUMBERS:
                try:
                    meta.get_field(name)
                except Exception:  # a display method (such as masked_phone), not the field
                    continue
                offenders.append(f"{meta.label}.{name}")
    assert offenders == []


def test_a_users_phone_is_masked_and_read_only_in_the_admin(admin_mounted, superuser, make_user):
    staff = make_user(Role.VILLAGE_CADRE, "230231106201", phone="13912345678")
    client = Client()
    client.force_login(superuser)
    page = client.get(f"/admin/core/user/{staff.pk}/change/").content.decode()
    assert "13912345678" not in page and "139****5678" in page
