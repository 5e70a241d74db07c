"""factory-boy factories for OpsDesk models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tickets import models as m
from tickets import workload
from tickets.queue_priority import queue_priority_of


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass12345")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            defaults = {"display_name": self.username.title(), "language": "en", **kwargs}
            m.Profile.objects.get_or_create(user=self, defaults=defaults)


class VipTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.VipTier
        django_get_or_create = ("name",)

    name = "Gold"
    rank = 1


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@client.example")


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Queue
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.QueueMembership

    queue = factory.SubFactory(QueueFactory)
    user = factory.SubFactory(UserFactory)
    role = m.QueueMembership.Role.AGENT


class TicketTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.TicketType
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Type {n}")
    slug = factory.Sequence(lambda n: f"type-{n}")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Ticket
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Ticket {n}")
    customer = factory.SubFactory(CustomerFactory)
    queue = factory.SubFactory(QueueFactory)
    ticket_type = factory.SubFactory(TicketTypeFactory)
    # What the ticket service copies from the customer's tier (tickets.queue_priority).
    vip_queue_priority = factory.LazyAttribute(lambda ticket: queue_priority_of(ticket.customer))

    @factory.post_generation
    def counted(ticket, create, extracted, **kwargs):
        """What ``ticket_create`` and ``ticket_assign`` do: an open ticket counts for its performer."""
        if create:
            workload.moved(None, workload.holder(ticket))


class IntakeChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.IntakeChannel

    name = factory.Sequence(lambda n: f"Gateway {n}")
    channel = m.Channel.EMAIL
    default_queue = factory.SubFactory(QueueFactory)
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
