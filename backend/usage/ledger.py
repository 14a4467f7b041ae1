"""Writes to the usage roll-up, added to the call lifecycle's own batches (chat.services.calls)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from common.sql_batch import Batch
from usage.models import COUNTS, UsageDay, UsageMemberDay, UsageModelDay

COLUMNS = tuple(COUNTS)


@dataclass(frozen=True)
class UsageKey:
    """Which row of the roll-up a call counts on."""

    user_id: int
    day: dt.date
    model: str
    assistant: str
    source: str


def usage_add_in(batch: Batch, key: UsageKey, **amounts: int) -> None:
    """Add `amounts` (requests=1, failed=1, tokens...) to the key's rows, creating them; counts never go below 0.

    The detailed row first, then the model's day, then the member's: every writer takes the locks in
    that order.
    """
    values = [amounts.get(column, 0) for column in COLUMNS]
    member_day = {"user_id": key.user_id, "day": key.day}
    model_day = {**member_day, "model": key.model[:200]}
    _upsert_in(batch, UsageDay, {**model_day, "assistant": key.assistant[:50], "source": key.source}, values)
    _upsert_in(batch, UsageModelDay, model_day, values)
    _upsert_in(batch, UsageMemberDay, member_day, values)


def _upsert_in(batch: Batch, model: type[models.Model], key: dict[str, Any], values: list[int]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    updates = ", ".join(
        f"{column} = CASE WHEN {table}.{column} + %s < 0 THEN 0 ELSE {table}.{column} + %s END" for column in COLUMNS
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(key)}, {', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * (len(key) + len(COLUMNS)))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )
    params = [*key.values(), *(max(v, 0) for v in values), *(v for value in values for v in (value, value))]
    batch.statement(sql, params, returns_rows=False)


def usage_add(key: UsageKey, **amounts: int) -> None:
    writes = Batch()
    usage_add_in(writes, key, **amounts)
    writes.run()
