"""Errors raised by services, mapped to JSON by common.exceptions."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status


class ApiError(exceptions.APIException):
    """An error raised by a service, with its own status, code and headers."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be completed."
    default_code = "error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(detail=detail, code=code)
        self.headers = headers or {}
        # More fields for the JSON body, e.g. the stored message a failed call kept.
        self.extra = extra or {}


class RequestTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"
