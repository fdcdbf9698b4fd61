from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "backsoon.network"
    label = "network"
    verbose_name = "Network"
