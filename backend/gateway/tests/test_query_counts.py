"""The SQL statements one /v1 call makes: a fixed number, whatever the member's history."""

from __future__ import annotations

from chat.services.calls import call_succeed
from conftest import make_member
from gateway.services import api_key_authenticate, api_key_create, gateway_call_start
from testing.samples import ANSWER, REQUEST


def one_call(secret: str) -> None:
    key = api_key_authenticate(secret)
    call = gateway_call_start(key=key, request=REQUEST)
    call_succeed(call=call, response=ANSWER)


def test_a_gateway_call_takes_a_fixed_number_of_queries(db, upstream, django_assert_num_queries, settings):
    settings.HARUCHAT_DAILY_LIMIT = 100
    _, secret = api_key_create(user=make_member(), name="bench")
    one_call(secret)  # the first call looks the key up and stamps its last use; the next ones remember it
    # before the call, one batch: the quota, the three usage roll-ups, the conversation (its assistant a
    # subquery), its messages, the call and its prompts; after it, a lock on the call (a sweep may have closed
    # it), then one batch: the reply, its choices, the call's status, the answer, the conversation, the day's
    # usage, the month's tokens, the three roll-ups' tokens; plus a savepoint and its release around each of
    # the two transactions (inside the test's own). On PostgreSQL each batch is one round trip
    # (common.sql_batch).
    with django_assert_num_queries(8 + 1 + 10 + 2 + 2):
        one_call(secret)
    for _ in range(3):
        one_call(secret)
    with django_assert_num_queries(8 + 1 + 10 + 2 + 2):  # ... and the same after more calls
        one_call(secret)


def test_with_keys_not_remembered_each_call_looks_its_key_up(db, upstream, django_assert_num_queries, settings):
    settings.HARUCHAT_DAILY_LIMIT = 100
    settings.HARUCHAT_API_KEY_CACHE_SECONDS = 0
    _, secret = api_key_create(user=make_member(), name="bench")
    one_call(secret)
    # the key with the member's allowances (subqueries), and what their groups allow them to use
    with django_assert_num_queries(2 + 8 + 1 + 10 + 2 + 2):
        one_call(secret)
