"""System checks with fixed ids for the groups app's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def check_import_welcome_hook(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """A hook that can't be imported would only show up after an import had created accounts."""
    path = settings.HARUCHAT_IMPORT_WELCOME_HOOK
    if not path:
        return []
    try:
        hook = import_string(path)
    except ImportError as exc:
        return [Error(f"HARUCHAT_IMPORT_WELCOME_HOOK={path!r} cannot be imported: {exc}", id="groups.E001")]
    if not callable(hook):
        return [Error(f"HARUCHAT_IMPORT_WELCOME_HOOK={path!r} is not callable.", id="groups.E001")]
    return []
