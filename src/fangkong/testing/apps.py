from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "fangkong.testing"
    label = "testing"
    verbose_name = _("Nucleic-acid testing")

    def ready(self) -> None:
        from . import extensions

        # Person timeline entries and daily figures (core.timeline, core.figures).
        extensions.register()

        from .figures import register as register_figures  # issue 13: boards and rules

        register_figures()

        from fangkong.core import signals

        from . import services

        # Tests other modules require (isolation orders) become due tests of their person.
        signals.tests_required.connect(
            services.receive_tests_required, dispatch_uid="testing.tests_required"
        )

        from fangkong.core import modules as nav
        from fangkong.core.roles import Action as _Action
        from fangkong.core.roles import Role as _Role

        nav.register(
            nav.Module(
                "testing",
                _("Nucleic-acid testing"),
                "testing:home",
                _("Testing rounds, sampling points, pooled tubes, results, recalls and coverage"),
                action=_Action.TESTING_VIEW,
                order=50,
            )
        )
        # The sampler opens on the scan screen of the round under way.
        nav.register_home(nav.RoleHome(_Role.TESTING_STAFF, "testing:scan", priority=50))
