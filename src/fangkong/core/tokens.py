"""API tokens: listing, renewal and revocation (the services behind /auth/token*).

Rules: a user sees and revokes their own tokens; a role that manages users (administrator)
sees and revokes anyone's. Renewal exchanges a live token for a new one (the old one is
revoked at once) until ``API_TOKEN_MAX_AGE_DAYS`` after the password login that started the
chain; after that the password is asked again. Every revocation is audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, user_lookup
from .errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from .models import ApiToken, AuditEvent, User
from .roles import Action, can

# last_used_at is written at most this often per token (not one UPDATE per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def tokens_of(*, user: Any, username: str = "") -> QuerySet[ApiToken]:
    """Live tokens of ``user``, or of ``username`` for a user manager (all users if "")."""
    manager = can(user, Action.USER_MANAGE)
    live = ApiToken.objects.filter(revoked=False, expires_at__gt=timezone.now())
    if username and username != user.username:
        if not manager:
            raise PermissionDenied(Action.USER_MANAGE)
        return live.filter(user__username=username).select_related("user").order_by("-id")
    if not username and manager:
        return live.select_related("user").order_by("-id")
    return live.filter(user=user).select_related("user").order_by("-id")


def revoke(*, user: Any, token_id: int, channel: str, request: Any = None) -> ApiToken:
    """Revoke one token: one's own, or anyone's for a user manager (else NotFound)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (token.user_id != user.pk and not can(user, Action.USER_MANAGE)):
            raise NotFound(token_id)
        if not token.revoked:
            token.revoked, token.revoked_at = True, timezone.now()
            token.save(update_fields=["revoked", "revoked_at"])
            _audit_revocation(user, token, channel, request)
    return token


def revoke_all(*, user: Any, channel: str, request: Any = None) -> int:
    """Revoke every live token of ``user`` (signing out every device)."""
    count = ApiToken.objects.filter(user=user, revoked=False).update(
        revoked=True, revoked_at=timezone.now()
    )
    if count:
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="api_token",
            channel=channel,
            request=request,
            detail=f"revoked all {count} tokens",
        )
    return count


def renew(*, token: ApiToken, client: str = "") -> str:
    """Exchange a live token for a new one; the old one stops working at once."""
    max_age = timedelta(days=settings.API_TOKEN_MAX_AGE_DAYS)
    if token.first_issued_at + max_age <= timezone.now():
        raise ValidationFailed(
            [FieldError("token", _("This login is too old to renew; log in with the password"))]
        )
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked=False).update(
            revoked=True, revoked_at=timezone.now()
        )
        if not updated:  # renewed twice at once: only the first exchange counts
            raise NotFound(token.pk)
        return ApiToken.issue(
            token.user, client=client or token.client, first_issued_at=token.first_issued_at
        )


def touch(token: ApiToken) -> None:
    """Note that ``token`` was just used (at most once per LAST_USED_RESOLUTION)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def client_label(request: Any) -> str:
    """A short description of the client, from its User-Agent."""
    return (request.headers.get("User-Agent") or "")[:100]


def _audit_revocation(user: User, token: ApiToken, channel: str, request: Any) -> None:
    audit.record(
        user=user,
        kind=AuditEvent.Kind.UPDATE,
        object_type="api_token",
        object_id=token.pk,
        channel=channel,
        request=request,
        detail=f"revoked a token of {token.user.username}",
    )


def bearer(token: str) -> ApiToken | None:
    """The live token for a bearer string with its user and the user's region codes loaded,
    or ``None``. Every API request starts here, so this is one plain SQL statement
    (:func:`core.user_lookup.token_user`) instead of two ORM queries plus the regions query:
    building the ORM's SQL cost more than running it (issue 19). The token comes back with
    its id and ``last_used_at`` (its other fields load if read). Nothing is cached between
    requests: a revoked token or a deactivated user is refused on the very next request, in
    every server process."""
    found = user_lookup.token_user(ApiToken.hash(token), timezone.now())
    if found is None:
        return None
    user, token_id, last_used = found
    token_row = ApiToken.from_db(
        user._state.db, ["id", "user_id", "last_used_at"], [token_id, user.pk, last_used]
    )
    token_row.user = user
    return token_row
