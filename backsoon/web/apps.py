from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "backsoon.web"
    label = "web"
    verbose_name = "Web"
