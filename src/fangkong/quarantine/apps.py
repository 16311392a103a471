from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("Isolation")

    def ready(self) -> None:
        from .figures import register as register_figures  # issue 13: boards and rules

        register_figures()
        from django.conf import settings

        from fangkong.core import isolation, periodic, person_actions, signals
        from fangkong.core.roles import Action

        from . import ordering, services

        # Tracing, screening visits and checkpoints order isolation through core.isolation.
        isolation.register_orderer(ordering.Orderer())
        from . import extensions

        extensions.register()  # figures, self-inspection rules, person timeline
        # Missed checks and escalations are raised by the worker on a clock, not by a user.
        periodic.register(
            "quarantine.monitoring",
            settings.FANGKONG_MONITOR_INTERVAL_SECONDS,
            services.run_monitoring,
        )
        person_actions.register(
            person_actions.PersonAction(
                _("Order isolation"), "quarantine:order_create", Action.QUARANTINE_MANAGE
            )
        )
        # Results of nucleic-acid tests fill the tests an isolation order requires.
        signals.test_results_known.connect(
            services.receive_test_results, dispatch_uid="quarantine.test_results"
        )

        from fangkong.core import demo as demo_registry
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action as _Action
        from fangkong.core.roles import Role as _Role

        from . import demo

        demo_registry.register(demo_registry.Seeder("quarantine", 40, demo.seed_demo))
        nav.register(
            nav.Module(
                "quarantine",
                _("Isolation"),
                "quarantine:board",
                _("Isolation orders, sites and rooms, temperature twice a day, release"),
                action=_Action.QUARANTINE_VIEW,
                order=40,
            )
        )
        nav.register_home(nav.RoleHome(_Role.VILLAGE_DOCTOR, "quarantine:round", priority=50))
