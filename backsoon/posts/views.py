"""Web pages for posts: the feed on the home page, a post with its comments, sharing,
editing and analytics. Every change goes through ``actions``; pages record impressions
of the posts they show.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_card
from backsoon.errors import DomainError, Forbidden, Invalid, NotFound
from backsoon.pagination import keyset_page
from backsoon.web.net import current_member, not_found_page, safe_next
from backsoon.web.templatetags.away_badge import back_day

from . import actions, queries, yields
from .forms import CommentForm, PostForm, ReactionForm, ShareForm
from .models import Reaction
from .presenters import comment_payloads, post_payload, post_payloads

REACTIONS = [
    {"value": Reaction.Type.LIKE.value, "label": gettext_lazy("Like")},
    {"value": Reaction.Type.CELEBRATE.value, "label": gettext_lazy("Celebrate")},
    {"value": Reaction.Type.SUPPORT.value, "label": gettext_lazy("Support")},
    {"value": Reaction.Type.LOVE.value, "label": gettext_lazy("Love")},
    {"value": Reaction.Type.INSIGHTFUL.value, "label": gettext_lazy("Insightful")},
    {"value": Reaction.Type.FUNNY.value, "label": gettext_lazy("Funny")},
]
COMMENTS_PER_PAGE = 50  # top-level comments per page, each with all its replies


def _forbidden(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "posts/forbidden.html", {"detail": exc.detail}, status=403)


def _away_notice(request: HttpRequest, mentioned_away: list[dict[str, Any]]) -> None:
    """Tell the author which mentioned members are away (AWAY-SPEC P3)."""
    for item in mentioned_away:
        badge = item["away"]
        text = _("@%(name)s is away, back on %(date)s, and may answer late.") % {
            "name": item["username"],
            "date": back_day(badge, "long"),
        }
        if badge.get("backup"):
            text += " " + _("Backup contact: @%(backup)s.") % {"backup": badge["backup"]}
        messages.info(request, text, extra_tags="away")


def post_context(viewer: Member) -> dict[str, Any]:
    """What every template that shows posts needs besides the posts."""
    return {"reactions": REACTIONS, "viewer_username": viewer.username}


def feed_context(
    request: HttpRequest, member: Member, *, post_form: PostForm | None = None
) -> dict[str, Any]:
    """The home page's feed: one page of ranked posts, the composer and recent activity.

    Records an impression of every post shown. A bad cursor shows the first page.
    """
    cursor = request.GET.get("cursor") or None
    try:
        page = queries.feed_page(member, cursor=cursor, limit=20)
    except Invalid:
        page = queries.feed_page(member, limit=20)
    actions.impressions_record(member_id=member.pk, post_ids=queries.shown_post_ids(page.posts))
    return {
        "feed": post_payloads(member, page.posts, reasons=page.reasons, html=True),
        "next_cursor": page.next_cursor,
        "post_form": post_form or PostForm(),
        "activity": queries.post_activity(member),
        **post_context(member),
    }


@login_required
@require_POST
def post_create(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = PostForm(request.POST)
    if form.is_valid():
        try:
            written = actions.post_create(author=member, body=form.cleaned_data["body"])
        except DomainError as exc:
            form.add_error("body", str(exc.detail))
        else:
            messages.success(request, _("Your post is published."))
            _away_notice(request, written.mentioned_away)
            return redirect("web:home")
    context = {"card": member_card(member, member), **feed_context(request, member, post_form=form)}
    return render(request, "web/home.html", context, status=422)


@login_required
@require_GET
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        post = queries.post_for_member(member, post_id)
    except NotFound:
        return not_found_page(request)
    actions.impressions_record(member_id=member.pk, post_ids=queries.shown_post_ids([post]))
    try:
        top_rows, next_cursor = keyset_page(
            queries.comments_of(post).filter(parent__isnull=True),
            order=["created_at", "id"],
            cursor=request.GET.get("comments") or None,
            limit=COMMENTS_PER_PAGE,
        )
    except Invalid:
        return redirect("posts:detail", post_id=post.pk)
    reply_rows = list(
        queries.comments_of(post)
        .filter(parent__in=[c.pk for c in top_rows])
        .order_by("created_at", "id")
    )
    payloads = comment_payloads(member, [*top_rows, *reply_rows], html=True)
    top, replies = payloads[: len(top_rows)], payloads[len(top_rows) :]
    by_parent: dict[int, list[dict[str, Any]]] = {}
    for reply in replies:
        by_parent.setdefault(reply["parent"], []).append(reply)
    for comment in top:
        comment["replies"] = by_parent.get(comment["id"], [])
    # The author sees first what the post brought (TRIAGE-SPEC Y5).
    funnel = _funnel(post, yields.yield_of_post(post)) if post.author_id == member.pk else None
    return render(
        request,
        "posts/post_detail.html",
        {
            "post": post_payload(member, post, html=True),
            "funnel": funnel,
            "comments": top,
            "next_comments": next_cursor,
            "comment_form": CommentForm(),
            **post_context(member),
        },
    )


@login_required
@require_POST
def reaction(request: HttpRequest, post_id: int) -> HttpResponse:
    member = current_member(request)
    form = ReactionForm(request.POST)
    default = reverse("posts:detail", args=[post_id])
    if not form.is_valid():
        messages.error(request, _("Choose one of the reactions."))
        return redirect(safe_next(request) or default)
    try:
        if form.cleaned_data["remove"]:
            actions.reaction_remove(member=member, post_id=post_id)
        else:
            actions.reaction_set(member=member, post_id=post_id, type=form.cleaned_data["type"])
    except NotFound:
        return not_found_page(request)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    return redirect(safe_next(request) or default)


@login_required
@require_POST
def comment_create(request: HttpRequest, post_id: int) -> HttpResponse:
    member = current_member(request)
    form = CommentForm(request.POST)
    default = reverse("posts:detail", args=[post_id])
    if not form.is_valid():
        messages.error(request, _("Write a comment first."))
        return redirect(default)
    try:
        written = actions.comment_create(
            author=member,
            post_id=post_id,
            body=form.cleaned_data["body"],
            parent_id=form.cleaned_data.get("parent"),
        )
    except NotFound:
        return not_found_page(request)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect(default)
    _away_notice(request, written.mentioned_away)
    return redirect(f"{default}#comment-{written.comment.pk}")


@login_required
@require_POST
def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        comment = queries.comment_for_member(member, comment_id)
        actions.comment_delete(member=member, comment_id=comment_id)
    except NotFound:
        return not_found_page(request)
    except Forbidden as exc:
        return _forbidden(request, exc)
    messages.success(request, _("The comment is deleted."))
    return redirect("posts:detail", post_id=comment.post_id)


@login_required
@require_GET
def comment_link(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A comment's address (notifications link here): its post, scrolled to it."""
    try:
        comment = queries.comment_for_member(current_member(request), comment_id)
    except NotFound:
        return not_found_page(request)
    return redirect(reverse("posts:detail", args=[comment.post_id]) + f"#comment-{comment.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        post = queries.own_post_for_member(member, post_id)
    except NotFound:
        return not_found_page(request)
    except Forbidden as exc:
        return _forbidden(request, exc)
    form = PostForm(request.POST or None, initial={"body": post.body})
    form.fields["body"].label = _("Your post")
    form.fields["body"].required = not post.is_share
    if request.method == "POST" and form.is_valid():
        try:
            written = actions.post_update(
                member=member, post_id=post.pk, body=form.cleaned_data["body"]
            )
        except DomainError as exc:
            form.add_error("body", str(exc.detail))
        else:
            messages.success(request, _("Your post is saved."))
            _away_notice(request, written.mentioned_away)
            return redirect("posts:detail", post_id=post.pk)
    return render(
        request,
        "posts/post_edit.html",
        {"form": form, "post": post_payload(member, post, html=True), **post_context(member)},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    member = current_member(request)
    try:
        if request.method == "GET":
            post = queries.own_post_for_member(member, post_id)
            return render(
                request,
                "posts/post_delete.html",
                {"post": post_payload(member, post, html=True), **post_context(member)},
            )
        actions.post_delete(member=member, post_id=post_id)
    except NotFound:
        return not_found_page(request)
    except Forbidden as exc:
        return _forbidden(request, exc)
    messages.success(request, _("Your post is deleted."))
    return redirect("web:home")


@login_required
@require_http_methods(["GET", "POST"])
def post_share(request: HttpRequest, post_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        post = queries.post_for_member(member, post_id)
    except NotFound:
        return not_found_page(request)
    form = ShareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            written = actions.post_share(
                member=member, post_id=post.pk, comment=form.cleaned_data["comment"]
            )
        except NotFound:
            return not_found_page(request)
        except DomainError as exc:
            form.add_error("comment", str(exc.detail))
        else:
            messages.success(request, _("You shared the post."))
            _away_notice(request, written.mentioned_away)
            return redirect("web:home")
    shown = post.shared_post if post.shared_post is not None else post
    return render(
        request,
        "posts/post_share.html",
        {"form": form, "post": post_payload(member, shown, html=True), **post_context(member)},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def post_analytics(request: HttpRequest, post_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        data = queries.post_analytics(member, post_id)
    except NotFound:
        return not_found_page(request)
    except Forbidden as exc:
        return _forbidden(request, exc)
    points = data["series"]["points"]

    def part(granularity: str) -> dict[str, list[Any]]:
        chosen = [p for p in points if p["granularity"] == granularity]
        return {
            "labels": [p["start"].isoformat() for p in chosen],
            "impressions": [p["impressions"] for p in chosen],
            "reactions": [p["reactions"] for p in chosen],
        }

    # Hours and days in one chart would make each day look like a surge; two charts.
    by_type = [{**r, "count": data["reactions"]["by_type"].get(r["value"], 0)} for r in REACTIONS]
    chart = {
        "hour": part("hour"),
        "day": part("day"),
        "by_type": {
            "labels": [str(r["label"]) for r in by_type],
            "counts": [r["count"] for r in by_type],
        },
        "timezone": member.timezone,
        "text": {
            "impressions": _("Impressions (estimate)"),
            "reactions": _("Reactions"),
            "hour_axis": _("Hour (your time zone: %(zone)s)") % {"zone": member.timezone},
            "day_axis": _("Day (your time zone: %(zone)s)") % {"zone": member.timezone},
            "count_axis": _("Impressions"),
            "reactions_axis": _("Reactions"),
        },
    }
    rate = data["engagement_rate"]
    return render(
        request,
        "posts/post_analytics.html",
        {
            "data": data,
            "funnel": _funnel(data["post"], yields.yield_of_post(data["post"])),
            "post": post_payload(member, data["post"], html=True),
            "by_type": by_type,
            "rate_percent": None if rate is None else round(rate * 100, 1),
            "chart": chart,
            **post_context(member),
        },
    )


# --- yield (TRIAGE-SPEC Y1-Y5) ---------------------------------------------------------

PEOPLE_PER_PAGE = 25
MY_POSTS_PER_PAGE = 25
MY_CHART_POSTS = 15
STEP_TEXT = {
    "engaged": (
        gettext_lazy("Engaged"),
        gettext_lazy("Reacted, commented, shared or were mentioned"),
    ),
    "connections": (
        gettext_lazy("New connections"),
        gettext_lazy("Connected within 30 days after engaging, not connected before"),
    ),
    "conversations": (
        gettext_lazy("Conversations"),
        gettext_lazy("A 1:1 conversation started within 30 days"),
    ),
    "two_way": (
        gettext_lazy("Two-way conversations"),
        gettext_lazy("Both of you wrote (automatic replies do not count)"),
    ),
    "lasting": (
        gettext_lazy("Lasting contacts"),
        gettext_lazy("Both still write 30 days or more after the first message"),
    ),
    "followers": (
        gettext_lazy("New followers"),
        gettext_lazy("Started following you within 30 days after engaging"),
    ),
}


def _funnel(post: Any, y: yields.PostYield) -> dict[str, Any]:
    """The funnel of a post for the pages: reach, then each step with its people."""
    counts = {
        "engaged": y.engaged,
        "connections": len(y.connections),
        "conversations": y.conversations,
        "two_way": y.two_way,
        "lasting": len(y.lasting),
        "followers": len(y.followers),
    }
    steps = [
        {
            "key": "impressions",
            "label": _("Impressions"),
            "help": _("an estimate: counted in batches"),
            "value": post.impressions_count,
        },
        {
            "key": "unique_viewers",
            "label": _("Unique viewers"),
            "help": _("members who saw it at least once"),
            "value": post.unique_viewers,
        },
    ]
    for key in yields.STEPS:
        label, help_text = STEP_TEXT[key]
        steps.append(
            {
                "key": key,
                "label": label,
                "help": help_text,
                "value": counts[key],
                "url": reverse("posts:yield_people", args=[post.pk, key]),
            }
        )
    return {"post_id": post.pk, "yield": y.yield_, "steps": steps}


@login_required
@require_GET
def post_yield_people(request: HttpRequest, post_id: int, step: str) -> HttpResponse:
    """The people behind one step of your post's funnel, paged, each with a message link."""
    member = current_member(request)
    if step not in STEP_TEXT:
        return not_found_page(request)
    cursor = request.GET.get("cursor") or None
    try:
        post, rows, next_cursor = yields.people_for_member(
            member, post_id, step=step, cursor=cursor, limit=PEOPLE_PER_PAGE
        )
    except NotFound:
        return not_found_page(request)
    except Forbidden as exc:
        return _forbidden(request, exc)
    except Invalid:
        return redirect("posts:yield_people", post_id=post_id, step=step)
    label, help_text = STEP_TEXT[step]
    return render(
        request,
        "posts/yield_people.html",
        {
            "post": post_payload(member, post, html=True),
            "funnel": _funnel(post, yields.yield_of_post(post)),
            "step": step,
            "step_label": label,
            "step_help": help_text,
            "people": yields.person_payloads(member, rows),
            "next_cursor": next_cursor,
            "first_page": cursor is None,
            **post_context(member),
        },
    )


@login_required
@require_GET
def post_reactions(request: HttpRequest, post_id: int) -> HttpResponse:
    """Who reacted to a post (anyone who may see the post), newest first, paged."""
    member = current_member(request)
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = queries.reactors_page(
            member, post_id, cursor=cursor, limit=PEOPLE_PER_PAGE
        )
    except NotFound:
        return not_found_page(request)
    except Invalid:
        return redirect("posts:reactions", post_id=post_id)
    post = queries.post_for_member(member, post_id)
    labels = {r["value"]: r["label"] for r in REACTIONS}
    reactors = [
        {**row, "label": labels.get(row["type"], row["type"])}
        for row in queries.reactor_payloads(member, rows)
    ]
    return render(
        request,
        "posts/reactions.html",
        {
            "post": post_payload(member, post, html=True),
            "reactors": reactors,
            "next_cursor": next_cursor,
            "first_page": cursor is None,
            **post_context(member),
        },
    )


@login_required
@require_GET
def my_yield(request: HttpRequest) -> HttpResponse:
    """All your posts side by side, ranked by yield with reach beside it: a table and a chart."""
    member = current_member(request)
    rows = yields.my_yields(member)
    page = Paginator(rows, MY_POSTS_PER_PAGE).get_page(request.GET.get("page"))
    top = rows[:MY_CHART_POSTS]
    chart = {
        "labels": [(r["excerpt"] or _("(a share)"))[:40] for r in top],
        "yield": [r["yield"] for r in top],
        "impressions": [r["impressions"] for r in top],
        "text": {
            "yield": _("Yield (people who became contacts)"),
            "impressions": _("Reach (impressions)"),
            "yield_axis": _("People"),
            "impressions_axis": _("Impressions"),
        },
    }
    return render(
        request,
        "posts/my_yield.html",
        {"page": page, "total": len(rows), "chart": chart, "offset": page.start_index() - 1},
    )
