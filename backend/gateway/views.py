"""The OpenAI-compatible gateway: /v1/models and /v1/chat/completions with a personal API key."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.services.call_stream import Delta, Failed, Finished, StreamEvent, call_stream, resumed
from chat.services.calls import ModelCallFailed, PreparedCall, call_fail, call_succeed
from common.async_views import AsyncAPIView
from common.db import in_db_finishing
from common.streams import event_stream_response, sse_data, sse_event
from gateway import responses
from gateway.authentication import ApiKeyAuthentication
from gateway.errors import openai_error, openai_exception_handler
from gateway.models import ApiKey
from gateway.requests import ChatCompletionSerializer
from gateway.responses import ResponsesRequestSerializer
from gateway.services import api_key_create, api_key_revoke, gateway_call_start
from groups.access import model_check
from llm.errors import UpstreamRefused
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


class UnsupportedParameter(exceptions.ValidationError):
    default_code = "unsupported_parameter"


class ModelNotFound(exceptions.NotFound):
    default_code = "model_not_found"


def _call_start(request: Request, upstream_request: dict[str, Any]) -> PreparedCall:
    """Start a /v1 call for a model that exists, that the member may use, and that can honour the request."""
    provider = get_provider()
    models = provider.models()
    if upstream_request["model"] not in models:
        raise ModelNotFound(f"The model {upstream_request['model']!r} does not exist. Available: {', '.join(models)}.")
    model_check(request.user.access, upstream_request["model"])
    refused = provider.unsupported(upstream_request)
    if refused is not None:
        param, reason = refused
        raise UnsupportedParameter({param: [reason]})
    return gateway_call_start(key=request.auth, request=upstream_request)


async def _stream_started(call: PreparedCall) -> tuple[StreamEvent, AsyncGenerator[StreamEvent]]:
    """The stream's first event, so a call that fails before any text is a plain error with its own status."""
    events = call_stream(call=call)
    first = await anext(events)
    if isinstance(first, Failed):
        await events.aclose()  # it has settled the call; end it on this loop, not at garbage collection
        raise as_client_error(first.error)
    return first, events


class ChatCompletionView(AsyncAPIView):
    """The hot path: async, so a call waiting on the model holds no thread and no connection."""

    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return openai_exception_handler

    def prepare_post(self, request: Request) -> PreparedCall:
        """Check the body, then count and record the call (in the database unit that authenticated it)."""
        ChatCompletionSerializer(data=request.data).is_valid(raise_exception=True)
        # As the client wrote it: what haruchat doesn't read passes through.
        return _call_start(request, dict(request.data))

    @extend_schema(
        request=ChatCompletionSerializer, responses={200: dict}, summary="Chat completion (OpenAI-compatible)"
    )
    async def post(self, request: Request) -> Response | StreamingHttpResponse:
        call: PreparedCall = self.prepared
        headers = call.reservation.status.headers()
        if call.request.get("stream"):
            client_wants_usage = bool((request.data.get("stream_options") or {}).get("include_usage"))
            first, events = await _stream_started(call)
            return event_stream_response(chunk_stream(first, events, client_wants_usage), headers=headers)
        try:
            response = validate_completion(await call.provider.acomplete(call.request))
        except Exception as exc:
            raise as_client_error(await in_db_finishing(call_fail, call=call, error=exc)) from exc
        result = await in_db_finishing(call_succeed, call=call, response=response)
        return Response(response, status=status.HTTP_200_OK, headers=result.quota.headers())


class ResponsesView(AsyncAPIView):
    """OpenAI's Responses API, stateless (gateway.responses), counted and recorded like any call."""

    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return openai_exception_handler

    def prepare_post(self, request: Request) -> PreparedCall:
        data = ResponsesRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.data = request.data
        return _call_start(request, responses.chat_request(request.data))

    @extend_schema(
        request=ResponsesRequestSerializer,
        responses={200: dict},
        summary="Response (OpenAI's Responses API, stateless)",
    )
    async def post(self, request: Request) -> Response | StreamingHttpResponse:
        call: PreparedCall = self.prepared
        response_id = f"resp_{call.completion.pk}"
        if call.request.get("stream"):
            first, events = await _stream_started(call)
            typed = responses.response_events(self.data, response_id, first, events)
            return event_stream_response(_numbered(typed), headers=call.reservation.status.headers())
        try:
            completion = validate_completion(await call.provider.acomplete(call.request))
        except Exception as exc:
            raise as_client_error(await in_db_finishing(call_fail, call=call, error=exc)) from exc
        result = await in_db_finishing(call_succeed, call=call, response=completion)
        body = responses.response_object(
            self.data, response_id=response_id, created_at=int(call.completion.created_at.timestamp()),
            completion=completion,
        )  # fmt: skip
        return Response(body, headers=result.quota.headers())


async def _numbered(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    """The Responses API's SSE: each event named by its type, which its data repeats, with a sequence number."""
    number = 0
    async for kind, data in events:
        yield sse_event(kind, {"type": kind, "sequence_number": number, **data})
        number += 1


def as_client_error(failed: ModelCallFailed) -> ModelCallFailed:
    """A refusal of the request by the upstream is the client's to fix: its own status, code and param."""
    refused = failed.provider_error
    if isinstance(refused, UpstreamRefused) and refused.upstream_status:
        failed.status_code = refused.upstream_status
        failed.detail = exceptions.ErrorDetail(refused.detail, code=refused.upstream_code or "upstream_refused")
        if refused.param:
            failed.extra["param"] = refused.param
    return failed


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


async def chunk_stream(
    first: StreamEvent, rest: AsyncGenerator[StreamEvent], client_wants_usage: bool
) -> AsyncIterator[bytes]:
    """Pass the upstream's chunks through as OpenAI's SSE, ending in `data: [DONE]`.

    A client that asked for usage gets its chunk even from a model that
    sends none (the embedded one, some servers): the usage haruchat counted.
    """
    usage_sent = False
    async for event in resumed(first, rest):
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
