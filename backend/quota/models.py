"""The usage ledger: one row per member per day, apart from the chat rows.

Usage is never derived from conversations, so deleting them gives nothing
back; the row is only ever changed by single conditional UPDATEs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DailyUsage(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_usage")
    day = models.DateField(help_text="The day in HARUCHAT_QUOTA_TZ.")
    requests = models.PositiveIntegerField(default=0, help_text="Model requests counted against the allowance.")
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="quota_daily_usage_user_day")]
        ordering = ["-day"]
        verbose_name_plural = "daily usage"

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.requests}"


class QuotaOverride(models.Model):
    """A member's own daily limit, set by an admin in place of HARUCHAT_DAILY_LIMIT."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quota_override")
    daily_limit = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.daily_limit}/day"
