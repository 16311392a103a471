from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    label = "people"
    verbose_name = _("Person registry")

    def ready(self) -> None:
        # Core shows per-region counts without importing this app: register them there.
        from fangkong.core import region_counts

        from . import selectors

        region_counts.register("persons", selectors.count_persons_by_region)
        region_counts.register("households", selectors.count_households_by_region)
