from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "fangkong.places"
    label = "places"
    verbose_name = _("Places")

    def ready(self) -> None:
        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from fangkong.core import demo as demo_registry
        from fangkong.core import figures, inspection, signals, timeline
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action, Role

        from . import demo, hooks, services

        for figure in hooks.FIGURES:
            figures.register(figure)
        for rule in hooks.RULES:
            inspection.register(rule)
        timeline.register(hooks.TIMELINE)
        # A failed checklist item closed on the problems list is rectified here too.
        signals.problem_closed.connect(
            services.problem_closed, dispatch_uid="places.problem_closed"
        )
        demo_registry.register(demo_registry.Seeder("places", 70, demo.seed_demo))
        nav.register(
            nav.Module(
                "places",
                _("场所与单位"),
                "places:home",
                _("场所关停、检查、聚集性活动、企业复工、学校晨午检、冷链、药店、消杀"),
                action=Action.PLACES_VIEW,
                order=60,
            )
        )
        # The village cadre's day is the village's places: the ones to inspect, the
        # gatherings to persuade. Other modules may offer a nearer home (lower priority).
        nav.register_home(nav.RoleHome(Role.VILLAGE_CADRE, "places:home", priority=80))
