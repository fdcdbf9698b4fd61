from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "backsoon.posts"
    label = "posts"
    verbose_name = "Posts"
