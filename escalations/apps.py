from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = _("Escalations")

    def ready(self) -> None:
        from escalations import history

        history.declare()  # "ticket.escalated", "ticket.case_linked" & co.: shapes and sentences

