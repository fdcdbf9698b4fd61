"""Member search as people look for people (issue 18, item 5), on SQLite and PostgreSQL.

Through the API (``GET /members?q=``) and the search page; the index is the
database's own (FTS5 with triggers, or PostgreSQL full text and trigram).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backsoon.accounts.actions import member_update_profile
from backsoon.accounts.models import Member
from backsoon.network.models import Block
from tests.conftest import Api
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [m["username"] for m in response.json()["items"]]


@pytest.fixture
def viewer() -> Member:
    return make_member("viewer", display_name="Vera Visser")


def test_exact_then_whole_name_then_prefix_then_headline(viewer):
    make_member("p.headline", display_name="Anna Bakker", headline="Pieter fan club")
    make_member("p.prefix", display_name="Pieterjan Maes")
    make_member("p.first", display_name="Pieter Jansen")
    make_member("p.last", display_name="Jan Pieter")
    make_member("p.user", display_name="Zeno Zijl")  # found by the username's start
    make_member("pieter", display_name="Someone Else")  # the username itself
    make_member("p.exact", display_name="Pieter")
    ranked = names(Api(viewer).get("/members", q="Pieter"))
    assert ranked[:2] == ["p.exact", "pieter"] or ranked[:2] == ["pieter", "p.exact"]
    assert set(ranked[2:4]) == {"p.first", "p.last"}
    assert ranked[4:] == ["p.prefix", "p.headline"]


def test_two_words_match_a_dutch_last_name(viewer):
    make_member("vries.anna", display_name="Anna de Vries")
    make_member("devriesco", display_name="Bert Bakker", headline="works at De Vries & co")
    make_member("deboer", display_name="Dirk de Boer")
    assert names(Api(viewer).get("/members", q="de Vries")) == ["vries.anna", "devriesco"]
    assert names(Api(viewer).get("/members", q="vri")) == ["vries.anna", "devriesco"]


def test_connections_then_shared_connections_before_strangers_among_equals(viewer):
    stranger = make_member("a.stranger", display_name="Pieter Aalders")
    friend_of_friend = make_member("b.mutual", display_name="Pieter Bos")
    connection_ = make_member("c.connection", display_name="Pieter Claes")
    middle = make_member("middle", display_name="Mia Middel")
    connect(viewer, connection_)
    connect(viewer, middle)
    connect(middle, friend_of_friend)
    assert stranger.pk
    assert names(Api(viewer).get("/members", q="pieter")) == [
        "c.connection",
        "b.mutual",
        "a.stranger",
    ]


def test_name_match_outranks_relation(viewer):
    known = make_member("known", display_name="Pietro Known")  # prefix only
    make_member("unknown", display_name="Piet Unknown")  # whole first name
    connect(viewer, known)
    assert names(Api(viewer).get("/members", q="piet")) == ["unknown", "known"]


def test_more_shared_connections_first(viewer):
    one = make_member("one", display_name="Sam One")
    two = make_member("two", display_name="Sam Two")
    for i in range(2):
        middle = make_member(f"mid{i}")
        connect(viewer, middle)
        connect(middle, two)
        if i == 0:
            connect(middle, one)
    assert names(Api(viewer).get("/members", q="sam")) == ["two", "one"]


def test_count_and_pages_cover_every_match_once(viewer):
    for i in range(7):
        make_member(f"kim{i}", display_name=f"Kim Number{i}")
    make_member("other", display_name="Someone Else")
    api = Api(viewer)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "kim", "limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get("/members", **params).json()
        assert body["count"] == 7
        seen += [m["username"] for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"kim{i}" for i in range(7)]
    assert api.get("/members", q="nobody-here").json() == {
        "items": [],
        "next_cursor": None,
        "count": 0,
    }


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"pieter',
        "pieter*",
        "*",
        "NEAR(pieter jansen)",
        "pieter NEAR jansen",
        "-pieter",
        "pieter -jansen",
        "pieter OR jansen",
        "NOT pieter",
        "display_name:pieter",
        "^pieter",
        "pieter & jansen | !x",
        "'pieter':*",
        "(",
        "100%",
        "pie_ter\\",
        "\u00a0",
        "日本",
    ],
)
def test_operators_and_quotes_are_plain_text(viewer, q):
    make_member("pjansen", display_name="Pieter Jansen")
    response = Api(viewer).get("/members", q=q)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    # Every letters-and-digits run is a word to find: "NOT pieter" looks for a "not".
    words = {w for w in re.findall(r"[^\W_]+", q.lower())}
    # Only spaces is no query at all: everyone is listed.
    expected = not q.split() or (bool(words) and words <= {"pieter", "jansen"})
    if connection.vendor == "postgresql" and not expected:
        pass  # nothing matched word for word: names alike (trigram) may stand in
    else:
        assert ("pjansen" in names(response)) == expected
    page = logged_in(viewer).get("/search/", {"q": q})
    assert page.status_code == 200


def test_punctuation_only_finds_nobody_and_empty_lists_everyone(viewer):
    make_member("xavier", display_name="Xavier One")
    api = Api(viewer)
    assert api.get("/members", q='"*-').json()["count"] == 0
    assert api.get("/members", q="").json()["count"] == 2


def test_index_follows_new_members_renames_and_deactivation(viewer):
    api = Api(viewer)
    member = make_member("renamed", display_name="Old Name")
    assert names(api.get("/members", q="old")) == ["renamed"]
    member_update_profile(member=member, display_name="Fresh Name")
    assert names(api.get("/members", q="old")) == []
    assert names(api.get("/members", q="fresh")) == ["renamed"]
    Member.objects.filter(pk=member.pk).update(headline="Notary in Delft")  # raw UPDATE
    assert names(api.get("/members", q="notary")) == ["renamed"]
    Member.objects.bulk_create([Member(username="bulk", email="b@x.nl", display_name="Bulk Bo")])
    assert names(api.get("/members", q="bulk")) == ["bulk"]
    Member.objects.filter(pk=member.pk).update(is_active=False)
    assert names(api.get("/members", q="fresh")) == []
    Member.objects.filter(username="bulk").delete()
    assert names(api.get("/members", q="bulk")) == []


def test_whoever_blocked_the_viewer_is_not_found(viewer):
    blocker = make_member("blocker", display_name="Pieter Blocker")
    Block.objects.create(blocker=blocker, blocked=viewer)
    body = Api(viewer).get("/members", q="pieter").json()
    assert body == {"items": [], "next_cursor": None, "count": 0}


def test_diacritics_and_case_do_not_matter(viewer):
    make_member("muller", display_name="Jörg Müller")
    found = names(Api(viewer).get("/members", q="JÖRG"))
    assert found == ["muller"]
    if connection.vendor == "sqlite":  # FTS5 folds diacritics; PostgreSQL's 'simple' does not
        assert names(Api(viewer).get("/members", q="muller")) == ["muller"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_finds_names_alike_when_nothing_matches(viewer):
    make_member("trainer", display_name="Pieter de Vries")
    body = Api(viewer).get("/members", q="Pieter de Vris").json()
    assert [m["username"] for m in body["items"]] == ["trainer"]
    assert body["count"] == 1


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_search_page_ranks_counts_and_labels(viewer):
    make_member("stranger", display_name="Pieter Aalders")
    friend = make_member("friend", display_name="Pieter Zwart")
    connect(viewer, friend)
    page = logged_in(viewer).get("/search/", {"q": "pieter"}).content.decode()
    assert page.index("Pieter Zwart") < page.index("Pieter Aalders")
    assert "2 people" in page
    assert "Connection" in page


def test_search_page_counts_in_dutch_with_separator(viewer):
    Member.objects.filter(pk=viewer.pk).update(language="nl")
    Member.objects.bulk_create(
        [
            Member(username=f"kees{i}", email=f"k{i}@x.nl", display_name=f"Kees {i}")
            for i in range(1001)
        ]
    )
    page = logged_in(viewer).get("/search/", {"q": "kees", "page": 2}).content.decode()
    assert "1.001 mensen" in page
    assert "pagina 2 van 51" in page


@pytest.mark.parametrize("connections", [0, 30])
def test_search_page_query_count_is_pinned(viewer, django_assert_num_queries, connections):
    for i in range(30):
        member = make_member(f"lena{i}", display_name=f"Lena {i}")
        if i < connections:
            connect(viewer, member)
    client = logged_in(viewer)
    client.get("/search/", {"q": "lena"})  # warm: session, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/search/", {"q": "lena"})
    assert response.status_code == 200
    search = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_member" m' in q["sql"]]
    assert len(search) == 2, search  # the count and the ranked page
    # Session, member, the search's two, away badges (2), the header's three counts.
    assert len(queries.captured_queries) == 9
    with django_assert_num_queries(9):
        client.get("/search/", {"q": "lena", "page": 2})


def test_api_search_query_count_is_pinned(viewer, django_assert_num_queries):
    for i in range(25):
        connect(viewer, make_member(f"lena{i}", display_name=f"Lena {i}"))
    api = Api(viewer)
    api.get("/members", q="lena")
    with CaptureQueriesContext(connection) as queries:
        api.get("/members", q="lena")
    search = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_member" m' in q["sql"]]
    assert len(search) == 2, search
    # The token, the search's two, away badges: as many for 25 connections as for 1.
    assert len(queries.captured_queries) == 4, [q["sql"][:60] for q in queries.captured_queries]
