"""docs/erd.md is generated from the models and never goes stale."""

from __future__ import annotations

from common.management.commands.erd import ERD_PATH, render_erd


def test_the_committed_erd_matches_the_models():
    assert ERD_PATH.read_text() == render_erd(), "docs/erd.md is stale: run `make erd` and commit it."


def test_the_erd_shows_the_record_of_every_model_call():
    text = render_erd()
    for line in [
        'User ||--o{ Conversation : "user"',
        'Conversation ||--o{ Message : "conversation"',
        'Conversation ||--o{ Completion : "conversation"',
        'Completion ||--o| CompletionReply : "completion"',
        'CompletionReply ||--o{ CompletionChoice : "reply"',
        'Completion ||--o{ CompletionPrompt : "completion"',
        'User ||--o{ DailyUsage : "user"',
        'Completion |o--o| Message : "completion"',
    ]:
        assert line in text
    assert 'float temperature "NULL"' in text  # Completion's request config
    assert "string email UK" in text
