from django.urls import path, re_path

from . import digest_views, views
from .calendar import views as calendar_views

app_name = "away"
urlpatterns = [
    path("away/", views.index, name="index"),
    path("away/new/", views.absence_new, name="new"),
    path("away/preview/", views.preview, name="preview"),
    path("away/<int:absence_id>/edit/", views.absence_edit, name="edit"),
    path("away/<int:absence_id>/end/", views.absence_end, name="end"),
    path("away/<int:absence_id>/delete/", views.absence_delete, name="delete"),
    path("away/<int:absence_id>/digest/", digest_views.digest, name="digest"),
    path(
        "away/<int:absence_id>/digest/invitations/",
        digest_views.digest_invitations,
        name="digest_invitations",
    ),
    path(
        "away/<int:absence_id>/digest/notifications/",
        digest_views.digest_notifications,
        name="digest_notifications",
    ),
    path("away/calendar/", calendar_views.calendar_page, name="calendar"),
    path("away/calendar/import/", calendar_views.calendar_import, name="calendar_import"),
    path("away/calendar/settings/", calendar_views.calendar_settings, name="calendar_settings"),
    path("away/calendar/feeds/", calendar_views.calendar_feed_add, name="calendar_feed_add"),
    path(
        "away/calendar/feeds/<int:feed_id>/delete/",
        calendar_views.calendar_feed_delete,
        name="calendar_feed_delete",
    ),
    path(
        "away/calendar/feeds/<int:feed_id>/sync/",
        calendar_views.calendar_feed_sync,
        name="calendar_feed_sync",
    ),
    path(
        "away/calendar/export/", calendar_views.calendar_export_token, name="calendar_export_token"
    ),
    path(
        "away/calendar/export/revoke/",
        calendar_views.calendar_export_revoke,
        name="calendar_export_revoke",
    ),
    re_path(
        r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$",
        calendar_views.calendar_export,
        name="calendar_export",
    ),
]
