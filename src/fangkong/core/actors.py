"""The acting user (:class:`Actor`): who does a thing, in which role, over which regions.

Services, selectors and the kit take an ``actor`` rather than ``Any``: a logged-in
:class:`~fangkong.core.models.User`, an anonymous visitor (who may do nothing), or a token's
user in the API. Only the attributes below are ever read, so tests and the command line can
pass any object that has them.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Actor(Protocol):
    """What the kit reads of the acting user."""

    pk: Any
    username: str
    role: str
    is_active: bool
    is_superuser: bool

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def region_codes(self) -> tuple[str, ...]: ...


def actor_of(request: Any) -> Actor:
    """The actor of a request: the API token's user (``request.auth``) or the session user.

    ninja sets ``request.auth`` once its authentication passed; pages only have
    ``request.user`` (possibly anonymous).
    """
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "is_authenticated", False):
        return auth  # type: ignore[no-any-return]
    return request.user  # type: ignore[no-any-return]
