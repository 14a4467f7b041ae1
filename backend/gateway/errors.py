"""Errors in the shape OpenAI's API uses, so the official SDKs raise their usual exceptions."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from common.exceptions import json_exception_handler

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error(*, status_code: int, message: str, code: Any, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error object, for JSON answers and for an error inside a stream."""
    error_type = ERROR_TYPES.get(status_code, "api_error" if status_code < 500 else "server_error")
    return {"message": message, "type": error_type, "param": param, "code": code}


def openai_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """haruchat's JSON error, with OpenAI's `{"error": {message, type, param, code}}` added."""
    response = json_exception_handler(exc, context)
    if response is None:
        return None
    data = dict(response.data)
    code = data.get("code")
    if response.status_code == 401:
        code = "invalid_api_key"
    errors = data.get("errors")
    param = next(iter(errors), None) if isinstance(errors, dict) else data.get("param")
    data["error"] = openai_error(
        status_code=response.status_code, message=data.get("detail", ""), code=code, param=param
    )
    data["code"] = code
    response.data = data
    if response.status_code == 429:
        # The allowance returns tomorrow: tell the SDKs not to retry now.
        response["x-should-retry"] = "false"
    return response
