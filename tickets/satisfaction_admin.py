"""Satisfaction surveys and answers in the admin: read only (the survey is the outbox's, the answer the customer's).

Whether a bad answer reopens a done ticket is the queue's setting ("reopen on a bad rating", ``QueueAdmin``).
"""

from __future__ import annotations

from django.contrib import admin

from tickets.models import SatisfactionRating, SatisfactionSurvey


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "state", "skip_reason", "route", "language", "created_at", "sent_at", "expires_at"]
    list_filter = ["state", "skip_reason", "route"]
    search_fields = ["ticket__id", "ticket__title"]
    list_select_related = ["ticket"]


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "rating", "answered_at", "performer", "queue", "ticket_type", "reopened"]
    list_filter = ["rating", "reopened", "queue", "ticket_type"]
    search_fields = ["ticket__id", "comment"]
    list_select_related = ["ticket", "performer", "queue", "ticket_type"]
