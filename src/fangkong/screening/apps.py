from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ESCALATE_EVERY_SECONDS = 300


class ScreeningConfig(AppConfig):
    name = "fangkong.screening"
    label = "screening"
    verbose_name = _("Screening and ledgers")

    def ready(self) -> None:
        from . import extensions

        # Person timeline entries and daily figures (core.timeline, core.figures).
        extensions.register()

        from .figures import register as register_figures  # issue 13: boards and rules

        register_figures()

        from fangkong.core import periodic

        from .visits import escalate_overdue

        # Overdue visits escalate on a clock, not when someone happens to open a page.
        periodic.register("screening.escalate_visits", ESCALATE_EVERY_SECONDS, escalate_overdue)

        from fangkong.core import signals

        from .ledgers import import_died

        signals.background_task_died.connect(import_died, dispatch_uid="screening.import_died")
        from .reconciliation import receive_entry_offered

        # Pharmacies and schools (places) offer persons for the village to verify.
        signals.screening_entry_offered.connect(
            receive_entry_offered, dispatch_uid="screening.entry_offered"
        )

        from fangkong.core import modules as nav
        from fangkong.core.roles import Action as _Action
        from fangkong.core.roles import Role as _Role

        nav.register(
            nav.Module(
                "screening",
                _("Screening and ledgers"),
                "screening:home",
                _(
                    "Returnee lists from several sources, reconciliation, risk areas, "
                    "control policies"
                ),
                action=_Action.SCREENING_VIEW,
                order=30,
            )
        )
        nav.register_home(nav.RoleHome(_Role.GRID_WORKER, "screening:visits", priority=50))
