"""Portal forms. They parse and validate input; the views hand the cleaned data to ``tickets.services``."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import BoundedDateTimeField
from core.forms import ModelChoiceField, PersonChoiceField
from tickets import access, selectors
from tickets.attachments import IncomingFile, check_sizes, limits_text
from tickets.models import (
    Channel,
    Customer,
    Priority,
    Queue,
    QueueMembership,
    RelatedObject,
    Status,
    Ticket,
    display_name,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.Field):
    """Several files in one multipart field (``attachments``), as ``tickets.attachments.IncomingFile`` values.

    The limits are judged on the uploads' sizes before any is read (``check_sizes``); a refused
    file makes the whole form invalid, with one message per problem naming the file.
    """

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Files"))
        super().__init__(**kwargs)

    def to_python(self, data) -> list[IncomingFile]:
        uploads = [upload for upload in (data or []) if upload is not None and hasattr(upload, "read")]
        check_sizes([(upload.name or "", upload.size or 0) for upload in uploads])
        return [IncomingFile.from_upload(upload) for upload in uploads]


class WithAttachments(forms.Form):
    """A form with an ``attachments`` field whose help text states the limits of the settings in force."""

    attachments = AttachmentsField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = limits_text()


class ReplyForm(WithAttachments):
    body = forms.CharField(
        label=_("Reply to the customer"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("The customer will see this message.")}),
        error_messages={"required": _("The reply is empty.")},
    )
    canned = forms.CharField(required=False, widget=forms.HiddenInput)  # the canned reply inserted (tickets.canned)


class LoggedCallForm(forms.Form):
    """A reply given by phone, written down: the customer was answered when it is saved (channels.views)."""

    body = forms.CharField(
        label=_("Answered by phone"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What you told the customer on the phone.")}),
        error_messages={"required": _("Write down what you told the customer.")},
    )


class NoteForm(WithAttachments):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Only colleagues see notes.")}),
        error_messages={"required": _("The note is empty.")},
    )


class StatusForm(forms.Form):
    """The next status; the blocking reason is always in the form and only used (and required) for waiting."""

    status = forms.ChoiceField(label=_("New status"), choices=())
    reason = ModelChoiceField(
        label=_("Blocking reason"),
        queryset=selectors.active_reasons(),
        required=False,
        empty_label=_("— what is it waiting for? —"),
        help_text=_("Needed for “waiting for external action”."),
    )
    approver = PersonChoiceField(
        label=_("Approver"),
        queryset=selectors.people(),
        required=False,
        empty_label=_("— who decides? —"),
        help_text=_("Needed for “on approval”: usually your manager."),
    )
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)

    def __init__(self, *args, ticket: Ticket, allowed: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.fields["approver"].queryset = selectors.people().exclude(pk=ticket.performer_id)
        manager_id = getattr(getattr(ticket.performer, "profile", None), "manager_id", None)
        self.fields["approver"].initial = ticket.approver_id or manager_id
        choices = [(value, Status(value).label) for value in allowed]
        if ticket.status == Status.WAITING and Status.WAITING not in allowed:
            choices.insert(0, (Status.WAITING.value, _("Waiting: change the reason")))
        self.fields["status"].choices = [("", _("— choose —")), *choices]
        if ticket.status == Status.WAITING:
            self.fields["reason"].initial = ticket.blocking_reason_id

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status == Status.WAITING:
            if data.get("reason") is None:
                self.add_error("reason", _("Choose a blocking reason: what is the ticket waiting for?"))
        else:
            data["reason"] = None
        if status == Status.ON_APPROVAL:
            if data.get("approver") is None and self.ticket.approver_id in (None, self.ticket.performer_id):
                self.add_error("approver", _("Choose an approver other than the performer: who decides?"))
        else:
            data["approver"] = None
        return data


class ApprovalDecisionForm(forms.Form):
    """The approver's decision on a ticket on approval; rejecting needs a comment (the service says so)."""

    decision = forms.ChoiceField(choices=[("approve", "approve"), ("close", "close"), ("reject", "reject")])
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject: the performer reads it."),
    )


class NextStepForm(forms.Form):
    text = forms.CharField(label=_("Next step"), max_length=300, required=False)
    due = BoundedDateTimeField(label=_("By"), required=False, widget=DateTimeLocalInput())

    def clean(self):
        data = super().clean()
        if data.get("due") is not None and not (data.get("text") or "").strip():
            self.add_error("text", _("Describe the next step before giving it a date."))
        return data


class AssignForm(forms.Form):
    performer = PersonChoiceField(
        label=_("Performer"),
        queryset=selectors.people().none(),
        empty_label=_("— choose a person —"),
        error_messages={"invalid_choice": _("This person cannot work on tickets of this queue.")},
    )

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["performer"].queryset = selectors.agents_of(ticket.queue_id)


class UnassignForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=300, required=False)


class TriageForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    queue = ModelChoiceField(label=_("Queue"), queryset=selectors.active_queues(), empty_label=None)
    ticket_type = ModelChoiceField(
        label=_("Type"), queryset=selectors.active_types(), required=False, empty_label=_("— no type —")
    )


class TicketCreateForm(WithAttachments):
    """A ticket taken from a phone call (or any other channel) by a dispatcher."""

    customer = ModelChoiceField(
        label=_("Existing customer"),
        queryset=Customer.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This customer no longer exists.")},
    )
    customer_name = forms.CharField(label=_("Customer name"), max_length=200, required=False)
    customer_phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    customer_email = forms.EmailField(label=_("Email"), required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What the customer says"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Becomes the customer's first message."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    queue = ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), empty_label=None)
    ticket_type = ModelChoiceField(
        label=_("Type"), queryset=selectors.active_types(), required=False, empty_label=_("— no type —")
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    related_kind = forms.ChoiceField(
        label=_("Related object"),
        choices=[("", _("— none —")), *RelatedObject.Kind.choices],
        required=False,
    )
    related_ref = forms.CharField(
        label=_("Reference"), max_length=120, required=False, help_text=_("Order number, contract, site…")
    )
    deadline = BoundedDateTimeField(label=_("Deadline"), required=False, widget=DateTimeLocalInput())
    performer = PersonChoiceField(
        label=_("Performer"),
        queryset=selectors.people().none(),
        required=False,
        empty_label=_("— leave in the queue —"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        queues = selectors.creatable_queues(user)
        self.fields["queue"].queryset = queues
        agent_ids = QueueMembership.objects.filter(queue__in=queues, role=QueueMembership.Role.AGENT).values("user_id")
        self.fields["performer"].queryset = selectors.people().filter(pk__in=agent_ids)
        self.can_set_deadline = access.can_set_deadline_on_create(user)
        if not self.can_set_deadline:
            del self.fields["deadline"]

    def clean_customer_phone(self):
        return (self.cleaned_data.get("customer_phone") or "").strip()

    def clean_deadline(self):
        deadline = self.cleaned_data.get("deadline")
        if deadline is not None and deadline <= timezone.now():
            raise forms.ValidationError(_("The deadline must be in the future."))
        return deadline

    def clean(self):
        data = super().clean()
        no_customer = data.get("customer") is None and not self.has_error("customer")
        no_contact = not data.get("customer_phone") and not data.get("customer_email")
        if no_customer and no_contact and not self.has_error("customer_email"):
            self.add_error("customer_phone", _("Choose an existing customer or give the new one's phone or email."))
        kind, ref = data.get("related_kind"), (data.get("related_ref") or "").strip()
        data["related_ref"] = ref
        if kind and not ref:
            self.add_error("related_ref", _("Give the reference of the related object."))
        elif ref and not kind:
            self.add_error("related_kind", _("Choose what kind of object this is."))
        performer, queue = data.get("performer"), data.get("queue")
        if performer is not None and queue is not None and not selectors.agents_of(queue).filter(pk=performer.pk):
            self.add_error(
                "performer",
                _("%(person)s is not an agent of the queue %(queue)s.")
                % {"person": display_name(performer), "queue": queue.label},
            )
        return data


class InternalTaskForm(forms.Form):
    """An internal task: one department asks another for something, with an owner, a deadline and an SLA."""

    title = forms.CharField(label=_("What is needed"), max_length=200)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("An internal note on the task; no customer ever sees it."),
    )
    queue = ModelChoiceField(
        label=_("Department that does it"), queryset=selectors.active_queues(), empty_label=None,
        error_messages={"invalid_choice": _("Choose an active queue.")},
    )
    requester_queue = ModelChoiceField(
        label=_("On behalf of"), queryset=Queue.objects.none(), required=False, empty_label=_("— just me —"),
        help_text=_("Your department, if it asks (else you are the requester)."),
        error_messages={"invalid_choice": _("You can only ask on behalf of your own queues.")},
    )
    ticket_type = ModelChoiceField(
        label=_("Type"), queryset=selectors.active_types(), required=False, empty_label=_("— no type —")
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    deadline = BoundedDateTimeField(label=_("Deadline"), required=False, widget=DateTimeLocalInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        own = Queue.objects.filter(is_active=True, memberships__user=user).distinct()
        self.fields["requester_queue"].queryset = own
        self.can_set_deadline = access.can_set_deadline_on_create(user)
        if not self.can_set_deadline:
            del self.fields["deadline"]

    def clean_deadline(self):
        deadline = self.cleaned_data.get("deadline")
        if deadline is not None and deadline <= timezone.now():
            raise forms.ValidationError(_("The deadline must be in the future."))
        return deadline
