from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.index, name="index"),
    path("notifications/read/", views.read_all, name="read_all"),
    path("notifications/bulk/", views.bulk, name="bulk"),
    path("notifications/<int:notification_id>/read/", views.read_one, name="read"),
    path("notifications/<int:notification_id>/open/", views.open_subject, name="open"),
]
