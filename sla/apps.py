from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        from sla import defaults, history_kinds

        history_kinds.declare()  # the history kinds sla writes on tickets: shapes and sentences
        # No ticket without control: the catch-all policy (settings.SLA_ENSURE_CATCH_ALL; docs/sla.md).
        post_migrate.connect(defaults.post_migrate_handler, sender=self, dispatch_uid="sla.catch_all")
