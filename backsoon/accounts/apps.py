from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backsoon.accounts"
    label = "accounts"
    verbose_name = "Members"

    def ready(self) -> None:
        from django.core import checks

        from .checks import security_contact_is_set

        checks.register(security_contact_is_set, checks.Tags.security, deploy=True)
