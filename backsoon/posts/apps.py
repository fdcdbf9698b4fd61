from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "backsoon.posts"
    label = "posts"
    verbose_name = "Posts"

    def ready(self) -> None:
        # Buffered impressions are written before the process stops (see impressions.py).
        from .impressions import install_shutdown_flush

        install_shutdown_flush()
