from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    label = "people"
    verbose_name = _("Person registry")

    def ready(self) -> None:
        from .figures import register as register_figures  # issue 13: boards and rules

        register_figures()
        # Core shows per-region counts without importing this app: register them there.
        from fangkong.core import region_counts, ui

        from . import selectors

        region_counts.register("persons", selectors.count_persons_by_region)
        region_counts.register("households", selectors.count_households_by_region)
        # The kit's person picker names persons through the registry.
        ui.register_person_labeler(selectors.person_labels)
