from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("settings/profile/", views.profile_edit, name="profile_edit"),
    path("in/<str:username>/", views.profile, name="profile"),
    path("search/", views.search, name="search"),
]
