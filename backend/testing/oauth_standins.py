"""Stand-ins for GitHub's and Kakao's OAuth2 servers: real HTTP on loopback.

They speak the parts of both protocols haruchat uses — the authorize page
(which consents at once, or denies when told to), the token endpoint, and
the user-profile endpoints — so the whole redirect dance runs without the
internet. Switches: `deny` (the member refuses consent), `token_error`
(the code is refused as expired), and each provider's profile.

    GitHub: GET /login/oauth/authorize, POST /login/oauth/access_token,
            GET /api/user, GET /api/user/emails
    Kakao:  GET /oauth/authorize, POST /oauth/token, GET /v2/user/me
    Both:   POST /_control (JSON switches), POST /_control/reset

Run alone, from backend/:  python -m testing.oauth_standins --port 9200   (the e2e tests do)
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode

import uvicorn

from testing.loopback import LoopbackServer

CLIENT_ID = "standin-client"
CLIENT_SECRET = "standin-secret"

DEFAULTS: dict[str, Any] = {
    "deny": False,
    "token_error": False,
    "github_user": {"id": 583231, "login": "octocat", "name": "Octo Cat", "email": "octocat@example.com"},
    "github_emails": [{"email": "octocat@example.com", "primary": True, "verified": True, "visibility": "public"}],
    "kakao_user": {
        "id": 4151234567,
        "kakao_account": {
            "profile": {"nickname": "하루"},
            "email": "haru@kakao.example",
            "is_email_valid": True,
            "is_email_verified": True,
        },
    },
}


class StandinState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.switches = copy.deepcopy(DEFAULTS)
            self.codes: dict[str, str] = {}  # code -> provider
            self.tokens: dict[str, str] = {}  # access token -> provider
            self.token_requests: list[dict[str, str]] = []

    def configure(self, **switches: Any) -> None:
        unknown = set(switches) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown switches: {sorted(unknown)}")
        with self.lock:
            self.switches.update(switches)


class StandinApp:
    def __init__(self, state: StandinState):
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        routes = {
            ("GET", "/login/oauth/authorize"): lambda: self.authorize("github", query),
            ("GET", "/oauth/authorize"): lambda: self.authorize("kakao", query),
            ("POST", "/login/oauth/access_token"): lambda: self.token("github", body),
            ("POST", "/oauth/token"): lambda: self.token("kakao", body),
            ("GET", "/api/user"): lambda: self.profile("github", headers, "github_user"),
            ("GET", "/api/user/emails"): lambda: self.profile("github", headers, "github_emails"),
            ("GET", "/v2/user/me"): lambda: self.profile("kakao", headers, "kakao_user"),
            ("POST", "/_control"): lambda: self.control(body),
            ("POST", "/_control/reset"): lambda: self.control_reset(),
        }
        handler = routes.get((method, path))
        status, extra_headers, payload = handler() if handler else (404, {}, {"error": "not_found"})
        data = b"" if payload is None else json.dumps(payload).encode()
        response_headers = [(b"content-type", b"application/json")]
        response_headers += [(k.encode(), v.encode()) for k, v in extra_headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": data})

    def authorize(self, provider: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """The consent page, answered at once: back to redirect_uri with a code (or the refusal)."""
        if query.get("client_id") != CLIENT_ID or "redirect_uri" not in query:
            return 400, {}, {"error": "invalid_request"}
        answer = {"state": query.get("state", "")}
        if self.state.switches["deny"]:
            answer.update(error="access_denied", error_description="The user denied the request.")
        else:
            code = secrets.token_urlsafe(16)
            with self.state.lock:
                self.state.codes[code] = provider
            answer["code"] = code
        return 302, {"location": f"{query['redirect_uri']}?{urlencode(answer)}"}, None

    def token(self, provider: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.state.lock:
            self.state.token_requests.append(form)
            known = self.state.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("client_secret") != CLIENT_SECRET:
            return 401, {}, {"error": "invalid_client"}
        if known != provider or self.state.switches["token_error"]:
            return 400, {}, {"error": "invalid_grant", "error_description": "The code has expired or was used."}
        access = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.tokens[access] = provider
        return (
            200,
            {},
            {"access_token": access, "token_type": "bearer", "scope": "read:user,user:email", "expires_in": 3600},
        )

    def profile(self, provider: str, headers: dict[str, str], what: str) -> tuple[int, dict[str, str], Any]:
        token = headers.get("authorization", "").split(" ")[-1]
        if self.state.tokens.get(token) != provider:
            return 401, {}, {"message": "Bad credentials"}
        return 200, {}, self.state.switches[what]

    def control(self, body: bytes) -> tuple[int, dict[str, str], Any]:
        try:
            self.state.configure(**json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:
            return 400, {}, {"error": str(exc)}
        return 200, {}, {"ok": True}

    def control_reset(self) -> tuple[int, dict[str, str], Any]:
        self.state.reset()
        return 200, {}, {"ok": True}


class OAuthStandins(LoopbackServer):
    """Both stand-ins on one free loopback port, served by uvicorn in a thread."""

    def __init__(self) -> None:
        self.state = StandinState()
        super().__init__(StandinApp(self.state))

    def settings(self) -> dict[str, str]:
        """haruchat's settings that point both providers here."""
        return {
            "HARUCHAT_GITHUB_CLIENT_ID": CLIENT_ID,
            "HARUCHAT_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "HARUCHAT_KAKAO_CLIENT_ID": CLIENT_ID,
            "HARUCHAT_KAKAO_CLIENT_SECRET": CLIENT_SECRET,
            "HARUCHAT_GITHUB_URL": self.url,
            "HARUCHAT_GITHUB_API_URL": f"{self.url}/api",
            "HARUCHAT_KAKAO_AUTH_URL": self.url,
            "HARUCHAT_KAKAO_API_URL": self.url,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=9200)
    args = parser.parse_args()
    uvicorn.run(StandinApp(StandinState()), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
