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


class MonthlyTokens(models.Model):
    """A member's tokens in a month, for a group's monthly token budget.

    `reserved` holds what calls in progress may still use (their prompt's bound
    plus their `max_tokens`); settling moves a call's real usage to `used`. A
    reservation is one conditional UPDATE on `used + reserved`, so no number
    of concurrent calls can pass the budget.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="monthly_tokens")
    month = models.DateField(help_text="The month's first day, in HARUCHAT_QUOTA_TZ.")
    used = models.PositiveBigIntegerField(default=0)
    reserved = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="quota_monthly_tokens_user_month")]
        ordering = ["-month"]
        verbose_name_plural = "monthly tokens"

    def __str__(self) -> str:
        return f"{self.user_id} {self.month:%Y-%m}: {self.used} (+{self.reserved} reserved)"


class QuotaOverride(models.Model):
    """A member's own daily limit, set by an admin in place of HARUCHAT_DAILY_LIMIT."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quota_override")
    daily_limit = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.daily_limit}/day"
