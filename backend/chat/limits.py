"""Limits on what a member sends, read from the settings at each check and stated in the OpenAPI schema
(drf-spectacular calls the validators' limit functions), so clients and schemathesis see them too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator
from rest_framework import serializers


class MessageLength(MaxLengthValidator):
    """HARUCHAT_MAX_MESSAGE_CHARS (`maxLength`)."""

    code = "too_long"

    def __init__(self, message: str) -> None:
        super().__init__(lambda: settings.HARUCHAT_MAX_MESSAGE_CHARS, message=message)


class MessageContentField(serializers.CharField):
    """A message's text: DRF's own checks (a NUL, a surrogate) first, then its length."""

    def __init__(self, *, too_long: str = "The message is longer than %(limit_value)s characters.", **kwargs: Any):
        super().__init__(**kwargs)
        self.validators.append(MessageLength(too_long))


def max_tokens_limit() -> MaxValueValidator:
    """HARUCHAT_MAX_TOKENS_LIMIT (`maximum`)."""
    return MaxValueValidator(lambda: settings.HARUCHAT_MAX_TOKENS_LIMIT, message="At most %(limit_value)s.")
