"""Content negotiation for an API that answers in JSON (its event streams are made by the views themselves)."""

from __future__ import annotations

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class JSONWhateverAccepted(DefaultContentNegotiation):
    """DRF's choice, but JSON rather than 406 when the Accept header names nothing DRF renders.

    EventSource and other SSE clients send `Accept: text/event-stream`; the
    views that stream answer with it themselves, and their errors are JSON.
    """

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
