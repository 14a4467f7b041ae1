"""The API's JSON parser: refuses oversized bodies (413) before reading them, and bodies that are not
plain, unambiguous JSON (400 `parse_error`) before a view sees them.

Refused, each with its own `detail`: nesting deeper than `HARUCHAT_MAX_JSON_DEPTH`; a number that
overflows a float (`1e999`); an integer longer than Python's int conversion limit; NaN, Infinity and
-Infinity (not JSON); an object with the same key twice (parsers disagree about which one counts);
bytes that are not valid text in the body's charset (UTF-8 unless the request names another).
A UTF-8 byte order mark at the start is ignored, as RFC 8259 allows.
"""

from __future__ import annotations

import codecs
import json
import math
import sys
from typing import Any, NoReturn

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from common.errors import RequestTooLarge


class _Refused(ValueError):
    """A body this parser refuses although json would take it; the message is the whole `detail`."""


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else f"{text[:limit]}...")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(
                    f"The JSON body has the key {_shown(key)} twice in one object "
                    "(parsers disagree about which one counts)."
                )
            seen.add(key)
    return obj


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused(f"The JSON body has a number too large to represent: {_shown(text)}.")
    return value


def _constant(name: str) -> NoReturn:
    raise _Refused(f"The JSON body has {name}, which is not a JSON number.")


# One decoder for every request, as json.loads shares its own: json's C scanner, with the hooks above.
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_float, parse_constant=_constant)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` deep in `value` (`[]` is 1 deep), walked
    with a stack of its own rather than recursion."""
    stack = [(value, 1)] if type(value) in (dict, list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) in (dict, list):
                stack.append((child, depth + 1))
    return False


def _too_deep(limit: int) -> ParseError:
    return ParseError(f"The JSON body is nested more than {limit} levels deep.")


class LimitedJSONParser(JSONParser):
    """JSONParser with a size limit (`HARUCHAT_MAX_BODY_BYTES`, 413) and the rules above (400)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        body = self._read(stream, parser_context)
        encoding = get_encoding(parser_context)
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            name = "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding
            raise ParseError(f"The request body is not valid {name} (byte {exc.start}: {exc.reason}).") from exc
        if text.startswith("\ufeff"):
            text = text[1:]

        limit = settings.HARUCHAT_MAX_JSON_DEPTH
        try:
            data = _DECODER.decode(text)
        except RecursionError:
            # json recurses once per level: past Python's recursion limit it gives up, far past ours.
            raise _too_deep(limit) from None
        except _Refused as exc:
            raise ParseError(str(exc)) from exc
        except json.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except ValueError as exc:
            # The one other ValueError json's scanner lets out: int() past sys.get_int_max_str_digits().
            raise ParseError(
                f"The JSON body has an integer longer than {sys.get_int_max_str_digits()} digits."
            ) from exc
        # Nothing can nest deeper than it has brackets: most bodies skip the walk.
        if text.count("[") + text.count("{") > limit and _deeper_than(data, limit):
            raise _too_deep(limit)
        return data

    @staticmethod
    def _read(stream: Any, parser_context: dict) -> bytes:
        """The body, refused with 413 past `HARUCHAT_MAX_BODY_BYTES`: by its declared length before reading."""
        limit = settings.HARUCHAT_MAX_BODY_BYTES
        request = parser_context.get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            declared = int(length) if length else 0
        except ValueError:
            declared = 0
        if declared > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        if stream is None:
            return b""
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        return body
