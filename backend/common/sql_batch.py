"""A few small writes sent to the database together: one round trip on PostgreSQL.

A model call's record is half a dozen small statements on the hot path; through
the ORM each is a round trip of its own (docs/benchmarks.md has the cost). A
`Batch` builds them as plain INSERTs and UPDATEs from the models' own metadata
(tables, columns, defaults, each field's conversion to its database value)
and, on PostgreSQL, sends them in one psycopg pipeline. SQLite runs them one
after another, which on a local file costs nothing more.

What it skips: a batched write is not the ORM's. No `save()`, no `pre_save`
(only `auto_now`/`auto_now_add` are honoured), no model signals, no
`full_clean()`. A model written here must not rely on them; an INSERT refuses
a row that leaves out a field with no default (see `Batch.insert`).

A later statement may name the id of the row an earlier one inserted
(`Returned.last_id`): PostgreSQL reads it from the sequence in the same
session (`currval`), SQLite from the earlier statement's RETURNING.
A batch of more than one statement runs as one transaction (joining the
caller's, if one is open); on PostgreSQL every statement has been sent before
the first error is seen, and the transaction then undoes them all.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


@dataclass(eq=False)
class Returned:
    """The rows a statement returned (filled in by `Batch.run`)."""

    model: type[models.Model] | None
    returns_id: bool = False
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def last_id(self) -> LastId:
        if not self.returns_id:
            raise ValueError("LastId needs an INSERT of this batch with returning=('id', ...)")
        return LastId(self)


@dataclass(frozen=True)
class LastId:
    """The id of the last row an earlier INSERT of the batch wrote, as a value for a later one."""

    inserted: Returned

    @property
    def value(self) -> Any:
        """The id itself, once the batch has run."""
        return self.inserted.rows[-1][0]


@dataclass(frozen=True)
class Sql:
    """A value computed by the database as the statement runs (a subquery, say)."""

    sql: str
    params: tuple[Any, ...] = ()

    @classmethod
    def scalar(cls, queryset: models.QuerySet) -> Sql:
        """The first row's only column of a one-column queryset (`.values("pk")`), as a subquery."""
        sql, params = queryset[:1].query.sql_with_params()
        return cls(f"({sql})", tuple(params))


@dataclass
class _Statement:
    sql: str
    params: list[Any]
    result: Returned | None = None


class Batch:
    def __init__(self) -> None:
        self._statements: list[_Statement] = []
        # The thread's connection, looked up once: each `connection.x` goes through asgiref's Local.
        self._db = connections[DEFAULT_DB_ALIAS]
        self._postgres = self._db.vendor == "postgresql"

    def insert(
        self, model: type[models.Model], rows: list[dict[str, Any]], *, returning: tuple[str, ...] = ()
    ) -> Returned:
        """INSERT rows (keyed by attname, e.g. `conversation_id`).

        A field a row leaves out must be the primary key, automatic (`auto_now`,
        `auto_now_add`), defaulted or nullable; any other is a ValueError, so a
        model that gains a required field fails loudly instead of getting Django's
        blank ("" or NULL) behind the caller's back.
        """
        if not rows:
            raise ValueError("an INSERT needs at least one row")
        opts = model._meta
        fields = [f for f in opts.concrete_fields if not f.primary_key or any(f.attname in row for row in rows)]
        for f in fields:
            if not _may_be_left_out(f) and any(f.attname not in row for row in rows):
                raise ValueError(f"{opts.label}.{f.name} has no default: every batched row must supply it")
        now = timezone.now()
        values_sql, params = [], []
        for row in rows:
            placeholders = []
            for f in fields:
                if f.attname in row:
                    value = row[f.attname]
                elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    value = now
                else:
                    value = f.get_default()
                placeholder, prepared = self._value(f, value)
                placeholders.append(placeholder)
                params.extend(prepared)
            values_sql.append(f"({', '.join(placeholders)})")
        quote = self._db.ops.quote_name
        sql = (
            f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES {', '.join(values_sql)}"
        )
        result = Returned(model, returns_id=bool(returning))
        if returning:
            if not opts.get_field(returning[0]).primary_key:
                raise ValueError("RETURNING starts with the primary key (LastId reads it on SQLite)")
            sql += " RETURNING " + ", ".join(quote(opts.get_field(name).column) for name in returning)
        self._statements.append(_Statement(sql, params, result if returning else None))
        return result

    def statement(self, sql: str, params: list[Any], *, returns_rows: bool = True) -> Returned:
        """Any other statement (with %s placeholders), and the rows it returns (none read without `returns_rows`)."""
        result = Returned(None)
        self._statements.append(_Statement(sql, params, result if returns_rows else None))
        return result

    def update(
        self,
        model: type[models.Model],
        where: dict[str, Any],
        *,
        set_to: dict[str, Any] | None = None,
        add: dict[str, Any] | None = None,
    ) -> None:
        """UPDATE the rows matching `where` (equality on attnames): set some columns, add to others."""
        opts = model._meta
        quote = self._db.ops.quote_name
        by_attname = {f.attname: f for f in opts.concrete_fields}
        assignments, params = [], []
        for name, value in (set_to or {}).items():
            placeholder, prepared = self._value(by_attname[name], value)
            assignments.append(f"{quote(by_attname[name].column)} = {placeholder}")
            params.extend(prepared)
        for name, value in (add or {}).items():
            column = quote(by_attname[name].column)
            assignments.append(f"{column} = {column} + %s")
            params.append(value)
        conditions = []
        for name, value in where.items():
            placeholder, prepared = self._value(by_attname[name], value)
            conditions.append(f"{quote(by_attname[name].column)} = {placeholder}")
            params.extend(prepared)
        sql = f"UPDATE {quote(opts.db_table)} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)}"
        self._statements.append(_Statement(sql, params))

    def run(self) -> None:
        """Send every statement; on PostgreSQL as one pipeline, answered in one round trip."""
        if not self._statements:
            return
        if len(self._statements) > 1:
            with transaction.atomic(using=self._db.alias, savepoint=False):
                self._send()
        else:
            self._send()

    def _send(self) -> None:
        db = self._db
        db.ensure_connection()
        # Errors surface as the pipeline ends, outside Django's cursors: map them to Django's as they would.
        with db.wrap_database_errors, db.connection.pipeline() if self._postgres else contextlib.nullcontext():
            shared = db.cursor()  # for the statements whose rows are not needed
            returning = []
            for statement in self._statements:
                params = [self._resolved(p) for p in statement.params]
                if statement.result is None:
                    shared.execute(statement.sql, params)
                    continue
                cursor = db.cursor()
                cursor.execute(statement.sql, params)
                if self._postgres:
                    returning.append((statement.result, cursor))  # answered when the pipeline ends
                else:
                    statement.result.rows = cursor.fetchall()
                    cursor.close()
        for result, cursor in returning:
            result.rows = cursor.fetchall()
            cursor.close()
        shared.close()

    def _value(self, f: models.Field, value: Any) -> tuple[str, list[Any]]:
        """The placeholder and parameters for one value (an earlier insert's id on PostgreSQL is SQL)."""
        if isinstance(value, Sql):
            return value.sql, list(value.params)
        if isinstance(value, LastId):
            model = value.inserted.model
            if self._postgres:
                table, pk = model._meta.db_table, model._meta.pk.column
                return "currval(pg_get_serial_sequence(%s, %s))", [self._db.ops.quote_name(table), pk]
            return "%s", [value]  # resolved when the batch runs, from the earlier RETURNING
        return "%s", [f.get_db_prep_save(value, self._db)]

    @staticmethod
    def _resolved(param: Any) -> Any:
        if isinstance(param, LastId):
            return param.value
        return param


def _may_be_left_out(f: models.Field) -> bool:
    return (
        f.primary_key or f.has_default() or f.null or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    )


def stored_instance(model: type[M], pk: Any, values: dict[str, Any]) -> M:
    """A model instance for a row a batch wrote, as if it had been read back."""
    instance = model(pk=pk, **values)
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance
