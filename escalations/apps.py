from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = _("Escalations")

    def ready(self) -> None:
        from escalations import case_selectors, history

        history.register()  # sentences for "ticket.escalated" & co. on the ticket page
        case_selectors.register_history()  # "ticket.case_linked" (escalation cases)

