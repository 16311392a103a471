from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergencyConfig(AppConfig):
    name = "fangkong.emergency"
    label = "emergency"
    verbose_name = _("Emergency")

    def ready(self) -> None:
        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from fangkong.core import demo as demo_registry
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action

        from . import demo, registry

        registry.register()
        demo_registry.register(demo_registry.Seeder("emergency", 90, demo.seed_demo))
        nav.register(
            nav.Module(
                "emergency",
                _("Emergency"),
                "emergency:home",
                _("Sealed zones, plans and drills, teams, wartime mode"),
                action=Action.EMERGENCY_VIEW,
                order=90,
            )
        )
