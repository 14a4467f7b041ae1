"""Shared output shapes for members."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from groups.selectors import groups_operated


def validate_born_year(value: int | None) -> int | None:
    if value is not None and not 1900 <= value <= timezone.now().year:
        raise serializers.ValidationError(f"Enter a year between 1900 and {timezone.now().year}.", code="invalid")
    return value


class OperatedGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UserOutputSerializer(serializers.ModelSerializer):
    is_admin = serializers.BooleanField(
        source="is_staff", read_only=True, help_text="An admin (Django staff): runs every group, creates groups."
    )
    operates = serializers.SerializerMethodField(
        help_text="The groups this member runs as an operator (the web app shows them its operator area)."
    )

    class Meta:
        model = User
        fields = ("id", "email", "nickname", "born_year", "job", "date_joined", "is_admin", "operates")
        read_only_fields = fields

    @extend_schema_field(OperatedGroupSerializer(many=True))
    def get_operates(self, user: User) -> list[dict[str, Any]]:
        return groups_operated(user=user)


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserOutputSerializer()
