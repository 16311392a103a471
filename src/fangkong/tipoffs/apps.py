from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TipoffsConfig(AppConfig):
    name = "fangkong.tipoffs"
    label = "tipoffs"
    verbose_name = _("Tip-offs")

    def ready(self) -> None:
        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from fangkong.core import demo as demo_registry
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action

        from . import demo, rules

        rules.register()
        demo_registry.register(demo_registry.Seeder("tipoffs", 85, demo.seed_demo))
        nav.register(
            nav.Module(
                "tipoffs",
                _("Tip-offs"),
                "tipoffs:home",
                _("Public tip-offs by QR code and hotline, verification, rewards"),
                action=Action.TIPOFF_VIEW,
                order=85,
            )
        )
