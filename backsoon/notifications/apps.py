from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "backsoon.notifications"
    label = "notifications"
    verbose_name = "Notifications"
