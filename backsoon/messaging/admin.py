"""Admin: look, do not touch. Messages are private: only metadata is listed."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Conversation, Participant


class ParticipantInline(admin.TabularInline):
    model = Participant
    fields = ("member", "joined_at", "left_at", "unread_count")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Support staff see who talks and when, never what was said (messages are not shown)."""

    list_display = ("id", "kind", "subject", "created_by", "created_at", "last_message_at")
    list_filter = ("kind", "with_stranger")
    search_fields = ("participants__member__username",)
    list_select_related = ("created_by",)
    fields = ("kind", "subject", "created_by", "created_at", "last_message_at", "with_stranger")
    readonly_fields = fields
    inlines = (ParticipantInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
