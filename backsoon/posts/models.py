"""Posts, reactions, comments, mentions and impressions.

Counts shown on a post (reactions, comments, shares, impressions, unique viewers)
are stored on the post and changed with ``F()`` expressions in the same
transaction as the action that changes them; nothing is counted per request.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.timezone import now as utc_now


class Post(models.Model):
    """A member's post. A share is a post that embeds the shared one (``shared_post``).

    ``is_share`` stays true when the shared post is deleted later (``shared_post``
    becomes NULL), so the share can say that the original is gone.
    """

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    body = models.TextField(blank=True, default="")
    shared_post = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="shares"
    )
    is_share = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=utc_now)
    edited_at = models.DateTimeField(null=True, blank=True)
    mentions: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="PostMention", related_name="mentioned_in_posts"
    )

    reactions_count = models.PositiveIntegerField(default=0)
    comments_count = models.PositiveIntegerField(default=0)
    shares_count = models.PositiveIntegerField(default=0)
    # Buffered: raised in batches by impressions.flush(), an estimate by nature.
    impressions_count = models.PositiveBigIntegerField(default=0)
    unique_viewers = models.PositiveIntegerField(default=0)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["author", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"post #{self.pk} by {self.author_id}"


class PostMention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mention_rows")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["post", "member"], name="post_mention_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["member"])]

    def __str__(self) -> str:
        return f"post #{self.post_id} mentions {self.member_id}"


class Reaction(models.Model):
    """One member's reaction to a post: at most one per member and post."""

    class Type(models.TextChoices):
        LIKE = "like", "Like"
        CELEBRATE = "celebrate", "Celebrate"
        SUPPORT = "support", "Support"
        LOVE = "love", "Love"
        INSIGHTFUL = "insightful", "Insightful"
        FUNNY = "funny", "Funny"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_reactions"
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    created_at = models.DateTimeField(default=utc_now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["post", "member"], name="reaction_one_per_member"),
        ]
        indexes: ClassVar = [
            # Feed candidates: what the members you follow reacted to lately.
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["post", "type"]),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.type} #{self.post_id}"


class Comment(models.Model):
    """A comment on a post; a reply has a top-level ``parent`` (one level deep)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_comments"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=utc_now)
    mentions: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CommentMention", related_name="mentioned_in_comments"
    )

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["post", "created_at", "id"]),
            models.Index(fields=["author", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"comment #{self.pk} on #{self.post_id}"


class CommentMention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mention_rows")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["comment", "member"], name="comment_mention_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["member"])]

    def __str__(self) -> str:
        return f"comment #{self.comment_id} mentions {self.member_id}"


class PostViewer(models.Model):
    """Who has seen a post at least once (for the unique viewers count)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="viewer_rows")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["post", "member"], name="post_viewer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} saw #{self.post_id}"


class PostImpressionHour(models.Model):
    """Impressions of a post in one hour (``hour`` is the start of the hour, UTC)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="impression_hours")
    hour = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["post", "hour"], name="post_impression_hour_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.post_id} {self.hour:%Y-%m-%d %H}h: {self.count}"
