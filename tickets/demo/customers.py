"""The demo's customers (always the same list) with their orders, deals and contracts, and the intake channels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from tickets.demo.context import HISTORY_DAYS, DemoContext
from tickets.demo.texts import PRODUCTS
from tickets.models import Channel, Customer, IntakeChannel, Language, RelatedObject
from tickets.organisations import organisation_for_new_customer, organisation_sync_contacts

DEMO_TOKENS = {"Email bridge": "demo-email-token", "Telegram bot": "demo-telegram-token"}  # development only


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
    by_email = {c.email: c for c in Customer.objects.filter(email__in=[s.email for s in specs]).select_related(
        "organisation")}
    ctx.customers = [by_email[s.email] for s in specs if s.email in by_email]
    _seed_organisations(specs, by_email)

    wanted = []
    rng = random.Random("opsdesk-demo-objects")
    for k, spec in enumerate(specs):
        customer = by_email.get(spec.email)
        if customer is None:
            continue
        for j in range(1 + rng.randrange(3)):
            product_ru, product_en = rng.choice(PRODUCTS)
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


def _seed_organisations(specs: list[CustomerSpec], by_email: dict) -> None:
    """Every demo contact belongs to an organisation: a company is its own; a quarter of the people are
    contacts of a company (its tier applies to them), the rest are private customers of their own."""
    rng = random.Random("opsdesk-demo-organisations")
    organisations = {}
    for spec in specs:
        customer = by_email.get(spec.email)
        if customer is not None and spec.company:
            organisations[spec.email] = customer.organisation or organisation_for_new_customer(customer)
    companies = list(organisations.values())
    for spec in specs:
        customer = by_email.get(spec.email)
        if customer is None or customer.organisation_id is not None or spec.company:
            continue
        if companies and rng.random() < 0.25:
            organisation = rng.choice(companies)
            Customer.objects.filter(pk=customer.pk).update(organisation=organisation)
            customer.organisation = organisation
        else:
            organisation_for_new_customer(customer)
    for organisation in companies:
        organisation_sync_contacts(organisation)


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
