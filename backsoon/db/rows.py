"""Hand-written SQL for the hot paths, loading the same model objects the ORM would.

Sending a message runs about ten small statements. Built through the ORM, each
one costs far more in Python (resolving lookups, compiling expressions, quoting)
than in the database; on the send path that was nine tenths of a request. The
statements of such paths are written once as SQL strings instead, and the rows
they return are turned into model instances here, with the ORM's own column list
and the ORM's own value converters (text to aware datetimes on SQLite, JSON
decoding, booleans), so the objects are the same as ``select_related`` gives.

Only paths measured in ``bench/`` use this, from one ``storage.py`` module per app
(``backsoon/messaging/storage.py``, ``backsoon/away/storage.py``,
``backsoon/notifications/storage.py``); everything else stays with the ORM. Every
statement goes through Django's cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def table(model: type[Model]) -> str:
    """The model's quoted table name."""
    return str(connection.ops.quote_name(model._meta.db_table))


def greatest() -> str:
    """The SQL function for the larger of two values: ``MAX(a, b)`` on SQLite."""
    return "MAX" if connection.vendor == "sqlite" else "GREATEST"


def run(sql: str, params: Sequence[Any]) -> Any:
    """Execute one hand-written statement (``%s`` placeholders) through Django's cursor
    and return the cursor to fetch from.

    Always Django's cursor, so that ``connection.queries``, ``CaptureQueriesContext``,
    debug tooling, ``execute_wrapper`` hooks and monitoring see these statements like
    any other.
    """
    cursor = connections[DEFAULT_DB_ALIAS].cursor()
    cursor.execute(sql, params)
    return cursor


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def datetime_param(value: Any) -> Any:
    """A datetime as the database stores it (text in UTC on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


class Rows(Generic[M]):
    """The columns of one model in a SELECT, and the model instances from its rows.

    Example::

        MEMBER = Rows(Member)
        rows = run(f"SELECT {MEMBER.columns('m')} FROM {table(Member)} m WHERE ...", [])
        members = [MEMBER.load(row) for row in rows.fetchall()]

    ``load(row, start)`` reads ``width`` values from ``start``, so one row can hold
    several models side by side (a join).
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self.width = len(self.fields)
        self._pk_index = self.names.index(model._meta.pk.attname)
        self._converters: WeakKeyDictionary[Any, list[tuple[int, list[Converter], Any]]] = (
            WeakKeyDictionary()
        )

    def columns(self, alias: str) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(f.column)}" for f in self.fields)

    def _converters_for(self, conn: Any) -> list[tuple[int, list[Converter], Any]]:
        """The converters the ORM's compiler would apply to each column, per connection."""
        found = self._converters.get(conn)
        if found is None:
            found = []
            for i, field in enumerate(self.fields):
                converters, col = _column_converters(conn, self.model, field.attname)
                if converters:
                    found.append((i, converters, col))
            self._converters[conn] = found
        return found

    def convert(self, values: list[Any]) -> list[Any]:
        conn = connections[DEFAULT_DB_ALIAS]
        for i, converters, col in self._converters_for(conn):
            value = values[i]
            for converter in converters:
                value = converter(value, col, conn)
            values[i] = value
        return values

    def load(self, row: Sequence[Any], start: int = 0) -> M:
        values = self.convert(list(row[start : start + self.width]))
        return self.model.from_db(connection.alias, self.names, values)

    def load_optional(self, row: Sequence[Any], start: int = 0) -> M | None:
        """The model from a LEFT JOIN: None when its primary key column is NULL."""
        if row[start + self._pk_index] is None:
            return None
        return self.load(row, start)


_COLUMN_CONVERTERS: WeakKeyDictionary[Any, dict[tuple[Any, str], tuple[list[Converter], Any]]] = (
    WeakKeyDictionary()
)


def _column_converters(
    conn: Any, model: type[Model], field_name: str
) -> tuple[list[Converter], Any]:
    """The converters the ORM's compiler applies to one column, and the column they
    take, worked out once per connection."""
    cached = _COLUMN_CONVERTERS.setdefault(conn, {})
    found = cached.get((model, field_name))
    if found is None:
        col = model._meta.get_field(field_name).get_col(model._meta.db_table)  # type: ignore[union-attr]
        found = (conn.ops.get_db_converters(col) + col.get_db_converters(conn), col)
        cached[(model, field_name)] = found
    return found


def convert_value(model: type[Model], field_name: str, value: Any) -> Any:
    """One column's value as the ORM returns it (a datetime from SQLite's text, say)."""
    conn = connections[DEFAULT_DB_ALIAS]
    converters, col = _column_converters(conn, model, field_name)
    for converter in converters:
        value = converter(value, col, conn)
    return value


class Insert(Generic[M]):
    """``INSERT INTO <table> (<columns>) VALUES (...)`` for one model: every concrete
    column but an automatic primary key, taken from the model's metadata, with the
    values of an unsaved instance (so a field's default is there unless set) prepared
    by each field's ``get_db_prep_save``, as ``Model.save`` prepares them.

    Adding a field (with a default) to the model changes the statement with it; the
    text is rebuilt whenever the model's field list is a new one.

    Example::

        MESSAGE_INSERT = Insert(Message)
        message = Message(conversation=c, sender=s, body="hi")
        sql = MESSAGE_INSERT.sql() + " RETURNING id"
        message_id = run(sql, MESSAGE_INSERT.params(message)).fetchone()[0]
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._for: Any = None
        self._fields: list[Any] = []
        self._sql = ""

    def fields(self) -> list[Any]:
        """The model fields of the statement's columns, in order."""
        current = self.model._meta.concrete_fields
        if current is not self._for:
            pk = self.model._meta.pk
            auto = pk is not None and getattr(pk, "db_returning", False)
            self._fields = [f for f in current if not (auto and f is pk)]
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in self._fields)
            self._sql = (
                f"INSERT INTO {table(self.model)} ({columns}) "  # noqa: S608
                f"VALUES ({placeholders(len(self._fields))})"
            )
            self._for = current
        return self._fields

    def sql(self) -> str:
        """The statement, without a ``RETURNING`` clause."""
        self.fields()
        return self._sql

    def params(self, obj: M) -> list[Any]:
        """The values of ``obj`` for the statement's placeholders."""
        conn = connections[DEFAULT_DB_ALIAS]
        return [f.get_db_prep_save(getattr(obj, f.attname), conn) for f in self.fields()]
