from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backsoon.accounts"
    label = "accounts"
    verbose_name = "Members"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core import checks

        from .checks import security_contact_is_set
        from .middleware import two_factor_state_at_login
        from .signals import last_login_update

        checks.register(security_contact_is_set, checks.Tags.security, deploy=True)

        # Django's own receiver fails the sign-in when the database refuses the write
        # (full disk, read-only); ours skips it then (issue 14, finding 7).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_update, dispatch_uid="update_last_login")
        user_logged_in.connect(two_factor_state_at_login, dispatch_uid="backsoon_2fa_state")
