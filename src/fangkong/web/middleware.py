"""The language of each request: Simplified Chinese unless the user chose English.

Django's LocaleMiddleware would follow the browser's Accept-Language header, so a cadre on
a computer with an English system would get English pages without asking. Fangkong is a
Chinese product: the language is the one picked with the switch in the header (the
``django_language`` cookie set by Django's ``set_language`` view), else ``LANGUAGE_CODE``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def chosen_language(request) -> str:
    """The language the user picked, if it is one of ours; else the installation's."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    supported = {code for code, _ in settings.LANGUAGES}
    if chosen in supported and translation.check_for_language(chosen):
        return chosen
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Activates the chosen language for the request; replaces Django's LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
