from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeferralsConfig(AppConfig):
    name = "deferrals"
    verbose_name = _("Deferrals")

    def ready(self) -> None:
        from deferrals import history_kinds

        history_kinds.declare()  # the history kinds deferrals writes on tickets: shapes and sentences
