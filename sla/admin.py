"""SLA admin: calendars (inline rows, preview, due helper, JSON import/export, holiday generation),
policies (precedence editable in the list), and read-only clocks and clock events."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sla import defaults, selectors
from sla.calendars import (
    SLAError,
    calendar_create_from_spec,
    calendar_export_spec,
    calendar_generate_holidays,
    calendar_import_spec,
)
from sla.forms import (
    CalendarForm,
    CalendarOverrideForm,
    CalendarSpecImportForm,
    CalendarWindowForm,
    CalendarWindowFormSet,
    DueHelperForm,
)
from sla.models import Calendar, CalendarHoliday, CalendarOverride, CalendarWindow, SLAClock, SLAClockEvent, SLAPolicy
from tickets.admin import ViewOnlyAdmin

SLA_CSS = {"all": ["css/sla.css"]}


class CalendarWindowInline(admin.TabularInline):
    model = CalendarWindow
    form = CalendarWindowForm
    formset = CalendarWindowFormSet
    ordering = ["weekday", "start"]

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None else 2


class CalendarHolidayInline(admin.TabularInline):
    model = CalendarHoliday
    fields = ["date", "name", "name_ru", "generated"]
    readonly_fields = ["generated"]
    ordering = ["date"]
    extra = 0
    classes = ["collapse"]  # dozens of generated rows: folded until needed


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    form = CalendarOverrideForm
    fields = ["date", "windows", "note", "generated"]
    readonly_fields = ["generated"]
    ordering = ["date"]
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    inlines = [CalendarWindowInline, CalendarOverrideInline, CalendarHolidayInline]
    list_display = ["name", "name_ru", "time_zone", "week_summary", "holiday_country", "holiday_count", "updated_at"]
    search_fields = ["name", "name_ru"]
    actions = ["generate_holidays"]
    change_form_template = "sla/admin/calendar_change_form.html"
    change_list_template = "sla/admin/calendar_change_list.html"
    fieldsets = [
        (None, {"fields": [("name", "name_ru"), "time_zone"]}),
        (
            gettext_lazy("Public holidays"),
            {
                "fields": ["holiday_country", "holiday_subdivision", "holiday_years_from", "holiday_years_to"],
                "description": gettext_lazy(
                    "“Generate holidays” fills the holidays below from the holidays package for this country "
                    "and these years. Manual holidays and overrides are kept; an override wins over a holiday."
                ),
            },
        ),
    ]

    class Media:
        css = SLA_CSS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_holidays=Count("holidays", distinct=True))

    @admin.display(description=gettext_lazy("holidays"), ordering="_holidays")
    def holiday_count(self, obj):
        return obj._holidays

    @admin.display(description=gettext_lazy("working week"))
    def week_summary(self, obj):
        try:
            week = obj.work_calendar().spec()["week"]
        except ValueError as exc:
            return str(exc)
        names = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
        labels = dict(zip(week, names, strict=True))
        parts = [f"{labels[day]} {', '.join(f'{s}–{e}' for s, e in ws)}" for day, ws in week.items() if ws]
        return "; ".join(parts) or _("no working time")

    # --- extra pages ---------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="sla_calendar_import"),
            path("<int:pk>/import/", view(self.import_view), name="sla_calendar_import_into"),
            path("<int:pk>/export/", view(self.export_view), name="sla_calendar_export"),
            path(
                "<int:pk>/generate-holidays/",
                view(require_POST(self.generate_holidays_view)),
                name="sla_calendar_generate_holidays",
            ),
            *super().get_urls(),
        ]

    def _calendar_or_404(self, request, pk, *, change: bool) -> Calendar:
        calendar = get_object_or_404(Calendar, pk=pk)
        check = self.has_change_permission if change else self.has_view_permission
        allowed = check(request, calendar)
        if not allowed:
            raise PermissionDenied
        return calendar

    def export_view(self, request, pk):
        calendar = self._calendar_or_404(request, pk, change=False)
        try:
            spec = calendar_export_spec(calendar)
        except ValueError as exc:
            messages.error(request, _("This calendar cannot be exported: %(error)s") % {"error": exc})
            return HttpResponseRedirect(reverse("admin:sla_calendar_change", args=[calendar.pk]))
        response = HttpResponse(
            json.dumps(spec, ensure_ascii=False, indent=2) + "\n", content_type="application/json; charset=utf-8"
        )
        slug = "".join(ch if ch.isalnum() else "-" for ch in calendar.name.lower()).strip("-") or "calendar"
        response["Content-Disposition"] = f'attachment; filename="calendar-{slug}.json"'
        return response

    def import_view(self, request, pk=None):
        calendar = None
        if pk is not None:
            calendar = self._calendar_or_404(request, pk, change=True)
        elif not self.has_add_permission(request):
            raise PermissionDenied
        form = CalendarSpecImportForm(
            request.POST or None, request.FILES or None, require_name=calendar is None
        )
        if request.method == "POST" and form.is_valid():
            try:
                if calendar is None:
                    calendar = calendar_create_from_spec(
                        name=form.cleaned_data["name"], spec=form.cleaned_data["spec"]
                    )
                    messages.success(request, _("Calendar “%(name)s” imported.") % {"name": calendar.label})
                else:
                    calendar_import_spec(calendar, form.cleaned_data["spec"])
                    messages.success(
                        request, _("The spec replaced the windows, holidays and overrides of “%(name)s”.")
                        % {"name": calendar.label}
                    )
            except SLAError as exc:
                form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(reverse("admin:sla_calendar_change", args=[calendar.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import calendar spec") if calendar is None else _("Import a spec into “%(name)s”")
            % {"name": calendar.label},
            "form": form,
            "original": calendar,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "sla/admin/calendar_import.html", context)

    def generate_holidays_view(self, request, pk):
        calendar = self._calendar_or_404(request, pk, change=True)
        self._generate(request, [calendar])
        return HttpResponseRedirect(reverse("admin:sla_calendar_change", args=[calendar.pk]))

    @admin.action(description=gettext_lazy("Generate holidays from the holidays package"), permissions=["change"])
    def generate_holidays(self, request, queryset):
        self._generate(request, list(queryset))

    def _generate(self, request, calendars):
        for calendar in calendars:
            try:
                holidays, workdays = calendar_generate_holidays(calendar)
            except SLAError as exc:
                messages.error(request, str(exc))
                continue
            years = calendar.holiday_years()
            messages.success(
                request,
                _("“%(name)s”: %(holidays)d holidays and %(workdays)d transferred working days for %(first)d–%(last)d.")
                % {
                    "name": calendar.name,
                    "holidays": holidays,
                    "workdays": workdays,
                    "first": years[0],
                    "last": years[-1],
                },
            )

    # --- the change page: preview and the due helper -----------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        calendar = self.get_object(request, object_id)
        if calendar is not None:
            extra_context.update(self._preview_context(request, calendar))
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _preview_context(self, request, calendar: Calendar) -> dict:
        now = timezone.now()
        context: dict = {"calendar_tz": calendar.time_zone}
        try:
            work = calendar.work_calendar()
            context["preview"] = selectors.calendar_preview(calendar, start=now)
        except ValueError as exc:
            context["preview_error"] = _("The calendar is not valid: %(error)s") % {"error": exc}
            return context
        due_form = DueHelperForm(request.GET if "due_hours" in request.GET else None)
        context["due_form"] = due_form
        if due_form.is_bound and due_form.is_valid():
            delta = timedelta(hours=due_form.cleaned_data["due_hours"], minutes=due_form.cleaned_data["due_minutes"])
            try:
                context["due_result"] = {
                    "start": now,
                    "delta": selectors.format_duration(delta) if delta else "0",
                    "due": work.add(now, delta),
                }
            except ValueError as exc:
                context["due_error"] = str(exc)
        return context


# --- policies ----------------------------------------------------------------------------------------


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "precedence",
        "name",
        "name_ru",
        "is_active",
        "conditions",
        "calendar",
        "targets",
        "due_if_created_now",
    ]
    list_display_links = ["name"]
    list_editable = ["precedence"]
    list_filter = ["is_active", "calendar", "retarget_mode"]
    list_select_related = ["queue", "ticket_type", "vip_tier", "calendar"]
    search_fields = ["name", "name_ru"]
    ordering = ["precedence"]
    fieldsets = [
        (None, {"fields": [("name", "name_ru"), "precedence", "is_active", "calendar", "retarget_mode"]}),
        (
            gettext_lazy("Applies to"),
            {
                "fields": ["queue", "ticket_type", "priority", "vip_tier"],
                "description": gettext_lazy(
                    "Empty means any. The active policy with the lowest precedence whose conditions all hold "
                    "applies; a ticket that matches none has no SLA."
                ),
            },
        ),
        (
            gettext_lazy("Targets (business time of the calendar)"),
            {"fields": [("first_response_target", "first_response_unit"), ("resolution_target", "resolution_unit"),
                        ("next_reply_target", "next_reply_unit"), "preview"]},
        ),
    ]
    readonly_fields = ["preview"]

    @admin.display(description=gettext_lazy("applies to"))
    def conditions(self, obj):
        parts = []
        if obj.queue_id:
            parts.append(_("queue %(v)s") % {"v": obj.queue})
        if obj.ticket_type_id:
            parts.append(_("type %(v)s") % {"v": obj.ticket_type})
        if obj.priority:
            parts.append(_("priority %(v)s") % {"v": obj.get_priority_display()})
        if obj.vip_tier_id:
            parts.append(_("VIP %(v)s") % {"v": obj.vip_tier})
        return " · ".join(parts) or _("any ticket")

    @admin.display(description=gettext_lazy("targets FR / RES / NR"))
    def targets(self, obj):
        return " / ".join(selectors.target_text(obj, kind) for kind in SLAClock.SLA_KINDS)

    @admin.display(description=gettext_lazy("resolution if created now"))
    def due_if_created_now(self, obj):
        return selectors.target_preview(obj, SLAClock.Kind.RESOLUTION)

    @admin.display(description=gettext_lazy("as people say it"))
    def preview(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the policy to see when its targets fall due.")
        labels = {SLAClock.Kind.FIRST_RESPONSE: _("First response"), SLAClock.Kind.RESOLUTION: _("Resolution"),
                  SLAClock.Kind.NEXT_REPLY: _("Next reply")}
        return format_html_join(
            mark_safe("<br>"), "{}: {} ({})",
            ((labels[kind], selectors.target_text(obj, kind), selectors.target_preview(obj, kind))
             for kind in SLAClock.SLA_KINDS if obj.target_for(kind) is not None),
        )

    def changelist_view(self, request, extra_context=None):
        """Warn when the active policies leave a queue × type × priority combination without SLA."""
        if request.method == "GET":
            count, examples = defaults.uncovered_combinations()
            if count:
                messages.warning(request, _(
                    "%(count)d queue × type × priority combinations match no active policy, so their tickets get "
                    "no SLA, no deadline and no escalation (for example: %(examples)s). Add a policy without "
                    "conditions at the lowest precedence, such as “%(catch_all)s”."
                ) % {
                    "count": count,
                    "examples": "; ".join(str(example) for example in examples),
                    "catch_all": defaults.CATCH_ALL_NAME,
                })
        return super().changelist_view(request, extra_context)


# --- clocks: read-only, they change only through sla.lifecycle -----------------------------------------


class SLAClockEventInline(admin.TabularInline):
    model = SLAClockEvent
    fields = ["at", "kind", "state", "consumed", "target", "due_at", "actor", "data"]
    readonly_fields = fields
    ordering = ["id"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SLAClock)
class SLAClockAdmin(ViewOnlyAdmin):
    list_display = ["ticket", "kind", "state", "policy", "target", "consumed", "due_at", "breached_at",
                    "counts_for_compliance"]
    list_filter = ["kind", "state", "counts_for_compliance", "calendar"]
    list_select_related = ["ticket", "policy"]
    search_fields = ["=ticket__id", "ticket__title"]
    date_hierarchy = "started_at"
    inlines = [SLAClockEventInline]


@admin.register(SLAClockEvent)
class SLAClockEventAdmin(ViewOnlyAdmin):
    list_display = ["at", "clock", "kind", "state", "consumed", "target", "actor"]
    list_filter = ["kind", "state"]
    list_select_related = ["clock", "actor"]
    search_fields = ["=clock__ticket__id"]
