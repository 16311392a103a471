from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckpointsConfig(AppConfig):
    name = "fangkong.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints")

    def ready(self) -> None:
        # OR-Tools (and the pandas it pulls in) imported at start-up, not in the middle of a
        # request or a test: imported late in a long-running process it was seen to crash
        # the interpreter during garbage collection (a segfault in CI's crawler test).
        from ortools.sat.python import cp_model  # noqa: F401

        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from fangkong.core import demo as demo_registry
        from fangkong.core import figures, inspection, timeline
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action, Role

        from . import demo, hooks

        nav.register(
            nav.Module(
                "checkpoints",
                _("Checkpoints"),
                "checkpoints:home",
                _("Posts, passages, pass cards, duty rosters and night inspections"),
                action=Action.CHECKPOINT_VIEW,
                order=50,
            )
        )
        nav.register_home(nav.RoleHome(Role.CHECKPOINT_STAFF, "checkpoints:post", priority=50))
        nav.register_home(nav.RoleHome(Role.INSPECTOR, "checkpoints:inspections", priority=90))
        for key, label, fn, order in (
            (
                "checkpoints.passages_today",
                _("Checkpoint passages today"),
                hooks.passages_today,
                60,
            ),
            ("checkpoints.refused_today", _("Passages refused today"), hooks.refused_today, 61),
            (
                "checkpoints.night_inspections",
                _("Night inspections of checkpoints"),
                hooks.night_inspections,
                62,
            ),
        ):
            figures.register(
                figures.Figure(
                    key=key,
                    label=label,
                    module="checkpoints",
                    compute=fn,
                    kind=figures.FLOW,
                    unit=_("times"),
                    order=order,
                    list_url=figures.list_page("checkpoints:home", region="region"),
                    permission=Action.CHECKPOINT_VIEW,
                    higher_is_better=key.endswith("inspections"),
                )
            )
        for key, label, fn, aspect, hours in (
            (
                hooks.UNSTAFFED,
                _("Post unstaffed at night"),
                hooks.unstaffed_at_night,
                inspection.Aspect.RISK,
                2,
            ),
            (
                hooks.NOT_INSPECTED,
                _("Post not inspected last night"),
                hooks.not_inspected,
                inspection.Aspect.SUPERVISION,
                24,
            ),
            (
                hooks.MISSED_CHECK_IN,
                _("Shift check-in missed"),
                hooks.missed_check_in,
                inspection.Aspect.DISCIPLINE,
                2,
            ),
        ):
            inspection.register(
                inspection.Rule(
                    key=key,
                    label=label,
                    module="checkpoints",
                    aspect=aspect,
                    run=fn,
                    description=fn.__doc__ or "",
                    deadline_hours=hours,
                )
            )
        timeline.register(
            timeline.TimelineSource(
                "checkpoints.passages",
                "checkpoints",
                _("Checkpoint passages"),
                Action.CHECKPOINT_VIEW,
                hooks.person_entries,
            )
        )
        demo_registry.register(demo_registry.Seeder("checkpoints", 75, demo.seed_demo))
