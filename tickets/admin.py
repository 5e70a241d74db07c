"""Django admin: where OpsDesk admins configure queues, types, reasons, VIP tiers and intake channels.

Tickets are *not* edited around the lifecycle service. The ticket change form
only offers the triage fields, the people and (with
``tickets.override_deadline``) the deadline; ``TicketAdmin.save_model`` sends
every change through ``tickets.services`` so it leaves history. Status,
blocking reason, performer and timestamps are read-only here: they change in
the portal, where the lifecycle rules apply. Tickets cannot be added in admin
(they come from the portal and the intake API) nor deleted (history is
immutable; a ticket that should not exist is canceled). Messages and history
events are view-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets import access, satisfaction_admin, services  # noqa: F401 (satisfaction_admin: read-only admins)
from tickets.models import (
    Absence,
    Attachment,
    BlockingReason,
    Customer,
    IntakeChannel,
    Message,
    Profile,
    Queue,
    QueueMembership,
    RelatedObject,
    Ticket,
    TicketEvent,
    TicketType,
    display_name,
)

User = get_user_model()

admin.site.site_header = "OpsDesk"
admin.site.site_title = _("OpsDesk administration")
admin.site.index_title = _("Configuration")


# --- People -------------------------------------------------------------------------------


class ProfileInline(admin.StackedInline):
    model = Profile
    fk_name = "user"
    can_delete = False
    max_num = 1
    autocomplete_fields = ["manager"]
    verbose_name = _("OpsDesk profile")
    verbose_name_plural = _("OpsDesk profile")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus the OpsDesk profile (display name, time zone, direct manager)."""

    inlines = [ProfileInline]
    list_display = ["username", "shown_name", "email", "roles", "is_staff", "is_active", "last_login"]
    list_select_related = ["profile"]
    search_fields = ["username", "first_name", "last_name", "email", "profile__display_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("name"), ordering="profile__display_name")
    def shown_name(self, obj):
        return display_name(obj)

    @admin.display(description=_("roles"))
    def roles(self, obj):
        names = sorted(g.name for g in obj.groups.all() if g.name in access.ROLES)
        return ", ".join(str(access.ROLE_LABELS[n]) for n in names) or "—"


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "manager", "language", "time_zone"]
    list_filter = ["language", "time_zone"]
    search_fields = ["user__username", "display_name", "user__email"]
    autocomplete_fields = ["user", "manager"]
    list_select_related = ["user", "manager"]


# --- Customers ----------------------------------------------------------------------------


class RelatedObjectInline(admin.TabularInline):
    model = RelatedObject
    extra = 0
    fields = ["kind", "external_ref", "title"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "email", "phone", "language", "vip_tier", "tier_source",
                    "account_manager", "created_at"]
    list_filter = ["vip_tier", "tier_source", "strategic_partner", "language"]
    search_fields = ["name", "email", "phone", "organisation__name", "organisation__name_ru"]
    list_select_related = ["vip_tier", "account_manager", "organisation"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["account_manager", "organisation"]
    # The tier follows the VIP rules or the manual tier; it is not typed in directly. ``routing.admin``
    # registers the subclass in use: it adds the tier history and re-evaluates the tier on save.
    readonly_fields = ["vip_tier", "tier_source", "tier_below_since"]
    inlines = [RelatedObjectInline]


@admin.register(RelatedObject)
class RelatedObjectAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "external_ref", "title", "customer"]
    list_filter = ["kind"]
    search_fields = ["external_ref", "title", "customer__name"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]


# --- Catalogues ---------------------------------------------------------------------------


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "slug", "strategy", "manager", "agent_count", "is_active"]
    list_filter = ["is_active", "strategy", "reopen_on_bad_rating"]
    search_fields = ["name", "name_ru", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["manager"]
    list_select_related = ["manager"]
    inlines = [QueueMembershipInline]

    def get_queryset(self, request):
        agents = Count("memberships", filter=Q(memberships__role=QueueMembership.Role.AGENT))
        return super().get_queryset(request).annotate(_agents=agents)

    @admin.display(description=_("agents"), ordering="_agents")
    def agent_count(self, obj):
        return obj._agents


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "slug", "default_queue", "deferral_enabled", "deferral_auto_start",
                    "approval_closes", "is_active"]
    list_filter = ["is_active", "default_queue", "deferral_enabled", "deferral_auto_start", "approval_closes"]
    search_fields = ["name", "name_ru", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["default_queue"]


@admin.register(BlockingReason)
class BlockingReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "code", "waits_for_customer", "is_active", "position"]
    list_filter = ["is_active", "waits_for_customer"]
    list_editable = ["position"]
    search_fields = ["name", "name_ru", "code"]


# --- Tickets ------------------------------------------------------------------------------

UPDATE_FIELDS = ("title", "priority", "queue", "ticket_type", "related_object")
PEOPLE_FIELDS = ("owner", "approver")


def _check_person(user) -> bool:
    return user.is_active and bool(access.roles_of(user))


class TicketAdminForm(forms.ModelForm):
    """The ticket form with the reason an admin must give when moving a deadline."""

    override_reason = forms.CharField(
        label=_("reason for the deadline change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you change the deadline; it is written to the ticket's history."),
    )

    class Meta:
        model = Ticket
        fields = [*UPDATE_FIELDS, *PEOPLE_FIELDS, "observers", "deadline"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "deadline" not in self.fields:
            del self.fields["override_reason"]

    def clean(self):
        cleaned = super().clean()
        person_error = _("Choose an active user with a role in OpsDesk.")
        for name in PEOPLE_FIELDS:
            person = cleaned.get(name)
            if name in self.changed_data and person is not None and not _check_person(person):
                self.add_error(name, person_error)
        observers = cleaned.get("observers") or ()
        if "observers" in self.changed_data and any(not u.is_active for u in observers):
            self.add_error("observers", _("Observers must be active users."))
        deadline_changed = "deadline" in self.fields and "deadline" in self.changed_data
        if deadline_changed and not (cleaned.get("override_reason") or "").strip():
            self.add_error("override_reason", _("Say why the deadline is overridden."))
        return cleaned


class AttachmentInline(admin.TabularInline):
    """The files of a message or ticket, read-only: they arrive only through the services, and the link goes
    to the permission-checking download view (``/attachments/<id>/``), never to the storage."""

    model = Attachment
    fk_name = "message"
    extra = 0
    can_delete = False
    fields = ["download", "content_type", "human_size", "uploaded_by", "created_at"]
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file name"))
    def download(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("attachments:download", args=[obj.pk]), obj.filename)

    @admin.display(description=_("size"))
    def human_size(self, obj):
        return filesizeformat(obj.size)


class TicketAttachmentInline(AttachmentInline):
    fk_name = "ticket"
    fields = ["download", "message", "content_type", "human_size", "uploaded_by", "created_at"]
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = [
        "reference",
        "title",
        "status",
        "priority",
        "queue",
        "ticket_type",
        "customer",
        "performer_name",
        "deadline",
        "overdue",
        "created_at",
    ]
    list_display_links = ["reference", "title"]
    list_filter = ["status", "priority", "queue", "ticket_type", "channel", "blocking_reason"]
    search_fields = ["title", "customer__name", "customer__email", "related_object__external_ref"]
    list_select_related = ["queue", "ticket_type", "customer", "performer__profile"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    autocomplete_fields = ["related_object", "owner", "approver", "observers"]
    inlines = [TicketAttachmentInline]
    always_readonly = [
        "reference",
        "description",
        "customer",
        "channel",
        "performer",
        "status",
        "blocking_reason",
        "next_step",
        "next_step_due",
        "created_by",
        "created_at",
        "status_changed_at",
        "first_public_reply_at",
        "done_at",
        "canceled_at",
        "updated_at",
        "recent_history",
    ]

    def has_add_permission(self, request):
        # Tickets come from the portal and the intake API (tickets.services.ticket_create).
        return False

    def has_delete_permission(self, request, obj=None):
        # History is immutable; a ticket that should not exist is canceled in the portal.
        return False

    def can_override_deadline(self, request) -> bool:
        return access.can_override_deadline(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.always_readonly)
        if not self.can_override_deadline(request) or (obj is not None and not obj.is_open):
            fields.append("deadline")  # a closed ticket's deadline is final ("closed on time" never changes)
        return fields

    def get_fieldsets(self, request, obj=None):
        lifecycle = ["status", "blocking_reason", "deadline"]
        if self.can_override_deadline(request):
            lifecycle.append("override_reason")
        lifecycle += ["next_step", "next_step_due"]
        return [
            (None, {"fields": ["reference", "title", "description", "customer", "related_object", "channel"]}),
            (_("Triage"), {"fields": ["queue", "ticket_type", "priority"]}),
            (_("People"), {"fields": ["performer", "owner", "approver", "observers"]}),
            (_("Lifecycle"), {"fields": lifecycle}),
            (
                _("Timestamps"),
                {
                    "classes": ["collapse"],
                    "fields": [
                        "created_by",
                        "created_at",
                        "status_changed_at",
                        "first_public_reply_at",
                        "done_at",
                        "canceled_at",
                        "updated_at",
                    ],
                },
            ),
            (_("Recent history"), {"fields": ["recent_history"]}),
        ]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = search_term.strip().lstrip("#")
        if number.isdigit():
            results |= queryset.filter(pk=int(number))
        return results, may_have_duplicates

    @admin.display(description=_("ticket"), ordering="pk")
    def reference(self, obj):
        return obj.reference

    @admin.display(description=_("performer"), ordering="performer__username")
    def performer_name(self, obj):
        return display_name(obj.performer) if obj.performer_id else "—"

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("recent history"))
    def recent_history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        events = list(obj.events.select_related("actor__profile").order_by("-created_at", "-id")[:20])
        if not events:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    date_format(timezone.localtime(e.created_at), "SHORT_DATETIME_FORMAT"),
                    e.kind,
                    display_name(e.actor),
                    _summary(e.data),
                )
                for e in events
            ),
        )
        return format_html(
            '<table><tbody>{}</tbody></table><p><a href="{}?ticket__id__exact={}">{}</a></p>',
            rows,
            reverse("admin:tickets_ticketevent_changelist"),
            obj.pk,
            _("All history of this ticket"),
        )

    def save_model(self, request, obj, form, change):
        """Route every change through the lifecycle service so it is checked and leaves history."""
        ticket = Ticket.objects.get(pk=obj.pk)
        data, changed = form.cleaned_data, set(form.changed_data)
        actor = request.user
        try:
            updates = {name: data[name] for name in UPDATE_FIELDS if name in changed}
            if updates:
                services.ticket_update(ticket, actor=actor, **updates)
            people = {name: data[name] for name in PEOPLE_FIELDS if name in changed}
            if "observers" in changed:
                people["observers"] = list(data["observers"])
            if people:
                services.ticket_set_people(ticket, actor=actor, **people)
            if "deadline" in changed and "deadline" in form.fields:
                services.ticket_override_deadline(
                    ticket, deadline=data["deadline"], actor=actor, reason=data.get("override_reason", "")
                )
        except services.TicketError as exc:
            transaction.set_rollback(True)
            request._opsdesk_ticket_error = True
            self.message_user(request, str(exc), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        # Observers were saved by ticket_set_people in save_model; the one inline (files) is read-only:
        # saving it changes nothing but lets the admin write its change message.
        for formset in formsets:
            formset.save()

    def response_change(self, request, obj):
        if getattr(request, "_opsdesk_ticket_error", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


def _summary(data: dict) -> str:
    parts = []
    for key, value in (data or {}).items():
        if isinstance(value, dict) and "name" in value:
            value = value["name"]
        parts.append(f"{key}: {value}")
    return "; ".join(parts)[:200]


class ViewOnlyAdmin(admin.ModelAdmin):
    """Records written by the services only: admins may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ViewOnlyAdmin):
    inlines = [AttachmentInline]
    list_display = ["created_at", "ticket", "kind", "channel", "author", "customer", "excerpt"]
    list_filter = ["kind", "channel", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["body", "ticket__title", "customer__name"]
    list_select_related = ["ticket", "author", "customer"]
    # Big tables: newest first by primary key (indexed); no date_hierarchy, whose SELECT DISTINCT over
    # every row takes seconds on SQLite at a million rows.
    ordering = ["-id"]
    show_full_result_count = False

    @admin.display(description=_("text"))
    def excerpt(self, obj):
        body = obj.body or ""
        return body if len(body) <= 80 else body[:79] + "…"


@admin.register(TicketEvent)
class TicketEventAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "ticket", "kind", "actor", "details"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["kind", "ticket__title"]
    list_select_related = ["ticket", "actor"]
    ordering = ["-id"]  # see MessageAdmin
    show_full_result_count = False

    @admin.display(description=_("details"))
    def details(self, obj):
        return _summary(obj.data)


# --- Intake channels ------------------------------------------------------------------------


@admin.register(IntakeChannel)
class IntakeChannelAdmin(admin.ModelAdmin):
    """Gateways that post customer messages. A token is shown once, when issued; only its hash is stored."""

    list_display = [
        "name", "channel", "token", "default_queue", "default_type", "is_active", "revoked_at", "created_at"
    ]
    list_filter = ["channel", "is_active"]
    search_fields = ["name"]
    list_select_related = ["default_queue", "default_type"]
    fields = [
        "name", "channel", "default_queue", "default_type", "is_active", "token", "revoked_at", "created_at",
        "email_address", "reply_url", "reply_signing",
    ]
    readonly_fields = ["token", "revoked_at", "created_at", "reply_signing"]
    actions = ["issue_new_token", "issue_reply_secret", "revoke"]

    @admin.display(description=_("reply signing secret"))
    def reply_signing(self, obj):
        return _("set (shown once when issued)") if obj and obj.reply_secret else "—"

    @admin.display(description=_("token"))
    def token(self, obj):
        return f"{obj.token_hint}…" if obj and obj.token_hint else "—"

    def save_model(self, request, obj, form, change):
        token = None if change else obj.set_token()
        secret = obj.set_reply_secret() if obj.reply_url and not obj.reply_secret else None
        super().save_model(request, obj, form, change)
        if token is not None:
            self._show_token(request, obj, token)
        if secret is not None:
            self._show_secret(request, obj, secret)

    def _show_secret(self, request, channel, secret):
        self.message_user(
            request,
            _("Reply signing secret for “%(name)s”: %(secret)s — give it to the gateway now, it will not be shown "
              "again.") % {"name": channel.name, "secret": secret},
            messages.SUCCESS,
        )

    @admin.action(description=_("Issue a new reply signing secret (the old one stops verifying)"),
                  permissions=["change"])
    def issue_reply_secret(self, request, queryset):
        for channel in queryset.order_by("name"):
            secret = channel.set_reply_secret()
            channel.save(update_fields=["reply_secret"])
            self._show_secret(request, channel, secret)

    def _show_token(self, request, channel, token):
        self.message_user(
            request,
            _("Token for “%(name)s”: %(token)s — copy it now, it will not be shown again.")
            % {"name": channel.name, "token": token},
            messages.SUCCESS,
        )

    @admin.action(description=_("Issue a new token (the old one stops working)"), permissions=["change"])
    def issue_new_token(self, request, queryset):
        for channel in queryset.order_by("name"):
            token = channel.set_token()
            channel.is_active = True
            channel.revoked_at = None
            channel.save(update_fields=["token_hash", "token_hint", "is_active", "revoked_at"])
            self._show_token(request, channel, token)

    @admin.action(description=_("Revoke (the channel stops accepting messages)"), permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(is_active=False, revoked_at=timezone.now())
        queryset.update(is_active=False)
        self.message_user(
            request,
            ngettext("%(count)d channel revoked.", "%(count)d channels revoked.", count) % {"count": count},
            messages.SUCCESS,
        )


# --- Absences (read by routing.assignment and deferrals.services) -----------------------------------


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    """Who is away when, and who decides deferrals for them meanwhile."""

    list_display = ["user", "starts_on", "ends_on", "substitute", "note"]
    list_filter = [("starts_on", admin.DateFieldListFilter)]
    search_fields = ["user__username", "user__profile__display_name", "substitute__username"]
    autocomplete_fields = ["user", "substitute"]
    list_select_related = ["user", "substitute"]
    date_hierarchy = "starts_on"

from tickets import admin_tools  # noqa: E402, F401 (registers the canned replies and bulk jobs)
