"""POST /v1/responses (stateless) through the openai SDK: answered, streamed as typed events, recorded, counted."""

from __future__ import annotations

import openai
import pytest

from chat.models import Completion
from chat.records import rebuild_request, rebuild_response
from conftest import make_member
from gateway.services import api_key_create
from quota.models import DailyUsage


@pytest.fixture
def sdk(live_uvicorn, upstream):
    member = make_member()
    _, secret = api_key_create(user=member, name="responses")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    client.member = member
    return client


def used(member) -> int:
    return DailyUsage.objects.filter(user=member).values_list("requests", flat=True).first() or 0


def test_a_response_is_answered_recorded_and_counted(sdk, upstream):
    response = sdk.responses.create(
        model="fake-model", instructions="Be brief.", input="hello responses", max_output_tokens=30, temperature=0.3
    )
    assert response.output_text == "Echo: hello responses"
    assert response.status == "completed" and response.id == f"resp_{Completion.objects.get().pk}"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    [exchange] = upstream.exchanges
    assert exchange.request == {
        "model": "fake-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello responses"}],
        "max_tokens": 30,
        "temperature": 0.3,
    }
    completion = Completion.objects.get()
    assert rebuild_request(completion) == exchange.request and rebuild_response(completion) == exchange.response
    assert used(sdk.member) == 1


def test_input_items_with_parts_become_the_conversation(sdk, upstream):
    response = sdk.responses.create(
        model="fake-model",
        input=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "first answer"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "second question"}]},
        ],
    )
    assert response.output_text == "Echo: second question"
    sent = upstream.exchanges[0].request["messages"]
    assert sent[1] == {"role": "assistant", "content": [{"type": "text", "text": "first answer"}]}


def test_streaming_sends_the_typed_events_in_order(sdk, upstream):
    upstream.configure(chunks=4)
    events = list(sdk.responses.create(model="fake-model", input="stream me please", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"
    ]  # fmt: skip
    assert kinds[-4:] == [
        "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"
    ]  # fmt: skip
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Echo: stream me please"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].response.output_text == "Echo: stream me please" and events[-1].response.usage.total_tokens
    assert used(sdk.member) == 1 and Completion.objects.get().status == "succeeded"


def test_the_sdks_stream_helper_reads_it(sdk, upstream):
    with sdk.responses.stream(model="fake-model", input="helper") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Echo: helper"


@pytest.mark.parametrize(
    ("extra", "param"),
    [({"previous_response_id": "resp_1"}, "previous_response_id"),
     ({"tools": [{"type": "web_search"}]}, "tools"), ({"reasoning": {"effort": "low"}}, "reasoning")],
)  # fmt: skip
def test_what_needs_state_or_tools_is_a_clear_400(sdk, upstream, extra, param):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(model="fake-model", input="hi", **extra)
    assert refused.value.param == param and refused.value.code == "unsupported_parameter"
    assert upstream.exchanges == [] and used(sdk.member) == 0


def test_a_failing_model_is_an_error_and_refunded(sdk, upstream):
    upstream.configure(status=500, fail_times=5)
    with pytest.raises(openai.InternalServerError):
        sdk.responses.create(model="fake-model", input="hi")
    with pytest.raises(openai.InternalServerError):
        sdk.responses.create(model="fake-model", input="hi", stream=True)
    assert used(sdk.member) == 0


@pytest.mark.local_model
def test_the_embedded_model_answers_a_response_and_says_when_it_was_cut(live_uvicorn, settings):
    settings.HARUCHAT_LLM_PROVIDER = "local"
    settings.HARUCHAT_LLM_MODEL = ""
    _, secret = api_key_create(user=make_member(), name="local")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    response = client.responses.create(model="smollm2-135m-instruct", input="Say hi.", max_output_tokens=8)
    assert response.output_text and response.usage.output_tokens <= 8
    cut = client.responses.create(model="smollm2-135m-instruct", input="Tell me a long story.", max_output_tokens=2)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
