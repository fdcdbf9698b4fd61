"""Admin: look, do not touch. Notifications are written by the actions only."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "type", "actor", "count", "created_at", "read_at", "pushed")
    list_filter = ("type", "pushed")
    search_fields = ("recipient__username", "actor__username")
    list_select_related = ("recipient", "actor")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
