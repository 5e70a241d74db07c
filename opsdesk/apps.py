import gc

from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _reference_data(sender, **kwargs) -> None:
    from tickets.catalogue import ensure_reference_data  # the app registry is ready only once signals fire

    ensure_reference_data()  # role groups from tickets.access.ROLE_PERMISSIONS, the blocking-reason catalogue


def _freeze_after_first_request(sender, **kwargs) -> None:
    """Once the first request has loaded what every request reuses (URL patterns, compiled templates,
    translation catalogues, form renderers), move it out of the garbage collector's generations too."""
    request_finished.disconnect(dispatch_uid="opsdesk.gc_freeze")
    gc.freeze()


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
        # The process's long-lived objects (modules, models, settings) leave the collector's generations: a full
        # collection then walks only what requests create, instead of the whole application every few hundred
        # thousand allocations (a pause of tens of milliseconds in one request in ten: the pages' p95).
        gc.freeze()
        request_finished.connect(_freeze_after_first_request, dispatch_uid="opsdesk.gc_freeze")
