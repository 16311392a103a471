"""Password login shared by the web form and the API token endpoint, with throttling.

After ``LOGIN_THROTTLE_MAX_FAILURES`` failures for one username, or from one client address,
within ``LOGIN_THROTTLE_WINDOW_SECONDS``, further attempts are refused without checking the
password (so guessing cannot go on), and the refusal says when to try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from . import audit
from .models import AuditEvent, LoginFailure


@dataclass
class LoginResult:
    user: Any = None
    error: str = ""
    throttled: bool = False


def _recent_failures(username: str, ip: str | None) -> int:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    by_user = LoginFailure.objects.filter(at__gte=since, username=username).count()
    by_ip = LoginFailure.objects.filter(at__gte=since, client_ip=ip).count() if ip else 0
    return max(by_user, by_ip)


def attempt_login(*, request: Any, username: str, password: str, channel: str) -> LoginResult:
    """Check a username and password, counting failures and refusing when throttled."""
    ip = audit.client_ip(request)
    username = (username or "").strip()[:150]
    if _recent_failures(username, ip) >= settings.LOGIN_THROTTLE_MAX_FAILURES:
        minutes = max(1, settings.LOGIN_THROTTLE_WINDOW_SECONDS // 60)
        return LoginResult(
            error=ngettext(
                "Too many failed logins; try again in %(minutes)d minute",
                "Too many failed logins; try again in %(minutes)d minutes",
                minutes,
            )
            % {"minutes": minutes},
            throttled=True,
        )
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
    LoginFailure.objects.filter(Q(username=username)).delete()
    audit.record(user=user, kind=AuditEvent.Kind.LOGIN, channel=channel, request=request)
    return LoginResult(user=user)
