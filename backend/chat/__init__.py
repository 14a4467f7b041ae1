"""Assistants, conversations and the record of every model call.

Words, used this way throughout the code, the API and the docs:

call
    One request haruchat sends to a model and what came of it, from being
    counted to being settled (`chat.services.calls`: `PreparedCall`,
    `call_start`, `call_succeed`, `call_fail`, `call_cut`). The web app's
    messages and /v1 make calls the same way.
completion
    The row that records a call (`Completion`: its configuration, status,
    timing and error), named after OpenAI's Chat Completions API. The API's
    `completion_id` is its id; `/completions` lists a conversation's calls.
request / response
    The Chat Completions JSON that crossed the wire: what haruchat sent, and
    the `chat.completion` that came back (assembled from its chunks when streamed).
reply
    The stored response: `CompletionReply` (envelope and usage) and its
    `CompletionChoice` rows.
answer
    The assistant `Message` a call produced: what the member reads
    (`Completion.answer`, `Message.completion`). A cut stream's answer is partial.
record
    A call's request and response rows together (`Completion`,
    `CompletionPrompt`, `CompletionReply`, `CompletionChoice`), from which
    `chat.records` rebuilds both JSON documents exactly.
"""
