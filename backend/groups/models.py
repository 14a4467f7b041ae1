"""Groups of members, who runs them, and the codes that enrol new members."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Group(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    # A member's daily request allowance in this group; null: the deployment's default applies.
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    # Tokens a member may use per month in this group; null: no budget.
    monthly_token_budget = models.PositiveBigIntegerField(null=True, blank=True)
    # The model ids and assistants its members may use; empty: all of them (groups.access states the rule).
    allowed_models = models.JSONField(default=list, blank=True)
    allowed_assistants = models.ManyToManyField("chat.Assistant", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        OPERATOR = "operator", "Operator"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="groups_membership_group_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id} ({self.role})"


class Invite(models.Model):
    """A code that enrols whoever uses it in its group, while it is live (not revoked, expired or used up)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invites")
    code = models.CharField(max_length=40, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} → {self.group_id}"


class HistoryRead(models.Model):
    """One read of a member's history by someone else (an operator or an admin): who, whose, what, when.

    Written in the same request as the read, so no read goes unrecorded; the member sees their own
    (/api/auth/me/audit), admins all of them (/api/audit). Kept when the conversation is deleted.
    """

    class Action(models.TextChoices):
        LIST = "list", "Listed the conversations"
        READ = "read", "Read a conversation"
        EXPORT = "export", "Exported the conversations"

    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reader_email = models.EmailField()  # as it was: the reader's account may be deleted
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="history_reads")
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    conversation_id = models.BigIntegerField(null=True, blank=True)  # not a key: the conversation may go
    conversation_title = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="groups_historyread_member")]

    def __str__(self) -> str:
        return f"{self.reader_email} {self.action} {self.member_id}'s {self.conversation_id or 'history'}"
