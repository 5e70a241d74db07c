from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        connection_created.connect(_read_timestamps_in_c, dispatch_uid="core.pgdatetime")


def _read_timestamps_in_c(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":  # psycopg's loaders load only where PostgreSQL is used
        from core import pgdatetime

        pgdatetime.install(connection)
