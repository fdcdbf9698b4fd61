from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backsoon.accounts"
    label = "accounts"
    verbose_name = "Members"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .signals import last_login_update

        # Django's own receiver fails the sign-in when the database refuses the write
        # (full disk, read-only); ours skips it then (issue 14, finding 7).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_update, dispatch_uid="update_last_login")
