"""Member search indexes, in each database's own text search (issue 18).

SQLite: an external-content FTS5 table over the members' display name, username and
headline (diacritics folded, prefix indexes for 2 to 4 letters), kept in step with
``accounts_member`` by triggers, so every write (``bulk_create`` and raw SQL too)
reaches it. PostgreSQL: a GIN index on the full-text vector of the same columns and a
trigram index (``pg_trgm``) on the lower-cased display name. Each statement runs on
its own vendor only; ``backsoon/accounts/storage.py`` queries them.
"""

from django.db import migrations


class VendorSQL(migrations.RunSQL):
    """``RunSQL`` that runs only on one database vendor."""

    def __init__(self, vendor: str, sql: list[str], reverse_sql: list[str]) -> None:
        super().__init__(sql, reverse_sql)
        self.vendor = vendor

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


_COLUMNS = "display_name, username, headline"

SQLITE = [
    "CREATE VIRTUAL TABLE accounts_member_fts USING fts5("
    f"{_COLUMNS}, content='accounts_member', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')",
    "CREATE TRIGGER accounts_member_fts_insert AFTER INSERT ON accounts_member BEGIN "
    f"INSERT INTO accounts_member_fts(rowid, {_COLUMNS}) "
    "VALUES (new.id, new.display_name, new.username, new.headline); END",
    "CREATE TRIGGER accounts_member_fts_delete AFTER DELETE ON accounts_member BEGIN "
    f"INSERT INTO accounts_member_fts(accounts_member_fts, rowid, {_COLUMNS}) "
    "VALUES ('delete', old.id, old.display_name, old.username, old.headline); END",
    f"CREATE TRIGGER accounts_member_fts_update AFTER UPDATE OF {_COLUMNS} "
    "ON accounts_member BEGIN "
    f"INSERT INTO accounts_member_fts(accounts_member_fts, rowid, {_COLUMNS}) "
    "VALUES ('delete', old.id, old.display_name, old.username, old.headline); "
    f"INSERT INTO accounts_member_fts(rowid, {_COLUMNS}) "
    "VALUES (new.id, new.display_name, new.username, new.headline); END",
    "INSERT INTO accounts_member_fts(accounts_member_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_member_fts_update",
    "DROP TRIGGER IF EXISTS accounts_member_fts_delete",
    "DROP TRIGGER IF EXISTS accounts_member_fts_insert",
    "DROP TABLE IF EXISTS accounts_member_fts",
]

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX accounts_member_search_tsv ON accounts_member USING GIN "
    "(to_tsvector('simple'::regconfig, display_name || ' ' || "
    "translate(username, '._-', '   ') || ' ' || headline))",
    "CREATE INDEX accounts_member_name_trgm ON accounts_member USING GIN "
    "(lower(display_name) gin_trgm_ops)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS accounts_member_name_trgm",
    "DROP INDEX IF EXISTS accounts_member_search_tsv",
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_member_work_days"),
    ]

    operations = [
        VendorSQL("sqlite", SQLITE, SQLITE_REVERSE),
        VendorSQL("postgresql", POSTGRESQL, POSTGRESQL_REVERSE),
    ]
