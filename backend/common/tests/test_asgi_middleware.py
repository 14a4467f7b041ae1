"""Django's middleware run on the event loop under ASGI (common.async_middleware):
what they protect still works through a real uvicorn, and a missing one is reported."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie

from django.core.checks import run_checks
from django.test import override_settings

from accounts.models import User


def test_admin_login_through_uvicorn_keeps_csrf_and_saves_the_session(live_uvicorn):
    User.objects.create_superuser(email="admin@example.com", password="a long admin passphrase", nickname="admin")
    client = http.client.HTTPConnection("127.0.0.1", live_uvicorn.port, timeout=10)

    client.request("GET", "/admin/login/")
    page = client.getresponse()
    body = page.read().decode()
    assert page.getheader("X-Frame-Options") == "DENY"
    assert page.getheader("X-Content-Type-Options") == "nosniff"
    csrf_cookie = SimpleCookie(page.getheader("Set-Cookie"))["csrftoken"].value
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = f"csrfmiddlewaretoken={token}&username=admin%40example.com&password=a+long+admin+passphrase&next=/admin/"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}"}

    client.request("POST", "/admin/login/", body=form.replace(token, "forged"), headers=headers)
    forged = client.getresponse()
    forged.read()
    assert forged.status == 403  # CSRF still refuses a forged token

    client.request("POST", "/admin/login/", body=form, headers=headers)
    logged_in = client.getresponse()
    logged_in.read()
    assert logged_in.status == 302
    session = SimpleCookie(logged_in.getheader("Set-Cookie"))["sessionid"].value

    client.request("GET", "/admin/", headers={"Cookie": f"sessionid={session}; csrftoken={csrf_cookie}"})
    admin = client.getresponse()
    assert admin.status == 200 and "admin@example.com" in admin.read().decode()


def test_a_missing_protective_middleware_is_reported_by_the_deploy_checks():
    from django.conf import settings

    without_csrf = [m for m in settings.MIDDLEWARE if not m.endswith("CsrfViewMiddleware")]
    with override_settings(MIDDLEWARE=without_csrf):
        errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "haruchat.E005"]
    assert [e.msg for e in errors] == [
        "django.middleware.csrf.CsrfViewMiddleware (or a subclass) is not in MIDDLEWARE (Django's security.W003)."
    ]
    assert not [e for e in run_checks(include_deployment_checks=True) if e.id == "haruchat.E005"]
