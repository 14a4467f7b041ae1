"""A JSON parser that refuses oversized bodies before reading them."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from common.errors import RequestTooLarge


class LimitedJSONParser(JSONParser):
    """JSONParser with a size limit (`HARUCHAT_MAX_BODY_BYTES`) answered by 413."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.HARUCHAT_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            declared = int(length) if length else 0
        except ValueError:
            declared = 0
        if declared > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        if stream is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)
