"""GET /api/usage: usage by day, member, group, model or assistant, as JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import ErrorSerializer
from quota.services import quota_day, quota_timezone
from usage.selectors import DIMENSIONS, METRICS, UsageQuery, usage_report

# The longest range one report covers: a year of days.
MAX_DAYS = 366
DEFAULT_DAYS = 30


class UsageQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared under it below.
    to = serializers.DateField(required=False, help_text="The last day (inclusive), in the quota's time zone.")
    by = serializers.ChoiceField(choices=DIMENSIONS, default="day")
    group = serializers.IntegerField(required=False, min_value=1)
    member = serializers.RegexField(r"^(me|[1-9][0-9]{0,18})$", required=False)
    model = serializers.CharField(required=False, max_length=200)
    source = serializers.ChoiceField(choices=["web", "gateway"], required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10_000)
    format = serializers.ChoiceField(choices=["json", "csv"], default="json")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="The first day (default: 30 days back).")
        return fields

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        end = data.get("to") or quota_day()
        start = data.get("from") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"from": ["'from' is after 'to'."]})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"from": [f"A report covers at most {MAX_DAYS} days."]})
        return {**data, "from": start, "to": end}


class UsageRowSerializer(serializers.Serializer):
    day = serializers.DateField(required=False)
    member = serializers.DictField(required=False, help_text="{id, email, nickname}")
    group = serializers.DictField(required=False, help_text="{id, name}")
    model = serializers.CharField(required=False)
    assistant = serializers.CharField(required=False, help_text='"" for /v1 calls, which have no assistant.')
    source = serializers.CharField(required=False)
    requests = serializers.IntegerField(help_text="Requests counted against the allowance.")
    refused = serializers.IntegerField(help_text="Requests refused with 429 (allowance or token budget spent).")
    failed = serializers.IntegerField(help_text="Calls that failed.")
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    active_members = serializers.IntegerField()


class UsageReportSerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    by = serializers.CharField()
    rows = UsageRowSerializer(many=True)
    totals = UsageRowSerializer()

    def to_representation(self, instance: Any) -> Any:
        return instance  # already plain data: the schema is what this class is for


class UsageView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", dt.date, description="The first day (default: 30 days before `to`)"),
            OpenApiParameter("to", dt.date, description="The last day, inclusive (default: today)"),
            OpenApiParameter("by", str, enum=list(DIMENSIONS), description="One row per day (default), member, …"),
            OpenApiParameter("group", int, description="Only this group's members"),
            OpenApiParameter("member", str, description="Only this member (an id, or `me`)"),
            OpenApiParameter("model", str),
            OpenApiParameter("source", str, enum=["web", "gateway"]),
            OpenApiParameter(
                "limit", int, description="Only this many rows, those with the most requests first (totals: all)"
            ),
            OpenApiParameter("format", str, enum=["json", "csv"], description="`csv` downloads the same rows"),
        ],
        responses={
            (200, "application/json"): UsageReportSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            404: OpenApiResponse(ErrorSerializer, description="A group or member that is not yours to see"),
        },
        summary="Usage: yours; an operator's groups'; everyone's for an admin",
    )
    def get(self, request: Request) -> Response | HttpResponse:
        params = UsageQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        query = UsageQuery(
            start=data["from"], end=data["to"], by=data["by"], group_id=data.get("group"),
            member=data.get("member"), model=data.get("model"), source=data.get("source"), limit=data.get("limit"),
        )  # fmt: skip
        report = usage_report(user=request.user, query=query)
        if data["format"] == "csv":
            return _csv(report, query)
        return Response(
            {"from": query.start, "to": query.end, "time_zone": str(quota_timezone()), "by": query.by, **report}
        )


def _csv(report: dict[str, Any], query: UsageQuery) -> HttpResponse:
    """The same rows as the JSON, one line each (a member or group as its id and name columns)."""
    dimension = {"member": ["member_id", "email", "nickname"], "group": ["group_id", "group_name"]}.get(
        query.by, [query.by]
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*dimension, *METRICS, "active_members"])
    for row in report["rows"]:
        if query.by == "member":
            key = [row["member"]["id"], row["member"]["email"], row["member"]["nickname"]]
        elif query.by == "group":
            key = [row["group"]["id"], row["group"]["name"]]
        else:
            key = [row[query.by]]
        writer.writerow([*key, *(row[name] for name in (*METRICS, "active_members"))])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"haruchat-usage-{query.by}-{query.start}-{query.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
