"""Tell the OpenAPI schema how /v1 authenticates: a personal API key as a bearer token."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.authentication.ApiKeyAuthentication"
    name = "PersonalApiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "description": "A personal API key (hc-…) from /api/auth/api-keys"}
