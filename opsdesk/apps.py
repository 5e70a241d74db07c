from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OpsdeskConfig(AppConfig):
    """The top floor: wires the apps below together once they are all loaded."""

    name = "opsdesk"
    verbose_name = _("OpsDesk")

    def ready(self) -> None:
        from . import wiring
        from .schedules import post_migrate_handler

        wiring.install()
        # After every migrate and after the flush of transactional tests: schedules always exist.
        post_migrate.connect(post_migrate_handler, dispatch_uid="opsdesk.register_schedules")
