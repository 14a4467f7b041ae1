"""Personal API keys: named, shown once, stored as a hash, revocable, own only."""

from __future__ import annotations

import time

from django.utils import timezone
from rest_framework.test import APIClient

from conftest import client_for
from gateway.models import ApiKey


def test_a_key_is_shown_once_and_only_its_hash_is_kept(api, member):
    created = api.post("/api/auth/api-keys", {"name": "laptop"}, format="json")
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("hc-") and len(secret) > 40
    assert created.json()["prefix"] == secret[:11]
    listed = api.get("/api/auth/api-keys").json()
    assert [k["name"] for k in listed] == ["laptop"]
    assert "secret" not in listed[0]
    stored = ApiKey.objects.get()
    assert secret not in {stored.key_hash, stored.prefix, stored.name}


def test_revoked_keys_leave_the_list(api):
    key = api.post("/api/auth/api-keys", {"name": "old"}, format="json").json()
    assert api.delete(f"/api/auth/api-keys/{key['id']}").status_code == 204
    assert api.get("/api/auth/api-keys").json() == []
    assert api.delete(f"/api/auth/api-keys/{key['id']}").status_code == 404


def test_another_members_key_cannot_be_seen_or_revoked(api, other_member):
    theirs = client_for(other_member).post("/api/auth/api-keys", {"name": "theirs"}, format="json").json()
    assert api.get("/api/auth/api-keys").json() == []
    assert api.delete(f"/api/auth/api-keys/{theirs['id']}").status_code == 404


def test_keys_need_a_name_and_a_login(api, anon):
    assert api.post("/api/auth/api-keys", {}, format="json").status_code == 400
    assert anon.get("/api/auth/api-keys").status_code == 401


def models_with(client: APIClient, secret: str) -> int:
    return client.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code


def test_a_key_revoked_here_stops_working_at_once_though_it_was_just_used(api, anon):
    key = api.post("/api/auth/api-keys", {"name": "leaked"}, format="json").json()
    assert models_with(anon, key["secret"]) == 200  # now remembered by this process
    api.delete(f"/api/auth/api-keys/{key['id']}")
    assert models_with(anon, key["secret"]) == 401


def test_a_key_revoked_by_another_process_stops_working_within_the_cache_time(api, anon, settings):
    settings.HARUCHAT_API_KEY_CACHE_SECONDS = 0.3
    key = api.post("/api/auth/api-keys", {"name": "leaked"}, format="json").json()
    assert models_with(anon, key["secret"]) == 200
    ApiKey.objects.filter(pk=key["id"]).update(revoked_at=timezone.now())  # as another process would
    assert models_with(anon, key["secret"]) == 200  # still remembered here: the documented delay
    time.sleep(0.35)
    assert models_with(anon, key["secret"]) == 401


def test_with_the_cache_off_a_revocation_elsewhere_takes_effect_at_once(api, anon, settings):
    settings.HARUCHAT_API_KEY_CACHE_SECONDS = 0
    key = api.post("/api/auth/api-keys", {"name": "leaked"}, format="json").json()
    assert models_with(anon, key["secret"]) == 200
    ApiKey.objects.filter(pk=key["id"]).update(revoked_at=timezone.now())
    assert models_with(anon, key["secret"]) == 401
