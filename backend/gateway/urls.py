from django.urls import path

from gateway import views

urlpatterns = [
    path("models", views.ModelListView.as_view(), name="v1-models"),
    path("chat/completions", views.ChatCompletionView.as_view(), name="v1-chat-completions"),
]
