"""Permission checks, written once: :func:`require` in services and one decorator,
:func:`requires`, on every page view and API operation.

The rule (DESIGN.md): a role without the action gets 403; a record outside the actor's
jurisdiction gets 404, exactly like a missing one. Roles and their actions are the matrix
of :mod:`fangkong.core.roles`; jurisdiction is :mod:`fangkong.core.jurisdiction`.

Every view and API operation carries an access declaration — :func:`requires` (these
actions), :func:`signed_in` (any logged-in user) or :func:`public` (deliberately open, with
the reason) — and a test walks the URL resolver and the API so that a new endpoint without
one fails CI. Denials are written to the audit trail by the channel that renders them
(:func:`page_denial` for pages, the API's exception handlers for the API), once each.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from . import errors
from .actors import Actor, actor_of
from .roles import Action, can

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "fangkong_access"


@dataclass(frozen=True)
class Access:
    """What an endpoint asks of its caller (read by the endpoint-walking test)."""

    actions: tuple[str, ...] = ()
    any_of: bool = False
    public: bool = False
    reason: str = ""

    def allows(self, actor: Any) -> bool:
        if self.public:
            return True
        if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
            return False
        if not self.actions:
            return True
        checks = (can(actor, action) for action in self.actions)
        return any(checks) if self.any_of else all(checks)

    def missing(self, actor: Any) -> str:
        """The action named in the denial (audit detail and exception argument)."""
        for action in self.actions:
            if not can(actor, action):
                return action
        return ""


def require(actor: Actor | Any, action: Action | str, *more: Action | str) -> None:
    """Raise :class:`~fangkong.core.errors.PermissionDenied` unless ``actor`` may do every
    one of the actions. Services call this before they read or write anything."""
    for needed in (action, *more):
        if not can(actor, needed):
            raise errors.PermissionDenied(needed)


def require_any(actor: Actor | Any, actions: Iterable[Action | str]) -> None:
    """Raise unless ``actor`` may do at least one of ``actions`` (a page several roles share)."""
    wanted = list(actions)
    if not any(can(actor, a) for a in wanted):
        raise errors.PermissionDenied(wanted[0] if wanted else "")


def access_of(view: Any) -> Access | None:
    """The access declaration of a view or operation, looking through decorators."""
    seen = 0
    while view is not None and seen < 20:
        access = getattr(view, ACCESS_ATTRIBUTE, None)
        if access is not None:
            return access  # type: ignore[no-any-return]
        view = getattr(view, "__wrapped__", None) or getattr(view, "view_func", None)
        seen += 1
    return None


def _is_api_call(request: Any) -> bool:
    # ninja authenticates before it calls an operation and leaves the result on
    # ``request.auth``; a plain Django view never has that attribute.
    return hasattr(request, "auth")


def page_denial(request: Any, reason: str) -> None:
    """Write a page's denial (403, or 404 for a record outside the jurisdiction) to the audit."""
    from . import audit
    from .models import AuditEvent

    audit.record(
        user=getattr(request, "user", None),
        kind=AuditEvent.Kind.DENIED,
        channel="web",
        request=request,
        detail=f"{request.method} {request.path[:200]}: {reason}",
    )


def _guard(access: Access) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if access.public:
                return view(request, *args, **kwargs)
            if _is_api_call(request):
                actor = actor_of(request)
                if not access.allows(actor):
                    raise errors.PermissionDenied(access.missing(actor))
                return view(request, *args, **kwargs)
            return _page(view, access, request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, access)
        _keep_signature(wrapper, view)
        return wrapper  # type: ignore[return-value]

    return decorate


def _keep_signature(wrapper: Callable[..., Any], view: Callable[..., Any]) -> None:
    """Give the wrapper the view's signature with its annotations evaluated.

    ninja reads an operation's parameters from its signature and evaluates string
    annotations (``from __future__ import annotations``) in the function's own globals —
    which for a wrapper are this module's, not the API module's."""
    with contextlib.suppress(NameError, TypeError, ValueError):
        wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]


def _page(view: Callable[..., Any], access: Access, request: Any, *args: Any, **kwargs: Any) -> Any:
    """A page: sign in first; then the services' NotFound / PermissionDenied become Django's
    404 / 403 pages, each written to the audit trail (a run of 404s on person pages is what
    probing another village's records looks like)."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return redirect_to_login(request.get_full_path())
    try:
        if not access.allows(user):
            raise errors.PermissionDenied(access.missing(user))
        return view(request, *args, **kwargs)
    except errors.NotFound:
        page_denial(request, "not found or outside the jurisdiction")
        raise Http404(_("The record does not exist or is outside your jurisdiction")) from None
    except errors.PermissionDenied as exc:
        page_denial(request, f"role may not {exc}")
        raise DjangoPermissionDenied(_("Your role does not allow this action")) from None


def requires(*actions: Action | str, any_of: bool = False) -> Callable[[F], F]:
    """Decorate a page view or an API operation: the caller must be signed in and allowed
    ``actions`` (all of them, or one of them with ``any_of=True``).

    On a page an anonymous visitor is sent to the login page; on the API ninja's own
    authentication answers 401 before this runs. Put it outermost, above
    ``require_GET``/``require_POST``, so the walker test sees it first.
    """
    if not actions:
        raise ValueError("requires() needs at least one action; use signed_in() for none")
    return _guard(Access(actions=tuple(str(a) for a in actions), any_of=any_of))


def signed_in(view: F) -> F:
    """Any signed-in, active user (home page, own account, own notices, logout)."""
    return _guard(Access())(view)


def public(reason: str) -> Callable[[F], F]:
    """Deliberately open to anonymous visitors (login, health check, a personal isolation
    link, the public tip-off form); ``reason`` says why, for the reviewer and the walker."""
    if not reason.strip():
        raise ValueError("say why the endpoint is public")
    return _guard(Access(public=True, reason=reason))
