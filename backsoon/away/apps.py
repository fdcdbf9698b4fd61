from django.apps import AppConfig


class AwayConfig(AppConfig):
    name = "backsoon.away"
    label = "away"
    verbose_name = "Out of office"
