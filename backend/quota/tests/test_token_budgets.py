"""Monthly token budgets: held before a call, settled to its real usage after it, released on failure."""

from __future__ import annotations

import datetime as dt

import openai
import pytest
from django.utils import timezone

from chat.models import Completion, ProcessLease
from chat.selectors import assistant_default
from chat.services.calls import calls_close_stale
from chat.services.conversations import conversation_create
from conftest import client_for, make_member
from gateway.services import api_key_create
from groups.models import Group, Membership
from quota.models import DailyUsage, MonthlyTokens
from quota.services import quota_day, tokens_reset_at


def budgeted(member, budget: int, *, name: str = "Class A", daily_limit: int | None = 100) -> Group:
    group = Group.objects.create(name=name, monthly_token_budget=budget, daily_limit=daily_limit)
    Membership.objects.create(group=group, user=member)
    return group


def month_row(member) -> MonthlyTokens:
    return MonthlyTokens.objects.get(user=member)


def test_a_call_settles_its_hold_to_the_real_usage_and_quota_shows_the_budget(api, member, upstream):
    group = budgeted(member, 10_000)
    conversation = conversation_create(user=member, assistant=assistant_default())
    sent = api.post(f"/api/conversations/{conversation.pk}/messages", {"content": "hello budget"}, format="json")
    assert sent.status_code == 201
    [exchange] = upstream.exchanges
    used = exchange.response["usage"]["total_tokens"]
    assert (month_row(member).used, month_row(member).reserved) == (used, 0)
    assert int(sent["X-RateLimit-Limit-Tokens"]) == 10_000
    quota = api.get("/api/quota")
    tokens = quota.json()["tokens"]
    assert tokens["limit"] == 10_000 and tokens["used"] == used and tokens["reserved"] == 0
    assert tokens["remaining"] == 10_000 - used
    assert tokens["group"] == {"id": group.pk, "name": "Class A"}
    assert tokens["resets_at"] == tokens_reset_at(quota_day()).isoformat()
    assert quota["X-RateLimit-Remaining-Tokens"] == str(10_000 - used)


def test_without_a_budget_quota_has_no_tokens_but_the_month_is_still_kept(api, member, upstream):
    conversation = conversation_create(user=member, assistant=assistant_default())
    api.post(f"/api/conversations/{conversation.pk}/messages", {"content": "hello"}, format="json")
    assert api.get("/api/quota").json()["tokens"] is None
    assert "X-RateLimit-Limit-Tokens" not in api.get("/api/quota")
    assert month_row(member).used == upstream.exchanges[0].response["usage"]["total_tokens"]
    assert Completion.objects.get().tokens_reserved == 0


def test_a_call_that_could_pass_the_budget_is_refused_before_the_model_and_not_counted(api, member, upstream):
    budgeted(member, 300)  # less than the conversation's max_tokens (512) alone
    conversation = conversation_create(user=member, assistant=assistant_default())
    refused = api.post(f"/api/conversations/{conversation.pk}/messages", {"content": "hello"}, format="json")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "token_budget_exceeded"
    assert "max_tokens" in body["detail"] and body["tokens_needed"] > 512
    first_of_next_month = tokens_reset_at(quota_day())
    retry_after = int(refused["Retry-After"])
    now = dt.datetime.now(dt.UTC)
    assert abs((now + dt.timedelta(seconds=retry_after)) - first_of_next_month) < dt.timedelta(seconds=5)
    assert upstream.exchanges == []
    assert not DailyUsage.objects.filter(user=member, requests__gt=0).exists()  # the request rolled back too
    assert not Completion.objects.exists()
    assert body["quota"]["used"] == 0 and body["quota"]["tokens"]["remaining"] == 300
    # a smaller max_tokens fits
    small = conversation_create(user=member, assistant=assistant_default(), max_tokens=20)
    assert api.post(f"/api/conversations/{small.pk}/messages", {"content": "hi"}, format="json").status_code == 201


def test_a_failed_call_releases_its_hold_and_its_request(api, member, upstream):
    budgeted(member, 10_000)
    upstream.configure(status=500, fail_times=10)
    conversation = conversation_create(user=member, assistant=assistant_default())
    failed = api.post(f"/api/conversations/{conversation.pk}/messages", {"content": "hello"}, format="json")
    assert failed.status_code == 502
    assert (month_row(member).used, month_row(member).reserved) == (0, 0)
    assert Completion.objects.get().tokens_reserved > 512


def test_the_sweep_releases_the_hold_of_a_call_whose_process_is_gone(member, upstream):
    from chat.services.calls import call_start
    from chat.services.conversations import conversation_request_build
    from llm.providers import get_provider

    budgeted(member, 10_000)
    conversation = conversation_create(user=member, assistant=assistant_default())
    provider = get_provider()
    turns = [{"role": "user", "content": "left hanging"}]
    request = conversation_request_build(conversation=conversation, turns=turns, provider=provider)
    call = call_start(user=member, conversation=conversation, provider=provider, request=request, asked=turns)
    assert month_row(member).reserved == call.reservation.tokens_reserved > 0
    now = timezone.now()
    lapsed = ProcessLease.objects.create(host="elsewhere", pid=4242, started_at=now, expires_at=now - dt.timedelta(1))
    Completion.objects.filter(pk=call.completion.pk).update(lease_id=lapsed.pk)
    assert calls_close_stale() == 1
    assert (month_row(member).used, month_row(member).reserved) == (0, 0)
    assert DailyUsage.objects.get(user=member).requests == 0


def test_the_most_generous_budget_of_a_members_groups_applies(member):
    budgeted(member, 1_000, name="Small")
    big = budgeted(member, 50_000, name="Big")
    Membership.objects.create(group=Group.objects.create(name="No budget"), user=member)
    tokens = client_for(member).get("/api/quota").json()["tokens"]
    assert tokens["limit"] == 50_000 and tokens["group"] == {"id": big.pk, "name": "Big"}


def test_v1_without_max_tokens_is_sent_bounded_and_refused_in_openai_shape(live_uvicorn, upstream, settings):
    settings.HARUCHAT_MAX_TOKENS_LIMIT = 1000
    member = make_member()
    budgeted(member, 1_200)
    _, secret = api_key_create(user=member, name="t")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    answer = client.chat.completions.with_raw_response.create(
        model="fake-model", messages=[{"role": "user", "content": "hi"}]
    )
    [exchange] = upstream.exchanges
    assert exchange.request["max_tokens"] == 1000  # haruchat bounded the answer it had to hold for
    assert int(answer.headers["x-ratelimit-remaining-tokens"]) == 1_200 - answer.parse().usage.total_tokens
    completion = Completion.objects.get()
    assert completion.max_tokens == 1000  # the record says what was sent
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi " * 100}], max_tokens=1000
        )
    assert refused.value.code == "token_budget_exceeded"
    assert refused.value.response.headers["retry-after"]
    assert len(upstream.exchanges) == 1


def test_a_call_the_sweep_closed_that_answers_after_all_releases_no_other_calls_hold(member, upstream):
    from chat.services.calls import call_start, call_succeed
    from chat.services.conversations import conversation_request_build
    from llm.providers import get_provider
    from testing.samples import ANSWER

    budgeted(member, 10_000)
    conversation = conversation_create(user=member, assistant=assistant_default())
    provider = get_provider()

    def start(text: str):
        turns = [{"role": "user", "content": text}]
        request = conversation_request_build(conversation=conversation, turns=turns, provider=provider)
        return call_start(user=member, conversation=conversation, provider=provider, request=request, asked=turns)

    slow, other = start("slow"), start("other")
    now = timezone.now()
    lapsed = ProcessLease.objects.create(host="elsewhere", pid=4242, started_at=now, expires_at=now - dt.timedelta(1))
    Completion.objects.filter(pk=slow.completion.pk).update(lease_id=lapsed.pk)
    assert calls_close_stale() == 1  # the slow call's process looked gone (its lease lapsed)
    assert month_row(member).reserved == other.reservation.tokens_reserved
    call_succeed(call=slow, response=ANSWER)  # ... but it answered after all
    used = ANSWER["usage"]["total_tokens"]
    assert (month_row(member).used, month_row(member).reserved) == (used, other.reservation.tokens_reserved)
    assert DailyUsage.objects.get(user=member).requests == 2  # the answer is counted again
    assert Completion.objects.get(pk=slow.completion.pk).status == "succeeded"


def test_images_are_held_for_what_they_cost_not_their_urls_length(member, upstream):
    from llm.providers import get_provider

    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    text_only = {"messages": [{"role": "user", "content": [{"type": "text", "text": "what is it?"}]}]}
    with_image = {"messages": [{"role": "user", "content": [{"type": "text", "text": "what is it?"}, image]}]}
    provider = get_provider()
    assert provider.prompt_tokens_bound(with_image) - provider.prompt_tokens_bound(text_only) >= 2_000
