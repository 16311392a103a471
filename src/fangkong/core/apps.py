from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"
    verbose_name = _("Core: regions, users and audit")

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            devices,  # noqa: F401  (drops a revoked device key at login)
            rules,
        )

        rules.register()

        from . import periodic, tasks

        # Tasks of a worker that died or stopped answering end "failed", never stay "running".
        periodic.register("core.reap_tasks", tasks.REAP_EVERY_SECONDS, tasks.reap_job)


class FangkongAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` whose ``admin.site`` logs in through the web UI's login
    (see :mod:`fangkong.core.admin_site`)."""

    default = False  # chosen by name in INSTALLED_APPS; CoreConfig stays this module's default
    default_site = "fangkong.core.admin_site.FangkongAdminSite"
