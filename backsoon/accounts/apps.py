from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backsoon.accounts"
    label = "accounts"
    verbose_name = "Members"
