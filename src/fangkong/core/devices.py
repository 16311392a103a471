"""Field-app devices: registered on first use, revoked when a phone is lost (issue 20).

The field app keeps a random key in the cookie ``fk_device`` (``static/fangkong/field.js``).
A signed-in request carrying it registers the phone for that user and binds the session to
it (the session stores the key server-side, so removing the cookie does not unbind it). A
bearer-token client may name its device in the ``X-Fangkong-Device`` header.

Revoking a device ends its sessions at once, and every later request from it — by session,
by cookie or by token with the header — is refused with 401 and audited as a denial. The
legitimate user signs in again with the password; the app then takes a new key, which is a
new device. The owner revokes their own phones; a cadre over an area (``DEVICE_REVOKE``)
revokes the phones of users whose whole jurisdiction lies inside theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from . import audit, jurisdiction
from .errors import NotFound
from .models import AuditEvent, Device, User
from .roles import Action, can

COOKIE = "fk_device"
HEADER = "X-Fangkong-Device"
SESSION_KEY = "fk_device"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# last_seen (and the session bound) is written at most this often per device.
SEEN_RESOLUTION = timedelta(minutes=5)
REFUSED = "此设备已被停用，请重新登录"


def key_of(request: HttpRequest) -> str:
    """The device key of a request: the one its session is bound to, else its cookie."""
    session = getattr(request, "session", None)
    bound = session.get(SESSION_KEY) if session is not None else None
    key = bound or request.COOKIES.get(COOKIE, "") or request.headers.get(HEADER, "")
    return key if KEY_PATTERN.match(key or "") else ""


@dataclass
class Seen:
    device_id: int
    revoked: bool


def seen(request: HttpRequest, user: Any, key: str) -> Seen:
    """Register or touch the device ``key`` of ``user``; says whether it is revoked.

    One plain SQL read per request (this runs on every field-app request); a write only
    when the device is new or last seen more than :data:`SEEN_RESOLUTION` ago."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, revoked, last_seen FROM {Device._meta.db_table} "
            "WHERE key = %s AND user_id = %s",
            [key, user.pk],
        )
        row = cursor.fetchone()
    session_key = getattr(getattr(request, "session", None), "session_key", None) or ""
    if row is None:
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    user=user,
                    key=key,
                    label=(request.headers.get("User-Agent") or "")[:100],
                    session_key=session_key,
                )
        except IntegrityError:  # two first requests of the same phone at once
            device = Device.objects.get(key=key, user=user)
        return Seen(device.pk, device.revoked)
    device_id, revoked, last_seen = row
    if isinstance(last_seen, str):  # SQLite hands plain SQL a string, in UTC
        last_seen = datetime.fromisoformat(last_seen)
    if timezone.is_naive(last_seen):
        last_seen = last_seen.replace(tzinfo=UTC)
    if not revoked and now - last_seen >= SEEN_RESOLUTION:
        Device.objects.filter(pk=device_id).update(last_seen=now, session_key=session_key)
    return Seen(device_id, bool(revoked))


def refuse(request: HttpRequest, user: Any, key: str, channel: str) -> None:
    """Audit a request from a revoked device."""
    audit.record(
        user=user,
        kind=AuditEvent.Kind.DENIED,
        object_type="device",
        object_id=key[:12],
        channel=channel,
        request=request,
        detail="request from a revoked device",
    )


class DeviceGate:
    """Refuse every signed-in request from a revoked device (after authentication)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = key_of(request)
        user = getattr(request, "user", None)
        if key and user is not None and user.is_authenticated:
            state = seen(request, user, key)
            if state.revoked:
                refuse(request, user, key, "web")
                logout(request)
                response: HttpResponse
                if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
                    response = JsonResponse({"detail": REFUSED}, status=401)
                else:
                    from django.contrib import messages

                    messages.error(request, REFUSED)
                    response = redirect(settings.LOGIN_URL)
                response.delete_cookie(COOKIE)
                return response
            if request.session.get(SESSION_KEY) != key:
                request.session[SESSION_KEY] = key
        response = self.get_response(request)
        if getattr(request, "fk_device_dropped", False):
            response.delete_cookie(COOKIE)
        return response


@receiver(user_logged_in)
def _forget_a_revoked_key_at_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Signing in with the password on a phone whose key was revoked: the key is dropped
    with the login's answer (the next page takes a new key, a new device), so the user is
    not refused once more after proving who they are."""
    if request is None:
        return
    key = request.COOKIES.get(COOKIE, "")
    if key and Device.objects.filter(key=key, user=user, revoked=True).exists():
        request.fk_device_dropped = True
        request.COOKIES.pop(COOKIE, None)


# --- listing and revoking ----------------------------------------------------------------


def visible_to(actor: Any) -> QuerySet[Device]:
    """The devices ``actor`` may see and revoke: their own, and for a cadre over an area the
    devices of users whose every region lies inside the actor's jurisdiction."""
    own = Device.objects.filter(user=actor)
    if not can(actor, Action.DEVICE_REVOKE):
        return own.select_related("user").order_by("-last_seen")
    codes = jurisdiction.user_codes(actor)
    if "" in codes:
        return Device.objects.select_related("user").order_by("-last_seen")
    through = User.regions.through.objects
    candidates = set(
        through.filter(jurisdiction.prefix_q("region_id", codes)).values_list("user_id", flat=True)
    )
    # A user with any region outside the actor's jurisdiction is not the actor's to manage.
    outside = {
        user_id
        for user_id, code in through.filter(user_id__in=candidates).values_list(
            "user_id", "region_id"
        )
        if not jurisdiction.covers(actor, code)
    }
    managed = (candidates - outside) | {actor.pk}
    return Device.objects.filter(user_id__in=managed).select_related("user").order_by("-last_seen")


def revoke(*, actor: Any, device_id: int, channel: str, request: Any = None) -> Device:
    """Revoke one device the actor may manage (else NotFound, as for a device not there):
    its sessions end now and its later requests are refused."""
    with transaction.atomic():
        device = visible_to(actor).select_for_update(of=("self",)).filter(pk=device_id).first()
        if device is None:
            raise NotFound(device_id)
        if not device.revoked:
            device.revoked, device.revoked_at, device.revoked_by = True, timezone.now(), actor
            device.save(update_fields=["revoked", "revoked_at", "revoked_by"])
            audit.record(
                user=actor,
                kind=AuditEvent.Kind.UPDATE,
                object_type="device",
                object_id=device.pk,
                channel=channel,
                request=request,
                detail=f"revoked a device of {device.user.username}",
            )
    if device.session_key:
        engine = import_module(settings.SESSION_ENGINE)
        engine.SessionStore(session_key=device.session_key).delete()
    return device
