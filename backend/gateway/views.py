"""The OpenAI-compatible gateway: /v1/models and /v1/chat/completions with a personal API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

from chat.limits import MessageContentField, max_tokens_limit
from chat.services.call_stream import Delta, Failed, Finished, call_stream
from chat.services.calls import PreparedCall, call_fail, call_succeed
from common.async_views import AsyncAPIView
from common.db import in_db_finishing
from common.streams import event_stream_response, sse_data
from gateway.authentication import ApiKeyAuthentication
from gateway.errors import openai_error, openai_exception_handler
from gateway.models import ApiKey
from gateway.services import api_key_create, api_key_revoke, gateway_call_start
from groups.access import model_check
from llm.providers import get_provider, usage_chunk, validate_completion


class GatewayView(APIView):
    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return openai_exception_handler


class ModelListView(GatewayView):
    @extend_schema(summary="Models (OpenAI-compatible)", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "haruchat"}
                    for m in get_provider().models()
                    if request.user.access.allows_model(m)
                ],
            }
        )


# DRF's CharField's own checks, for the strings inside a JSON parameter.
PROHIBITED_CHARACTERS = (ProhibitNullCharactersValidator(), ProhibitSurrogateCharactersValidator())


def refuse_unstorable_characters(value: Any) -> None:
    """Refuse a JSON value with a NUL or an unpaired surrogate in any string or key, as DRF's
    CharField does: PostgreSQL's jsonb can record neither (and no database the latter).
    A model's answer is not refused but recorded with stand-ins (chat.records.unstorable_replaced)."""
    if isinstance(value, str):
        for prohibit in PROHIBITED_CHARACTERS:
            prohibit(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable_characters(key)
            refuse_unstorable_characters(item)
    elif isinstance(value, list):
        for item in value:
            refuse_unstorable_characters(item)


class ChatMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "developer", "user", "assistant"])
    content = MessageContentField(
        allow_blank=True, trim_whitespace=False, too_long="A message is longer than %(limit_value)s characters."
    )
    name = serializers.CharField(required=False, max_length=64)


class ChatCompletionSerializer(serializers.Serializer):
    """The part of OpenAI's Chat Completions request haruchat supports."""

    model = serializers.CharField(max_length=200)
    messages = ChatMessageSerializer(many=True, allow_empty=False)
    temperature = serializers.FloatField(min_value=0.0, max_value=2.0, required=False, allow_null=True)
    max_tokens = serializers.IntegerField(min_value=1, required=False, allow_null=True, validators=[max_tokens_limit()])
    stream = serializers.BooleanField(required=False)
    stream_options = serializers.DictField(required=False, allow_null=True, validators=[refuse_unstorable_characters])
    top_p = serializers.FloatField(min_value=0.0, max_value=1.0, required=False, allow_null=True)
    stop = serializers.JSONField(required=False, allow_null=True, validators=[refuse_unstorable_characters])
    seed = serializers.IntegerField(required=False, allow_null=True)
    presence_penalty = serializers.FloatField(min_value=-2.0, max_value=2.0, required=False, allow_null=True)
    frequency_penalty = serializers.FloatField(min_value=-2.0, max_value=2.0, required=False, allow_null=True)
    user = serializers.CharField(required=False, max_length=200)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unsupported = sorted(set(data) - set(self.fields))
            if unsupported:
                raise serializers.ValidationError(
                    {unsupported[0]: [f"haruchat does not support the parameter(s): {', '.join(unsupported)}."]},
                    code="unsupported_parameter",
                )
        return super().to_internal_value(data)

    def validate_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not any(m["role"] == "user" for m in messages):
            raise serializers.ValidationError("At least one message must have the role 'user'.", code="no_user_message")
        return messages


class ModelNotFound(exceptions.NotFound):
    default_code = "model_not_found"


class ChatCompletionView(AsyncAPIView):
    """The hot path: async, so a call waiting on the model holds no thread and no connection."""

    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return openai_exception_handler

    def prepare_post(self, request: Request) -> PreparedCall:
        """Check the body, then count and record the call (in the database unit that authenticated it)."""
        data = ChatCompletionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upstream_request = {key: request.data[key] for key in data.validated_data if key != "messages"}
        upstream_request["messages"] = [dict(m) for m in data.validated_data["messages"]]
        models = get_provider().models()
        if upstream_request["model"] not in models:
            raise ModelNotFound(
                f"The model {upstream_request['model']!r} does not exist. Available: {', '.join(models)}."
            )
        model_check(request.user.access, upstream_request["model"])
        return gateway_call_start(key=request.auth, request=upstream_request)

    @extend_schema(
        request=ChatCompletionSerializer, responses={200: dict}, summary="Chat completion (OpenAI-compatible)"
    )
    async def post(self, request: Request) -> Response | StreamingHttpResponse:
        call: PreparedCall = self.prepared
        headers = call.reservation.status.headers()
        if call.request.get("stream"):
            client_wants_usage = bool((request.data.get("stream_options") or {}).get("include_usage"))
            return event_stream_response(chunk_stream(call, client_wants_usage), headers=headers)
        try:
            response = validate_completion(await call.provider.acomplete(call.request))
        except Exception as exc:
            raise await in_db_finishing(call_fail, call=call, error=exc) from exc
        result = await in_db_finishing(call_succeed, call=call, response=response)
        return Response(response, status=status.HTTP_200_OK, headers=result.quota.headers())


class BenchPassThroughView(AsyncAPIView):
    """The benchmark's path (b): the same stack and provider call as /v1, minus auth, quota and record.

    Routed only with HARUCHAT_BENCH_PASSTHROUGH, so the benchmark can tell
    what Django and the SDK cost from what haruchat's own work costs.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    async def post(self, request: Request) -> Response | StreamingHttpResponse:
        provider = get_provider()
        if request.data.get("stream"):
            chunks = provider.stream(dict(request.data))
            return event_stream_response(_passed_through(chunks))
        return Response(await provider.acomplete(dict(request.data)))


async def _passed_through(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield sse_data(chunk)
    yield b"data: [DONE]\n\n"


async def chunk_stream(call: PreparedCall, client_wants_usage: bool) -> AsyncIterator[bytes]:
    """Pass the upstream's chunks through as OpenAI's SSE, ending in `data: [DONE]`.

    A client that asked for usage gets its chunk even from a model that
    sends none (the embedded one, some servers): the usage haruchat counted.
    """
    usage_sent = False
    async for event in call_stream(call=call):
        if isinstance(event, Delta):
            if event.chunk.get("usage"):
                if not event.chunk.get("choices") and not client_wants_usage:
                    continue  # haruchat asked for usage for its ledger; this client did not
                usage_sent = True
            yield sse_data(event.chunk)
        elif isinstance(event, Finished):
            if client_wants_usage and not usage_sent:
                closing = usage_chunk(event.response, event.response["usage"])
                yield sse_data(closing)
            yield b"data: [DONE]\n\n"
        elif isinstance(event, Failed):
            error = event.error
            # Always a server error here: the headers (200) are gone, and the failure was the model's.
            body = {"error": openai_error(status_code=502, message=str(error.detail), code=error.get_codes())}
            yield sse_data(body)


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the secret, to tell keys apart.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedSerializer(ApiKeyOutputSerializer):
    secret = serializers.CharField(help_text="Shown this once; only a hash is kept.")


class ApiKeyListView(APIView):
    """Personal API keys for /v1 (managed with the member's JWT like the rest of /api/auth)."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)

    @extend_schema(responses={200: ApiKeyOutputSerializer(many=True)}, summary="Own API keys")
    def get(self, request: Request) -> Response:
        keys = ApiKey.objects.filter(user=request.user, revoked_at__isnull=True)
        return Response(ApiKeyOutputSerializer(keys, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApiKeyCreatedSerializer}, summary="Create an API key")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = api_key_create(user=request.user, name=data.validated_data["name"])
        body = {**ApiKeyOutputSerializer(key).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an API key")
    def delete(self, request: Request, key_id: int) -> Response:
        key = ApiKey.objects.filter(user=request.user, pk=key_id, revoked_at__isnull=True).first()
        if key is None:
            raise exceptions.NotFound("No such API key.")
        api_key_revoke(key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)
