from django.urls import path

from . import live_views, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("live/", live_views.live_stream, name="live"),
    path("live/counts/", live_views.live_counts, name="live_counts"),
]
