from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "fangkong.web"
    label = "web"
    verbose_name = _("Web interface")

    def ready(self) -> None:
        # Listed last in INSTALLED_APPS: the domain apps have registered their modules, so
        # placeholders are added only for the modules nobody has built yet.
        from . import modules

        modules.register()
