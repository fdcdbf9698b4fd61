"""Admin views of posts, for moderation. Counters are read-only: actions keep them."""

from django.contrib import admin

from .models import Comment, Post, Reaction

COUNTERS = (
    "reactions_count",
    "comments_count",
    "shares_count",
    "impressions_count",
    "unique_viewers",
)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "created_at", "is_share", *COUNTERS)
    list_select_related = ("author",)
    search_fields = ("body", "author__username")
    date_hierarchy = "created_at"
    raw_id_fields = ("author", "shared_post")
    readonly_fields = ("created_at", "edited_at", *COUNTERS)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "author", "parent", "created_at")
    list_select_related = ("author",)
    search_fields = ("body", "author__username")
    raw_id_fields = ("post", "author", "parent")
    readonly_fields = ("created_at",)


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "member", "type", "created_at")
    list_filter = ("type",)
    list_select_related = ("member",)
    raw_id_fields = ("post", "member")
