"""Assistants, conversations and the faithful record of every model call.

The record follows the seed's ER diagram: a call's configuration and the
messages it sent (Completion, CompletionPrompt), the reply with its usage
(CompletionReply) and its choices (CompletionChoice). Fields the columns
don't cover are kept in `extra`, so the exact request and response JSON can
be rebuilt (see chat/records.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

# A title made from a message's words (the first message, or a /v1 call's question) is cut to this length.
TITLE_LENGTH = 80


class Assistant(models.Model):
    """A system prompt with intake questions; free chat is an assistant too."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    name_ko = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    description_ko = models.TextField(blank=True)
    system_prompt = models.TextField()
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class IntakeQuestion(models.Model):
    """A question asked before the conversation opens (the seed's Prompt kinds)."""

    class Kind(models.TextChoices):
        CURRENT_STATE = "current_state", "Current state"
        GOAL = "goal", "Goal"
        MISC = "misc", "Other requirements"

    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=50)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MISC)
    label = models.CharField(max_length=200)
    label_ko = models.CharField(max_length=200, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    help_text_ko = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["assistant", "key"], name="chat_intake_question_key")]

    def __str__(self) -> str:
        return f"{self.assistant.slug}:{self.key}"


class Conversation(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    assistant = models.ForeignKey(Assistant, on_delete=models.PROTECT, related_name="conversations")
    title = models.CharField(max_length=200)

    class TitleSource(models.TextChoices):
        AUTO = "auto", "From the first message's words (or the intake)"
        MODEL = "model", "Written by the model after the first exchange"
        MEMBER = "member", "Given or renamed by the member"

    # Only an automatic title is replaced by the model's: a member's own title always wins.
    title_source = models.CharField(max_length=10, choices=TitleSource.choices, default=TitleSource.AUTO)

    class Source(models.TextChoices):
        WEB = "web", "Web app / API"
        GATEWAY = "gateway", "OpenAI-compatible gateway (/v1)"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEB)
    # The personal API key of a /v1 call (one conversation per call).
    api_key = models.ForeignKey(
        "gateway.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    # The assistant's system prompt as it was when the conversation began.
    system_prompt = models.TextField()
    model = models.CharField(max_length=200)
    temperature = models.FloatField()
    max_tokens = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The last message of the branch being shown; the path from it to its root is what the model is sent.
    # Null for a conversation with no messages yet, and for /v1 calls' conversations (flat: every message).
    current_leaf = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=True
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at", "-id"], name="chat_conv_user_recent")]

    def __str__(self) -> str:
        return self.title


class IntakeAnswer(models.Model):
    """A member's answer to one intake question (the seed's Prompt{prompt, answer})."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="intake_answers")
    question = models.ForeignKey(IntakeQuestion, on_delete=models.SET_NULL, null=True, blank=True)
    key = models.SlugField(max_length=50)
    prompt = models.CharField(max_length=200)
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.key}: {self.answer[:40]}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "Member"
        ASSISTANT = "assistant", "Assistant"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The message this one follows: a member's message answers to an answer (or is a root), an answer to the
    # member's message it answers. Siblings are edits or regenerations. Null on /v1 calls' messages, whose
    # conversation is one flat call (no current leaf).
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    role = models.CharField(max_length=20, choices=Role.choices)
    content = models.TextField()
    # Set on an answer: the call that produced it (`Completion.answer` the other way). The calls that
    # answered a member's message are `Message.answering_calls`.
    completion = models.OneToOneField(
        "Completion", on_delete=models.SET_NULL, null=True, blank=True, related_name="answer"
    )

    class Status(models.TextChoices):
        COMPLETE = "", "Complete"
        GENERATING = "generating", "Being generated (the text so far)"
        STOPPING = "stopping", "Asked to stop; the generating process will stop it"
        STOPPED = "stopped", "Stopped by the member (the text up to then)"
        INTERRUPTED = "interrupted", "Cut off: the model or the server stopped before the end"

    # An answer streamed to the web app is stored as it starts and filled in as it is generated, so any
    # process (and a refreshed page) can show the text so far (chat.services.generations).
    status = models.CharField(max_length=12, choices=Status.choices, blank=True, default=Status.COMPLETE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["conversation", "id"], name="chat_message_conv_order")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class ProcessLease(models.Model):
    """An app process's claim on the calls it makes: live while the process renews it (chat.services.leases).

    A call records its process's lease; a pending call whose lease expired lost its process
    (killed, crashed) and is closed as abandoned (`chat.services.calls.calls_close_stale`).
    """

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    # Set from the database's clock, as the sweep reads it, so hosts whose clocks differ agree.
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lease {self.pk} ({self.host}:{self.pid})"


class Completion(models.Model):
    """One call to the model: its configuration, outcome and timing."""

    class Status(models.TextChoices):
        PENDING = "pending", "In progress"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Purpose(models.TextChoices):
        ANSWER = "answer", "An answer (counted against the allowance)"
        TITLE = "title", "A title for the conversation (haruchat's own call: never counted)"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="completions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="completions")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.ANSWER)
    # The member's message this call answered.
    request_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="answering_calls"
    )
    provider = models.CharField(max_length=100)
    # The request's configuration (the seed's ChatBotConfig).
    model = models.CharField(max_length=200, null=True, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    stream = models.BooleanField(null=True, blank=True)
    request_extra = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_detail = models.TextField(blank=True, default="")
    upstream_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # True when the upstream reported no usage (a stream without it) and haruchat counted the tokens.
    usage_counted = models.BooleanField(default=False)
    characters_replaced = models.PositiveIntegerField(
        default=0,
        help_text="NUL characters and unpaired surrogates in the response, which no database here can store, "
        "recorded as U+FFFD (the client got them as sent).",
    )
    # Tokens held against a monthly token budget while the call runs (0: no budget applied);
    # settling or closing the call gives them back in favour of its real usage.
    tokens_reserved = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The lease of the process that made the call (none from manage.py or WSGI). No database constraint:
    # every call would lock the lease's row to check it, and a stopped process's lease is deleted
    # a day later, while its calls stay.
    lease = models.ForeignKey(
        ProcessLease,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="calls",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["conversation", "id"], name="chat_completion_conv_order"),
            # Only the calls in progress: what the sweep looks through (by lease, or by age when there is none).
            models.Index(
                fields=["lease", "created_at"], condition=models.Q(status="pending"), name="chat_completion_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"completion {self.pk} ({self.status})"


class CompletionPrompt(models.Model):
    """One message of the request, in the order it was sent."""

    completion = models.ForeignKey(Completion, on_delete=models.CASCADE, related_name="prompts")
    position = models.PositiveIntegerField()
    role = models.CharField(max_length=20, null=True, blank=True)
    content = models.TextField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["completion", "position"], name="chat_prompt_position")]

    def __str__(self) -> str:
        return f"{self.position} {self.role}: {(self.content or '')[:40]}"


class CompletionReply(models.Model):
    """The response's envelope and usage (the seed's ChatBotReply, usage folded in)."""

    completion = models.OneToOneField(Completion, on_delete=models.CASCADE, related_name="reply")
    response_id = models.CharField(max_length=200, null=True, blank=True)
    object = models.CharField(max_length=50, null=True, blank=True)
    created = models.BigIntegerField(null=True, blank=True)
    model = models.CharField(max_length=200, null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_tokens = models.PositiveIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"reply {self.response_id} ({self.total_tokens} tokens)"


class CompletionChoice(models.Model):
    reply = models.ForeignKey(CompletionReply, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveIntegerField()
    index = models.IntegerField(null=True, blank=True)
    role = models.CharField(max_length=20, null=True, blank=True)
    content = models.TextField(null=True, blank=True)
    finish_reason = models.CharField(max_length=50, null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["reply", "position"], name="chat_choice_position")]

    def __str__(self) -> str:
        return f"choice {self.index} ({self.finish_reason}): {(self.content or '')[:40]}"
