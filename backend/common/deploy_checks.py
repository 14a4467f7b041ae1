"""Django's deploy checks that find its middleware by dotted path, run against haruchat's subclasses.

Django's security checks (HSTS, nosniff, SSL redirect, X-Frame-Options, the
referrer and opener policies, secure cookies) pass without looking when
MIDDLEWARE lacks Django's exact path, and haruchat installs async-capable
subclasses (common.async_middleware). This runs those checks as if Django's
own classes were installed, so `check --deploy` still catches a bad setting.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks.security import base, csrf, sessions
from django.test.utils import override_settings
from django.utils.module_loading import import_string

DJANGO_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
)

# The checks that ask "is Django's middleware installed?" before looking at a setting.
GATED_CHECKS = (
    base.check_sts,
    base.check_sts_include_subdomains,
    base.check_sts_preload,
    base.check_content_type_nosniff,
    base.check_ssl_redirect,
    base.check_xframe_deny,
    base.check_referrer_policy,
    base.check_cross_origin_opener_policy,
    csrf.check_csrf_cookie_secure,
    sessions.check_session_cookie_secure,
    sessions.check_session_cookie_httponly,
)


def _as_django_would_see_it(path: str) -> str:
    """Django's path for a subclass of one of its protective middleware; any other path as it is."""
    cls = import_string(path)
    for django_path in DJANGO_MIDDLEWARE:
        if isinstance(cls, type) and issubclass(cls, import_string(django_path)):
            return django_path
    return path


@register(Tags.security, deploy=True)
def check_deploy_through_subclassed_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    middleware = [_as_django_would_see_it(path) for path in settings.MIDDLEWARE]
    if middleware == list(settings.MIDDLEWARE):
        return []  # Django's own checks already saw its classes
    with override_settings(MIDDLEWARE=middleware):
        return [message for check in GATED_CHECKS for message in check(app_configs, **kwargs)]
