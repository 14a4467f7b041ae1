"""JSON out as UTF-8, even when a text holds an unpaired surrogate.

Text goes out unescaped (`ensure_ascii=False`), as DRF sends it. But a lone
UTF-16 surrogate, such as half an emoji that a model server sent escaped as
"\\ud83d", has no UTF-8 form, and encoding it fails. Such a body goes out
with every non-ASCII character escaped instead: the same JSON value, written
the way the upstream wrote it.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import renderers


def json_bytes(value: Any) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value).encode()


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
