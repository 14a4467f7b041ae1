"""Store a model call in normalised rows and rebuild its exact JSON.

Each known field goes to its column only when its value fits the column
(right type, length, range); everything else, including explicit nulls and
fields we have no column for, is kept verbatim in `extra`. Rebuilding puts
the columns back and merges `extra` over them, so the JSON that crossed the
wire comes back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chat.models import Completion, CompletionChoice, CompletionPrompt, CompletionReply
from common.sql_batch import Batch, LastId

MAX_POSITIVE_INT = 2_147_483_647
MAX_BIGINT = 9_223_372_036_854_775_807


def _text(max_length: int | None = None) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and "\x00" not in v and (max_length is None or len(v) <= max_length)


def _int(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _float(v: Any) -> bool:
    return isinstance(v, float)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _take(source: dict[str, Any], key: str, fits: Callable[[Any], bool]) -> Any:
    """Pop `key` into a column if its value fits; leave it in `source` otherwise."""
    if key in source and fits(source[key]):
        return source.pop(key)
    return None


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


# --- request ----------------------------------------------------------------


def request_columns(request: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split a request into Completion columns (with `request_extra`) and prompt rows."""
    rest = dict(request)
    columns = {
        "model": _take(rest, "model", _text(200)),
        "temperature": _take(rest, "temperature", _float),
        "max_tokens": _take(rest, "max_tokens", _int(0, MAX_POSITIVE_INT)),
        "stream": _take(rest, "stream", _bool),
    }
    prompts = []
    if isinstance(rest.get("messages"), list) and all(isinstance(m, dict) for m in rest["messages"]):
        for position, message in enumerate(rest.pop("messages")):
            fields = dict(message)
            prompts.append(
                {
                    "position": position,
                    "role": _take(fields, "role", _text(20)),
                    "content": _take(fields, "content", _text()),
                    "extra": fields,
                }
            )
    columns["request_extra"] = rest
    return columns, prompts


def completion_record_request(batch: Batch, *, completion: Completion | LastId, prompts: list[dict[str, Any]]) -> None:
    """Add the prompt rows to `batch`; `completion` may be one the same batch inserts first."""
    if prompts:
        completion_id = completion if isinstance(completion, LastId) else completion.pk
        batch.insert(CompletionPrompt, [{"completion_id": completion_id, **prompt} for prompt in prompts])


def rebuild_request(completion: Completion) -> dict[str, Any]:
    """The request JSON exactly as it was sent."""
    request: dict[str, Any] = {}
    _put(request, "model", completion.model)
    prompts = list(completion.prompts.all())
    if prompts or "messages" not in completion.request_extra:
        request["messages"] = [_rebuild_prompt(prompt) for prompt in prompts]
    _put(request, "temperature", completion.temperature)
    _put(request, "max_tokens", completion.max_tokens)
    _put(request, "stream", completion.stream)
    request.update(completion.request_extra)
    return request


def _rebuild_prompt(prompt: CompletionPrompt) -> dict[str, Any]:
    message: dict[str, Any] = {}
    _put(message, "role", prompt.role)
    _put(message, "content", prompt.content)
    message.update(prompt.extra)
    return message


# --- response ---------------------------------------------------------------

# A NUL, which PostgreSQL can store in neither text nor jsonb, and an unpaired
# UTF-16 surrogate (JSON's "\ud83d" alone: half an emoji), which is no character
# at all and can't be written as UTF-8 to any database.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
STAND_IN = "\ufffd"


def unstorable_replaced(text: str) -> str:
    """`text` with each unstorable character as U+FFFD (compare gateway's refusal of them in parameters)."""
    return UNSTORABLE.sub(STAND_IN, text)


def with_unstorable_replaced(value: Any) -> tuple[Any, int]:
    """`value` with each unstorable character in its strings and keys as U+FFFD, and how many there were.

    A model (or a server streaming one) can send either; the record keeps the
    Unicode replacement character in its place and counts them
    (Completion.characters_replaced). A value with none is returned as it is.
    """
    if isinstance(value, str):
        return UNSTORABLE.subn(STAND_IN, value)
    if isinstance(value, dict):
        pairs = [(with_unstorable_replaced(key), with_unstorable_replaced(item)) for key, item in value.items()]
        count = sum(key[1] + item[1] for key, item in pairs)
        return ({key[0]: item[0] for key, item in pairs}, count) if count else (value, 0)
    if isinstance(value, list):
        items = [with_unstorable_replaced(item) for item in value]
        count = sum(item[1] for item in items)
        return ([item[0] for item in items], count) if count else (value, 0)
    return value, 0


USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


def completion_record_response(
    batch: Batch, *, completion: Completion, response: dict[str, Any]
) -> dict[str, int | None]:
    """Add a validated chat completion response to `batch` as reply and choice rows.

    Returns the usage as recorded: each token count, or None where the response had none that fits.
    """
    rest = dict(response)
    reply_columns = {
        "response_id": _take(rest, "id", _text(200)),
        "object": _take(rest, "object", _text(50)),
        "created": _take(rest, "created", _int(-MAX_BIGINT, MAX_BIGINT)),
        "model": _take(rest, "model", _text(200)),
    }
    if isinstance(rest.get("usage"), dict):
        usage = dict(rest.pop("usage"))
        for field in USAGE_FIELDS:
            reply_columns[field] = _take(usage, field, _int(0, MAX_POSITIVE_INT))
        if usage or all(reply_columns[field] is None for field in USAGE_FIELDS):
            rest["usage"] = usage  # fields we have no column for, or an empty usage object
    choices = rest.pop("choices")
    reply = batch.insert(
        CompletionReply, [{"completion_id": completion.pk, "extra": rest, **reply_columns}], returning=("id",)
    )
    if choices:
        batch.insert(
            CompletionChoice, [_choice_row(reply.last_id, position, choice) for position, choice in enumerate(choices)]
        )
    return {field: reply_columns.get(field) for field in USAGE_FIELDS}


def _choice_row(reply_id: LastId, position: int, choice: dict[str, Any]) -> dict[str, Any]:
    rest = dict(choice)
    message = dict(rest.pop("message"))
    return {
        "reply_id": reply_id,
        "position": position,
        "index": _take(rest, "index", _int(-MAX_POSITIVE_INT, MAX_POSITIVE_INT)),
        "finish_reason": _take(rest, "finish_reason", _text(50)),
        "role": _take(message, "role", _text(20)),
        "content": _take(message, "content", _text()),
        "extra": {"choice": rest, "message": message},
    }


def rebuild_response(completion: Completion) -> dict[str, Any] | None:
    """The response JSON exactly as it came back, or None when none did."""
    reply = getattr(completion, "reply", None)
    if reply is None:
        return None
    response: dict[str, Any] = {}
    _put(response, "id", reply.response_id)
    _put(response, "object", reply.object)
    _put(response, "created", reply.created)
    _put(response, "model", reply.model)
    response["choices"] = [_rebuild_choice(choice) for choice in reply.choices.all()]
    extra = dict(reply.extra)
    usage: dict[str, Any] = {}
    for field in USAGE_FIELDS:
        _put(usage, field, getattr(reply, field))
    if "usage" in extra:
        stored = extra.pop("usage")
        response["usage"] = {**usage, **stored} if isinstance(stored, dict) else stored
    elif usage:
        response["usage"] = usage
    response.update(extra)
    return response


def _rebuild_choice(choice: CompletionChoice) -> dict[str, Any]:
    message: dict[str, Any] = {}
    _put(message, "role", choice.role)
    _put(message, "content", choice.content)
    message.update(choice.extra.get("message", {}))
    rebuilt: dict[str, Any] = {}
    _put(rebuilt, "index", choice.index)
    rebuilt["message"] = message
    _put(rebuilt, "finish_reason", choice.finish_reason)
    rebuilt.update(choice.extra.get("choice", {}))
    return rebuilt
