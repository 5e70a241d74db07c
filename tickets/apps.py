from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from tickets import history_kinds, link_history

        history_kinds.declare()  # the lifecycle's history kinds: shapes and sentences
        link_history.declare()  # links and merges
