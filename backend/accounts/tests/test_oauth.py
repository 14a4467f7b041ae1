"""GitHub and Kakao login through the whole redirect dance, against real HTTP
stand-ins of both providers on loopback, ending in haruchat's own JWTs."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount

from accounts.models import User
from conftest import PASSWORD, make_member


def dance(live_uvicorn, provider: str, next_path: str = "/") -> tuple[str, dict[str, str], requests.Session]:
    """A browser's trip: start → provider consent → callback → finish → the web app's route."""
    browser = requests.Session()
    response = browser.get(f"{live_uvicorn.url}/api/auth/oauth/{provider}/start", params={"next": next_path})
    landing = response.history[-1].headers["Location"] if response.history else response.url
    route = urlparse(landing).fragment  # e.g. "/oauth?code=...&next=/c/1"
    path, _, query = route.partition("?")
    return path, {k: v[0] for k, v in parse_qs(query).items()}, browser


def exchange(live_uvicorn, code: str) -> requests.Response:
    return requests.post(f"{live_uvicorn.url}/api/auth/oauth/exchange", json={"code": code})


def me(live_uvicorn, access: str) -> dict:
    return requests.get(f"{live_uvicorn.url}/api/auth/me", headers={"Authorization": f"Bearer {access}"}).json()


@pytest.mark.django_db
def test_providers_are_offered_only_when_configured(anon, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"APPS": []}, "kakao": {"APPS": []}}
    assert anon.get("/api/auth/providers").json() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/me", "/accounts/refresh", "/accounts/providers", "/accounts/oauth/exchange"]
)
def test_the_auth_api_is_not_served_a_second_time_under_allauths_prefix(api, path):
    """allauth mounted our providers' package's urls (accounts.urls) at /accounts/ (seen in the OpenAPI schema)."""
    assert api.get(path)["Location"].endswith("#/login")  # not the API: the browser goes to the web app
    assert api.post(path, {}, format="json").status_code == 404
    schema = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert not [p for p in schema["paths"] if p.startswith("/accounts/")]


def test_configured_providers_are_listed_with_their_login_urls(anon, oauth_standins, db):
    providers = anon.get("/api/auth/providers").json()
    assert [(p["id"], p["name"], p["login_url"]) for p in providers] == [
        ("github", "GitHub", "/api/auth/oauth/github/start"),
        ("kakao", "Kakao", "/api/auth/oauth/kakao/start"),
    ]


def test_a_first_github_login_creates_a_member_and_ends_in_jwts(live_uvicorn, oauth_standins):
    path, query, _ = dance(live_uvicorn, "github", next_path="/c/12")
    assert path == "/oauth" and query["next"] == "/c/12"
    tokens = exchange(live_uvicorn, query["code"]).json()
    assert set(tokens) == {"access", "refresh", "user"}
    assert me(live_uvicorn, tokens["access"]) == {
        **tokens["user"],
        "email": "octocat@example.com",
        "nickname": "Octo Cat",
    }
    # The client secret went to the token endpoint server to server, never through the browser.
    assert oauth_standins.state.token_requests[-1]["client_secret"] == "standin-secret"
    # The code works once.
    assert exchange(live_uvicorn, query["code"]).json()["code"] == "invalid_code"


def test_a_later_login_finds_the_same_member(live_uvicorn, oauth_standins):
    first = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()["user"]
    second = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()["user"]
    assert first["id"] == second["id"]
    assert User.objects.count() == 1 and SocialAccount.objects.count() == 1


def test_a_verified_email_links_to_the_existing_member(live_uvicorn, oauth_standins):
    existing = make_member(email="octocat@example.com", nickname="cat")
    user = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()["user"]
    assert user["id"] == existing.pk
    assert SocialAccount.objects.get().user == existing


def test_an_unverified_email_never_takes_over_an_existing_member(live_uvicorn, oauth_standins):
    existing = make_member(email="octocat@example.com", nickname="cat")
    oauth_standins.state.configure(
        github_emails=[{"email": "octocat@example.com", "primary": True, "verified": False, "visibility": None}]
    )
    user = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()["user"]
    assert user["id"] != existing.pk
    assert user["email"] is None
    assert not SocialAccount.objects.filter(user=existing).exists()


def test_kakao_without_an_email_makes_a_member_who_logs_in_with_kakao(live_uvicorn, oauth_standins):
    oauth_standins.state.configure(kakao_user={"id": 77, "kakao_account": {"profile": {"nickname": "달"}}})
    user = exchange(live_uvicorn, dance(live_uvicorn, "kakao")[1]["code"]).json()["user"]
    assert (user["nickname"], user["email"]) == ("달", None)
    again = exchange(live_uvicorn, dance(live_uvicorn, "kakao")[1]["code"]).json()["user"]
    assert again["id"] == user["id"]


def test_kakao_with_a_verified_email(live_uvicorn, oauth_standins):
    user = exchange(live_uvicorn, dance(live_uvicorn, "kakao")[1]["code"]).json()["user"]
    assert (user["nickname"], user["email"]) == ("하루", "haru@kakao.example")


def test_denied_consent_lands_on_the_login_page_with_nothing_created(live_uvicorn, oauth_standins):
    oauth_standins.state.configure(deny=True)
    path, query, _ = dance(live_uvicorn, "github")
    assert (path, query) == ("/login", {"oauth_error": "denied"})
    assert not User.objects.exists()


def test_an_expired_code_or_a_provider_that_is_down_is_a_clear_failure(live_uvicorn, oauth_standins, settings):
    oauth_standins.state.configure(token_error=True)
    assert dance(live_uvicorn, "github")[:2] == ("/login", {"oauth_error": "failed"})
    oauth_standins.state.configure(token_error=False)
    settings.HARUCHAT_GITHUB_API_URL = "http://127.0.0.1:9/api"  # nothing listens there
    assert dance(live_uvicorn, "github")[:2] == ("/login", {"oauth_error": "failed"})
    assert not User.objects.exists()


def test_a_replayed_or_forged_state_is_refused(live_uvicorn, oauth_standins):
    browser = requests.Session()
    start = browser.get(f"{live_uvicorn.url}/api/auth/oauth/github/start", params={"next": "/"}, allow_redirects=False)
    consent = browser.get(start.headers["Location"], allow_redirects=False)
    callback = consent.headers["Location"]
    assert "state=" in callback
    first = browser.get(callback)
    assert urlparse(first.history[-1].headers["Location"]).fragment.startswith("/oauth?code=")
    replay = browser.get(callback)  # the same state (and code) again
    assert urlparse(replay.history[-1].headers["Location"]).fragment == "/login?oauth_error=failed"
    forged = requests.get(callback)  # a state this browser never started
    assert urlparse(forged.history[-1].headers["Location"]).fragment == "/login?oauth_error=failed"
    assert User.objects.count() == 1


def test_an_outside_next_is_never_followed(live_uvicorn, oauth_standins):
    assert dance(live_uvicorn, "github", next_path="//evil.example/x")[1]["next"] == "/"


def test_an_unconfigured_provider_is_a_clear_error(live_uvicorn, oauth_standins, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"APPS": []}, "kakao": {"APPS": []}}
    assert dance(live_uvicorn, "github")[:2] == ("/login", {"oauth_error": "unavailable"})


def test_linked_providers_can_be_seen_and_removed_but_never_the_last_way_in(live_uvicorn, oauth_standins):
    tokens = exchange(live_uvicorn, dance(live_uvicorn, "kakao")[1]["code"]).json()
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    linked = requests.get(f"{live_uvicorn.url}/api/auth/social-accounts", headers=auth).json()
    assert [a["provider"] for a in linked] == ["kakao"]
    refused = requests.delete(f"{live_uvicorn.url}/api/auth/social-accounts/{linked[0]['id']}", headers=auth)
    assert (refused.status_code, refused.json()["code"]) == (409, "last_login_method")


def test_linking_by_email_locks_out_a_pre_registered_password_and_the_member_sets_a_new_one(
    live_uvicorn, oauth_standins
):
    """Emails are not verified at sign-up, so someone could have registered the victim's
    address first: linking wipes that password (allauth's guard). The member then sets
    their own, and only then may unlink the provider."""
    member = make_member(email="octocat@example.com", nickname="cat")
    tokens = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()
    assert tokens["user"]["id"] == member.pk
    login = {"email": member.email, "password": PASSWORD}
    assert requests.post(f"{live_uvicorn.url}/api/auth/login", json=login).status_code == 401
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    [account] = requests.get(f"{live_uvicorn.url}/api/auth/social-accounts", headers=auth).json()
    url = f"{live_uvicorn.url}/api/auth/social-accounts/{account['id']}"
    assert requests.delete(url, headers=auth).json()["code"] == "last_login_method"
    new_password = {"password": "my own pass phrase"}
    changed = requests.patch(f"{live_uvicorn.url}/api/auth/me", json=new_password, headers=auth)
    assert changed.status_code == 200
    auth = {"Authorization": f"Bearer {changed.json()['access']}"}  # the change ended the old tokens
    assert requests.delete(url, headers=auth).status_code == 204
    login["password"] = "my own pass phrase"
    assert requests.post(f"{live_uvicorn.url}/api/auth/login", json=login).status_code == 200


def test_linking_a_verified_address_ends_everything_the_earlier_holder_had(live_uvicorn, oauth_standins):
    """Account pre-hijack: someone registers the owner's address first and keeps a refresh token and an
    API key; then the owner logs in with GitHub, which vouches for the address, and the account is linked."""
    base = live_uvicorn.url
    signup = {"email": "octocat@example.com", "password": PASSWORD, "nickname": "squatter"}
    squatter = requests.post(f"{base}/api/auth/signup", json=signup).json()
    key = requests.post(
        f"{base}/api/auth/api-keys", json={"name": "mine"}, headers={"Authorization": f"Bearer {squatter['access']}"}
    ).json()["secret"]
    rotated = requests.post(f"{base}/api/auth/refresh", json={"refresh": squatter["refresh"]}).json()
    assert requests.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200

    owner = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()
    assert owner["user"]["id"] == squatter["user"]["id"]  # the same account, now the owner's

    assert requests.post(f"{base}/api/auth/refresh", json={"refresh": rotated["refresh"]}).status_code == 401
    assert requests.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    stale = requests.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {rotated['access']}"})
    assert stale.status_code == 401
    login = requests.post(f"{base}/api/auth/login", json={"email": "octocat@example.com", "password": PASSWORD})
    assert login.status_code == 401
    assert me(live_uvicorn, owner["access"])["id"] == owner["user"]["id"]
    # A later login with the same provider finds the linked account and ends nothing.
    again = exchange(live_uvicorn, dance(live_uvicorn, "github")[1]["code"]).json()
    assert me(live_uvicorn, owner["access"])["id"] == again["user"]["id"] == owner["user"]["id"]


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/logout/", "/accounts/x"]
)
def test_allauths_own_pages_are_not_a_second_way_in(live_uvicorn, oauth_standins, path):
    """Only the providers' callbacks live under /accounts/; a browser is sent to the web app's login."""
    page = requests.get(f"{live_uvicorn.url}{path}", allow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].endswith("#/login")
    posted = requests.post(f"{live_uvicorn.url}{path}", data={"email": "octocat@example.com"}, allow_redirects=False)
    assert posted.status_code == 404 and posted.json()["code"] == "not_found"
    assert not User.objects.exists()


def consented(live_uvicorn, provider: str) -> tuple[requests.Session, str]:
    """A browser that has been to the provider and holds the callback URL, not yet visited."""
    browser = requests.Session()
    start = browser.get(f"{live_uvicorn.url}/api/auth/oauth/{provider}/start", allow_redirects=False)
    consent = browser.get(start.headers["Location"], allow_redirects=False)
    return browser, consent.headers["Location"]


def land(browser: requests.Session, url: str, barrier: threading.Barrier, landings: list[str]) -> None:
    """Visit the callback when the other browser does, and note where the browser ends up."""
    barrier.wait()
    response = browser.get(url)
    landings.append(response.history[-1].headers["Location"] if response.history else str(response.status_code))


def test_two_callbacks_at_once_for_a_new_identity_make_one_member_and_no_error(live_uvicorn, oauth_standins):
    for attempt in range(6):  # a race: each attempt is a brand-new identity
        email = f"racer{attempt}@example.com"
        oauth_standins.state.configure(
            github_user={"id": 9000 + attempt, "login": f"racer{attempt}", "name": "Racer", "email": email},
            github_emails=[{"email": email, "primary": True, "verified": True, "visibility": "public"}],
        )
        browsers = [consented(live_uvicorn, "github") for _ in range(2)]
        barrier = threading.Barrier(2)
        landings: list[str] = []
        threads = [threading.Thread(target=land, args=(*pair, barrier, landings)) for pair in browsers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = [parse_qs(urlparse(landing).fragment.partition("?")[2]).get("code", [None])[0] for landing in landings]
        assert None not in codes, landings
        members = {exchange(live_uvicorn, code).json()["user"]["id"] for code in codes}
        assert len(members) == 1
        assert User.objects.filter(email=email).count() == 1
        assert SocialAccount.objects.filter(uid=str(9000 + attempt)).count() == 1
