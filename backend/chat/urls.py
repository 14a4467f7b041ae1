from django.urls import path

from chat import views

urlpatterns = [
    path("assistants", views.AssistantListView.as_view(), name="assistant-list"),
    path("models", views.ModelListView.as_view(), name="model-list"),
    path("conversations", views.ConversationListView.as_view(), name="conversation-list"),
    path("conversations/export", views.ConversationExportAllView.as_view(), name="conversation-export-all"),
    path(
        "conversations/<int:conversation_id>/export", views.ConversationExportView.as_view(), name="conversation-export"
    ),
    path("conversations/<int:conversation_id>", views.ConversationDetailView.as_view(), name="conversation-detail"),
    path("conversations/<int:conversation_id>/messages", views.MessageSendView.as_view(), name="message-send"),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/regenerate",
        views.AnswerRegenerateView.as_view(),
        name="answer-regenerate",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/stream",
        views.AnswerStreamView.as_view(),
        name="answer-stream",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/stop",
        views.AnswerStopView.as_view(),
        name="answer-stop",
    ),
    path("conversations/<int:conversation_id>/completions", views.CompletionListView.as_view(), name="completion-list"),
]
