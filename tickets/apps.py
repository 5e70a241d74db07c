from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:
    # Runs after every migrate *and* after the flush of transactional tests,
    # so the role groups always exist. The table lives in tickets.access.
    from tickets.catalogue import ensure_reference_data

    ensure_reference_data()


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from tickets import history_kinds

        history_kinds.declare()  # the lifecycle's history kinds: shapes and sentences
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="tickets.sync_roles")
