"""The Django admin site of Fangkong: no login of its own, no personal data.

Django's admin ships its own login form, which would bypass the failed-login throttle and
the audit trail of :mod:`fangkong.core.login`. Here the admin's login page only sends the
browser to the web UI's login (throttled, audited) and back; everything else is Django's.
What the admin may list is limited by each app's ``admin.py``: no model that carries an ID
number, a phone, a birth date or a link to a person (see tests/core/test_admin.py).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


class FangkongAdminSite(admin.AdminSite):
    site_header = _("Fangkong administration")
    site_title = _("Fangkong administration")

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Send the browser to the one login page (throttled and audited), then back."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index")
        if request.user.is_authenticated and request.method == "GET":
            # Logged in without admin rights: the admin index would loop back here.
            return redirect("web:home")
        return redirect_to_login(next_url, reverse("web:login"))
