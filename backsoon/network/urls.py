from django.urls import path

from . import views

app_name = "network"
urlpatterns = [
    path("network/", views.index, name="index"),
    path("network/invitations/received/", views.received_fragment, name="received"),
    path("network/invite/", views.invite, name="invite"),
    path("network/invitations/bulk/", views.bulk, name="bulk"),
    path("network/invitations/<int:invitation_id>/accept/", views.accept, name="accept"),
    path("network/invitations/<int:invitation_id>/ignore/", views.ignore, name="ignore"),
    path("network/invitations/<int:invitation_id>/withdraw/", views.withdraw, name="withdraw"),
    path(
        "network/connections/<str:username>/remove/",
        views.connection_remove,
        name="connection_remove",
    ),
    path("network/members/<str:username>/follow/", views.follow, name="follow"),
    path("network/members/<str:username>/unfollow/", views.unfollow, name="unfollow"),
    path("network/members/<str:username>/block/", views.block, name="block"),
    path("network/members/<str:username>/unblock/", views.unblock, name="unblock"),
]
