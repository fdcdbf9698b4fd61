from django.urls import path

from . import security_views, views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("settings/profile/", views.profile_edit, name="profile_edit"),
    path("login/code/", security_views.login_code, name="login_code"),
    path("settings/security/", security_views.security, name="security"),
    path("settings/security/password/", security_views.password_change, name="password_change"),
    path("settings/security/tokens/", security_views.token_create, name="token_create"),
    path(
        "settings/security/tokens/<int:token_id>/revoke/",
        security_views.token_revoke,
        name="token_revoke",
    ),
    path(
        "settings/security/two-factor/",
        security_views.two_factor_setup,
        name="two_factor_setup",
    ),
    path(
        "settings/security/two-factor/disable/",
        security_views.two_factor_disable,
        name="two_factor_disable",
    ),
    path(
        "settings/security/two-factor/recovery-codes/",
        security_views.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path(".well-known/security.txt", security_views.security_txt, name="security_txt"),
    path("in/<str:username>/", views.profile, name="profile"),
    path("search/", views.search, name="search"),
]
