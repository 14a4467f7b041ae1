"""The migration that adds the member-day and model-day roll-ups fills them from the usage recorded before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import make_member

BEFORE, AFTER = [("usage", "0002_report_indexes")], [("usage", "0003_model_and_member_days")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_usage_is_summed_into_the_new_roll_ups():
    alice, bob = make_member("alice@example.com", "alice"), make_member("bob@example.com", "bob")
    old = migrate(BEFORE).get_model("usage", "UsageDay")
    day = dt.date(2026, 11, 30)
    for user, model, assistant, source, requests, tokens in (
        (alice, "small", "free-chat", "web", 2, 30), (alice, "small", "", "gateway", 1, 5),
        (alice, "large", "free-chat", "web", 4, 100), (bob, "small", "free-chat", "web", 3, 7),
    ):  # fmt: skip
        old.objects.create(
            user_id=user.pk, day=day, model=model, assistant=assistant, source=source,
            requests=requests, failed=1, prompt_tokens=tokens,
        )  # fmt: skip
    new = migrate(AFTER)
    member_days = {
        row.user_id: (row.requests, row.failed, row.prompt_tokens)
        for row in new.get_model("usage", "UsageMemberDay").objects.all()
    }
    assert member_days == {alice.pk: (7, 3, 135), bob.pk: (3, 1, 7)}
    model_days = {
        (row.user_id, row.model): (row.requests, row.prompt_tokens)
        for row in new.get_model("usage", "UsageModelDay").objects.all()
    }
    assert model_days == {(alice.pk, "small"): (3, 35), (alice.pk, "large"): (4, 100), (bob.pk, "small"): (3, 7)}
