from django.urls import path

from . import digest_views, saved_reply_views, views

app_name = "messaging"
urlpatterns = [
    # The digest's conversation forms (away's page, messaging's writes: TRIAGE C4).
    path(
        "away/<int:absence_id>/digest/conversations/",
        digest_views.digest_conversations,
        name="digest_conversations",
    ),
    path("away/<int:absence_id>/digest/reply/", digest_views.digest_reply, name="digest_reply"),
    path("messaging/", views.index, name="index"),
    path("messaging/new/", views.new, name="new"),
    path("messaging/list/", views.list_fragment, name="list"),
    path("messaging/bulk/", views.bulk, name="bulk"),
    path("messaging/replies/", saved_reply_views.saved_replies, name="saved_replies"),
    path(
        "messaging/replies/<int:reply_id>/",
        saved_reply_views.saved_reply_edit,
        name="saved_reply_edit",
    ),
    path(
        "messaging/replies/<int:reply_id>/delete/",
        saved_reply_views.saved_reply_delete,
        name="saved_reply_delete",
    ),
    path("messaging/<int:conversation_id>/", views.conversation, name="conversation"),
    path("messaging/<int:conversation_id>/send/", views.send, name="send"),
    path("messaging/<int:conversation_id>/messages/", views.messages_fragment, name="messages"),
    path("messaging/<int:conversation_id>/read/", views.mark_read, name="read"),
    path("messaging/<int:conversation_id>/add/", views.add_members, name="add"),
    path("messaging/<int:conversation_id>/leave/", views.leave, name="leave"),
    # accept, decline, report, archive, unarchive, unread, mute, unmute (TRIAGE S3, C1)
    path(
        "messaging/<int:conversation_id>/<slug:action>/",
        views.folder_action,
        name="folder_action",
    ),
]
