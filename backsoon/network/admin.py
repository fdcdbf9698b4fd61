"""Admin: look, do not touch. Changes go through the actions (invitation_accept, ...)."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Block, Connection, Follow, Invitation


class ReadOnlyAdmin(admin.ModelAdmin):
    """For support staff to inspect; writing here would skip counters and notifications."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("id", "from_member", "to_member", "status", "created_at", "responded_at")
    list_filter = ("status", "auto_accepted")
    search_fields = ("from_member__username", "to_member__username")
    list_select_related = ("from_member", "to_member")
    date_hierarchy = "created_at"


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ("member", "other", "created_at")
    search_fields = ("member__username", "other__username")
    list_select_related = ("member", "other")


@admin.register(Follow)
class FollowAdmin(ReadOnlyAdmin):
    list_display = ("follower", "followee", "created_at")
    search_fields = ("follower__username", "followee__username")
    list_select_related = ("follower", "followee")


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ("blocker", "blocked", "created_at")
    search_fields = ("blocker__username", "blocked__username")
    list_select_related = ("blocker", "blocked")
