"""Demo data for development: people in every role, catalogues, customers and months of tickets.

``manage.py seed_demo [--tickets N] [--seed S]`` calls :func:`seed_demo`. Everything
here is for development databases only: the passwords (``opsdesk-demo``) and
the intake tokens are published in this file.

What it writes
    * users for every role (see ``DEMO_USERS``) with profiles and direct managers;
    * three queues with agents and a dispatcher, four ticket types, VIP tiers,
      about 200 customers with their orders, deals and contracts;
    * two intake channels with fixed development tokens (``DEMO_TOKENS``);
    * N tickets spread over the last 60 days, in every status, with
      conversations and history.

Idempotent
    Users, catalogues, customers and related objects are looked up by their
    natural keys and created only when missing (existing rows are left as an
    admin edited them). The intake channels get the documented tokens back on
    every run, so the printed tokens always work. Ticket number ``i`` of seed
    ``S`` is generated from its own random stream ``(S, i)`` and marked in its
    ``ticket.created`` history event (``demo_seed``, ``demo_index``); a run
    creates only the indices that are missing, so a second run with the same
    N creates nothing, a larger N tops up, and another seed adds its own set.

Fast
    The per-ticket services in ``tickets.services`` lock rows and write one
    row per call, far too slow for 100,000 tickets. The generator therefore
    writes consistent state directly: ``_Story`` mirrors what the services
    would write for each step (the same ticket fields and timestamps, the same
    ``Message`` rows and ``TicketEvent`` kinds and data, in order). Rows are
    plain dicts, not model instances, and go in by chunks of ``CHUNK``
    tickets with ``executemany`` inside one transaction; even ``bulk_create``
    spends most of its time compiling values field by field. Primary keys are
    reserved up front (``_reserve_ids``) so events can point at their
    messages. Columns come from the models' ``_meta``, so a field added later
    with a default needs no change here. 100,000 tickets take about 60 s of
    CPU on SQLite; 1,000 take about 2 s on PostgreSQL.

Extending
    Later seeders (SLA calendars and policies, escalation rules, ...) go into
    ``EXTRA_SEEDERS`` as dotted paths of callables ``seeder(ctx: DemoContext)``.
    They run after the base seed, inside the same transaction, and must be
    idempotent themselves. The building blocks (``seed_people``,
    ``seed_catalogue``, ``seed_customers``, ``seed_intake_channels``,
    ``seed_tickets``) are plain functions and can be called on their own.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.bulk import RowWriter as _RowWriter
from core.bulk import reserve_ids as _reserve_ids
from tickets import access
from tickets.models import (
    BlockingReason,
    Channel,
    Customer,
    IntakeChannel,
    Language,
    Message,
    Priority,
    Profile,
    Queue,
    QueueMembership,
    RelatedObject,
    Status,
    Ticket,
    TicketEvent,
    TicketType,
    VipTier,
)

DEMO_PASSWORD = "opsdesk-demo"  # development only, printed by seed_demo
DEMO_TOKENS = {"Email bridge": "demo-email-token", "Telegram bot": "demo-telegram-token"}  # development only
DEFAULT_TICKETS = 300
DEFAULT_SEED = 42
HISTORY_DAYS = 60
CHUNK = 5000  # tickets built in memory before each round of bulk inserts

# Dotted paths of ``seeder(ctx: DemoContext) -> None``, run after the base seed.
EXTRA_SEEDERS: list[str] = [
    "sla.demo.seed_demo_sla",
    "escalations.demo.seed_demo_escalations",
    "routing.demo.seed_demo_routing",
    "deferrals.demo.seed_demo_deferrals",  # pending and decided requests, through the services
    "reports.demo.seed_demo_reports",  # last: the report rollups of every clock seeded above
]

TZ = ZoneInfo("Asia/Almaty")


# --- People ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    label: str
    manager: str | None = None
    language: str = Language.RU
    superuser: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


DEMO_USERS: list[DemoUser] = [
    DemoUser("admin", "Алия", "Ахметова", access.ADMIN, "admin (superuser, Django admin)", superuser=True),
    DemoUser("dispatcher", "Дина", "Касымова", access.DISPATCHER, "dispatcher of all queues", manager="lead"),
    DemoUser("manager", "Марат", "Ержанов", access.MANAGER, "manager, direct manager of the engineers"),
    DemoUser("lead", "Ольга", "Ким", access.MANAGER, "shift lead, manages Service and Tech support", "manager"),
    DemoUser("aigerim", "Айгерим", "Сапарова", access.ENGINEER, "engineer: Sales, Service", "manager"),
    DemoUser("bekzat", "Бекзат", "Нурланов", access.ENGINEER, "engineer: Sales, Tech support", "manager"),
    DemoUser("sergey", "Сергей", "Волков", access.ENGINEER, "engineer: Sales, Service", "manager"),
    DemoUser("dana", "Dana", "Abenova", access.ENGINEER, "engineer: Sales, Service (English)", "manager", "en"),
    DemoUser("timur", "Тимур", "Жаксылыков", access.ENGINEER, "engineer: Sales, Tech support", "manager"),
]

# slug, English, Russian, queue manager, agents
DEMO_QUEUES: list[tuple[str, str, str, str, list[str]]] = [
    ("sales", "Sales", "Продажи", "manager", ["aigerim", "bekzat", "sergey", "dana", "timur"]),
    ("service", "Service", "Сервис", "lead", ["aigerim", "sergey", "dana"]),
    ("support", "Tech support", "Техподдержка", "lead", ["bekzat", "timur"]),
]


@dataclass(frozen=True)
class DemoType:
    slug: str
    name: str
    name_ru: str
    queue: str
    first_response_minutes: int
    resolution_hours: int
    around_the_clock: bool = False


# Targets from the domain guide (seed 001).
DEMO_TYPES: list[DemoType] = [
    DemoType("simple-question", "Simple question", "Простой вопрос", "sales", 30, 2),
    DemoType("standard-request", "Standard request", "Стандартный запрос", "service", 120, 24),
    DemoType(
        "complex-case", "Complex case (claims, returns)", "Сложный случай (претензии, возвраты)", "service", 240, 72
    ),
    DemoType("critical-incident", "Critical incident", "Критический инцидент", "support", 15, 4, True),
]

_TYPE_SPECS = {t.slug: t for t in DEMO_TYPES}

VIP_TIERS = [("Gold", 1), ("Platinum", 2), ("Diamond", 3)]


@dataclass
class DemoContext:
    """What the base seed produced; handed to ``EXTRA_SEEDERS``."""

    seed: int
    now: datetime
    users: dict[str, object] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    ticket_types: dict[str, TicketType] = field(default_factory=dict)
    reasons: dict[str, BlockingReason] = field(default_factory=dict)
    vip_tiers: dict[str, VipTier] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    related: dict[int, dict[str, list[RelatedObject]]] = field(default_factory=dict)
    intake_channels: dict[str, IntakeChannel] = field(default_factory=dict)
    agents: dict[str, list] = field(default_factory=dict)
    managers: dict[int, object] = field(default_factory=dict)  # user id -> direct manager (approver)


@dataclass
class SeedResult:
    users_created: int = 0
    customers_created: int = 0
    related_created: int = 0
    tickets_created: int = 0
    tickets_present: int = 0
    seconds: float = 0.0
    context: DemoContext | None = None


def seed_people(ctx: DemoContext) -> int:
    """The demo users with their role groups and profiles; returns how many users were created."""
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing nine times costs seconds
    groups = {g.name: g for g in Group.objects.filter(name__in=access.ROLES)}
    created_count = 0
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@opsdesk.example",
                "password": password,
                "is_staff": spec.superuser,
                "is_superuser": spec.superuser,
            },
        )
        created_count += created
        user.groups.add(groups[spec.role])
        ctx.users[spec.username] = user
    for spec in DEMO_USERS:
        user = ctx.users[spec.username]
        profile, _ = Profile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": spec.display_name,
                "time_zone": "Asia/Almaty",
                "language": spec.language,
                "manager": ctx.users.get(spec.manager) if spec.manager else None,
            },
        )
        user.profile = profile
    by_pk = {u.pk: u for u in ctx.users.values()}
    for user in ctx.users.values():
        manager = by_pk.get(user.profile.manager_id)
        if manager is not None:
            ctx.managers[user.pk] = manager
    return created_count


def seed_catalogue(ctx: DemoContext) -> None:
    """Queues with memberships, ticket types, VIP tiers; blocking reasons come with every installation."""
    for slug, name, name_ru, manager, agents in DEMO_QUEUES:
        queue, _ = Queue.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_ru": name_ru, "manager": ctx.users[manager]}
        )
        ctx.queues[slug] = queue
        for username in agents:
            QueueMembership.objects.get_or_create(
                queue=queue, user=ctx.users[username], role=QueueMembership.Role.AGENT
            )
        QueueMembership.objects.get_or_create(
            queue=queue, user=ctx.users["dispatcher"], role=QueueMembership.Role.DISPATCHER
        )
    for spec in DEMO_TYPES:
        defaults = {"name": spec.name, "name_ru": spec.name_ru, "default_queue": ctx.queues[spec.queue]}
        ticket_type, _ = TicketType.objects.get_or_create(slug=spec.slug, defaults=defaults)
        ctx.ticket_types[spec.slug] = ticket_type
    for name, rank in VIP_TIERS:
        ctx.vip_tiers[name], _ = VipTier.objects.get_or_create(name=name, defaults={"rank": rank})
    from tickets.catalogue import ensure_blocking_reasons

    ensure_blocking_reasons(BlockingReason)
    ctx.reasons = {r.code: r for r in BlockingReason.objects.all()}
    # Demo tickets go to the demo agents of each queue (all of them members, see above).
    for slug, _name, _name_ru, _manager, agents in DEMO_QUEUES:
        ctx.agents[slug] = [ctx.users[name] for name in agents]


# --- Customers --------------------------------------------------------------------------------

_COMPANY_NAMES = [
    "Алтын Дала", "Береке Трейд", "Нур Логистик", "Самал Групп", "Каспий Энерго", "Жетысу Агро",
    "Тенгри Фудс", "Арман Строй", "Шаңырақ Мебель", "Атамекен Сервис", "Кокше Молоко", "Алатау Телеком",
    "Сарыарка Металл", "Астана Фарм", "Медеу Девелопмент", "Иртыш Транс", "Ақ Бидай", "Туран Электроникс",
    "Достык Ритейл", "Байтерек Консалт", "Сункар Авто", "Хан Тенгри Тур", "Орда Принт", "Нұрлы Жол Логистикс",
]
_COMPANY_FORMS = ["ТОО", "АО", "ТОО", "ТОО", "ИП"]
_EN_COMPANIES = [
    "Steppe Logistics LLP", "Silk Way Trading", "Caspian Energy Services", "Tengri Foods International",
    "Almaty Design Studio", "Eurasia Office Supply", "Nomad Coffee Roasters", "Great Steppe Travel",
    "Skyline Fitness Almaty", "Blue Lake Pharma",
]
_RU_MALE = ["Асхат", "Ерлан", "Нурлан", "Данияр", "Алексей", "Дмитрий", "Игорь", "Руслан", "Ержан", "Максим"]
_RU_FEMALE = ["Айгуль", "Жанна", "Мадина", "Алина", "Екатерина", "Наталья", "Салтанат", "Гульнара", "Асель", "Ольга"]
_RU_SURNAMES = [
    "Абдрахманов", "Жумабаев", "Искаков", "Касымов", "Петров", "Смирнов", "Омаров", "Сейткалиев",
    "Байжанов", "Кузнецов", "Тлеубаев", "Мухамедов", "Есенов", "Попов",
]
_EN_FIRST = ["John", "Emma", "Michael", "Sarah", "David", "Laura", "James", "Anna", "Peter", "Kate"]
_EN_LAST = ["Miller", "Clarke", "Johnson", "Brown", "Wilson", "Taylor", "Evans", "Walker"]
_PHONE_PREFIXES = ["700", "701", "702", "705", "707", "747", "771", "775", "777", "778"]

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        [
            "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
            "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "a", "g", "k", "n", "o", "u", "u", "h",
            "i",
        ],
        strict=True,
    )
)


def _slug(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


@dataclass(frozen=True)
class CustomerSpec:
    name: str
    email: str
    phone: str
    language: str
    vip: str | None
    company: bool


def customer_specs(count: int = 200) -> list[CustomerSpec]:
    """The demo customers: always the same list, whatever the ticket seed."""
    rng = random.Random("opsdesk-demo-customers")
    specs, emails, phones = [], set(), set()
    companies = list(_COMPANY_NAMES)
    en_companies = list(_EN_COMPANIES)
    for k in range(count):
        roll = rng.random()
        if roll < 0.35 and companies:
            base = companies.pop(rng.randrange(len(companies)))
            form = rng.choice(_COMPANY_FORMS)
            name, language, company = f"{form} «{base}»", Language.RU, True
            local, domain = rng.choice(["info", "office", "zakaz", "buh"]), f"{_slug(base)}.example"
        elif roll < 0.45 and en_companies:
            name = en_companies.pop(rng.randrange(len(en_companies)))
            language, company = Language.EN, True
            local = rng.choice(["info", "office", "orders"])
            domain = f"{_slug(''.join(name.split()[:2]))}.example"
        elif roll < 0.88:
            male = rng.random() < 0.5
            first = rng.choice(_RU_MALE if male else _RU_FEMALE)
            last = rng.choice(_RU_SURNAMES)
            if not male:
                last += "а"
            name, language, company = f"{first} {last}", Language.RU, False
            local, domain = f"{_slug(first)}.{_slug(last)}", rng.choice(["mail.example", "inbox.example"])
        else:
            first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
            name, language, company = f"{first} {last}", Language.EN, False
            local, domain = f"{first}.{last}".lower(), "post.example"
        email = f"{local}@{domain}"
        if email in emails:
            email = f"{local}{k}@{domain}"
        emails.add(email)
        phone = ""
        while not phone or phone in phones:
            phone = "+7" + rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        phones.add(phone)
        vip_roll = rng.random() * (2 if company else 5)
        vip = "Diamond" if vip_roll < 0.04 else "Platinum" if vip_roll < 0.10 else "Gold" if vip_roll < 0.22 else None
        specs.append(CustomerSpec(name, email, phone, language, vip, company))
    return specs


_PRODUCTS = [
    ("ноутбук Lenovo ThinkPad E14", "Lenovo ThinkPad E14 laptop"),
    ("кондиционер Midea 12000 BTU", "Midea 12000 BTU air conditioner"),
    ("холодильник Samsung RB34", "Samsung RB34 fridge"),
    ("принтер HP LaserJet M428", "HP LaserJet M428 printer"),
    ("смартфон Samsung Galaxy A55", "Samsung Galaxy A55 phone"),
    ("кофемашина DeLonghi Magnifica", "DeLonghi Magnifica coffee machine"),
    ("монитор Dell P2423", "Dell P2423 monitor"),
    ("ИБП APC Back-UPS 1500", "APC Back-UPS 1500 UPS"),
]


def seed_customers(ctx: DemoContext, count: int = 200) -> tuple[int, int]:
    """Customers (natural key: email) and their orders, deals and contracts; returns (customers, objects) created."""
    specs = customer_specs(count)
    taken_emails = set(Customer.objects.filter(email__in=[s.email for s in specs]).values_list("email", flat=True))
    taken_phones = set(Customer.objects.filter(phone__in=[s.phone for s in specs]).values_list("phone", flat=True))
    created_at = ctx.now - timedelta(days=HISTORY_DAYS + 300)
    rng = random.Random("opsdesk-demo-customer-dates")
    new = [
        Customer(
            name=s.name,
            email=s.email,
            phone=s.phone,
            language=s.language,
            vip_tier=ctx.vip_tiers[s.vip] if s.vip else None,
            created_at=created_at + timedelta(days=rng.randrange(300)),
        )
        for s in specs
        if s.email not in taken_emails and s.phone not in taken_phones
    ]
    Customer.objects.bulk_create(new)
    by_email = {c.email: c for c in Customer.objects.filter(email__in=[s.email for s in specs])}
    ctx.customers = [by_email[s.email] for s in specs if s.email in by_email]

    wanted = []
    rng = random.Random("opsdesk-demo-objects")
    for k, spec in enumerate(specs):
        customer = by_email.get(spec.email)
        if customer is None:
            continue
        for j in range(1 + rng.randrange(3)):
            product_ru, product_en = rng.choice(_PRODUCTS)
            title = f"Заказ: {product_ru}" if spec.language == Language.RU else f"Order: {product_en}"
            wanted.append((RelatedObject.Kind.ORDER, f"ORD-{24000 + k * 10 + j}", title, customer))
        if spec.company or rng.random() < 0.2:
            title = "Договор поставки" if spec.language == Language.RU else "Supply contract"
            wanted.append((RelatedObject.Kind.CONTRACT, f"CTR-2025-{k:03d}", title, customer))
        if rng.random() < 0.4:
            title = "Сделка: оснащение офиса" if spec.language == Language.RU else "Deal: office equipment"
            wanted.append((RelatedObject.Kind.DEAL, f"DEAL-{3000 + k}", title, customer))
    existing = set(
        RelatedObject.objects.filter(external_ref__in=[w[1] for w in wanted]).values_list("kind", "external_ref")
    )
    new_objects = [
        RelatedObject(kind=kind, external_ref=ref, title=title, customer=customer)
        for kind, ref, title, customer in wanted
        if (kind, ref) not in existing
    ]
    RelatedObject.objects.bulk_create(new_objects)
    ctx.related = {}
    for obj in RelatedObject.objects.filter(customer__in=ctx.customers).order_by("kind", "external_ref"):
        ctx.related.setdefault(obj.customer_id, {}).setdefault(obj.kind, []).append(obj)
    return len(new), len(new_objects)


def seed_intake_channels(ctx: DemoContext) -> None:
    """The email bridge and the Telegram bot, always with the documented development tokens."""
    specs = {
        "Email bridge": (Channel.EMAIL, "service", "standard-request"),
        "Telegram bot": (Channel.MESSENGER, "sales", "simple-question"),
    }
    for name, (channel, queue, ticket_type) in specs.items():
        obj = IntakeChannel.objects.filter(name=name).first() or IntakeChannel(
            name=name,
            channel=channel,
            default_queue=ctx.queues[queue],
            default_type=ctx.ticket_types[ticket_type],
        )
        obj.set_token(DEMO_TOKENS[name])
        obj.is_active = True
        obj.revoked_at = None
        obj.save()
        ctx.intake_channels[name] = obj


# --- Ticket texts ---------------------------------------------------------------------------------

RU, EN = 0, 1


@dataclass(frozen=True)
class Scenario:
    queue: str
    ticket_type: str
    title: tuple[str, str]
    body: tuple[str, str]
    resolution: tuple[str, str]
    reasons: tuple[str, ...]
    object_kind: str | None = None


SCENARIOS: list[Scenario] = [
    Scenario(
        "sales", "simple-question",
        ("Счёт на оплату по заказу {order}", "Invoice for order {order}"),
        ("Добрый день! Выставьте, пожалуйста, счёт на нашу организацию по заказу {order}. Реквизиты прежние.",
         "Hello! Could you please issue an invoice for order {order}? Our company details are the same as before."),
        ("Счёт по заказу {order} отправлен вам на почту, срок оплаты 5 банковских дней.",
         "The invoice for order {order} has been emailed to you; payment is due within 5 business days."),
        ("customer", "payment"), "order",
    ),
    Scenario(
        "sales", "simple-question",
        ("Есть ли в наличии {product}?", "Is the {product} in stock?"),
        ("Здравствуйте. Подскажите, есть ли {product} на складе в Алматы и сколько ждать доставку?",
         "Hi, is the {product} in stock in Almaty, and how long does delivery take?"),
        ("{product_cap} есть на складе, доставка по Алматы на следующий рабочий день.",
         "The {product} is in stock; delivery within Almaty takes one business day."),
        ("no-stock", "customer"),
    ),
    Scenario(
        "sales", "standard-request",
        ("Скидка при заказе от {qty} штук", "Volume discount for {qty}+ units"),
        ("Планируем закупить {qty} шт. ({product}). Какую скидку можете предложить? Нужен ответ до пятницы.",
         "We plan to buy {qty} units of the {product}. What discount can you offer? We need an answer by Friday."),
        ("Согласовали скидку 7 % на партию от {qty} штук, коммерческое предложение во вложении.",
         "We can offer a 7% discount for {qty}+ units; the quote is attached."),
        ("manager-decision", "customer"), "deal",
    ),
    Scenario(
        "sales", "standard-request",
        ("Изменить адрес доставки заказа {order}", "Change the delivery address of order {order}"),
        ("Добрый день, по заказу {order} нужно изменить адрес доставки: пр. Абая 150, офис 12.",
         "Hello, please change the delivery address of order {order} to 150 Abai Avenue, office 12."),
        ("Адрес доставки по заказу {order} изменён, курьер предупреждён.",
         "The delivery address of order {order} is updated and the courier is informed."),
        ("customer",), "order",
    ),
    Scenario(
        "sales", "simple-question",
        ("Коммерческое предложение на {product}", "Quote for the {product}"),
        ("Просим направить КП на {product}, {qty} шт., с доставкой в Астану.",
         "Please send us a quote for {qty} units of the {product}, delivered to Astana."),
        ("Коммерческое предложение отправлено на почту, цены действительны 10 дней.",
         "The quote has been emailed to you; prices are valid for 10 days."),
        ("customer", "no-stock"), "deal",
    ),
    Scenario(
        "service", "complex-case",
        ("Возврат: {product}, заказ {order}", "Return: {product}, order {order}"),
        ("Хотим вернуть {product} по заказу {order}: не подошёл по характеристикам, упаковка целая.",
         "We would like to return the {product} from order {order}: it does not fit our needs, the box is unopened."),
        ("Возврат оформлен, деньги в размере {amount} ₸ вернутся на счёт в течение 3 рабочих дней.",
         "The return is processed; {amount} KZT will be refunded within 3 business days."),
        ("documents", "manager-decision", "customer"), "order",
    ),
    Scenario(
        "service", "complex-case",
        ("Претензия: товар пришёл повреждённым", "Claim: the item arrived damaged"),
        ("Получили {product} по заказу {order}, корпус треснул. Фото прилагаем. Требуем замену.",
         "We received the {product} from order {order} with a cracked case. Photos attached. We want a replacement."),
        ("Претензию признали обоснованной, замена отправлена, трек-номер в письме.",
         "We accepted the claim; a replacement is on its way, the tracking number is in the email."),
        ("documents", "no-stock", "manager-decision"), "order",
    ),
    Scenario(
        "service", "standard-request",
        ("Гарантийный ремонт: {product}", "Warranty repair: {product}"),
        ("{product_cap} перестал включаться через два месяца после покупки. Как сдать в гарантийный ремонт?",
         "The {product} stopped turning on two months after purchase. How do we send it for warranty repair?"),
        ("Ремонт выполнен по гарантии, устройство можно забрать в сервисном центре на Сатпаева, 30.",
         "The repair was done under warranty; you can collect the device at the service centre, 30 Satpayev St."),
        ("documents", "no-stock", "customer"), "order",
    ),
    Scenario(
        "service", "standard-request",
        ("Нет закрывающих документов за {month}", "Missing closing documents for {month}"),
        ("Не получили акт и счёт-фактуру за {month} по договору {contract}. Бухгалтерия ждёт.",
         "We have not received the certificate of completion and the invoice for {month} under contract {contract}."),
        ("Документы за {month} подписаны ЭЦП и отправлены через ЭСФ.",
         "The documents for {month} are signed and sent through the e-invoicing system."),
        ("documents", "customer"), "contract",
    ),
    Scenario(
        "service", "standard-request",
        ("Задерживается доставка заказа {order}", "Delivery of order {order} is late"),
        ("Заказ {order} должны были привезти вчера, но никто не приехал и не позвонил.",
         "Order {order} was due yesterday, but nobody came or called."),
        ("Заказ {order} доставлен сегодня, приносим извинения за задержку.",
         "Order {order} was delivered today; we apologise for the delay."),
        ("no-stock", "customer"), "order",
    ),
    Scenario(
        "service", "complex-case",
        ("Замена по гарантии: {product}", "Warranty replacement: {product}"),
        ("Третий раз ломается {product}. Просим заменить на новый или вернуть деньги.",
         "The {product} has broken for the third time. Please replace it or refund us."),
        ("Согласована замена на новое устройство, его привезут в четверг.",
         "A replacement with a new unit is approved; it will be delivered on Thursday."),
        ("manager-decision", "no-stock", "documents"), "order",
    ),
    Scenario(
        "support", "critical-incident",
        ("Не работает личный кабинет", "The customer portal is down"),
        ("Личный кабинет не открывается с утра, у всех сотрудников ошибка 502. Стоит работа!",
         "The customer portal has been down since this morning; everyone gets error 502. Work has stopped!"),
        ("Сбой устранён: перезапустили балансировщик, кабинет работает. Разбор причин пришлём отдельно.",
         "Fixed: the load balancer was restarted and the portal works. A root-cause review will follow."),
        ("customer",),
    ),
    Scenario(
        "support", "critical-incident",
        ("Ошибка оплаты картой на сайте", "Card payments fail on the website"),
        ("Клиенты не могут оплатить картой: после ввода кода 3-D Secure страница зависает.",
         "Customers cannot pay by card: the page hangs after the 3-D Secure code."),
        ("Платёжный шлюз восстановлен, оплаты проходят. Проверили на тестовой карте.",
         "The payment gateway is back; payments go through, checked with a test card."),
        ("customer",),
    ),
    Scenario(
        "support", "standard-request",
        ("Не приходят SMS с кодом", "Verification SMS do not arrive"),
        ("Не приходит SMS с кодом подтверждения на номер {phone}.",
         "The verification SMS does not arrive at {phone}."),
        ("Номер был в стоп-листе оператора, убрали, SMS приходят.",
         "The number was on the carrier's block list; it is removed and messages arrive now."),
        ("customer",),
    ),
    Scenario(
        "support", "simple-question",
        ("Как выгрузить отчёт в Excel", "How to export a report to Excel"),
        ("Подскажите, как выгрузить отчёт по заказам за {month} в Excel?",
         "How can I export the orders report for {month} to Excel?"),
        ("Отчёты → Заказы → выбрать период → кнопка «Экспорт в Excel». Инструкцию со скриншотами отправили.",
         "Reports → Orders → pick the period → “Export to Excel”. We sent you a guide with screenshots."),
        ("customer",),
    ),
    Scenario(
        "support", "critical-incident",
        ("Сбой интеграции с 1С", "1C integration failure"),
        ("С ночи не выгружаются заказы в 1С, на складе не видят новые заявки.",
         "Since last night orders are not exported to 1C; the warehouse does not see new orders."),
        ("Обновили сертификат обмена, очередь выгрузки обработана, заказы в 1С.",
         "The exchange certificate was renewed, the export queue is processed and orders are in 1C."),
        ("customer", "manager-decision"),
    ),
    Scenario(
        "support", "simple-question",
        ("Сброс пароля для сотрудника", "Password reset for an employee"),
        ("Сотрудник забыл пароль от личного кабинета, сбросьте, пожалуйста.",
         "One of our employees forgot the portal password, please reset it."),
        ("Пароль сброшен, ссылка для входа отправлена сотруднику на почту.",
         "The password is reset and a sign-in link was emailed to the employee."),
        ("customer",),
    ),
]

ACKS = [
    ("Здравствуйте! Спасибо за обращение, взяли в работу. Вернёмся с ответом сегодня.",
     "Hello! Thank you for reaching out, we are on it and will get back to you today."),
    ("Добрый день! Заявка принята, разбираемся.", "Good afternoon! Your request is received, we are looking into it."),
    ("Здравствуйте, {customer}! Уже проверяем, скоро напишу.",
     "Hello {customer}, we are checking it now; I will write soon."),
]
DISPATCH_ACKS = [
    ("Здравствуйте! Обращение зарегистрировано, передаём специалисту.",
     "Hello! Your request is registered and passed to a specialist."),
]
ASKS = {
    "customer": [
        ("Уточните, пожалуйста, номер заказа и удобное время для звонка.",
         "Could you confirm the order number and a convenient time for a call?"),
        ("Пришлите, пожалуйста, скриншот ошибки и точное время, когда она появилась.",
         "Please send a screenshot of the error and the exact time it appeared."),
    ],
    "documents": [
        ("Для оформления пришлите, пожалуйста, скан накладной и фото упаковки.",
         "To proceed, please send a scan of the waybill and a photo of the packaging."),
        ("Нужно заявление на бланке организации с подписью и печатью.",
         "We need a signed request on your company letterhead."),
    ],
    "payment": [
        ("Счёт выставлен, после поступления оплаты сразу отгрузим.",
         "The invoice is issued; we ship as soon as the payment arrives."),
    ],
}
REASON_NOTES = {
    "no-stock": [
        ("Товара нет на складе, поставка ожидается в четверг.", "Out of stock, delivery expected on Thursday."),
    ],
    "manager-decision": [
        ("Клиент просит нестандартные условия, нужно решение руководителя.",
         "The customer asks for non-standard terms; a manager's decision is needed."),
    ],
    "customer": [("Ждём ответа клиента.", "Waiting for the customer's answer.")],
    "documents": [("Ждём документы от клиента.", "Waiting for the customer's documents.")],
    "payment": [("Ждём оплату по счёту.", "Waiting for the invoice to be paid.")],
}
RESUMES = {
    "no-stock": ("Товар поступил на склад, продолжаю.", "Stock arrived, continuing."),
    "manager-decision": ("Руководитель дал добро, продолжаю.", "The manager agreed, continuing."),
}
WORK_NOTES = [
    ("Позвонил клиенту, не дозвонился, попробую после обеда.", "Called the customer, no answer; will try after lunch."),
    ("Проверил в 1С: оплата поступила.", "Checked 1C: the payment has arrived."),
    ("Созвонился с клиентом, договорились о следующем шаге.", "Talked to the customer, agreed on the next step."),
    ("Похоже на повторяющуюся проблему, стоит завести задачу на разбор причин.",
     "Looks like a recurring problem; worth a root-cause task."),
    ("Уточнил у склада сроки, ответ до конца дня.", "Asked the warehouse for dates; answer by end of day."),
]
CUSTOMER_FOLLOWUPS = [
    ("Когда будет ответ? Жду уже второй день.", "When can I expect an answer? I have been waiting for two days."),
    ("Добавлю: проблема повторилась сегодня утром.", "One more thing: it happened again this morning."),
    ("Спасибо, жду.", "Thanks, waiting."),
]
CUSTOMER_ANSWERS = [
    ("Отправил документы, посмотрите, пожалуйста.", "I have sent the documents, please take a look."),
    ("Номер заказа {order}, звонить можно после 14:00.", "The order number is {order}; call after 2 pm."),
    ("Оплатили, платёжка во вложении.", "Paid, the payment slip is attached."),
]
FOLLOWUP_REPLIES = [
    ("Спасибо, получили. Работаем, сообщим о результате.", "Thank you, received. We are on it and will report back."),
    ("Извините за ожидание, вопрос на контроле у руководителя.",
     "Sorry for the wait; your request is under a manager's control."),
]
APPROVAL_NOTES = [
    ("Прошу согласовать: клиент просит компенсацию {amount} ₸.", "Please approve: the customer asks for {amount} KZT."),
    ("Нестандартный случай, нужно решение руководителя по условиям.",
     "Non-standard case; needs a manager's decision on the terms."),
]
APPROVED = [("Согласовано.", "Approved."), ("Согласовано, но в последний раз.", "Approved, as an exception.")]
CUSTOMER_CANCELS = [
    ("Вопрос больше не актуален, спасибо.", "This is no longer needed, thank you."),
    ("Решили сами, заявку можно закрыть.", "We sorted it out ourselves; you can close the request."),
]
CANCEL_COMMENTS = [
    ("Дубль обращения.", "Duplicate request."),
    ("Клиент отказался.", "The customer withdrew the request."),
    ("Ошибочное обращение.", "Opened by mistake."),
]
CANCEL_REPLIES = [
    ("Хорошо, закрываем заявку. Обращайтесь!", "All right, we are closing the request. Get in touch any time!"),
]
NEXT_STEPS = [
    ("Позвонить клиенту и подтвердить сроки", "Call the customer to confirm the dates"),
    ("Получить ответ склада", "Get the warehouse's answer"),
    ("Отправить клиенту итоговое решение", "Send the customer the final decision"),
    ("Напомнить клиенту о документах", "Remind the customer about the documents"),
    ("Проверить, прошла ли оплата", "Check whether the payment has arrived"),
]
_MONTHS = [
    ("январь", "January"), ("февраль", "February"), ("март", "March"), ("апрель", "April"), ("май", "May"),
    ("июнь", "June"), ("июль", "July"), ("август", "August"), ("сентябрь", "September"), ("октябрь", "October"),
    ("ноябрь", "November"), ("декабрь", "December"),
]

_CHANNELS = [Channel.EMAIL, Channel.MESSENGER, Channel.WEB, Channel.PHONE, Channel.PORTAL]
_CHANNEL_WEIGHTS = [35, 25, 15, 15, 10]
_FORCED = [Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.ON_APPROVAL, Status.DONE,
           Status.CANCELED]
_STATUS_WEIGHTS = {  # by the ticket's age: recent tickets are mostly open, old ones mostly closed
    "recent": [18, 16, 28, 12, 6, 16, 4],
    "week": [4, 6, 18, 14, 7, 45, 6],
    "old": [1, 1, 4, 4, 2, 80, 8],
}


# --- The story of one ticket ------------------------------------------------------------------------


class _TicketRow:
    """The columns of one ticket being generated (a model instance costs too much at 100,000 tickets)."""

    __slots__ = (
        "approver", "blocking_reason", "canceled_at", "channel", "created_at", "created_by", "customer", "deadline",
        "description", "done_at", "first_public_reply_at", "next_step", "next_step_due", "owner", "performer", "pk",
        "priority", "queue", "related_object", "status", "status_changed_at", "ticket_type", "title", "updated_at",
    )

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def values(self) -> dict:
        def pk(obj):
            return None if obj is None else obj.pk

        return {
            "id": self.pk,
            "title": self.title,
            "description": self.description,
            "customer_id": self.customer.pk,
            "related_object_id": pk(self.related_object),
            "queue_id": self.queue.pk,
            "ticket_type_id": pk(self.ticket_type),
            "channel": self.channel,
            "priority": int(self.priority),
            "status": str(self.status),
            "blocking_reason_id": pk(self.blocking_reason),
            "owner_id": pk(self.owner),
            "performer_id": pk(self.performer),
            "approver_id": pk(self.approver),
            "deadline": self.deadline,
            "next_step": self.next_step or "",
            "next_step_due": self.next_step_due,
            "created_by_id": pk(self.created_by),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status_changed_at": self.status_changed_at,
            "first_public_reply_at": self.first_public_reply_at,
            "done_at": self.done_at,
            "canceled_at": self.canceled_at,
        }


class _Story:
    """One ticket's life, written the way ``tickets.services`` would write it, without touching the database.

    Messages and events are column dicts; ``ticket_id``, message ids and the
    ``message`` key of event data are filled in when ids are reserved.
    """

    def __init__(self, ticket: _TicketRow, refs: dict):
        self.ticket = ticket
        self.refs = refs
        self.messages: list[dict] = []
        self.events: list[dict] = []
        self.links: list[tuple[dict, dict]] = []  # (event data, message) for "message": <id>
        self.observers: list = []
        self.last = ticket.created_at

    def _event(self, kind: str, actor, at: datetime, **data) -> dict:
        self.events.append({"actor_id": None if actor is None else actor.pk, "kind": kind, "data": data,
                            "created_at": at})
        self.last = at
        return data

    def _message(self, kind: str, at: datetime, body: str, *, author=None, customer=None, channel=Channel.PORTAL,
                 intake=None) -> dict:
        message = {
            "kind": str(kind), "channel": str(channel), "author_id": None if author is None else author.pk,
            "customer_id": None if customer is None else customer.pk, "body": body,
            "intake_channel_id": None if intake is None else intake.pk, "external_id": "", "created_at": at,
        }
        self.messages.append(message)
        return message

    def _ref(self, user):
        return None if user is None else self.refs[user.pk]

    # Each method mirrors the service of the same name.
    def create(self, *, demo_seed: int, demo_index: int, intake) -> None:
        t = self.ticket
        self._event(
            "ticket.created", t.created_by, t.created_at, channel=str(t.channel), queue=t.queue.slug,
            priority=int(t.priority), deadline=t.deadline.isoformat() if t.deadline else None,
            demo_seed=demo_seed, demo_index=demo_index,
        )
        self._message(
            Message.Kind.INBOUND, t.created_at, t.description, customer=t.customer, channel=t.channel,
            author=t.created_by if t.channel == Channel.PHONE else None, intake=intake,
        )

    def _status(self, at, status, actor, *, reason=None, comment="", cause="") -> None:
        t = self.ticket
        old = t.status
        t.status = status
        t.status_changed_at = at
        t.blocking_reason = reason if status == Status.WAITING else None
        if status == Status.DONE:
            t.done_at = at
        elif status == Status.CANCELED:
            t.canceled_at = at
        data = {"from": str(old), "to": str(status)}
        if reason is not None:
            data["reason"] = reason.code
        if comment:
            data["comment"] = comment
        if cause:
            data["cause"] = cause
        self._event("ticket.status_changed", actor, at, **data)

    def assign(self, at, *, performer, actor) -> None:
        t = self.ticket
        previous = t.performer
        t.performer = performer
        if t.owner is None:
            t.owner = performer
        self._event("ticket.assigned", actor, at, performer=self._ref(performer), previous=self._ref(previous))
        if t.status == Status.NEW:
            self._status(at, Status.ASSIGNED, actor)

    def reply(self, at, *, body, actor) -> None:
        t = self.ticket
        channel = t.channel if t.channel in (Channel.EMAIL, Channel.MESSENGER) else Channel.PORTAL
        message = self._message(Message.Kind.PUBLIC_REPLY, at, body, author=actor, channel=channel)
        first = t.first_public_reply_at is None
        if first:
            t.first_public_reply_at = at
        self.links.append((self._event("ticket.replied", actor, at, message=None, first=first), message))
        if t.status == Status.ASSIGNED and t.performer is not None and actor.pk == t.performer.pk:
            self._status(at, Status.IN_PROGRESS, actor, cause="reply")

    def add_note(self, at, *, body, actor) -> None:
        message = self._message(Message.Kind.INTERNAL_NOTE, at, body, author=actor)
        self.links.append((self._event("ticket.noted", actor, at, message=None), message))

    def receive_customer_message(self, at, *, body, intake) -> None:
        t = self.ticket
        message = self._message(Message.Kind.INBOUND, at, body, customer=t.customer, channel=t.channel, intake=intake)
        data = self._event("ticket.customer_wrote", None, at, message=None, channel=str(t.channel))
        self.links.append((data, message))
        if t.status == Status.WAITING and t.blocking_reason is not None and t.blocking_reason.waits_for_customer:
            self._status(at, Status.IN_PROGRESS, None, cause="customer_message")

    def change_status(self, at, *, status, actor, reason=None, comment="") -> None:
        self._status(at, status, actor, reason=reason, comment=comment)

    def set_approver(self, at, *, approver, actor) -> None:
        t = self.ticket
        self._event("ticket.approver_changed", actor, at, previous=self._ref(t.approver), to=self._ref(approver))
        t.approver = approver

    def set_next_step(self, at, *, text, due, actor) -> None:
        self.ticket.next_step = text
        self.ticket.next_step_due = due
        self._event("ticket.next_step_set", actor, at, text=text, due=due.isoformat())


def _snap_to_work(at: datetime, rng: random.Random) -> datetime:
    """Move a staff action that falls at night or on a weekend to the next working morning (Almaty)."""
    local = at.astimezone(TZ)
    if local.weekday() < 5 and 9 <= local.hour < 19:
        return at
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, 9, tzinfo=TZ) + timedelta(minutes=rng.randrange(5, 50))
    return morning.astimezone(at.tzinfo)


class _Plan:
    """A list of steps with delays; times are fixed first (and squeezed before *now*), then applied in order."""

    def __init__(self, start: datetime, rng: random.Random):
        self.start = start
        self.rng = rng
        self.steps: list[tuple[float, bool, Callable[[datetime], None]]] = []

    def add(self, minutes: float, staff: bool, action: Callable[[datetime], None]) -> None:
        self.steps.append((max(int(minutes * 60), 60), staff, action))

    def _times(self, snap: bool) -> list[datetime]:
        times, at = [], self.start
        for seconds, staff, _action in self.steps:
            at = at + timedelta(seconds=seconds)
            if staff and snap:
                at = _snap_to_work(at, self.rng)
            times.append(at)
        return times

    def run(self, limit: datetime) -> None:
        times = self._times(snap=True)
        if times and times[-1] > limit:  # a recent ticket: staff worked off hours rather than in the future
            times = self._times(snap=False)
        if times and times[-1] > limit:
            room, span = (limit - self.start).total_seconds(), (times[-1] - self.start).total_seconds()
            times = [self.start + timedelta(seconds=int((t - self.start).total_seconds() * room / span)) for t in times]
        for at, (_s, _staff, action) in zip(times, self.steps, strict=True):
            action(at)


def _texts(pairs, lang: int, rng: random.Random, **values) -> str:
    return rng.choice(pairs)[lang].format(**values)


def _build_ticket(ctx: DemoContext, refs: dict, seed: int, index: int) -> _Story:
    rng = random.Random(f"opsdesk-demo:{seed}:{index}")
    now = ctx.now
    users = ctx.users
    dispatcher = users["dispatcher"]

    # When, and therefore (mostly) how far the ticket got.
    if index < len(_FORCED):
        age = timedelta(hours=rng.uniform(6, 72))
        status = _FORCED[index]
    else:
        age = timedelta(days=rng.uniform(0, HISTORY_DAYS))
        bucket = "recent" if age < timedelta(days=2) else "week" if age < timedelta(days=10) else "old"
        status = rng.choices(_FORCED, weights=_STATUS_WEIGHTS[bucket])[0]
    created = now - age
    if rng.random() < 0.75:  # most requests arrive in office hours
        local = created.astimezone(TZ)
        created = local.replace(hour=rng.randrange(9, 19), minute=rng.randrange(60)).astimezone(created.tzinfo)
        if created > now - timedelta(minutes=30):
            created -= timedelta(days=1)
    created = min(created, now - timedelta(minutes=10)).replace(second=rng.randrange(60), microsecond=0)

    scenario = rng.choice(SCENARIOS)
    customer = rng.choice(ctx.customers)
    lang = EN if customer.language == Language.EN else RU
    queue = ctx.queues[scenario.queue] if rng.random() < 0.92 else rng.choice(list(ctx.queues.values()))
    ticket_type = ctx.ticket_types[scenario.ticket_type]
    type_spec = _TYPE_SPECS[scenario.ticket_type]
    agents = ctx.agents[queue.slug]
    performer = rng.choice(agents)
    objects = ctx.related.get(customer.pk, {})
    orders = objects.get(RelatedObject.Kind.ORDER) or [None]
    order = rng.choice(orders)
    contract = (objects.get(RelatedObject.Kind.CONTRACT) or [None])[0]
    deal = (objects.get(RelatedObject.Kind.DEAL) or [order])[0]
    related = {"order": order, "contract": contract, "deal": deal}.get(scenario.object_kind or "")
    product = rng.choice(_PRODUCTS)[lang]
    month = _MONTHS[(created.astimezone(TZ).month - 2) % 12][lang]
    values = {
        "order": order.external_ref if order else "—",
        "contract": contract.external_ref if contract else "—",
        "product": product,
        "product_cap": product[:1].upper() + product[1:],
        "qty": rng.choice([20, 50, 100, 200]),
        "amount": f"{rng.randrange(45, 2500) * 1000:,}".replace(",", " "),
        "month": month,
        "phone": customer.phone,
        "customer": customer.name,
    }

    # Priority, deadline (wall-clock approximation of the business-time targets).
    if type_spec.slug == "critical-incident":
        priority = Priority.CRITICAL if rng.random() < 0.6 else Priority.HIGH
    elif type_spec.slug == "simple-question":
        priority = Priority.LOW if rng.random() < 0.3 else Priority.NORMAL
    else:
        priority = rng.choices([Priority.LOW, Priority.NORMAL, Priority.HIGH], weights=[10, 70, 20])[0]
    resolution_hours = type_spec.resolution_hours
    if customer.vip_tier_id:
        priority = min(priority + 1, Priority.CRITICAL)
        resolution_hours = min(resolution_hours, 4)
    wall = 1 if type_spec.around_the_clock else 3
    target = timedelta(hours=resolution_hours * wall)
    deadline = created + target if (status != Status.NEW or rng.random() < 0.8) else None
    frt = type_spec.first_response_minutes * (1 if type_spec.around_the_clock else 2) * rng.uniform(0.3, 1.6)
    pace = target.total_seconds() / 60 * rng.uniform(0.2, 1.15)

    channel = rng.choices(_CHANNELS, weights=_CHANNEL_WEIGHTS)[0]
    created_by = dispatcher if channel in (Channel.PHONE, Channel.PORTAL) else None
    intake = {Channel.EMAIL: ctx.intake_channels.get("Email bridge"),
              Channel.MESSENGER: ctx.intake_channels.get("Telegram bot")}.get(channel)
    ticket = _TicketRow(
        title=scenario.title[lang].format(**values)[:200],
        description=scenario.body[lang].format(**values),
        customer=customer,
        related_object=related,
        queue=queue,
        ticket_type=ticket_type,
        channel=channel,
        priority=priority,
        status=Status.NEW,
        deadline=deadline,
        created_by=created_by,
        created_at=created,
        status_changed_at=created,
    )
    story = _Story(ticket, refs)
    story.create(demo_seed=seed, demo_index=index, intake=intake)
    if rng.random() < 0.15:
        story.observers.append(queue.manager or users["manager"])

    plan = _Plan(created, rng)
    manager = users["manager"]

    def staff_lang(user) -> int:
        return EN if getattr(user.profile, "language", "ru") == Language.EN else RU

    def say(pairs) -> str:
        return _texts(pairs, lang, rng, **values)

    def note(pairs, user) -> str:
        return _texts(pairs, staff_lang(user), rng, **values)

    def start_work() -> None:
        plan.add(frt * rng.uniform(0.1, 0.5), True, lambda at: story.assign(at, performer=performer, actor=dispatcher))
        plan.add(frt * rng.uniform(0.2, 1.0), True,
                 lambda at: story.reply(at, body=say(ACKS), actor=story.ticket.performer))
        if rng.random() < 0.4:
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.add_note(at, body=note(WORK_NOTES, story.ticket.performer),
                                               actor=story.ticket.performer))
        if rng.random() < 0.3:
            plan.add(pace * rng.uniform(0.05, 0.2), False,
                     lambda at: story.receive_customer_message(at, body=say(CUSTOMER_FOLLOWUPS), intake=intake))
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.reply(at, body=say(FOLLOWUP_REPLIES), actor=story.ticket.performer))
        if len(agents) > 1 and rng.random() < 0.08:
            other = rng.choice([a for a in agents if a.pk != performer.pk])
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.assign(at, performer=other, actor=users["lead"]))

    def wait_for(reason_code: str) -> None:
        reason = ctx.reasons[reason_code]
        if reason_code in ASKS:
            plan.add(pace * rng.uniform(0.03, 0.15), True,
                     lambda at: story.reply(at, body=say(ASKS[reason_code]), actor=story.ticket.performer))
        else:
            plan.add(pace * rng.uniform(0.03, 0.15), True,
                     lambda at: story.add_note(at, body=note(REASON_NOTES[reason_code], story.ticket.performer),
                                               actor=story.ticket.performer))
        plan.add(rng.uniform(1, 5), True,
                 lambda at: story.change_status(at, status=Status.WAITING, actor=story.ticket.performer,
                                                reason=reason))

    def wait_and_resume(reason_code: str) -> None:
        wait_for(reason_code)
        reason = ctx.reasons[reason_code]
        if reason.waits_for_customer:
            plan.add(pace * rng.uniform(0.1, 0.5), False,
                     lambda at: story.receive_customer_message(at, body=say(CUSTOMER_ANSWERS), intake=intake))
        else:
            plan.add(pace * rng.uniform(0.1, 0.5), True,
                     lambda at: story.change_status(at, status=Status.IN_PROGRESS, actor=story.ticket.performer,
                                                    comment=note([RESUMES.get(reason_code, RESUMES["no-stock"])],
                                                                 story.ticket.performer)))

    def ask_approval():
        approver = ctx.managers.get(performer.pk, manager)
        plan.add(pace * rng.uniform(0.05, 0.2), True,
                 lambda at: story.add_note(at, body=note(APPROVAL_NOTES, story.ticket.performer),
                                           actor=story.ticket.performer))
        plan.add(rng.uniform(1, 3), True,
                 lambda at: story.set_approver(at, approver=approver, actor=story.ticket.performer))
        plan.add(rng.uniform(1, 3), True,
                 lambda at: story.change_status(at, status=Status.ON_APPROVAL, actor=story.ticket.performer))
        return approver

    def next_step(probability: float) -> None:
        if rng.random() < probability:
            text = note(NEXT_STEPS, performer)
            due = timedelta(minutes=rng.randrange(4 * 60, 72 * 60, 30))
            plan.add(rng.uniform(2, 30), True,
                     lambda at: story.set_next_step(at, text=text, due=at + due,
                                                    actor=story.ticket.performer))

    if status == Status.NEW:
        if rng.random() < 0.25:
            plan.add(frt * rng.uniform(0.2, 1.0), True,
                     lambda at: story.reply(at, body=say(DISPATCH_ACKS), actor=dispatcher))
    elif status == Status.ASSIGNED:
        plan.add(frt * rng.uniform(0.1, 0.6), True, lambda at: story.assign(at, performer=performer, actor=dispatcher))
        if rng.random() < 0.3:
            plan.add(rng.uniform(1, 10), True, lambda at: story.reply(at, body=say(DISPATCH_ACKS), actor=dispatcher))
        next_step(0.3)
    elif status == Status.IN_PROGRESS:
        start_work()
        if rng.random() < 0.2:
            wait_and_resume(rng.choice(scenario.reasons))
        next_step(0.65)
    elif status == Status.WAITING:
        start_work()
        wait_for(rng.choice(scenario.reasons))
        next_step(0.5)
    elif status == Status.ON_APPROVAL:
        start_work()
        ask_approval()
        next_step(0.4)
    elif status == Status.DONE:
        start_work()
        if rng.random() < 0.25:
            wait_and_resume(rng.choice(scenario.reasons))
        if rng.random() < 0.15:
            approver = ask_approval()
            plan.add(pace * rng.uniform(0.05, 0.3), True,
                     lambda at: story.change_status(at, status=Status.IN_PROGRESS, actor=approver,
                                                    comment=note(APPROVED, approver)))
        plan.add(pace * rng.uniform(0.1, 0.4), True,
                 lambda at: story.reply(at, body=say([scenario.resolution]), actor=story.ticket.performer))
        plan.add(rng.uniform(1, 15), True,
                 lambda at: story.change_status(at, status=Status.DONE, actor=story.ticket.performer))
    elif status == Status.CANCELED:
        if rng.random() < 0.45:
            if rng.random() < 0.5:
                plan.add(rng.uniform(10, 240), False,
                         lambda at: story.receive_customer_message(at, body=say(CUSTOMER_CANCELS), intake=intake))
            plan.add(frt * rng.uniform(0.2, 1.0), True,
                     lambda at: story.change_status(at, status=Status.CANCELED, actor=dispatcher,
                                                    comment=note(CANCEL_COMMENTS, dispatcher)))
        else:
            start_work()
            plan.add(pace * rng.uniform(0.1, 0.4), False,
                     lambda at: story.receive_customer_message(at, body=say(CUSTOMER_CANCELS), intake=intake))
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.reply(at, body=say(CANCEL_REPLIES), actor=story.ticket.performer))
            plan.add(rng.uniform(1, 10), True,
                     lambda at: story.change_status(at, status=Status.CANCELED, actor=story.ticket.performer,
                                                    comment=note(CANCEL_COMMENTS[1:2], story.ticket.performer)))

    plan.run(limit=now - timedelta(minutes=1))
    ticket.updated_at = story.last
    return story


def existing_demo_indices(seed: int) -> set[int]:
    """Indices of the demo tickets of ``seed`` already in the database (from their creation events)."""
    rows = TicketEvent.objects.filter(kind="ticket.created", data__demo_seed=seed).values_list(
        "data__demo_index", flat=True
    )
    return {int(i) for i in rows if i is not None}


def seed_tickets(ctx: DemoContext, *, count: int, seed: int) -> tuple[int, int]:
    """Create the missing demo tickets ``0 .. count-1`` of ``seed``; returns (created, already present)."""
    present = existing_demo_indices(seed)
    missing = [i for i in range(count) if i not in present]
    refs = {u.pk: {"id": u.pk, "name": u.profile.display_name or u.get_username()} for u in ctx.users.values()}
    writers = {model: _RowWriter(model) for model in (Ticket, Message, TicketEvent, Ticket.observers.through)}
    with _bulk_session():
        for start in range(0, len(missing), CHUNK):
            stories = [_build_ticket(ctx, refs, seed, i) for i in missing[start : start + CHUNK]]
            _write(stories, writers)
    return len(missing), len([i for i in present if i < count])


def _write(stories: list[_Story], writers: dict) -> None:
    """Insert a chunk of stories: tickets, messages, events (pointing at their messages), observers."""
    for story, pk in zip(stories, _reserve_ids(Ticket, len(stories)), strict=True):
        story.ticket.pk = pk
    writers[Ticket].insert([s.ticket.values() for s in stories])
    messages = []
    for story in stories:
        for message in story.messages:
            message["ticket_id"] = story.ticket.pk
        messages.extend(story.messages)
    for message, pk in zip(messages, _reserve_ids(Message, len(messages)), strict=True):
        message["id"] = pk
    writers[Message].insert(messages)
    events = []
    for story in stories:
        for data, message in story.links:
            data["message"] = message["id"]
        for event in story.events:
            event["ticket_id"] = story.ticket.pk
        events.extend(story.events)
    writers[TicketEvent].insert(events)
    writers[Ticket.observers.through].insert(
        [{"ticket_id": s.ticket.pk, "user_id": u.pk} for s in stories for u in s.observers]
    )


@contextmanager
def _bulk_session():
    """A bigger page cache on SQLite while the seed writes (index pages stay in memory)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


# --- Entry point ------------------------------------------------------------------------------------------


def run_extra_seeders(ctx: DemoContext, paths: Iterable[str] | None = None) -> None:
    for path in EXTRA_SEEDERS if paths is None else paths:
        import_string(path)(ctx)


def seed_demo(*, tickets: int = DEFAULT_TICKETS, seed: int = DEFAULT_SEED, now: datetime | None = None) -> SeedResult:
    """Seed (or top up) the demo data; safe to run again."""
    started = time.monotonic()
    ctx = DemoContext(seed=seed, now=(now or timezone.now()).replace(second=0, microsecond=0))
    result = SeedResult(context=ctx)
    with transaction.atomic():
        result.users_created = seed_people(ctx)
        seed_catalogue(ctx)
        result.customers_created, result.related_created = seed_customers(ctx)
        seed_intake_channels(ctx)
        result.tickets_created, result.tickets_present = seed_tickets(ctx, count=tickets, seed=seed)
        run_extra_seeders(ctx)
    result.seconds = time.monotonic() - started
    return result
