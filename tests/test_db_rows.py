"""Hand-written SQL on the hot paths (backsoon/db/rows.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from backsoon.accounts.models import Member
from backsoon.db.rows import Rows, run, table
from backsoon.messaging.models import Conversation
from tests.factories import make_member

MEMBER = Rows(Member)


def test_rows_load_the_same_member_the_orm_does(db):
    made = make_member("ada", display_name="Ada L")
    sql = f"SELECT {MEMBER.columns('m')} FROM {table(Member)} m WHERE m.id = %s"  # noqa: S608
    row = run(sql, [made.pk])
    loaded = MEMBER.load(row.fetchone())
    orm = Member.objects.get(pk=made.pk)
    for name in MEMBER.names:
        assert getattr(loaded, name) == getattr(orm, name), name
    assert loaded.date_joined.tzinfo is not None  # converted as the ORM converts
    assert loaded._state.adding is False and loaded._state.db == "default"


def test_run_wraps_driver_errors_as_djangos(db):
    make_member("ada")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Same username again: the unique constraint, as django.db.IntegrityError.
        run(
            f"INSERT INTO {table(Member)} (password, is_superuser, username, email, "  # noqa: S608
            "display_name, headline, language, timezone, is_bot, is_staff, is_active, "
            "date_joined, connections_count, followers_count) VALUES "
            "('', %s, 'ada', 'x@example.com', '', '', 'en', 'UTC', %s, %s, %s, "
            "'2026-01-01 00:00:00', 0, 0)",
            [False, False, False, True],
        )


def test_statements_are_logged_whenever_queries_are(db):
    """With query logging on (DEBUG, or a test counting queries) the statements go
    through Django's cursor and show up like any other query."""
    with CaptureQueriesContext(connection) as captured:
        run(f"SELECT COUNT(*) FROM {table(Conversation)}", [])  # noqa: S608
    assert any("COUNT(*)" in q["sql"] for q in captured.captured_queries)
