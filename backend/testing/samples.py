"""One /v1 call's request, and the answer that stands in for the model's.

The gateway's pinned statement counts (gateway/tests/test_query_counts.py) and
bench.gateway_db_steps both run this call, so they measure the same thing.
"""

REQUEST = {
    "model": "fake-model",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How long is a day?"}],
}
ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "fake-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "A day."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}
