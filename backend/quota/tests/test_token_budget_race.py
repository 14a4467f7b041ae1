"""The token budget under a race: 50 calls at once across two app processes on one PostgreSQL."""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from django.db import connection
from django.db.models import Sum

from chat.models import Completion, CompletionReply
from conftest import make_member
from gateway.services import api_key_create
from groups.models import Group, Membership
from quota.models import DailyUsage, MonthlyTokens
from testing.processes import app_process, production_env

BUDGET = 3_000
CALLS = 50


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_calls_on_two_processes_never_pass_the_budget(tmp_path, fake_upstream_server):
    if connection.vendor != "postgresql":
        pytest.skip("several app processes share one PostgreSQL; run with DATABASE_URL=postgres://...")
    fake_upstream_server.reset()
    fake_upstream_server.configure(latency=0.2)
    import importlib

    from django.apps import apps

    importlib.import_module("chat.migrations.0002_builtin_assistants").create_assistants(apps, None)
    member = make_member()
    group = Group.objects.create(name="Cohort", daily_limit=1_000, monthly_token_budget=BUDGET)
    Membership.objects.create(group=group, user=member)
    _, secret = api_key_create(user=member, name="race")

    db = connection.settings_dict
    env = production_env(
        tmp_path,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        HARUCHAT_SSL_REDIRECT="false",
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL=fake_upstream_server.base_url,
        HARUCHAT_LLM_MODEL="fake-model",
    )
    results: list[tuple[int, dict]] = []
    with app_process(env) as (_, port_a), app_process(env) as (_, port_b):
        barrier = threading.Barrier(CALLS)

        def call(port: int, n: int) -> None:
            body = json.dumps(
                {"model": "fake-model", "max_tokens": 200, "messages": [{"role": "user", "content": f"question {n}"}]}
            )
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            barrier.wait()
            client.request(
                "POST", "/v1/chat/completions", body=body,
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            )  # fmt: skip
            response = client.getresponse()
            results.append((response.status, json.loads(response.read())))

        threads = [threading.Thread(target=call, args=((port_a, port_b)[n % 2], n)) for n in range(CALLS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    statuses = sorted(status for status, _ in results)
    succeeded = statuses.count(200)
    assert len(statuses) == CALLS and set(statuses) == {200, 429}
    assert all(body["error"]["code"] == "token_budget_exceeded" for status, body in results if status == 429)
    month = MonthlyTokens.objects.get(user=member)
    recorded = CompletionReply.objects.filter(completion__user=member).aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    assert month.reserved == 0
    assert month.used == recorded["prompt"] + recorded["completion"] <= BUDGET
    # every hold was a true bound, and the budget let through only what it could hold at once
    assert (
        Completion.objects.filter(user=member, status="succeeded").count()
        == succeeded
        == len(fake_upstream_server.exchanges)
    )
    assert DailyUsage.objects.get(user=member).requests == succeeded
    held = Completion.objects.filter(user=member).values_list("tokens_reserved", flat=True)
    assert all(0 < h < BUDGET for h in held)
