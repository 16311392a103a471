from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "fangkong.reports"
    label = "reports"
    verbose_name = _("Command and reports")

    def ready(self) -> None:
        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from django.urls import reverse

        from fangkong.core import demo as demo_registry
        from fangkong.core import figures, inspection, modules, periodic, problems, timeline
        from fangkong.core.roles import Action, Role

        from . import demo, services

        problems.register_sink(services.Sink())
        modules.register(
            modules.Module(
                "reports",
                "指挥调度",
                "reports:board",
                "态势看板、日报和零报告、排查起底、问题清单、Word文书",
                action=Action.REPORTS_BOARD,
                order=5,
            )
        )
        # The county HQ and the township open on their board; the village on its board too,
        # unless another module offers the village cadre a home with a lower priority.
        modules.register_home(modules.RoleHome(Role.COUNTY_HQ, "reports:board", priority=10))
        modules.register_home(modules.RoleHome(Role.TOWNSHIP, "reports:board", priority=10))
        modules.register_home(modules.RoleHome(Role.VILLAGE_CADRE, "reports:board", priority=200))
        figures.register(
            figures.Figure(
                key="reports.problems_open",
                label="在账问题",
                module="reports",
                compute=services.open_problems_figure,
                unit="个",
                order=90,
                list_url=lambda code: reverse("reports:problems"),
                permission=Action.REPORTS_BOARD,
            )
        )
        figures.register(
            figures.Figure(
                key="reports.daily_filed",
                label="今日已报日报",
                module="reports",
                compute=services.reports_filed_figure,
                kind=figures.FLOW,
                unit="份",
                order=91,
                list_url=lambda code: reverse("reports:daily") + f"?region={code}",
                permission=Action.REPORTS_BOARD,
                higher_is_better=True,
                tags=("meta",),
            )
        )
        inspection.register(
            inspection.Rule(
                key=services.DAILY_MISSING,
                label="村（社区）未按时报送日报",
                module="reports",
                aspect=inspection.Aspect.SYSTEM,
                run=services.daily_missing_rule,
                deadline_hours=2,
                order=800,
            )
        )
        timeline.register(
            timeline.TimelineSource(
                key="reports.findings",
                module="reports",
                label="排查起底",
                permission=Action.REPORTS_BOARD,
                entries=services.timeline_entries,
            )
        )
        periodic.register("reports.refresh", 600, services.refresh_job)
        periodic.register("reports.inspection", 3600, services.inspection_job)
        periodic.register("reports.escalate", 900, services.escalate_overdue)
        periodic.register("reports.remind", 900, services.remind_missing)
        demo_registry.register(demo_registry.Seeder("reports", 95, demo.seed_demo))
