"""Tell the OpenAPI schema how /v1 authenticates (a personal API key as a bearer token) and what it takes."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.authentication.ApiKeyAuthentication"
    name = "PersonalApiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "description": "A personal API key (hc-…) from /api/auth/api-keys"}


class MessageContentSchema(OpenApiSerializerFieldExtension):
    """A message's content: a string (its length limit read from the settings now) or content parts."""

    target_class = "gateway.requests.MessageContent"

    def map_serializer_field(self, auto_schema, direction):  # type: ignore[no-untyped-def]
        from gateway.requests import PART_TYPES

        part = {"type": "object", "properties": {"type": {"enum": list(PART_TYPES)}}, "required": ["type"]}
        return {
            "oneOf": [
                {"type": "string", "maxLength": settings.HARUCHAT_MAX_MESSAGE_CHARS},
                {"type": "array", "items": part},
            ],
            "nullable": True,
        }
