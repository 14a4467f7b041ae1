"""What can go wrong when calling a model, as errors the API maps to 502/504."""

from __future__ import annotations


class ProviderError(Exception):
    """A model call that produced no usable answer."""

    status_code = 502
    code = "upstream_error"
    default_detail = "The model provider returned an error."

    def __init__(self, detail: str | None = None, *, upstream_status: int | None = None):
        self.detail = detail or self.default_detail
        self.upstream_status = upstream_status
        super().__init__(self.detail)


class UpstreamRefused(ProviderError):
    """An OpenAI-compatible upstream refused the request as sent (a parameter it doesn't take, a bad value).

    The web app built that request, so for it this is the upstream's failure (502); /v1's client wrote it,
    so the gateway passes the upstream's own status, code and param back (gateway.views)."""

    def __init__(self, detail: str, *, upstream_status: int, code: str | None = None, param: str | None = None):
        super().__init__(detail, upstream_status=upstream_status)
        self.upstream_code = code
        self.param = param


class UpstreamTimeout(ProviderError):
    status_code = 504
    code = "upstream_timeout"
    default_detail = "The model provider did not answer in time."


class UpstreamUnavailable(ProviderError):
    code = "upstream_unavailable"
    default_detail = "The model provider could not be reached."


class UpstreamMalformed(ProviderError):
    code = "upstream_malformed"
    default_detail = "The model provider sent a response that is not a valid chat completion."


class ModelFailed(ProviderError):
    code = "model_error"
    default_detail = "The embedded model could not answer."


class StreamBroken(ProviderError):
    code = "stream_broken"
    default_detail = "The model provider's stream broke off before the answer was complete."
