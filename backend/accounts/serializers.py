"""Shared output shapes for members."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from accounts.models import User


def validate_born_year(value: int | None) -> int | None:
    if value is not None and not 1900 <= value <= timezone.now().year:
        raise serializers.ValidationError(f"Enter a year between 1900 and {timezone.now().year}.", code="invalid")
    return value


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "nickname", "born_year", "job", "date_joined")
        read_only_fields = fields


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserOutputSerializer()
