"""Template context shared by every page: the navigation of all modules and who is working.

The navigation lists every module of DESIGN.md; a module not built yet links to its
"not yet available" page. The header shows the user's name, role and jurisdiction.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from fangkong.core.models import Region
from fangkong.core.roles import Role

from .modules import MODULES


def _nav(request) -> list[dict]:
    items = []
    for module in MODULES:
        url = (
            reverse(module.url_name)
            if module.url_name
            else reverse("web:module", args=[module.slug])
        )
        items.append(
            {
                "slug": module.slug,
                "title": module.title,
                "description": module.description,
                "url": url,
                "available": bool(module.url_name),
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
    }
