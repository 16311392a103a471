from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "fangkong.testing"
    label = "testing"
    verbose_name = _("Nucleic-acid testing")

    def ready(self) -> None:
        from fangkong.core import signals

        from . import services

        # Tests other modules require (isolation orders) become due tests of their person.
        signals.tests_required.connect(
            services.receive_tests_required, dispatch_uid="testing.tests_required"
        )
