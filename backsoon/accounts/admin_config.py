"""The admin app, with Backsoon's admin site (kept apart: app configs load before models)."""

from django.contrib.admin.apps import AdminConfig


class BacksoonAdminConfig(AdminConfig):
    default_site = "backsoon.accounts.admin_site.BacksoonAdminSite"
