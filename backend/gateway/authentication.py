"""`Authorization: Bearer <personal API key>` for the /v1 gateway."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import User
from gateway.models import ApiKey
from gateway.services import api_key_authenticate


class InvalidApiKey(exceptions.AuthenticationFailed):
    default_detail = "Incorrect API key provided. Create one in haruchat under API keys."
    default_code = "invalid_api_key"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise InvalidApiKey("The Authorization header must be 'Bearer <API key>'.")
        key = api_key_authenticate(parts[1].decode("utf-8", errors="replace"))
        if key is None:
            raise InvalidApiKey()
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="haruchat"'
