"""Admin: look, do not touch. Changes go through the actions (absence_end, ...), which
keep the reply records and the welcome-back notification right."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from backsoon.errors import DomainError

from . import actions as away_actions
from .models import Absence, AutoReplyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """For support staff to inspect; writing here would skip the rules of the actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Absence)
class AbsenceAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "member",
        "starts_at",
        "ends_at",
        "ended_at",
        "state_now",
        "audience",
        "invitations",
        "source",
    )
    list_filter = ("audience", "invitations", "source")
    search_fields = ("member__username",)
    list_select_related = ("member",)
    date_hierarchy = "starts_at"
    exclude = ("message", "translations", "others_message")  # the member's own words
    actions = ("end_now",)

    @admin.display(description="state")
    def state_now(self, obj: Absence) -> str:
        return obj.state(timezone.now())

    @admin.action(description="End the selected absences now (as the member would)")
    def end_now(self, request: HttpRequest, queryset: QuerySet[Absence]) -> None:
        ended = 0
        for absence in queryset.select_related("member"):
            try:
                away_actions.absence_end(member=absence.member, absence_id=absence.pk)
            except DomainError:
                continue  # ended already
            ended += 1
        self.message_user(request, f"Ended {ended} absence(s).", messages.SUCCESS)


@admin.register(AutoReplyRecord)
class AutoReplyRecordAdmin(ReadOnlyAdmin):
    list_display = ("absence", "sender", "message_version", "last_sent_at", "replies")
    search_fields = ("sender__username", "absence__member__username")
    list_select_related = ("absence", "sender")
