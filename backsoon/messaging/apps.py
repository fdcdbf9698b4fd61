from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "backsoon.messaging"
    label = "messaging"
    verbose_name = "Messaging"
