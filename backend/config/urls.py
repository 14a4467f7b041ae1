from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import oauth_views
from common.metrics import metrics_view
from common.views import HealthView, LivenessView, web_app_missing
from gateway.views import ApiKeyDetailView, ApiKeyListView
from groups.history import MyAuditListView
from groups.views import JoinView
from quota.views import QuotaView
from usage.views import UsageView

urlpatterns = [
    path("admin/", admin.site.urls),
    # The providers' callbacks, served by our adapters (endpoints from settings). Nothing else of
    # allauth's is served: its pages would be a second, unguarded way to sign up and log in.
    path("accounts/github/login/callback/", oauth_views.github_callback, name="github_callback"),
    path("accounts/kakao/login/callback/", oauth_views.kakao_callback, name="kakao_callback"),
    re_path(r"^accounts/", oauth_views.allauth_page),
    path("accounts/", include("allauth.urls")),  # shadowed above; kept so allauth's flows can reverse its names
    path("api/auth/api-keys", ApiKeyListView.as_view(), name="api-key-list"),
    path("api/auth/api-keys/<int:key_id>", ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("api/auth/join", JoinView.as_view(), name="auth-join"),
    path("api/auth/me/audit", MyAuditListView.as_view(), name="auth-me-audit"),
    path("api/auth/", include("accounts.urls")),
    path("api/", include("groups.urls")),
    path("api/quota", QuotaView.as_view(), name="quota"),
    path("api/usage", UsageView.as_view(), name="usage"),
    path("api/health", HealthView.as_view(), name="health"),
    path("api/health/ready", HealthView.as_view(), name="health-ready"),
    path("api/health/live", LivenessView.as_view(), name="health-live"),
    # Prometheus; off unless HARUCHAT_METRICS, never public (common.metrics, which answers it first).
    path("metrics", metrics_view, name="metrics"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("chat.urls")),
    path("v1/", include("gateway.urls")),
    path("", web_app_missing, name="web-app"),
]

handler400 = "common.exceptions.bad_request"
handler403 = "common.exceptions.permission_denied"
handler404 = "common.exceptions.page_not_found"
handler500 = "common.exceptions.server_error"
