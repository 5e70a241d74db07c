from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _reference_data(sender, **kwargs) -> None:
    from tickets.catalogue import ensure_reference_data  # the app registry is ready only once signals fire

    ensure_reference_data()  # role groups from tickets.access.ROLE_PERMISSIONS, the blocking-reason catalogue


class OpsdeskConfig(AppConfig):
    """The top floor: wires the apps below together once they are all loaded."""

    name = "opsdesk"
    verbose_name = _("OpsDesk")

    def ready(self) -> None:
        from opsdesk import wiring
        from opsdesk.schedules import post_migrate_handler

        wiring.install()
        # After every migrate and after the flush of transactional tests. ``opsdesk`` is the last app, so its
        # post_migrate comes after every other app created its permissions: the role groups get all of them.
        post_migrate.connect(_reference_data, sender=self, dispatch_uid="opsdesk.reference_data")
        post_migrate.connect(post_migrate_handler, sender=self, dispatch_uid="opsdesk.register_schedules")
