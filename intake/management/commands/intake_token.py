"""Issue or rotate the token of an intake channel; the token is printed once and only its hash is kept.

    manage.py intake_token "Mail bridge" --queue service [--channel email] [--type complaint]
    manage.py intake_token "Mail bridge" --rotate

Only the token goes to standard output (``TOKEN=$(manage.py intake_token ...)``
works); notes go to standard error.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from tickets.models import Channel, IntakeChannel, Queue, TicketType


class Command(BaseCommand):
    help = "Create an intake channel and print its token, or rotate the token of an existing one."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The channel's name, e.g. \"Mail bridge\".")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the token of an existing channel; the old token stops working at once.",
        )
        parser.add_argument("--queue", help="Slug of the default queue (required when creating a channel).")
        parser.add_argument(
            "--channel",
            choices=Channel.values,
            help="What kind of gateway it is (when creating; default: email).",
        )
        parser.add_argument("--type", dest="ticket_type", help="Slug of the default ticket type (when creating).")

    @transaction.atomic
    def handle(self, *args, name: str, rotate: bool, queue: str | None, channel: str | None,
               ticket_type: str | None, **options):
        name = name.strip()
        if not name:
            raise CommandError(_("Give the channel a name."))
        existing = IntakeChannel.objects.select_for_update().filter(name=name).first()
        if existing is not None:
            if not rotate:
                raise CommandError(
                    _("The channel “%(name)s” already exists and its token cannot be shown again; "
                      "use --rotate to issue a new one.") % {"name": name}
                )
            if queue or channel or ticket_type:
                raise CommandError(_("--queue, --channel and --type apply only when a channel is created."))
            token = self._rotate(existing)
        else:
            if rotate:
                raise CommandError(
                    _("There is no channel “%(name)s” to rotate; to create it, leave out --rotate and give --queue.")
                    % {"name": name}
                )
            token = self._create(name, queue=queue, channel=channel or Channel.EMAIL, ticket_type=ticket_type)
        self.stdout.write(token)

    def _rotate(self, intake: IntakeChannel) -> str:
        # Like the admin's "Issue a new token": the new token works at once, even on a revoked channel.
        was_switched_off = intake.revoked_at is not None or not intake.is_active
        token = intake.set_token()
        intake.is_active = True
        intake.revoked_at = None
        intake.save(update_fields=["token_hash", "token_hint", "is_active", "revoked_at"])
        self.stderr.write(
            _("New token for “%(name)s”; the old one no longer works. Store it now: it is not shown again.")
            % {"name": intake.name}
        )
        if was_switched_off:
            self.stderr.write(_("The channel was revoked or switched off; it accepts messages again."))
        return token

    def _create(self, name: str, *, queue: str | None, channel: str, ticket_type: str | None) -> str:
        if not queue:
            raise CommandError(_("A new channel needs a default queue: give --queue <slug>."))
        default_queue = Queue.objects.filter(slug=queue).first()
        if default_queue is None:
            raise CommandError(_("There is no queue “%(slug)s”.") % {"slug": queue})
        default_type = None
        if ticket_type:
            default_type = TicketType.objects.filter(slug=ticket_type).first()
            if default_type is None:
                raise CommandError(_("There is no ticket type “%(slug)s”.") % {"slug": ticket_type})
        intake = IntakeChannel(name=name, channel=channel, default_queue=default_queue, default_type=default_type)
        token = intake.set_token()
        intake.save()
        self.stderr.write(
            _("Created the channel “%(name)s”. Store its token now: it is not shown again.") % {"name": name}
        )
        return token
