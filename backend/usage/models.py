"""Usage by day, member, model, assistant and source: the roll-up reports read.

Kept in step with the quota ledger, in the same transactions (usage.ledger),
so it never drifts from what was counted, and never shrinks when a member
deletes conversations (the call records go with them; usage stays).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

COUNTS = ["requests", "refused", "failed", "prompt_tokens", "completion_tokens"]


class UsageCounts(models.Model):
    """What every roll-up counts, per row."""

    requests = models.PositiveIntegerField(default=0, help_text="Requests counted against the allowance.")
    refused = models.PositiveIntegerField(default=0, help_text="Requests refused: allowance or budget spent (429).")
    failed = models.PositiveIntegerField(default=0, help_text="Calls that failed (given back, not counted).")
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        abstract = True


class UsageDay(UsageCounts):
    """One member's usage on one day with one model, assistant and source: the detailed roll-up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField(help_text="The day in HARUCHAT_QUOTA_TZ (the quota's day).")
    model = models.CharField(max_length=200)
    # The web conversation's assistant; "" for /v1 calls, which have none.
    assistant = models.CharField(max_length=50, blank=True, default="")
    source = models.CharField(max_length=20)  # chat.Conversation.Source: web or gateway

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day", "model", "assistant", "source"], name="usage_day_user_day_model_assistant_source"
            )
        ]
        # Only reports by assistant or source read this roll-up (the others read the smaller ones below).
        indexes = [models.Index(fields=["day", "user"], name="usage_day_day_user")]
        ordering = ["day", "user_id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.model}/{self.assistant or '-'}/{self.source}: {self.requests}"


class UsageModelDay(UsageCounts):
    """One member's usage on one day with one model, assistants and sources together: UsageDay summed.

    For the reports that split or filter by model alone: with the model fixed there is one row per
    member and day, so a day's active members are its rows, and by=model sums a third fewer rows.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_model_days")
    day = models.DateField(help_text="The day in HARUCHAT_QUOTA_TZ (the quota's day).")
    model = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day", "model"], name="usage_model_day_user_day_model")]
        # Day first, so a range is read once for every model (by=model) or one (by=day&model=…); the
        # members come sorted within each day and model, ready to be grouped.
        indexes = [models.Index(fields=["day", "model", "user"], include=COUNTS, name="usage_model_day_day_model_user")]
        ordering = ["day", "user_id", "model"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.model}: {self.requests}"


class UsageMemberDay(UsageCounts):
    """One member's usage on one day, all models together: the member's UsageDay rows of that day, summed.

    Kept beside UsageDay (usage.ledger writes all three in the same statement batch) for the reports
    that don't split or filter by model: a row per active member-day is about a third of UsageDay's
    rows, and counting a day's active members becomes counting its rows, with no DISTINCT to sort.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_member_days")
    day = models.DateField(help_text="The day in HARUCHAT_QUOTA_TZ (the quota's day).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="usage_member_day_user_day")]
        indexes = [models.Index(fields=["day", "user"], include=COUNTS, name="usage_member_day_day_user")]
        ordering = ["day", "user_id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.requests}"
