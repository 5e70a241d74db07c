from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from tickets import history_kinds, link_history, search_schema

        history_kinds.declare()  # the lifecycle's history kinds: shapes and sentences
        link_history.declare()  # links and merges
        # The SQLite search index: its triggers call a stemming function every connection must have, and a
        # table remake by a later migration drops triggers, so they are put back after every migrate.
        connection_created.connect(search_schema.register_function, dispatch_uid="tickets.search_function")
        post_migrate.connect(search_schema.ensure, sender=self, dispatch_uid="tickets.search_ensure")
