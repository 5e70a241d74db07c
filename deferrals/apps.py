from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_causes(sender, **kwargs) -> None:
    # Runs after every migrate *and* after the flush of transactional tests, so the cause
    # catalogue ("other" included) always exists.
    from deferrals.catalogue import ensure_reference_data  # the app registry is ready only once signals fire

    ensure_reference_data()


class DeferralsConfig(AppConfig):
    name = "deferrals"
    verbose_name = _("Deferrals")

    def ready(self) -> None:
        from deferrals import history_kinds

        history_kinds.declare()  # the history kinds deferrals writes on tickets: shapes and sentences
        post_migrate.connect(_ensure_causes, sender=self, dispatch_uid="deferrals.ensure_causes")
