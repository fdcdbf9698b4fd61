"""The web pages: feed on the home page, post page, reactions, comments, sharing,
editing, analytics; member text is escaped everywhere it is shown."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from backsoon.network.actions import follow_create
from backsoon.notifications.models import Notification
from backsoon.posts.impressions import impressions_flush
from backsoon.posts.models import Comment, Post, Reaction
from tests.conftest import Api
from tests.factories import make_absence

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def test_posting_from_the_home_page(alice):
    client = logged_in(alice)
    response = client.post("/posts/", {"body": "Hello from the web, see https://example.com"})
    assert response.status_code == 302
    html = page(client, "/")
    assert "Your post is published." in html
    assert 'href="https://example.com"' in html
    assert Post.objects.get().author == alice


def test_a_too_long_post_shows_the_error_and_keeps_the_text(alice):
    response = logged_in(alice).post("/posts/", {"body": "x" * 3001})
    assert response.status_code == 422
    assert "at most 3000 characters" in response.content.decode()
    assert not Post.objects.exists()


def test_P3_posting_tells_the_author_who_is_away(alice, bob):
    make_absence(bob)
    client = logged_in(alice)
    client.post("/posts/", {"body": "cc @bob"})
    html = page(client, "/")
    assert "@bob is away, back on " in html  # A6: one wording of the return day
    assert 'class="flash-away info"' in html


def test_member_text_is_escaped_on_every_page(alice, bob):
    # The display name is member text too.
    Member.objects.filter(pk=bob.pk).update(display_name=f"Bob {SCRIPT}")
    follow_create(member=alice, username="bob")
    post_id = Api(bob).post("/posts", {"body": f"Post {SCRIPT} @alice"}).json()["id"]
    Api(alice).post(f"/posts/{post_id}/comments", {"body": f"Comment {SCRIPT}"})
    share_id = (
        Api(alice).post(f"/posts/{post_id}/shares", {"comment": f"Share {SCRIPT}"}).json()["id"]
    )
    Api(bob).post(f"/posts/{post_id}/reactions", {"type": "like"})
    Api(alice).post(f"/posts/{share_id}/reactions", {"type": "like"})

    alice_client, bob_client = logged_in(alice), logged_in(bob)
    pages = [
        (alice_client, "/"),
        (bob_client, "/"),
        (alice_client, f"/posts/{post_id}/"),
        (alice_client, f"/posts/{share_id}/"),
        (alice_client, f"/posts/{post_id}/share/"),
        (bob_client, f"/posts/{post_id}/edit/"),
        (bob_client, f"/posts/{post_id}/analytics/"),
        (bob_client, f"/posts/{post_id}/delete/"),
    ]
    for client, url in pages:
        html = page(client, url)
        assert SCRIPT not in html, url
        assert "alert(" not in re.sub(r"&quot;|&lt;|&gt;|&amp;", "", html.replace(ESCAPED, "")), url
        assert ESCAPED in html, url
    assert f"Comment {ESCAPED}" in page(alice_client, f"/posts/{post_id}/")


def test_post_page_shows_counts_comments_and_links_mentions(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "Ask @bob"}).json()["id"]
    Api(bob).post(f"/posts/{post_id}/reactions", {"type": "celebrate"})
    top = Api(bob).post(f"/posts/{post_id}/comments", {"body": "Sure, @alice"}).json()["id"]
    Api(alice).post(f"/posts/{post_id}/comments", {"body": "Thanks!", "parent": top})
    html = page(logged_in(alice), f"/posts/{post_id}/")
    assert '<a class="mention" href="/in/bob/">@bob</a>' in html
    assert "1 reaction" in html
    assert "2 comments" in html
    assert html.count('data-testid="comment"') == 2
    assert f'id="comment-{top}"' in html


def test_reacting_changing_and_taking_back_from_the_page(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "React"}).json()["id"]
    client = logged_in(bob)
    response = client.post(f"/posts/{post_id}/react/", {"type": "love", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Reaction.objects.get().type == "love"
    client.post(f"/posts/{post_id}/react/", {"type": "funny"})
    assert Reaction.objects.get().type == "funny"
    html = page(client, f"/posts/{post_id}/")
    assert (
        'name="remove" value="1" class="reaction is-mine" aria-pressed="true" aria-label="Funny"'
        in html
    )
    client.post(f"/posts/{post_id}/react/", {"remove": "1"})
    assert not Reaction.objects.exists()
    # An unsafe next is ignored.
    response = client.post(
        f"/posts/{post_id}/react/", {"type": "like", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/posts/{post_id}/"


def test_commenting_and_deleting_from_the_page(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "Talk"}).json()["id"]
    client = logged_in(bob)
    response = client.post(f"/posts/{post_id}/comments/", {"body": "A comment"})
    comment = Comment.objects.get()
    assert response["Location"] == f"/posts/{post_id}/#comment-{comment.pk}"
    response = client.post(f"/posts/{post_id}/comments/", {"body": "c" * 1251})
    assert "at most 1250 characters" in page(client, f"/posts/{post_id}/")
    assert Comment.objects.count() == 1
    assert logged_in(alice).post(f"/comments/{comment.pk}/delete/").status_code == 302
    assert not Comment.objects.exists()


def test_only_the_author_edits_deletes_or_reads_analytics_on_the_web(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "Mine"}).json()["id"]
    bob_client = logged_in(bob)
    assert bob_client.get(f"/posts/{post_id}/edit/").status_code == 403
    assert bob_client.post(f"/posts/{post_id}/edit/", {"body": "hacked"}).status_code == 403
    assert bob_client.get(f"/posts/{post_id}/delete/").status_code == 403
    assert bob_client.post(f"/posts/{post_id}/delete/").status_code == 403
    assert bob_client.get(f"/posts/{post_id}/analytics/").status_code == 403
    assert Post.objects.get().body == "Mine"
    alice_client = logged_in(alice)
    response = alice_client.post(f"/posts/{post_id}/edit/", {"body": "Mine, edited"})
    assert response.status_code == 302
    assert Post.objects.get().body == "Mine, edited"
    assert "Delete this post?" in page(alice_client, f"/posts/{post_id}/delete/")
    assert Post.objects.exists()
    assert alice_client.post(f"/posts/{post_id}/delete/").status_code == 302
    assert not Post.objects.exists()
    assert alice_client.get(f"/posts/{post_id}/").status_code == 404


def test_sharing_from_the_page(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "Share me"}).json()["id"]
    client = logged_in(bob)
    assert client.post(f"/posts/{post_id}/share/", {"comment": "Good read"}).status_code == 302
    share = Post.objects.get(author=bob)
    assert (share.shared_post_id, share.body) == (post_id, "Good read")
    assert Notification.objects.get(recipient=alice).type == "share"


def test_analytics_page_uses_json_data_and_static_scripts_only(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "Chart me"}).json()["id"]
    Api(bob).post("/views", {"post_ids": [post_id]})
    impressions_flush()
    response = logged_in(alice).get(f"/posts/{post_id}/analytics/")
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert '<script id="analytics-data" type="application/json">' in html
    assert "/static/posts/chart.umd.min.js" in html and "/static/posts/analytics.js" in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    for attrs, body in scripts:
        assert 'type="application/json"' in attrs or (body.strip() == "" and "src=" in attrs)
    assert " style=" not in html
    assert "Impressions" in html and "estimate" in html


def test_home_shows_activity_on_your_posts(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "News"}).json()["id"]
    Api(bob).post(f"/posts/{post_id}/reactions", {"type": "like"})
    html = page(logged_in(alice), "/")
    assert "Recent activity" in html
    assert "Bob de Boer reacted to your post" in html


def test_pages_need_login_and_unknown_posts_are_404(alice):
    assert Client().get("/posts/1/").status_code == 302
    client = logged_in(alice)
    for url in (
        "/posts/999/",
        "/posts/999/edit/",
        "/posts/999/share/",
        "/posts/999/analytics/",
        "/comments/999/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/posts/999/react/", {"type": "like"}).status_code == 404
    assert client.post("/posts/999/comments/", {"body": "x"}).status_code == 404


def test_post_page_pages_top_level_comments_with_their_replies(alice, bob, monkeypatch):
    from backsoon.posts import views

    monkeypatch.setattr(views, "COMMENTS_PER_PAGE", 2)
    post_id = Api(alice).post("/posts", {"body": "Many comments"}).json()["id"]
    tops = [
        Api(bob).post(f"/posts/{post_id}/comments", {"body": f"top {i}"}).json()["id"]
        for i in range(3)
    ]
    Api(alice).post(f"/posts/{post_id}/comments", {"body": "reply to first", "parent": tops[0]})
    client = logged_in(alice)
    response = client.get(f"/posts/{post_id}/")
    html = response.content.decode()
    assert "top 0" in html and "top 1" in html and "reply to first" in html
    assert "top 2" not in html
    cursor = re.search(r'href="\?comments=([^"#]+)#comments"', html).group(1)
    html = page(client, f"/posts/{post_id}/?comments={cursor}")
    assert "top 2" in html and "top 0" not in html
    assert client.get(f"/posts/{post_id}/?comments=garbage").status_code == 302


def test_home_feed_pages_with_show_more(alice, bob):
    follow_create(member=alice, username="bob")
    for i in range(23):
        Api(bob).post("/posts", {"body": f"feed post {i}"})
    client = logged_in(alice)
    html = page(client, "/")
    assert html.count('data-testid="post"') == 20
    cursor = re.search(r'href="\?cursor=([^"]+)"', html).group(1)
    more = page(client, f"/?cursor={cursor}")
    assert more.count('data-testid="post"') == 3
    assert "Show more posts" not in more
    assert page(client, "/?cursor=broken").count('data-testid="post"') == 20
