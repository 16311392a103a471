"""The one permission check (``require``) and the one decorator (``requires``), on pages and
in the API: 403 for a missing action, 404 for a record outside the jurisdiction, a login
redirect for a visitor, and one audit event per denial."""

from __future__ import annotations

import pytest
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from fangkong.core import errors
from fangkong.core.models import AuditEvent
from fangkong.core.permissions import access_of, public, require, require_any, requires, signed_in
from fangkong.core.roles import Action, Role
from tests.conftest import VILLAGE_A

pytestmark = pytest.mark.django_db


def test_require_passes_and_refuses(make_user):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    require(doctor, Action.QUARANTINE_CHECK)
    with pytest.raises(errors.PermissionDenied) as denied:
        require(doctor, Action.QUARANTINE_CHECK, Action.QUARANTINE_MANAGE)
    assert str(denied.value) == Action.QUARANTINE_MANAGE
    require_any(doctor, [Action.QUARANTINE_MANAGE, Action.QUARANTINE_CHECK])
    with pytest.raises(errors.PermissionDenied):
        require_any(doctor, [Action.QUARANTINE_MANAGE, Action.TRACING_MANAGE])


def test_inactive_or_anonymous_users_may_do_nothing(make_user):
    from django.contrib.auth.models import AnonymousUser

    hq = make_user(Role.COUNTY_HQ, VILLAGE_A, is_active=False)
    for actor in (hq, AnonymousUser()):
        with pytest.raises(errors.PermissionDenied):
            require(actor, Action.PERSON_VIEW)


@requires(Action.QUARANTINE_MANAGE)
def _manage(request):
    if request.GET.get("missing"):
        raise errors.NotFound(1)
    return HttpResponse("ok")


def _request(user, path="/x/", **params):
    request = RequestFactory().get(path, params)
    request.user = user
    return request


def test_page_sends_visitors_to_login():
    from django.contrib.auth.models import AnonymousUser

    response = _manage(_request(AnonymousUser(), "/quarantine/orders/"))
    assert (
        response.status_code == 302 and "/login/?next=/quarantine/orders/" in response["Location"]
    )


def test_page_denial_is_403_and_audited_once(make_user):
    from django.core.exceptions import PermissionDenied

    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    with pytest.raises(PermissionDenied):
        _manage(_request(doctor))
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.DENIED, user=doctor)
    assert events.count() == 1 and "quarantine.manage" in events.get().detail


def test_page_outside_jurisdiction_is_404_and_audited(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with pytest.raises(Http404):
        _manage(_request(cadre, missing="1"))
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.DENIED, user=cadre).count() == 1
    assert _manage(_request(cadre)).status_code == 200


def test_api_mode_raises_for_the_api_handlers(make_user):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    request = _request(doctor)
    request.auth = doctor
    with pytest.raises(errors.PermissionDenied):
        _manage(request)
    # The API's exception handler audits; the decorator itself writes nothing.
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.DENIED).exists()


def test_declarations_are_readable_through_other_decorators():
    from django.views.decorators.http import require_GET

    @public("health check for load balancers")
    def open_view(request):
        return HttpResponse()

    @signed_in
    @require_GET
    def mine(request):
        return HttpResponse()

    assert access_of(open_view).public and access_of(open_view).reason
    assert access_of(mine).actions == () and not access_of(mine).public
    assert access_of(_manage).actions == (Action.QUARANTINE_MANAGE,)
    with pytest.raises(ValueError):
        requires()
    with pytest.raises(ValueError):
        public("  ")
