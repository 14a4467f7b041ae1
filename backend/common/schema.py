"""OpenAPI naming for our style: one APIView per operation, each with its own
nested InputSerializer/OutputSerializer, become distinct schema components
(e.g. LoginInput, QuotaOutput) instead of colliding as Input/Output."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema


class HaruchatAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        name = super().get_serializer_name(serializer, direction)
        outer, _, _ = type(serializer).__qualname__.rpartition(".")
        if outer and not name.startswith(outer):
            return outer.split(".")[-1].removesuffix("View") + name
        return name
