"""One error shape for the whole API: `{"detail": str, "code": str}`.

Validation errors add `errors` (field -> messages) so a client can show them
next to the right input. Nothing answers with an HTML page or a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from common.errors import RequestTooLarge

logger = logging.getLogger(__name__)


def _first_code(detail: Any) -> str:
    """The first machine-readable code found in a DRF error detail."""
    if isinstance(detail, exceptions.ErrorDetail):
        return detail.code or "invalid"
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return "invalid"


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped so every error carries `detail` and `code`."""
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(f"The request body is larger than {settings.HARUCHAT_MAX_BODY_BYTES} bytes.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body: dict[str, Any] = {
            "detail": _validation_summary(errors),
            "code": _first_code(exc.detail),
            "errors": errors,
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict):  # simplejwt puts detail and code in a dict
            body = {"detail": str(detail.get("detail", "")), "code": str(detail.get("code", "error"))}
            if "messages" in detail:
                body["messages"] = detail["messages"]
        else:
            code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
            body = {"detail": str(detail), "code": code if isinstance(code, str) else _first_code(detail)}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        body["code"] = body.get("code") if body.get("code") not in (None, "error") else "not_authenticated"
    body.update(getattr(exc, "extra", {}))
    response.data = body
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    return response


def _validation_summary(errors: dict[str, Any]) -> str:
    """A one-line human summary of field errors, e.g. 'email: This field is required.'"""
    parts = []
    for field, messages in errors.items():
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):
            first = _validation_summary(first)
        parts.append(str(first) if field == "non_field_errors" else f"{field}: {first}")
    return " ".join(parts) or "Invalid input."


def _json_error(status_code: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status_code)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(400, "Bad request.", "bad_request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(403, "You do not have permission to perform this action.", "permission_denied")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(404, "Not found.", "not_found")


def server_error(request: HttpRequest) -> JsonResponse:
    return _json_error(500, "Internal server error.", "server_error")


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return _json_error(403, f"CSRF verification failed: {reason}", "csrf_failed")
