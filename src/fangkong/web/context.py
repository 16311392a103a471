"""Template context shared by every page: the navigation of all modules."""

from __future__ import annotations

from .modules import MODULES


def navigation(request):
    return {"nav_modules": MODULES}
