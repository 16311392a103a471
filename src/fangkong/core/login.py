"""Password login shared by the web form, the admin and the API token endpoint, throttled.

Failures are counted per *pair* of account and client address, so a stranger guessing at an
account cannot lock its owner out from another address, and one cadre's typos do not lock
out the whole village office behind the same address (NAT). After
``LOGIN_THROTTLE_MAX_FAILURES`` failures of a pair within ``LOGIN_THROTTLE_WINDOW_SECONDS``,
each further attempt of that pair must wait ``LOGIN_THROTTLE_BACKOFF_SECONDS`` doubled for
every failure beyond the free ones (2, 4, 8 … seconds, never more than the window) after
the last failure: guessing slows down exponentially without any CAPTCHA. A coarse ceiling
of ``LOGIN_THROTTLE_ADDRESS_MAX_FAILURES`` failures from one address across all accounts
stops password spraying. A refused attempt checks no password and says when to try again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from . import audit
from .models import AuditEvent, LoginFailure


@dataclass
class LoginResult:
    user: Any = None
    error: str = ""
    throttled: bool = False
    retry_after: int = 0


def backoff_seconds(failures: int) -> int:
    """How long a pair with ``failures`` recent failures waits after the last one."""
    free = settings.LOGIN_THROTTLE_MAX_FAILURES
    if failures < free:
        return 0
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    doublings = min(failures - free, 32)
    return min(window, settings.LOGIN_THROTTLE_BACKOFF_SECONDS * 2**doublings)


def seconds_to_wait(username: str, ip: str | None) -> int:
    """0 when this account may try from this address now, else the seconds to wait."""
    now = timezone.now()
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    recent = LoginFailure.objects.filter(at__gte=now - timedelta(seconds=window))
    if ip:
        from_address = recent.filter(client_ip=ip)
        count = from_address.count()
        ceiling = settings.LOGIN_THROTTLE_ADDRESS_MAX_FAILURES
        if count >= ceiling:
            # Free again once enough of the address's failures have left the window.
            times = from_address.order_by("at").values_list("at", flat=True)
            free_at = times[count - ceiling] + timedelta(seconds=window)
            return max(1, math.ceil((free_at - now).total_seconds()))
    pair = recent.filter(username=username, client_ip=ip)
    summary = pair.aggregate(last=Max("at"))
    if summary["last"] is None:
        return 0
    wait = backoff_seconds(pair.count())
    remaining = (summary["last"] + timedelta(seconds=wait) - now).total_seconds()
    return max(0, math.ceil(remaining))


def _wait_message(seconds: int) -> str:
    if seconds < 60:
        return ngettext(
            "Too many failed logins; try again in %(seconds)d second",
            "Too many failed logins; try again in %(seconds)d seconds",
            seconds,
        ) % {"seconds": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many failed logins; try again in %(minutes)d minute",
        "Too many failed logins; try again in %(minutes)d minutes",
        minutes,
    ) % {"minutes": minutes}


def attempt_login(*, request: Any, username: str, password: str, channel: str) -> LoginResult:
    """Check a username and password, counting failures per account and address pair and
    refusing, without checking the password, while that pair (or the address) must wait."""
    ip = audit.client_ip(request)
    username = (username or "").strip()[:150]
    wait = seconds_to_wait(username, ip)
    if wait:
        audit.record(
            user=None,
            kind=AuditEvent.Kind.LOGIN_FAILED,
            channel=channel,
            request=request,
            detail=f"username={username} throttled {wait}s",
        )
        return LoginResult(error=_wait_message(wait), throttled=True, retry_after=wait)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        LoginFailure.objects.create(username=username, client_ip=ip)
        audit.record(
            user=None,
            kind=AuditEvent.Kind.LOGIN_FAILED,
            channel=channel,
            request=request,
            detail=f"username={username}",
        )
        return LoginResult(error=gettext("Wrong username or password"))
    LoginFailure.objects.filter(username=username, client_ip=ip).delete()
    audit.record(user=user, kind=AuditEvent.Kind.LOGIN, channel=channel, request=request)
    return LoginResult(user=user)
