from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ESCALATE_EVERY_SECONDS = 300


class ScreeningConfig(AppConfig):
    name = "fangkong.screening"
    label = "screening"
    verbose_name = _("Screening and ledgers")

    def ready(self) -> None:
        from fangkong.core import periodic

        from .visits import escalate_overdue

        # Overdue visits escalate on a clock, not when someone happens to open a page.
        periodic.register("screening.escalate_visits", ESCALATE_EVERY_SECONDS, escalate_overdue)
