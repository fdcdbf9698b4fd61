from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "backsoon.triage"
    label = "triage"
    verbose_name = "Triage"
