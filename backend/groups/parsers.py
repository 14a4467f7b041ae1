"""Bodies the CSV import takes besides JSON: the file itself (text/csv) or a form upload (multipart `file`),
both refused past the import's size before they are read whole."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import BaseParser, MultiPartParser

from groups.imports import MAX_BYTES, CsvTooLarge

# Room for a form's boundaries and part headers around the file.
MULTIPART_OVERHEAD = 16 * 1024


def _declared_length(parser_context: dict[str, Any] | None) -> int:
    request = (parser_context or {}).get("request")
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        return 0


class CsvParser(BaseParser):
    """A text/csv body, as bytes (groups.imports decodes them)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> bytes:
        if _declared_length(parser_context) > MAX_BYTES:
            raise CsvTooLarge()
        body = stream.read(MAX_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BYTES:
            raise CsvTooLarge()
        return body


class CsvUploadParser(MultiPartParser):
    """A form with the file in `file`; a body too large to hold it is refused before it is spooled to disk."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        if _declared_length(parser_context) > MAX_BYTES + MULTIPART_OVERHEAD:
            raise CsvTooLarge()
        return super().parse(stream, media_type, parser_context)
