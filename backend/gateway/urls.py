from django.conf import settings
from django.urls import path

from gateway import views

urlpatterns = [
    path("models", views.ModelListView.as_view(), name="v1-models"),
    path("chat/completions", views.ChatCompletionView.as_view(), name="v1-chat-completions"),
    path("responses", views.ResponsesView.as_view(), name="v1-responses"),
]

if settings.HARUCHAT_BENCH_PASSTHROUGH:  # off unless a benchmark turns it on: no auth, no quota, no record
    urlpatterns.append(path("_bench/passthrough", views.BenchPassThroughView.as_view(), name="v1-bench-passthrough"))
