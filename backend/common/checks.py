"""System checks with fixed ids for haruchat's own settings."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_haruchat_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    try:
        zoneinfo.ZoneInfo(settings.HARUCHAT_QUOTA_TZ)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.append(
            Error(
                f"HARUCHAT_QUOTA_TZ={settings.HARUCHAT_QUOTA_TZ!r} is not a known time zone.",
                hint="Use an IANA name such as 'Asia/Seoul' or 'UTC'.",
                id="haruchat.E001",
            )
        )
    if settings.HARUCHAT_DAILY_LIMIT < 0:
        errors.append(Error("HARUCHAT_DAILY_LIMIT must be 0 or more.", id="haruchat.E002"))
    from llm.providers import ProviderConfigurationError, provider_class

    try:
        provider_class()
    except ProviderConfigurationError as exc:
        errors.append(Error(str(exc), hint="Set HARUCHAT_LLM_PROVIDER to local or openai_compat.", id="haruchat.E003"))
    if settings.HARUCHAT_LLM_PROVIDER == "openai_compat" and not settings.HARUCHAT_LLM_MODEL:
        errors.append(
            Error("HARUCHAT_LLM_MODEL must name a model when HARUCHAT_LLM_PROVIDER=openai_compat.", id="haruchat.E004")
        )
    return errors
