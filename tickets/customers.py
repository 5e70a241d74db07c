"""Customers: find one by email or phone, create a first-time sender (with its own organisation), and the
internal record that internal tasks point to.

Re-exported by ``tickets.services`` (callers use ``services.customer_find_or_create``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from core import fastinsert
from core.rowcache import Precompiled
from tickets import organisations
from tickets.errors import TicketError
from tickets.models import Customer


def customer_find_or_create(*, name: str = "", email: str = "", phone: str = "", language: str = "") -> Customer:
    """The customer with this email (or else phone); a first-time sender becomes a new customer."""
    email = (email or "").strip().lower()
    phone = normalize_phone(phone)
    if not email and not phone:
        raise TicketError(_("A customer needs an email or a phone number."))
    customer = customer_find(email=email, phone=phone)
    if customer is not None:
        return customer
    return customer_create(name=name, email=email, phone=phone, language=language)


def customer_create(*, name: str = "", email: str = "", phone: str = "", language: str = "") -> Customer:
    """A new customer (in a new organisation of their own) for a sender the caller looked up and did not find.

    The unique email and phone constraints refuse a twin created meanwhile (``IntegrityError``).
    """
    email = (email or "").strip().lower()
    phone = normalize_phone(phone)
    if not email and not phone:
        raise TicketError(_("A customer needs an email or a phone number."))
    fields = {"name": (name or email or phone).strip()[:200], "email": email, "phone": phone}
    if language in ("ru", "en"):
        fields["language"] = language
    customer = Customer(**fields)
    # A contact always belongs to an organisation: its own one is written first, so the contact is one insert.
    # Without a savepoint: a twin refused by the unique constraints takes the organisation down with it.
    with transaction.atomic(savepoint=False):
        organisations.organisation_for_new_customer(customer)
        fastinsert.insert([customer])
    return customer


def internal_customer() -> Customer:
    """The one record internal tasks point to instead of a customer (created on first use)."""
    customer = Customer.objects.filter(is_internal=True).first()
    if customer is None:
        customer, _created = Customer.objects.get_or_create(is_internal=True, defaults={"name": "OpsDesk"})
    return customer


def customer_find(*, email: str = "", phone: str = "") -> Customer | None:
    """The existing customer with this email (case-insensitive), or else this phone; never creates one."""
    email = (email or "").strip()
    phone = normalize_phone(phone)
    customer = None
    if email:
        # UPPER(email) = UPPER(value): what ``iexact`` means, written so that the ``customer_email_upper`` index
        # serves it on SQLite too (there ``iexact`` is a LIKE, which reads the whole table).
        found = _BY_EMAIL.objects(email)
        customer = found[0] if found else None
    if customer is None and phone:
        customer = Customer.objects.filter(phone=phone).select_related("vip_tier").first()
    return customer


_BY_EMAIL = Precompiled(
    lambda email: (
        Customer.objects.alias(email_upper=Upper("email"))
        .filter(email_upper=Upper(Value(email)))
        .select_related("vip_tier")  # a new ticket copies the tier's queue priority (tickets.queue_priority)
        .order_by("pk")[:1]
    ),
    "\x00opsdesk-placeholder-email",
    prepare=True,
)


def normalize_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" + digits) if digits else ""
