"""Finding @mentions and rendering member text safely (pure, no database)."""

from __future__ import annotations

from backsoon.posts.mentions import MAX_MENTIONS, mention_candidates, mentioned_names, render_text


def url(name: str) -> str:
    return f"/in/{name}/"


def test_mentions_are_case_insensitive_and_in_first_seen_order():
    text = "Thanks @Bob and @alice_s, and again @BOB!"
    assert mention_candidates(text) == ["bob", "alice_s"]
    assert mentioned_names(text, {"bob", "alice_s"}) == ["bob", "alice_s"]


def test_email_addresses_urls_and_bad_names_are_not_mentions():
    text = "mail bob@example.com, see https://medium.com/@carol and @ab or @" + "x" * 31
    assert mention_candidates(text) == []


def test_trailing_punctuation_is_not_part_of_the_name():
    assert mention_candidates("Hi @ann.") == ["ann.", "ann"]
    assert mentioned_names("Hi @ann.", {"ann"}) == ["ann"]
    assert mentioned_names("Hi @jan.", {"jan."}) == ["jan."]
    assert mentioned_names("(@ann) and '@bob'", {"ann", "bob"}) == ["ann", "bob"]


def test_unknown_names_stay_text():
    assert mentioned_names("@ghost says hi", {"bob"}) == []
    assert str(render_text("@ghost says hi", set(), url)) == "@ghost says hi"


def test_the_number_of_names_looked_up_is_bounded():
    text = " ".join(f"@user{i:03d}" for i in range(MAX_MENTIONS + 10))
    assert len(mention_candidates(text)) == MAX_MENTIONS


def test_render_escapes_everything_and_links_mentions_and_urls():
    html = str(
        render_text(
            '<script>alert("x")</script> @Bob & see https://example.com/a?b=1&c=2',
            {"bob"},
            url,
        )
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<a class="mention" href="/in/bob/">@Bob</a>' in html
    assert " &amp; see " in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
    assert 'rel="nofollow"' in html


def test_render_does_not_let_a_mention_smuggle_markup():
    html = str(render_text("@bob<img src=x onerror=alert(1)>", {"bob"}, url))
    assert "<img" not in html
    assert "&lt;img" in html


def test_render_keeps_line_breaks_as_text():
    assert str(render_text("one\ntwo", set(), url)) == "one\ntwo"
