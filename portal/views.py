"""The server-rendered portal: thin views that parse a form, call a service and redirect.

Tickets are always looked up through ``Ticket.objects.visible_to(user)`` (404
otherwise); what a user may do with a visible ticket is asked of
``tickets.access`` (403 otherwise). Every state change is a POST that
redirects back (PRG); a ``TicketError`` becomes an error message and changes
nothing.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_tables2 import RequestConfig

from core.http import form_errors_to_messages as _form_errors
from core.http import safe_next as _safe_next
from portal import bulk_views, canned_views, selectors
from portal.filters import MyWorkFilter, TicketListFilter
from portal.ticket_panels import ticket_panels
from sla.templatetags.sla_tags import sla_badges
from tickets import access, approval, canned, ports, satisfaction, services
from tickets import selectors as ticket_selectors
from tickets.forms import (
    ApprovalDecisionForm,
    AssignForm,
    InternalTaskForm,
    LoggedCallForm,
    NextStepForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    TicketCreateForm,
    TriageForm,
    UnassignForm,
)
from tickets.models import Customer, Profile, RelatedObject, Status, Ticket, display_name
from tickets.services import TicketError
from tickets.tables import CappedPaginator, IntakeTable, KeysFirstPaginator, MyWorkTable, TicketListTable

PER_PAGE = 25
MAX_PER_PAGE = 100


# --- Helpers -------------------------------------------------------------------------


def _per_page(request) -> int:
    """``?per_page=`` clamped to 1–100 (anything that is not a number: the default)."""
    try:
        wanted = int(request.GET.get("per_page", PER_PAGE))
    except (TypeError, ValueError):
        return PER_PAGE
    return min(max(wanted, 1), MAX_PER_PAGE)


def _table_page(request, table_class, queryset, *, bulk: bool = True, paginator_class=CappedPaginator):
    """A sortable table of ``queryset``, paginated by ``?page=`` (``?per_page=`` clamped, ``?sort=`` honoured).

    On the pages with the bulk bar (``bulk``), those who may act in bulk get a checkbox column first
    (``portal.bulk_views``). The count behind the
    pagination is capped (``CappedPaginator``): a viewer who sees a million tickets does not wait for all of
    them to be counted."""
    select = bulk_views.select_column(table_class, request.user) if bulk else {}
    table = table_class(queryset, sla_cell=sla_badges, **select)
    per_page = _per_page(request)
    if request.GET.get("per_page") not in (None, str(per_page)):
        request.GET = request.GET.copy()  # django-tables2 reads ?per_page= itself: give it the clamped value
        request.GET["per_page"] = str(per_page)
    RequestConfig(request, paginate={"per_page": per_page, "paginator_class": paginator_class}).configure(table)
    return table


# --- Home and language -------------------------------------------------------------------


@login_required
def home(request):
    if access.DISPATCHER in access.roles_of(request.user):
        return redirect("tickets:intake")
    return redirect("tickets:my_work")


@require_POST
def set_language(request):
    """Switch the interface language: a cookie for this browser, the profile for every later login."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Unknown language."))
    response = redirect(_safe_next(request, reverse("home")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    if request.user.is_authenticated:
        profile, _created = Profile.objects.get_or_create(user=request.user)
        if profile.language != language:
            profile.language = language
            profile.save(update_fields=["language"])
    return response


# --- Lists ---------------------------------------------------------------------------------


@login_required
def my_work(request):
    filterset = MyWorkFilter(request.GET or None, queryset=selectors.my_work(request.user), request=request)
    # By deadline over one person's open tickets: keys first (tickets.tables.KeysFirstPaginator), so the database
    # picks them off the (performer, status) and (owner, status) indexes before joining the page's rows.
    table = _table_page(request, MyWorkTable, filterset.qs, paginator_class=KeysFirstPaginator)
    context = {"table": table, "filter": filterset, **bulk_views.toolbar(request, "my_work", table.paginator.count)}
    return render(request, "tickets/my_work.html", context)


@login_required
def ticket_list(request):
    filterset = TicketListFilter(request.GET or None, queryset=selectors.ticket_list(request.user), request=request)
    table = _table_page(request, TicketListTable, filterset.qs)
    context = {"table": table, "filter": filterset, **bulk_views.toolbar(request, "list", table.paginator.count)}
    return render(request, "tickets/list.html", context)


@login_required
def intake(request):
    if not request.user.has_perm("tickets.assign_ticket"):
        raise PermissionDenied
    # The queue order is computed per waiting ticket: the page's keys are sorted first, its rows joined after.
    table = _table_page(request, IntakeTable, selectors.intake_board(request.user), paginator_class=KeysFirstPaginator)
    return render(
        request, "tickets/intake.html", {"table": table, **bulk_views.toolbar(request, "intake", table.paginator.count)}
    )


# --- Ticket page ----------------------------------------------------------------------------


@login_required
def ticket_detail(request, pk: int):
    """The ticket page. Its forms share field names (``body``, ``reason``), so each gets its own ``auto_id``:
    every id on the page is unique and each label focuses its own field (the names posted stay the same)."""
    return _ticket_page(request, pk)


def _ticket_page(request, pk: int, *, reply_form=None, note_form=None, status: int = 200):
    """The ticket page, with a refused reply or note form (its text kept, its errors shown) when given."""
    try:
        ticket = selectors.ticket_detail(request.user, pk)
    except Ticket.DoesNotExist:
        raise Http404 from None
    user = request.user
    can_work = access.can_work(user, ticket)
    can_assign = access.can_assign(user, ticket)
    conversation = list(ticket.messages.all())
    addressing = ports.email_addressing(ticket, conversation)
    if addressing is not None:
        for message in conversation:
            message.email_copies = addressing.copies.get(message.pk)
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "history": ticket.events.all(),
        "observers": ticket.observers.all(),
        "can_work": can_work,
        "can_assign": can_assign,
        "sees_notes": access.can_see_notes(user),
        "can_retry_delivery": access.can_retry_delivery(user, ticket, assign=can_assign, visible=True),
        "survey": satisfaction.survey_loaded(ticket),
    }
    # Links, merge and the customer's other tickets this viewer may open (seed 000: one customer, one picture).
    context.update(ticket_panels(ticket, user, can_work=can_work, can_assign=can_assign))
    if access.can_decide_approval(user, ticket):
        context.update(
            approval_form=ApprovalDecisionForm(auto_id="approval_%s"),
            approval_closes=approval.may_close_on_approval(ticket),
        )
    if can_work:
        allowed = services.allowed_statuses(ticket)
        canned_context = canned_views.reply_box_context(request, ticket) if not ticket.is_internal else {}
        filled, template = canned_context.get("canned_filled"), canned_context.get("canned_template")
        if reply_form is None and filled is not None:
            reply_form = ReplyForm(initial={"body": filled.text, "canned": template.pk}, auto_id="reply_%s")
        context.update(canned_context)
        context.update(
            reply_form=reply_form or ReplyForm(auto_id="reply_%s"),
            call_form=LoggedCallForm(auto_id="call_%s"),
            # A customer with an email address can always be answered: ask channels only when there is none.
            reply_route=bool(ticket.customer.email) or ports.reply_route(ticket),
            reply_addressing=addressing if addressing is not None and addressing.to else None,
            note_form=note_form or NoteForm(auto_id="note_%s"),
            status_form=StatusForm(ticket=ticket, allowed=allowed, auto_id="status_%s"),
            can_change_status=bool(allowed) or ticket.status == Status.WAITING,
            next_step_form=NextStepForm(
                initial={"text": ticket.next_step, "due": ticket.next_step_due}, auto_id="next_step_%s"
            ),
        )
    if can_assign:
        # The agents are read once, for the select and for "has this queue any agents?" (no EXISTS query of its own).
        assign_form = _choices_read_once(
            AssignForm(ticket=ticket, initial={"performer": ticket.performer_id}, auto_id="assign_%s"), "performer"
        )
        context.update(
            assign_form=assign_form,
            assign_has_agents=any(value != "" for value, _label in assign_form.fields["performer"].choices),
            unassign_form=UnassignForm(auto_id="unassign_%s"),
            triage_form=_choices_read_once(
                TriageForm(
                    initial={
                        "priority": ticket.priority,
                        "queue": ticket.queue_id,
                        "ticket_type": ticket.ticket_type_id,
                    },
                    auto_id="triage_%s",
                ),
                "queue",
            ),
        )
    return render(request, "tickets/detail.html", context, status=status)


def _choices_read_once(form, *names):
    """``form`` drawing the named model choice fields from one read of their querysets.

    A required ``<select>`` without an empty choice reads its queryset twice when drawn: once to see whether the
    first choice is empty (``use_required_attribute``), once for the options. The page only draws the form (it
    posts to another view), so the options are read once into a list."""
    for name in names:
        field = form.fields[name]
        field.choices = list(iter(field.choices))  # iter(): no COUNT(*) for a length hint
    return form


def ticket_action(check):
    """A POST-only action on a visible ticket: 404 if the user cannot see it, 403 if ``check`` refuses.

    The wrapped function returns a redirect or ``None`` (back to the ticket); a TicketError becomes a message.
    """

    def decorator(func):
        @login_required
        @require_POST
        @wraps(func)
        def view(request, pk: int):
            ticket = get_object_or_404(Ticket.objects.visible_to(request.user).select_related("queue"), pk=pk)
            if not check(request.user, ticket):
                raise PermissionDenied
            try:
                response = func(request, ticket)
            except TicketError as exc:
                messages.error(request, str(exc))
                response = None
            return response or redirect(_safe_next(request, reverse("tickets:detail", args=[ticket.pk])))

        return view

    return decorator


def _refused_files(request, ticket, form, name: str, reasons=()):
    """A reply or note whose files were refused: nothing saved, the page again with the text kept (422)."""
    for reason in reasons:
        form.add_error("attachments", reason)
    messages.error(request, _("Nothing was saved: fix the files and choose them again."))
    return _ticket_page(request, ticket.pk, status=422, **{name: form})


@ticket_action(access.can_work)
def ticket_reply(request, ticket):
    form = ReplyForm(request.POST, request.FILES, auto_id="reply_%s")
    if not form.is_valid():
        if form.has_error("attachments"):
            return _refused_files(request, ticket, form, "reply_form")
        return _form_errors(request, form)
    try:
        template = canned.offered_template(ticket, form.cleaned_data["canned"])
        canned.ticket_reply_with_template(
            ticket,
            template=template,
            body=form.cleaned_data["body"],
            actor=request.user,
            refuse_undeliverable=True,
            attachments=form.cleaned_data["attachments"],
        )
    except services.AttachmentsRefused as refused:
        return _refused_files(request, ticket, form, "reply_form", refused.reasons)
    messages.success(request, _("Your reply is being sent to the customer."))


@ticket_action(access.can_work)
def ticket_note(request, ticket):
    form = NoteForm(request.POST, request.FILES, auto_id="note_%s")
    if not form.is_valid():
        if form.has_error("attachments"):
            return _refused_files(request, ticket, form, "note_form")
        return _form_errors(request, form)
    try:
        services.ticket_add_note(
            ticket, body=form.cleaned_data["body"], actor=request.user, attachments=form.cleaned_data["attachments"]
        )
    except services.AttachmentsRefused as refused:
        return _refused_files(request, ticket, form, "note_form", refused.reasons)
    messages.success(request, _("Note added."))


@ticket_action(access.can_work)
def ticket_status(request, ticket):
    form = StatusForm(request.POST, ticket=ticket, allowed=services.allowed_statuses(ticket))
    if not form.is_valid():
        return _form_errors(request, form)
    data = form.cleaned_data
    if data["status"] == Status.ON_APPROVAL:
        approval.ticket_send_to_approval(ticket, approver=data["approver"], comment=data["comment"], actor=request.user)
        messages.success(
            request,
            _("%(ticket)s waits for approval by %(person)s.")
            % {"ticket": ticket.reference, "person": display_name(ticket.approver)},
        )
        return None
    services.ticket_change_status(
        ticket, status=data["status"], reason=data["reason"], comment=data["comment"], actor=request.user
    )
    messages.success(request, _("The status is now “%(status)s”.") % {"status": Status(ticket.status).label})


@ticket_action(access.can_decide_approval)
def ticket_approval(request, ticket):
    """The approver's decision: approve (back to work), approve and close (where the type allows), reject."""
    form = ApprovalDecisionForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
    if decision == "reject":
        approval.ticket_reject(ticket, comment=comment, actor=request.user)
        messages.success(request, _("Rejected: %(ticket)s is back with the performer.") % {"ticket": ticket.reference})
    else:
        approval.ticket_approve(ticket, comment=comment, close=decision == "close", actor=request.user)
        messages.success(
            request,
            _("Approved: %(ticket)s is now “%(status)s”.")
            % {"ticket": ticket.reference, "status": Status(ticket.status).label},
        )


@ticket_action(access.can_work)
def ticket_next_step(request, ticket):
    form = NextStepForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    services.ticket_set_next_step(
        ticket, text=form.cleaned_data["text"], due=form.cleaned_data["due"], actor=request.user
    )
    messages.success(request, _("Next step saved."))


@ticket_action(access.can_assign)
def ticket_assign(request, ticket):
    form = AssignForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return _form_errors(request, form)
    performer = form.cleaned_data["performer"]
    services.ticket_assign(ticket, performer=performer, actor=request.user)
    messages.success(
        request,
        _("%(ticket)s is now with %(person)s.") % {"ticket": ticket.reference, "person": display_name(performer)},
    )


@ticket_action(access.can_assign)
def ticket_unassign(request, ticket):
    form = UnassignForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    services.ticket_unassign(ticket, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, _("%(ticket)s is back in the queue.") % {"ticket": ticket.reference})


@ticket_action(access.can_assign)
def ticket_triage(request, ticket):
    form = TriageForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    services.ticket_update(ticket, actor=request.user, **form.cleaned_data)
    messages.success(request, _("Triage saved."))
    if not Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
        messages.info(request, _("%(ticket)s moved to a queue you do not see.") % {"ticket": ticket.reference})
        return redirect("tickets:list")
    return None


# --- New ticket ------------------------------------------------------------------------------


def _create_ticket(form: TicketCreateForm, actor) -> Ticket:
    data = form.cleaned_data
    customer = data["customer"] or services.customer_find_or_create(
        name=data["customer_name"], email=data["customer_email"], phone=data["customer_phone"]
    )
    related = None
    if data["related_kind"]:
        related, _created = RelatedObject.objects.get_or_create(
            kind=data["related_kind"], external_ref=data["related_ref"], defaults={"customer": customer}
        )
    return services.ticket_create(
        actor=actor,
        title=data["title"],
        description=data["description"],
        customer=customer,
        queue=data["queue"],
        ticket_type=data["ticket_type"],
        channel=data["channel"],
        priority=data["priority"],
        related_object=related,
        deadline=data.get("deadline"),
        performer=data["performer"],
        attachments=data["attachments"],
    )


@login_required
def ticket_create(request):
    if not access.can_create_ticket(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = TicketCreateForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                with transaction.atomic():
                    ticket = _create_ticket(form, request.user)
            except services.AttachmentsRefused as refused:
                form.add_error("attachments", refused.reasons)
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Ticket %(ticket)s created.") % {"ticket": ticket.reference})
                if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
                    return redirect("tickets:detail", pk=ticket.pk)
                return redirect("tickets:list")
        if request.FILES.getlist("attachments") and not form.has_error("attachments"):
            form.add_error("attachments", _("Choose the files again: they are not kept when the form comes back."))
        messages.error(request, _("The ticket was not created: please check the highlighted fields."))
    else:
        form = TicketCreateForm(user=request.user, initial=request.GET.dict())
    selected = form["customer"].value()
    term = (request.POST if request.method == "POST" else request.GET).get("customer_q", "")
    context = {
        "form": form,
        "selected_customer": Customer.objects.filter(pk=selected).first() if str(selected or "").isdigit() else None,
        "customer_q": term,
        "matches": ticket_selectors.customer_search(term),
    }
    return render(request, "tickets/create.html", context)


@login_required
def internal_task_create(request):
    """A new internal task: the requester is the person (and optionally their department); any role may ask."""
    if not access.can_create_internal_task(request.user):
        raise PermissionDenied
    form = InternalTaskForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    actor=request.user,
                    title=data["title"],
                    description=data["description"],
                    queue=data["queue"],
                    ticket_type=data["ticket_type"],
                    priority=data["priority"],
                    deadline=data.get("deadline"),
                    requester_user=request.user,
                    requester_queue=data["requester_queue"],
                )
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Internal task %(ticket)s created.") % {"ticket": ticket.reference})
                return redirect("tickets:detail", pk=ticket.pk)
        messages.error(request, _("The internal task was not created: please check the highlighted fields."))
    return render(request, "tickets/create_internal.html", {"form": form})


@login_required
@require_GET
def customer_search(request):
    """The customer matches of the new-ticket form (an htmx fragment)."""
    if not access.can_create_ticket(request.user):
        raise PermissionDenied
    term = request.GET.get("customer_q", "")
    return render(
        request,
        "tickets/_customer_matches.html",
        {"matches": ticket_selectors.customer_search(term), "customer_q": term, "selected_customer": None},
    )
