"""The quota object: one shape for /api/quota, a send's answer, the stream's events and error bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers


class QuotaTimeField(serializers.DateTimeField):
    """A time told in its own zone (the quota's), not converted to the server's as DRF would."""

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()


QUOTA_SOURCES = ("member", "group", "default")


class QuotaGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TokenBudgetOutputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(help_text="Tokens (prompt and answer) allowed this month.")
    used = serializers.IntegerField(help_text="Tokens used by finished calls this month.")
    reserved = serializers.IntegerField(help_text="Tokens held by calls in progress.")
    remaining = serializers.IntegerField()
    resets_at = QuotaTimeField(help_text="The first midnight of next month in the quota's time zone.")
    group = QuotaGroupSerializer(allow_null=True, help_text="The group whose budget applies.")


class QuotaOutputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(help_text="Model requests allowed today.")
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    resets_at = QuotaTimeField(help_text="The next midnight in the quota's time zone.")
    time_zone = serializers.CharField(help_text="The time zone the quota's day is counted in.")
    source = serializers.ChoiceField(
        choices=QUOTA_SOURCES,
        help_text="Which rule gave the limit: the member's own, the most generous of their groups', or the default.",
    )
    group = QuotaGroupSerializer(allow_null=True, help_text="The group whose limit applies (source group).")
    tokens = TokenBudgetOutputSerializer(
        allow_null=True, help_text="The monthly token budget, when one of the member's groups sets one."
    )


def quota_output(status: Any) -> dict[str, Any]:
    """A QuotaStatus as the API shows it."""
    return QuotaOutputSerializer(status).data
