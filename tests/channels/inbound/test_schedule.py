"""The per-minute mailbox poll: registered with the other schedules, its task reads every active mailbox."""

from __future__ import annotations

from django_q.models import Schedule
from django_q.tasks import async_task

from channels.models import Mailbox
from tests.channels.inbound import corpus
from tickets.models import Ticket


def test_migrate_registered_the_mailbox_poll_every_minute(db):
    schedule = Schedule.objects.get(name="channels.poll_mailboxes")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "channels.inbound.imap.poll_mailboxes_task",
        Schedule.MINUTES,
        1,
        -1,
    )


def test_the_scheduled_task_reads_the_active_mailboxes(mailbox, dovecot):
    dovecot.deliver(corpus.plain())
    async_task("channels.inbound.imap.poll_mailboxes_task")  # sync in tests
    assert Ticket.objects.get().title == "Printer jam"
    mailbox.refresh_from_db()
    assert mailbox.last_result["created"] == 1
    assert Mailbox.objects.get().last_polled_at is not None
