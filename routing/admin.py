"""Admin for routing and VIP data: skills (also inline on users and ticket types), keyword classification
rules, VIP tiers and rules, the tier history (inline on customers), turnover with its CSV import, skipped
tickets.

The strategy choice is ``routing.strategies``, applied by ``routing.assignment``; VIP tiers are
``routing.vip``. The ticket-side admins (users, customers, ticket types) live in ``tickets.admin``; this
module adds the routing inlines to them, and replaces the customer admin with its VIP-aware subclass (tier
history inline, tier re-evaluated when an admin changes what it rests on): ``tickets`` is the floor below
and does not know routing.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from routing.models import (
    AgentSkill,
    ClassificationRule,
    CustomerTierChange,
    CustomerTurnover,
    Skill,
    TicketSkip,
    TicketTypeSkill,
    VipRule,
)
from routing.vip import TIER_INPUTS, evaluate_customers, import_turnover
from tickets import admin as tickets_admin
from tickets.admin import TicketTypeAdmin, UserAdmin, ViewOnlyAdmin
from tickets.models import INHERITED_FIELDS, Customer, Organisation, VipTier
from tickets.organisations import organisation_sync_contacts
from tickets.queue_priority import refresh_queue_priority


class TicketTypeSkillInline(admin.TabularInline):
    model = TicketTypeSkill
    extra = 0


TicketTypeAdmin.inlines = [*TicketTypeAdmin.inlines, TicketTypeSkillInline]


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    verbose_name_plural = _("skills (routing)")


UserAdmin.inlines = [*UserAdmin.inlines, AgentSkillInline]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "code"]
    search_fields = ["name", "name_ru", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    list_display = ["user", "skill", "level"]
    list_filter = ["skill", "level"]
    search_fields = ["user__username", "user__profile__display_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "skill"]


@admin.register(ClassificationRule)
class ClassificationRuleAdmin(admin.ModelAdmin):
    """Keyword rules; hits and dispatchers' corrections show which rules need work."""

    list_display = ["keywords", "ticket_type", "position", "active", "hits", "corrections"]
    list_filter = ["active", "ticket_type"]
    list_editable = ["position", "active"]
    search_fields = ["keywords"]
    readonly_fields = ["hits", "corrections"]
    list_select_related = ["ticket_type"]


@admin.register(VipTier)
class VipTierAdmin(admin.ModelAdmin):
    """VIP tiers: a change of a tier's queue priority, or a tier deleted, reaches its customers' tickets (the
    queue order's first key, ``tickets.queue_priority``)."""

    list_display = ["name", "rank", "queue_priority", "account_manager_direct", "escalate_on_threat",
                    "downgrade_grace_days", "customer_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_customers=Count("customers"))

    @admin.display(description=_("customers"), ordering="_customers")
    def customer_count(self, obj):
        return obj._customers

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "queue_priority" in form.changed_data:
            refresh_queue_priority(tier=obj)  # the queue order's first key, on its customers' tickets

    def delete_model(self, request, obj):
        self.delete_queryset(request, VipTier.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        """Its customers lose the tier (``SET_NULL``), and their tickets its queue priority."""
        customers = list(Customer.objects.filter(vip_tier__in=queryset).values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        refresh_queue_priority(customers=customers)


@admin.register(VipRule)
class VipRuleAdmin(admin.ModelAdmin):
    list_display = ["tier", "kind", "months", "amount", "percent", "active"]
    list_filter = ["kind", "active", "tier"]
    list_select_related = ["tier"]
    actions = ["evaluate_now"]

    @admin.action(description=_("Re-evaluate every customer's tier now"), permissions=["change"])
    def evaluate_now(self, request, queryset):
        result = evaluate_customers(actor=request.user)
        self.message_user(request, ngettext("%(count)d customer changed tier.", "%(count)d customers changed tier.",
                                            len(result.changes)) % {"count": len(result.changes)}, messages.SUCCESS)


class CustomerTierChangeInline(admin.TabularInline):
    model = CustomerTierChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_tier", "to_tier", "reason", "actor"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerAdmin(tickets_admin.CustomerAdmin):
    """The customer admin with its VIP side: the tier history, and the tier re-evaluated at once when an
    admin changes a manual tier, the strategic-partner flag or the premium contract."""

    inlines = [*tickets_admin.CustomerAdmin.inlines, CustomerTierChangeInline]

    def get_readonly_fields(self, request, obj=None):
        # A contact inherits the account manager and the tier inputs from its organisation (edited there).
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.organisation_id:
            fields += [f for f in INHERITED_FIELDS if f not in fields]
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "organisation" in form.changed_data and obj.organisation_id:
            organisation_sync_contacts(obj.organisation)  # the new organisation's tier inputs apply
        if (TIER_INPUTS | {"organisation"}) & set(form.changed_data):
            evaluate_customers(customer_ids=[obj.pk], actor=request.user)
            obj.refresh_from_db()


class ContactInline(admin.TabularInline):
    model = Customer
    fk_name = "organisation"
    extra = 0
    fields = ["name", "email", "phone", "vip_tier", "account_manager"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # a contact joins an organisation from its own page (its organisation field)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    """Customer organisations: the VIP tier, the turnover and the account manager belong here and the contacts
    inherit them; changing an input copies it onto the contacts and re-evaluates their tier at once."""

    list_display = ["__str__", "name", "name_ru", "vip_tier", "account_manager", "strategic_partner",
                    "contact_count"]
    list_filter = ["vip_tier", "strategic_partner"]
    search_fields = ["name", "name_ru", "contacts__email", "contacts__name"]
    list_select_related = ["vip_tier", "account_manager"]
    autocomplete_fields = ["account_manager"]
    readonly_fields = ["vip_tier"]
    fields = ["name", "name_ru", "vip_tier", "account_manager", "strategic_partner", "premium_contract_until",
              "manual_tier", "manual_tier_until"]
    inlines = [ContactInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_contacts=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="_contacts")
    def contact_count(self, obj):
        return obj._contacts

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        organisation_sync_contacts(obj)
        contacts = list(obj.contacts.values_list("pk", flat=True))
        if contacts and TIER_INPUTS & set(form.changed_data):
            evaluate_customers(customer_ids=contacts, actor=request.user)
            obj.refresh_from_db()


@admin.register(CustomerTierChange)
class CustomerTierChangeAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "customer", "from_tier", "to_tier", "reason", "actor"]
    list_filter = ["to_tier", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["customer__name", "reason"]
    list_select_related = ["customer", "from_tier", "to_tier", "actor"]
    ordering = ["-id"]


class TurnoverImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("Columns: customer (email or id), date (YYYY-MM-DD), "
                                                             "amount, reference (optional)."))


@admin.register(CustomerTurnover)
class CustomerTurnoverAdmin(admin.ModelAdmin):
    """Order and deal amounts behind the turnover VIP rules; import them as CSV (all or nothing)."""

    list_display = ["date", "customer", "amount", "reference"]
    list_filter = [("date", admin.DateFieldListFilter)]
    search_fields = ["customer__name", "customer__email", "reference"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    ordering = ["-id"]
    show_full_result_count = False
    change_list_template = "routing/admin_turnover_changelist.html"

    def get_urls(self):
        custom = [path("import/", self.admin_site.admin_view(self.import_view), name="routing_customerturnover_import")]
        return custom + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        errors = []
        if request.method == "POST":
            form = TurnoverImportForm(request.POST, request.FILES)
            if form.is_valid():
                raw = form.cleaned_data["file"].read()
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    errors = [_("The file must be UTF-8 text.")]
                else:
                    result = import_turnover(text)
                    errors = result.errors
                    if not errors:
                        self.message_user(request, ngettext("%(count)d row imported.", "%(count)d rows imported.",
                                                            len(result.rows)) % {"count": len(result.rows)},
                                          messages.SUCCESS)
                        return HttpResponseRedirect(reverse("admin:routing_customerturnover_changelist"))
        else:
            form = TurnoverImportForm()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "errors": errors, "title": _("Import turnover")}
        return TemplateResponse(request, "routing/admin_turnover_import.html", context)


@admin.register(TicketSkip)
class TicketSkipAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "user", "queue", "ticket", "reason"]
    list_filter = ["queue", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user", "queue", "ticket"]
    ordering = ["-id"]
