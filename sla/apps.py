from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        from sla import history_kinds

        history_kinds.declare()  # the history kinds sla writes on tickets: shapes and sentences
