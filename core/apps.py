from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from core import pgdatetime

        connection_created.connect(pgdatetime.install, dispatch_uid="core.pgdatetime")
