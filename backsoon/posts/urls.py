from django.urls import path

from . import views

app_name = "posts"
urlpatterns = [
    path("posts/", views.post_create, name="create"),
    path("posts/<int:post_id>/", views.post_detail, name="detail"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="edit"),
    path("posts/<int:post_id>/delete/", views.post_delete, name="delete"),
    path("posts/<int:post_id>/react/", views.reaction, name="react"),
    path("posts/<int:post_id>/comments/", views.comment_create, name="comment"),
    path("posts/<int:post_id>/share/", views.post_share, name="share"),
    path("posts/<int:post_id>/analytics/", views.post_analytics, name="analytics"),
    path("posts/<int:post_id>/yield/<str:step>/", views.post_yield_people, name="yield_people"),
    path("posts/<int:post_id>/reactions/", views.post_reactions, name="reactions"),
    path("posts/yield/", views.my_yield, name="my_yield"),
    path("comments/<int:comment_id>/", views.comment_link, name="comment_link"),
    path("comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
]
