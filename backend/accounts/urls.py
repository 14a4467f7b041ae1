from django.urls import path

from accounts import oauth_views, views

urlpatterns = [
    path("signup", views.SignupView.as_view(), name="auth-signup"),
    path("registration", views.RegistrationView.as_view(), name="auth-registration"),
    path("password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("password-reset/confirm", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("me", views.MeView.as_view(), name="auth-me"),
    path("providers", oauth_views.ProvidersView.as_view(), name="auth-providers"),
    path("oauth/<str:provider_id>/start", oauth_views.OAuthStartView.as_view(), name="oauth-start"),
    path("oauth/finish", oauth_views.OAuthFinishView.as_view(), name="oauth-finish"),
    path("oauth/exchange", oauth_views.OAuthExchangeView.as_view(), name="oauth-exchange"),
    path("social-accounts", oauth_views.SocialAccountListView.as_view(), name="social-account-list"),
    path("social-accounts/<int:account_id>", oauth_views.SocialAccountDetailView.as_view(), name="social-account"),
]
