from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "fangkong.supervision"
    label = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from fangkong.core import demo as demo_registry
        from fangkong.core import modules as nav
        from fangkong.core import signals
        from fangkong.core.roles import Action, Role

        from . import demo, rules, services

        rules.register()
        # After tipoffs (same order 85, keys sort "supervision" < "tipoffs"; independent).
        demo_registry.register(demo_registry.Seeder("supervision", 85, demo.seed_demo))
        signals.problem_closed.connect(
            services.on_problem_closed, dispatch_uid="supervision.problem_closed"
        )
        nav.register(
            nav.Module(
                "supervision",
                _("Supervision"),
                "supervision:home",
                _("Inspections, rectification, discipline and bulletins"),
                action=Action.SUPERVISION_VIEW,
                order=86,
            )
        )
        nav.register_home(nav.RoleHome(Role.INSPECTOR, "supervision:home", priority=50))
