from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliesConfig(AppConfig):
    name = "fangkong.supplies"
    label = "supplies"
    verbose_name = _("Supplies")

    def ready(self) -> None:
        """Registers this module's navigation, figures, rules, timeline and demo with core."""
        from fangkong.core import demo as demo_registry
        from fangkong.core import modules as nav
        from fangkong.core.roles import Action, Role

        from . import demo, rules

        rules.register()
        demo_registry.register(demo_registry.Seeder("supplies", 80, demo.seed_demo))
        nav.register(
            nav.Module(
                "supplies",
                "物资保障",
                "supplies:home",
                "仓库库存、发放台账、可供天数、申领调配、采购在途、捐赠、经费、价格监测",
                action=Action.SUPPLIES_VIEW,
                order=80,
            )
        )
        # The supply officer's day is the stock board: what is where, how long it lasts.
        nav.register_home(nav.RoleHome(Role.SUPPLY_OFFICER, "supplies:home", priority=50))
