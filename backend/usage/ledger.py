"""Writes to the usage roll-up, added to the call lifecycle's own batches (chat.services.calls)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from common.sql_batch import Batch
from usage.models import UsageDay

COLUMNS = ("requests", "refused", "failed", "prompt_tokens", "completion_tokens")


@dataclass(frozen=True)
class UsageKey:
    """Which row of the roll-up a call counts on."""

    user_id: int
    day: dt.date
    model: str
    assistant: str
    source: str


def usage_add_in(batch: Batch, key: UsageKey, **amounts: int) -> None:
    """Add `amounts` (requests=1, failed=1, tokens...) to the key's row, creating it; counts never go below 0."""
    table = connection.ops.quote_name(UsageDay._meta.db_table)
    values = [amounts.get(column, 0) for column in COLUMNS]
    updates = ", ".join(
        f"{column} = CASE WHEN {table}.{column} + %s < 0 THEN 0 ELSE {table}.{column} + %s END" for column in COLUMNS
    )
    sql = (
        f"INSERT INTO {table} (user_id, day, model, assistant, source, {', '.join(COLUMNS)}) "
        f"VALUES (%s, %s, %s, %s, %s, {', '.join(['%s'] * len(COLUMNS))}) "
        f"ON CONFLICT (user_id, day, model, assistant, source) DO UPDATE SET {updates}"
    )
    params = [key.user_id, key.day, key.model[:200], key.assistant[:50], key.source]
    params += [max(v, 0) for v in values]
    params += [v for value in values for v in (value, value)]
    batch.statement(sql, params, returns_rows=False)


def usage_add(key: UsageKey, **amounts: int) -> None:
    writes = Batch()
    usage_add_in(writes, key, **amounts)
    writes.run()
