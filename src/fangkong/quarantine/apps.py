from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("Isolation")

    def ready(self) -> None:
        from django.conf import settings

        from fangkong.core import periodic, signals
        from fangkong.core.roles import Action
        from fangkong.web import person_actions

        from . import services

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
