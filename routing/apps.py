from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from routing import history_kinds

        history_kinds.declare()  # the history kinds routing writes on tickets: shapes and sentences
