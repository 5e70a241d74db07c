"""Polling the mailboxes over IMAP (``imapclient``): fetch, hand each email to ``email_receive``, then file it.

A poll reads the folder's unread mail (``after_read = seen``) or all of it (``move``: the folder holds
only what is still to be read), at most ``EMAIL_FETCH_BATCH`` messages, with ``BODY.PEEK[]`` so nothing
is marked read before it is stored. Each email that was taken, ignored or recorded as failed is then
marked read or moved; when the database is unavailable the poll stops and leaves the mail untouched,
so the next poll retries it. The result is kept on the mailbox (admin) and returned as a dict.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from channels.inbound.models import InboundEmail, Mailbox
from channels.inbound.parse import Unparseable
from channels.inbound.receive import email_receive, own_addresses, record_unparseable

logger = logging.getLogger(__name__)

COUNTS = ("fetched", "created", "appended", "ignored", "failed")
FETCH_CHUNK = 50  # emails per FETCH round trip (and per flag/move command); bounds the memory of one poll


class MailboxError(Exception):
    """The mailbox could not be read (connection, login, folder)."""


def connect(mailbox: Mailbox):
    """A logged-in ``IMAPClient`` with the mailbox's folder selected."""
    from imapclient import IMAPClient  # third-party, imported where used so the web process need not load it

    password = mailbox.password()
    if not password:
        raise MailboxError(f"the environment variable {mailbox.password_env!r} holding the password is not set")
    # A private CA file (an on-premises mail server) replaces the system's CAs; the name is always checked.
    context = ssl.create_default_context(cafile=getattr(settings, "EMAIL_FETCH_CA_FILE", "") or None)
    timeout = int(getattr(settings, "EMAIL_FETCH_TIMEOUT", 30))
    try:
        client = IMAPClient(
            mailbox.host,
            port=mailbox.port,
            ssl=mailbox.security == Mailbox.Security.TLS,
            ssl_context=context,
            timeout=timeout,
        )
        _quiet_imaplib(client)
        if mailbox.security == Mailbox.Security.STARTTLS:
            client.starttls(context)
        client.login(mailbox.username, password)
        client.select_folder(mailbox.folder)
        if mailbox.after_read == Mailbox.AfterRead.MOVE and not client.folder_exists(mailbox.move_to):
            client.create_folder(mailbox.move_to)
    except MailboxError:
        raise
    except Exception as error:
        raise MailboxError(f"{type(error).__name__}: {error}") from error
    return client


def _quiet_imaplib(client) -> None:
    """Stop imaplib formatting its debug lines when nobody reads them.

    ``IMAPClient`` sets imaplib's ``debug`` to 5 and hands its lines to the ``imapclient.imaplib`` logger, but
    imaplib builds each line (a ``repr`` of every response, a whole fetched email included) before the logger
    can drop it: most of the CPU time of a fetch. With that logger below ``DEBUG`` the lines are not built.
    """
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG) and hasattr(client, "_imap"):
        client._imap.debug = 0


def _file_away(client, mailbox: Mailbox, uids: list[int]) -> None:
    if not uids:
        return
    if mailbox.after_read == Mailbox.AfterRead.MOVE:
        if client.has_capability("MOVE"):
            client.move(uids, mailbox.move_to)
        else:
            client.copy(uids, mailbox.move_to)
            client.delete_messages(uids)
            client.expunge()
    else:
        client.add_flags(uids, [b"\\Seen"])


def mailbox_poll(mailbox: Mailbox) -> dict:
    """Read the mailbox once; returns ``{"channel", "fetched", "created", "appended", "ignored", "failed"}``."""
    counts: Counter = Counter()
    error = ""
    try:
        client = connect(mailbox)
    except MailboxError as problem:
        error = str(problem)
    else:
        try:
            error = _read(client, mailbox, counts)
        except Exception as problem:
            error = f"{type(problem).__name__}: {problem}"
        finally:
            with contextlib.suppress(Exception):
                client.logout()
    result = {"channel": mailbox.name, **{key: counts[key] for key in COUNTS}}
    if error:
        result["error"] = error
        logger.warning("mailbox %s: %s", mailbox.name, error)
    with contextlib.suppress(OperationalError, InterfaceError):  # the database is down: the result is still printed
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_result=result, last_error=error
        )
    return result


def _read(client, mailbox: Mailbox, counts: Counter) -> str:
    criteria = ["ALL"] if mailbox.after_read == Mailbox.AfterRead.MOVE else ["UNSEEN"]
    uids = sorted(client.search(criteria))[: int(getattr(settings, "EMAIL_FETCH_BATCH", 200))]
    channel = mailbox.intake_channel
    own = own_addresses()  # once per poll, not once per email
    chunks = [uids[start : start + FETCH_CHUNK] for start in range(0, len(uids), FETCH_CHUNK)]
    if not chunks:
        return ""
    # The next chunk is fetched while this one is stored, so the server's work and the transfer overlap the
    # database work. One thread at a time uses the client: a fetch is waited for before the next command.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap-fetch") as reader:
        pending = reader.submit(_fetch, client, chunks[0])
        for index in range(len(chunks)):
            fetched = pending.result()
            if index + 1 < len(chunks):
                pending = reader.submit(_fetch, client, chunks[index + 1])
            done, error = [], ""
            try:
                for uid, raw in fetched:
                    counts["fetched"] += 1
                    try:
                        outcome = email_receive(channel, raw, mailbox=mailbox, own=own).outcome
                    except Unparseable as problem:
                        record_unparseable(channel, raw, str(problem), mailbox=mailbox)
                        outcome = InboundEmail.Outcome.FAILED
                    counts[_count_key(outcome)] += 1
                    done.append(uid)
            except (OperationalError, InterfaceError) as problem:
                counts["failed"] += 1
                error = f"database unavailable, the rest stays in the mailbox: {problem}"
            finally:
                _settle(pending)  # the client is free again before this chunk is filed away
            _file_away(client, mailbox, done)
            if error:
                return error
    return ""


def _fetch(client, uids: list[int]) -> list[tuple[int, bytes]]:
    return [(uid, data.get(b"BODY[]") or b"") for uid, data in sorted(client.fetch(uids, ["BODY.PEEK[]"]).items())]


def _settle(pending: Future) -> None:
    """Wait for the prefetch under way (if any); its failure is raised where its result is taken, not here."""
    with contextlib.suppress(Exception):
        pending.result()


def _count_key(outcome: str) -> str:
    return {
        InboundEmail.Outcome.CREATED: "created",
        InboundEmail.Outcome.APPENDED: "appended",
        InboundEmail.Outcome.FAILED: "failed",
    }.get(outcome, "ignored")  # ignored and already received alike: nothing new was written


def poll_mailboxes(name: str | None = None) -> list[dict]:
    """Poll every active mailbox (or the one whose channel is called ``name``, active or not) once."""
    mailboxes = Mailbox.objects.select_related("intake_channel__default_queue", "intake_channel__default_type")
    mailboxes = (
        mailboxes.filter(intake_channel__name=name)
        if name
        else mailboxes.filter(is_active=True, intake_channel__is_active=True)
    )
    return [mailbox_poll(mailbox) for mailbox in mailboxes.order_by("pk")]


def poll_mailboxes_task() -> None:
    """The django-q2 schedule ``channels.poll_mailboxes`` (every minute)."""
    poll_mailboxes()
