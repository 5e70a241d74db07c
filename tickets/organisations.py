"""Customer organisations (seed 000): a contact belongs to one; the organisation holds the VIP tier, the
turnover and the account manager, and its contacts inherit them.

- ``organisation_for_new_customer``: a first-time contact gets an organisation of its own (named after it),
  which an admin may later merge by moving contacts to another organisation;
- ``organisation_sync_contacts``: copy what contacts inherit (``INHERITED_FIELDS`` and the tier) onto every
  contact, so ``Customer.vip_tier`` / ``Customer.account_manager`` stay the effective values the SLA,
  routing and escalations read.
"""

from __future__ import annotations

from django.db import transaction

from core import fastinsert
from tickets.models import INHERITED_FIELDS, Customer, Organisation
from tickets.queue_priority import refresh_queue_priority


def organisation_for_new_customer(customer: Customer) -> Organisation:
    """Give ``customer`` an organisation of its own (its name, its tier state) and return it.

    A customer not saved yet only gets it in memory (the caller's insert stores it).
    """
    organisation = fastinsert.create(
        Organisation,
        name=customer.name[:200],
        vip_tier_id=customer.vip_tier_id,
        **{field: getattr(customer, field) for field in INHERITED_FIELDS},
    )
    if customer.pk is not None:
        Customer.objects.filter(pk=customer.pk).update(organisation=organisation)
    customer.organisation = organisation
    return organisation


@transaction.atomic
def organisation_sync_contacts(organisation: Organisation) -> int:
    """Copy the organisation's inherited fields and tier onto all its contacts; returns how many changed."""
    values = {field: getattr(organisation, field) for field in INHERITED_FIELDS}
    contacts = Customer.objects.filter(organisation=organisation)
    changed = contacts.update(vip_tier_id=organisation.vip_tier_id, **values)
    refresh_queue_priority(customers=contacts.values("pk"))  # the queue order's first key, on their tickets
    return changed
