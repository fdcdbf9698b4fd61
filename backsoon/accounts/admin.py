from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, LoginFailure, Member


@admin.register(Member)
class MemberAdmin(UserAdmin):
    list_display = ("username", "display_name", "email", "language", "is_bot", "is_staff")
    list_filter = ("is_bot", "is_staff", "is_active", "language")
    search_fields = ("username", "display_name", "email")
    ordering = ("username",)
    readonly_fields = ("connections_count", "followers_count", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("display_name", "email", "headline", "language", "timezone")}),
        ("Status", {"fields": ("is_active", "is_bot", "is_staff", "is_superuser", "groups")}),
        (
            "Counts",
            {"fields": ("connections_count", "followers_count", "date_joined", "last_login")},
        ),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "email", "display_name", "password1", "password2")}),
    )
    filter_horizontal = ("groups",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "member",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = ("digest", "prefix", "member", "created_at", "last_used_at", "expires_at")
    search_fields = ("member__username", "prefix")


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ("username", "ip", "at")
