from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TracingConfig(AppConfig):
    name = "fangkong.tracing"
    label = "tracing"
    verbose_name = _("Contact tracing")

    def ready(self) -> None:
        from django.conf import settings

        from fangkong.core import periodic, signals

        from . import services

        # The services keep the classification up to date around every change; once a day
        # the worker recomputes the whole graph as well, so that a change made behind their
        # back (a bulk load, a registry merge, a restore) cannot leave a contact unlisted.
        periodic.register(
            "tracing.reclassify",
            getattr(settings, "FANGKONG_TRACING_RECLASSIFY_SECONDS", 24 * 3600),
            lambda: services.reclassify(channel="task"),
        )
        # A positive single tube in a testing round opens (or links) a suspected case here;
        # the testing module does not import this one (see fangkong.core.signals).
        signals.suspected_case_found.connect(
            services.receive_suspected_cases, dispatch_uid="tracing.suspected_case_found"
        )
