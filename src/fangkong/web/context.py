"""Template context shared by every page: the navigation the user may open, who is working,
and how many notices wait for them.

The navigation lists only the modules the user's role may open (a module a role cannot
open would answer 403); modules not built yet link to their "not yet available" page.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from fangkong.core import modules, notices, tasks
from fangkong.core.models import Region
from fangkong.core.roles import Action, Role, can


def _nav(request) -> list[dict]:
    items = []
    for module in modules.visible_to(request.user):
        url = module.url()
        items.append(
            {
                "slug": module.slug,
                "title": module.title,
                "description": module.description,
                "url": url,
                "available": not module.planned,
                "active": request.path.startswith(url),
            }
        )
    return items


def _jurisdiction(user) -> str:
    codes = getattr(user, "region_codes", ())
    if not codes:
        return ""
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return "、".join(names.get(code, code) for code in codes)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_modules": []}
    try:
        role_label = Role(user.role).label
    except ValueError:
        role_label = user.role
    return {
        "nav_modules": SimpleLazyObject(lambda: _nav(request)),
        "user_role_label": role_label,
        "user_jurisdiction": SimpleLazyObject(lambda: _jurisdiction(user)),
        "notices_unread": SimpleLazyObject(lambda: notices.unread_count(user)),
        # The roles that follow everyone's tasks see a banner on every page (boards
        # included) when the worker is down: no imports, no missed-check alerts.
        "worker_down": SimpleLazyObject(
            lambda: can(user, Action.TASK_VIEW_ALL) and tasks.worker_status_cached().stale
        ),
    }
