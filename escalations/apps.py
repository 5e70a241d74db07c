from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = _("Escalations")

    def ready(self) -> None:
        from . import case_selectors, history
        from .schedules import post_migrate_handler

        history.register()  # sentences for "ticket.escalated" & co. on the ticket page
        case_selectors.register_history()  # "ticket.case_linked" (escalation cases)

        # After every migrate and after the flush of transactional tests: schedules always exist.
        post_migrate.connect(post_migrate_handler, sender=self, dispatch_uid="escalations.register_schedules")
