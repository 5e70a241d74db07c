from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    """Floor 6: the ways a conversation leaves and enters OpsDesk (outbound delivery, mailboxes)."""

    name = "channels"
    verbose_name = _("Channels")
