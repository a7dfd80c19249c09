"""Settings for LLM Caller, read once from the environment through django-environ.

Every variable is documented in `.env.example`. The embedded default needs no
external service: SQLite under `var/` and the local-memory cache. Deployments
beyond one machine point `DATABASE_URL` at PostgreSQL and `REDIS_URL` at Redis.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _positive(name: str, value: float) -> float:
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero, got {value!r}.")
    return value


def _networks(name: str, values: list[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(value.strip(), strict=False) for value in values if value.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must list IP networks: {exc}.") from None


# --- Core -------------------------------------------------------------------

DEBUG = env.bool("LLMCALLER_DEBUG", default=False)
# The embedded default is meant for one machine; a deployment sets its own key.
SECRET_KEY = env.str("LLMCALLER_SECRET_KEY", default="insecure-embedded-default-change-me")
ALLOWED_HOSTS = env.list("LLMCALLER_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("LLMCALLER_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "providers",
    "routing",
    "audit",
    "llmcaller",
]

# For the admin and the docs. The v1 API never passes through them: its paths
# are served by llmcaller.transport, outside Django's request handler.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "llmcaller.urls"
ASGI_APPLICATION = "llmcaller.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database ---------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'llmcaller.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several workers share one file: WAL lets readers run beside the writer,
    # NORMAL syncs at checkpoints rather than every commit (safe against a
    # crashed process), and IMMEDIATE takes the write lock up front instead of
    # failing a transaction that tries to upgrade it.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    })  # fmt: skip
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "llmcaller.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("LLMCALLER_CACHE_PREFIX", default="llmcaller"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Gateway ----------------------------------------------------------------

LLMCALLER_HOST = env.str("LLMCALLER_HOST", default="127.0.0.1")
LLMCALLER_PORT = env.int("LLMCALLER_PORT", default=4037)
LLMCALLER_WORKERS = env.int("LLMCALLER_WORKERS", default=1)

# --- Upstream timeouts and pool ----------------------------------------------

# A provider row carries its own request timeout; these bound the shared pool.
UPSTREAM_CONNECT_TIMEOUT = _positive(
    "UPSTREAM_CONNECT_TIMEOUT", env.float("UPSTREAM_CONNECT_TIMEOUT", default=5.0)
)
UPSTREAM_MAX_CONNECTIONS = int(
    _positive("UPSTREAM_MAX_CONNECTIONS", env.int("UPSTREAM_MAX_CONNECTIONS", default=200))
)
UPSTREAM_MAX_KEEPALIVE = int(
    _positive("UPSTREAM_MAX_KEEPALIVE", env.int("UPSTREAM_MAX_KEEPALIVE", default=100))
)

# --- Probes and discovery ----------------------------------------------------

PROBE_INTERVAL_SECONDS = _positive(
    "PROBE_INTERVAL_SECONDS", env.float("PROBE_INTERVAL_SECONDS", default=30.0)
)
PROBE_CONCURRENCY = int(_positive("PROBE_CONCURRENCY", env.int("PROBE_CONCURRENCY", default=8)))

# --- Routing ------------------------------------------------------------------

# How often a worker asks whether the configuration changed (one query at most).
ROUTING_SNAPSHOT_CHECK_SECONDS = _positive(
    "ROUTING_SNAPSHOT_CHECK_SECONDS", env.float("ROUTING_SNAPSHOT_CHECK_SECONDS", default=1.0)
)
ROUTING_BREAKER_FAILURES = int(
    _positive("ROUTING_BREAKER_FAILURES", env.int("ROUTING_BREAKER_FAILURES", default=5))
)
ROUTING_BREAKER_COOLDOWN_SECONDS = _positive(
    "ROUTING_BREAKER_COOLDOWN_SECONDS", env.float("ROUTING_BREAKER_COOLDOWN_SECONDS", default=30.0)
)
LLMCALLER_FAULTS_ENABLED = env.bool("LLMCALLER_FAULTS_ENABLED", default=False)

# --- Pilots ---
# Where a pilot page's "Run UAT" calls the gateway; empty: the admin page's own origin.
LLMCALLER_UAT_URL = env.str("LLMCALLER_UAT_URL", default="")
# A call gives up, whatever its plan still holds, after this long.
ROUTING_CALL_DEADLINE_SECONDS = _positive(
    "ROUTING_CALL_DEADLINE_SECONDS", env.float("ROUTING_CALL_DEADLINE_SECONDS", default=120.0)
)
# First retry waits about this long (with jitter), doubling up to 2 s.
ROUTING_RETRY_BACKOFF_SECONDS = _positive(
    "ROUTING_RETRY_BACKOFF_SECONDS", env.float("ROUTING_RETRY_BACKOFF_SECONDS", default=0.1)
)

# --- Demo (make run) ---------------------------------------------------------

LMSTUDIO_URL = env.str("LMSTUDIO_URL", default="http://127.0.0.1:1234")
SANDBOX_PORT = env.int("SANDBOX_PORT", default=1235)
DEMO_PASSWORD = env.str("LLMCALLER_DEMO_PASSWORD", default="")

# --- Audit -------------------------------------------------------------------

# Group commit: a batch is written at this many records or this long after its
# first. 0 ms writes as soon as the worker's loop is free; records arriving while
# a batch is being written wait for the next one, so batches grow with load and
# a quiet gateway adds no delay.
AUDIT_BATCH_MAX_RECORDS = int(
    _positive("AUDIT_BATCH_MAX_RECORDS", env.int("AUDIT_BATCH_MAX_RECORDS", default=500))
)
AUDIT_BATCH_MAX_DELAY_MS = env.float("AUDIT_BATCH_MAX_DELAY_MS", default=0.0)
if AUDIT_BATCH_MAX_DELAY_MS < 0:
    raise ImproperlyConfigured("AUDIT_BATCH_MAX_DELAY_MS must not be negative.")
AUDIT_CONTENT_RETENTION_DAYS = int(
    _positive("AUDIT_CONTENT_RETENTION_DAYS", env.int("AUDIT_CONTENT_RETENTION_DAYS", default=30))
)
AUDIT_BUDGET_RECONCILE_SECONDS = int(
    _positive(
        "AUDIT_BUDGET_RECONCILE_SECONDS", env.int("AUDIT_BUDGET_RECONCILE_SECONDS", default=300)
    )
)
# Dashboard: provider -> kind (lmstudio and ollama count as local), and USD per 1k tokens.
AUDIT_PROVIDER_KINDS = env.dict("AUDIT_PROVIDER_KINDS", default={})
try:
    AUDIT_MODEL_PRICES = env.dict("AUDIT_MODEL_PRICES", cast={"value": float}, default={})
except ValueError as exc:
    raise ImproperlyConfigured(f"AUDIT_MODEL_PRICES must be model=price pairs: {exc}") from exc
AUDIT_SAVING_REFERENCE_MODEL = env.str("AUDIT_SAVING_REFERENCE_MODEL", default="")

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = env.str("LLMCALLER_LOG_LEVEL", default="INFO").upper()
LOG_FILE = env.str("LLMCALLER_LOG_FILE", default="")
LOG_FILE_MAX_BYTES = env.int("LLMCALLER_LOG_FILE_MAX_BYTES", default=10 * 1024 * 1024)
LOG_FILE_BACKUPS = env.int("LLMCALLER_LOG_FILE_BACKUPS", default=5)

_log_handlers: dict[str, dict] = {
    "console": {"class": "logging.StreamHandler", "formatter": "plain"},
}
if LOG_FILE:
    _log_handlers["file"] = {
        "class": "llmcaller.logfile.RotatingFileHandler",  # cheaper per record: see there
        "filename": LOG_FILE,
        "maxBytes": LOG_FILE_MAX_BYTES,
        "backupCount": LOG_FILE_BACKUPS,
        "formatter": "plain",
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": _log_handlers,
    "root": {"handlers": list(_log_handlers), "level": LOG_LEVEL},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# --- Auth, i18n, static --------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# --- API schema -----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LLM Caller",
    "DESCRIPTION": "The gateway every internal tool uses to reach language models.",
    "VERSION": "1.0.0",
    # OpenAPI 3.1 schemas are JSON Schema 2020-12: nullable fields validate as
    # published, with any JSON Schema tool.
    "OAS_VERSION": "3.1.0",
    # The Swagger UI's assets come from drf-spectacular-sidecar: no CDN offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every endpoint but liveness needs a credential: the schema and the docs
    # are for staff signed in to the admin (session or basic auth).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "clientToken": {"type": "apiKey", "in": "header", "name": "x-llm-caller-token"},
            "bearerToken": {"type": "http", "scheme": "bearer"},
        }
    },
    "SECURITY": [{"clientToken": []}, {"bearerToken": []}],
}

# --- Client tokens and callers -----------------------------------------------------

# Tokens are stored as HMAC-SHA256(pepper, token). The embedded default runs, with
# the system check llmcaller.W001; a deployment sets its own long random value.
EMBEDDED_TOKEN_PEPPER = "embedded-default-pepper-change-me"
LLMCALLER_TOKEN_PEPPER = env.str("LLMCALLER_TOKEN_PEPPER", default=EMBEDDED_TOKEN_PEPPER)
# Seconds a token's client is remembered after a lookup (revocation in the admin
# clears it at once; other processes without Redis notice within this time).
LLMCALLER_TOKEN_CACHE_SECONDS = _positive(
    "LLMCALLER_TOKEN_CACHE_SECONDS", env.float("LLMCALLER_TOKEN_CACHE_SECONDS", default=10.0)
)
# Who may call the API at all, and which peers may speak for them (X-Forwarded-For).
LLMCALLER_ALLOWED_NETWORKS = _networks(
    "LLMCALLER_ALLOWED_NETWORKS",
    env.list("LLMCALLER_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]),
)
LLMCALLER_TRUSTED_PROXIES = _networks(
    "LLMCALLER_TRUSTED_PROXIES", env.list("LLMCALLER_TRUSTED_PROXIES", default=[])
)

# --- Calls and streams ----------------------------------------------------------------

LLMCALLER_DEFAULT_PROVIDER = env.str("LLMCALLER_DEFAULT_PROVIDER", default="")
LLMCALLER_STREAM_CHUNK_SIZE = int(
    _positive("LLMCALLER_STREAM_CHUNK_SIZE", env.int("LLMCALLER_STREAM_CHUNK_SIZE", default=4000))
)
# A stream slot whose release was lost (a killed worker) frees itself after this.
LLMCALLER_STREAM_SLOT_TTL = _positive(
    "LLMCALLER_STREAM_SLOT_TTL", env.int("LLMCALLER_STREAM_SLOT_TTL", default=900)
)
# Prompts and answers appear in the call log only when this is on.
LLMCALLER_LOG_PROMPTS = env.bool("LLMCALLER_LOG_PROMPTS", default=False)
