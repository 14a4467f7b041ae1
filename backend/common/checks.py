"""System checks with fixed ids for haruchat's own settings."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string


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
    if settings.HARUCHAT_REGISTRATION not in ("open", "invite", "closed"):
        errors.append(
            Error(
                f"HARUCHAT_REGISTRATION={settings.HARUCHAT_REGISTRATION!r} is not a registration mode.",
                hint="Use open, invite or closed.",
                id="haruchat.E006",
            )
        )
    return errors


# Django's deploy checks look for its own middleware by dotted path; haruchat
# installs async-capable subclasses of them (common.async_middleware), so those
# three checks are silenced in settings and this one stands in for them.
PROTECTIVE_MIDDLEWARE = {
    "security.W001": "django.middleware.security.SecurityMiddleware",
    "security.W002": "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "security.W003": "django.middleware.csrf.CsrfViewMiddleware",
}


@register(Tags.security, deploy=True)
def check_protective_middleware(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    installed = [import_string(path) for path in settings.MIDDLEWARE]
    errors = []
    for django_id, path in PROTECTIVE_MIDDLEWARE.items():
        required = import_string(path)
        if not any(isinstance(cls, type) and issubclass(cls, required) for cls in installed):
            errors.append(
                Error(
                    f"{path} (or a subclass) is not in MIDDLEWARE (Django's {django_id}).",
                    id="haruchat.E005",
                )
            )
    return errors
