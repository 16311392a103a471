from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TracingConfig(AppConfig):
    name = "fangkong.tracing"
    label = "tracing"
    verbose_name = _("Contact tracing")

    def ready(self) -> None:
        from .figures import register as register_figures  # issue 13: boards and rules

        register_figures()
        from django.conf import settings

        from fangkong.core import periodic, signals

        from . import services

        # The services keep the classification up to date around every change; once a day
        # the worker recomputes the whole graph as well, so that a change made behind their
        # back (a bulk load, a registry merge, a restore) cannot leave a contact unlisted.
        periodic.register(
            "tracing.reclassify",
            settings.FANGKONG_TRACING_RECLASSIFY_SECONDS,
            lambda: services.reclassify(channel="task"),
        )
        # A positive single tube in a testing round opens (or links) a suspected case here;
        # the testing module does not import this one (see fangkong.core.signals).
        signals.suspected_case_found.connect(
            services.receive_suspected_cases, dispatch_uid="tracing.suspected_case_found"
        )

        from fangkong.core import demo as demo_registry
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action as _Action
        from fangkong.core.roles import Role as _Role

        from . import demo, extensions

        extensions.register()  # figures, self-inspection rules, person timeline
        demo_registry.register(demo_registry.Seeder("tracing", 60, demo.seed_demo))
        nav.register(
            nav.Module(
                "tracing",
                _("Contact tracing"),
                "tracing:home",
                _("Cases, gatherings, close contacts and theirs, chains, cross-region notices"),
                action=_Action.TRACING_VIEW,
                order=45,
            )
        )
        nav.register_home(nav.RoleHome(_Role.INVESTIGATOR, "tracing:home", priority=50))
