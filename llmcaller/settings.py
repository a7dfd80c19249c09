"""Settings for LLM Caller, read once from the environment through django-environ.

Every variable is documented in `.env.example`. The embedded default needs no
external service: SQLite under `var/` and the local-memory cache. Deployments
beyond one machine point `DATABASE_URL` at PostgreSQL and `REDIS_URL` at Redis.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _positive(name: str, value: float) -> float:
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero, got {value!r}.")
    return value


def _gc_thresholds(name: str, values: list[str]) -> tuple[int, int, int]:
    try:
        thresholds = tuple(int(value) for value in values)
    except ValueError:
        thresholds = ()
    if len(thresholds) != 3 or min(thresholds) <= 0:
        raise ImproperlyConfigured(
            f"{name} takes three whole numbers greater than zero, got {','.join(values)!r}."
        )
    return thresholds


def _networks(name: str, values: list[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(value.strip(), strict=False) for value in values if value.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must list IP networks: {exc}.") from None


def _trail_keys(name: str, values: list[str]) -> tuple[tuple[str, str], ...]:
    """`id:secret` pairs, the first the key new entries are hashed with."""
    keys: dict[str, str] = {}
    for value in values:
        key_id, _, secret = value.strip().partition(":")
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,16}", key_id) or len(secret) < 32:
            raise ImproperlyConfigured(
                f"{name} takes id:secret pairs: ids of 1-16 letters, digits, '.', '_' or '-', "
                "secrets of 32 characters or more."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"{name} names key id {key_id!r} twice.")
        keys[key_id] = secret
    return tuple(keys.items())


# --- Core -------------------------------------------------------------------

# "embedded" (one machine, the default) or "production": behind a TLS-terminating
# load balancer, with the checks of llmcaller.checks refusing insecure secrets.
LLMCALLER_PROFILE = env.str("LLMCALLER_PROFILE", default="embedded")
if LLMCALLER_PROFILE not in ("embedded", "production"):
    raise ImproperlyConfigured("LLMCALLER_PROFILE must be 'embedded' or 'production'.")
PRODUCTION = LLMCALLER_PROFILE == "production"

DEBUG = env.bool("LLMCALLER_DEBUG", default=False)
# The embedded default is meant for one machine; a deployment sets its own key
# (llmcaller.E002 refuses the default, or a weak one, in production).
EMBEDDED_SECRET_KEY = "insecure-embedded-default-change-me"
SECRET_KEY = env.str("LLMCALLER_SECRET_KEY", default="") or EMBEDDED_SECRET_KEY
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
    "oauth2_provider",
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
                "routing.banner.config_banner",
            ],
        },
    },
]

# --- Production: HTTPS behind the load balancer ---------------------------------

# TLS ends at the load balancer, which says so in X-Forwarded-Proto.
if env.bool("LLMCALLER_BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("LLMCALLER_SSL_REDIRECT", default=PRODUCTION)
# Probes reach the workers over plain HTTP (the v1 paths bypass the middleware anyway).
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^health$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env.int("LLMCALLER_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("LLMCALLER_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("LLMCALLER_HSTS_PRELOAD", default=PRODUCTION)

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

# Three caches, so that filling one can never evict another's entries:
#   default    control state: rate counters, stream slots, breakers, budgets
#   tokens     token look-ups (misses too) and failed-attempt counts: what a
#              caller with random tokens can fill
#   responses  the clients' opt-in response cache
# With REDIS_URL every worker and host shares them. Without it one worker keeps
# them in memory, and several workers of one machine share them through files
# beside the database (llmcaller.machine_cache; docs/DEPLOYMENT.md).
REDIS_URL = env.str("REDIS_URL", default="")
LLMCALLER_RESPONSE_CACHE_URL = env.str("LLMCALLER_RESPONSE_CACHE_URL", default=REDIS_URL)
LLMCALLER_TOKEN_CACHE_MAX_ENTRIES = int(
    _positive(
        "LLMCALLER_TOKEN_CACHE_MAX_ENTRIES",
        env.int("LLMCALLER_TOKEN_CACHE_MAX_ENTRIES", default=20_000),
    )
)
LLMCALLER_RESPONSE_CACHE_MAX_ENTRIES = int(
    _positive(
        "LLMCALLER_RESPONSE_CACHE_MAX_ENTRIES",
        env.int("LLMCALLER_RESPONSE_CACHE_MAX_ENTRIES", default=1_000),
    )
)
# Redis answers on the local network in well under a millisecond: a call that
# takes longer than this has stalled, and the worker's event loop waits for it.
REDIS_CONNECT_TIMEOUT = _positive(
    "REDIS_CONNECT_TIMEOUT", env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
)
REDIS_TIMEOUT = _positive("REDIS_TIMEOUT", env.float("REDIS_TIMEOUT", default=0.5))
# After a failed call, every cache call fails at once for this long.
REDIS_RETRY_SECONDS = _positive(
    "REDIS_RETRY_SECONDS", env.float("REDIS_RETRY_SECONDS", default=2.0)
)
_CACHE_PREFIX = env.str("LLMCALLER_CACHE_PREFIX", default="llmcaller")
# Control state outlives any cull: a few keys per client and per provider.
_CONTROL_MAX_ENTRIES = 100_000


LLMCALLER_WORKERS = env.int("LLMCALLER_WORKERS", default=1)
_SHARED_STATE_BASE = (
    DATABASES["default"]["NAME"]
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    else VAR_DIR / "llmcaller"
)


def _cache(alias: str, url: str, max_entries: int) -> dict:
    if not url and LLMCALLER_WORKERS > 1:
        return {
            "BACKEND": "llmcaller.machine_cache.MachineCache",
            "LOCATION": f"{_SHARED_STATE_BASE}.{alias}-cache",
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    if not url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": alias,
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    return {
        "BACKEND": "llmcaller.redis_cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": f"{_CACHE_PREFIX}:{alias}",
        "OPTIONS": {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_timeout": REDIS_TIMEOUT,
            "retry_after": REDIS_RETRY_SECONDS,
        },
    }


CACHES = {
    "default": _cache("control", REDIS_URL, _CONTROL_MAX_ENTRIES),
    "tokens": _cache("tokens", REDIS_URL, LLMCALLER_TOKEN_CACHE_MAX_ENTRIES),
    "responses": _cache(
        "responses", LLMCALLER_RESPONSE_CACHE_URL, LLMCALLER_RESPONSE_CACHE_MAX_ENTRIES
    ),
}

# --- Gateway ----------------------------------------------------------------

LLMCALLER_HOST = env.str("LLMCALLER_HOST", default="127.0.0.1")
LLMCALLER_PORT = env.int("LLMCALLER_PORT", default=4037)
# How long an idle keep-alive connection stays open. Longer than callers' pools
# keep theirs (httpx and the openai SDK 5 s, aiohttp 15 s) and than load
# balancers' idle timeouts (60 s is common): the caller then always drops an idle
# connection first, and never sends a request onto one the gateway is closing,
# which the caller would read as a reset. uvicorn's own default is 5 s.
LLMCALLER_KEEP_ALIVE_SECONDS = int(
    _positive("LLMCALLER_KEEP_ALIVE_SECONDS", env.int("LLMCALLER_KEEP_ALIVE_SECONDS", default=75))
)
# LLMCALLER_WORKERS is read with the caches above: it decides where they live.

# --- Upstream timeouts and pool ----------------------------------------------

# A provider row carries its own request timeout; these bound the shared pool:
# the seconds to open a connection (at most the provider's timeout), and the
# connections one worker holds at once (open streams included).
UPSTREAM_CONNECT_TIMEOUT = _positive(
    "UPSTREAM_CONNECT_TIMEOUT", env.float("UPSTREAM_CONNECT_TIMEOUT", default=5.0)
)
UPSTREAM_MAX_CONNECTIONS = int(
    _positive("UPSTREAM_MAX_CONNECTIONS", env.int("UPSTREAM_MAX_CONNECTIONS", default=200))
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

# --- Configuration versions --------------------------------------------------

# "auto": every admin save and import publishes and activates at once. "required":
# publishing makes a version pending review, active only once someone other than
# its author approves it.
LLMCALLER_CONFIG_REVIEW = env.str("LLMCALLER_CONFIG_REVIEW", default="auto")
if LLMCALLER_CONFIG_REVIEW not in ("auto", "required"):
    raise ImproperlyConfigured("LLMCALLER_CONFIG_REVIEW must be 'auto' or 'required'.")

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
# Refusals before authentication are counted in memory and written as per-minute
# counts at most this often per process (0: at every refusal).
AUDIT_REFUSAL_FLUSH_SECONDS = env.float("AUDIT_REFUSAL_FLUSH_SECONDS", default=1.0)
if AUDIT_REFUSAL_FLUSH_SECONDS < 0:
    raise ImproperlyConfigured("AUDIT_REFUSAL_FLUSH_SECONDS must not be negative.")


# Keys of the tamper-evident trail (HMAC-SHA256), e.g. "2026b:<secret>,2026a:<secret>":
# new entries use the first; the others verify older entries. Unset: entries are
# hashed without a key (system check audit.W001).
AUDIT_TRAIL_KEYS = _trail_keys("AUDIT_TRAIL_KEYS", env.list("AUDIT_TRAIL_KEYS", default=[]))

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
    "filters": {"client_errors": {"()": "llmcaller.logfile.ClientErrorsWithoutTraceback"}},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.request": {"filters": ["client_errors"]},
        "django.security": {"filters": ["client_errors"]},
    },
}

# --- Auth, i18n, static --------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
# Timestamps with seconds and the timezone everywhere in the admin.
FORMAT_MODULE_PATH = ["llmcaller.formats"]
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
    # Every endpoint but liveness needs a credential: the docs are for staff
    # signed in to the admin (session or basic auth); the schema itself takes a
    # client token as well (llmcaller.api.schema.SchemaView).
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
    # The v1 objects are closed: a field the schema does not name is a violation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "llmcaller.api.schema.close_objects",
    ],
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
# Seconds a worker keeps a token look-up and its reading of the breakers for
# itself (routing.memo), saving two Redis round trips a call: a revocation or an
# opened circuit from this process shows at once, from any other within this (0: off).
LLMCALLER_MEMO_SECONDS = env.float("LLMCALLER_MEMO_SECONDS", default=1.0)
if LLMCALLER_MEMO_SECONDS < 0:
    raise ImproperlyConfigured("LLMCALLER_MEMO_SECONDS must not be negative.")
# Who may call the API at all, and which peers may speak for them (X-Forwarded-For).
LLMCALLER_ALLOWED_NETWORKS = _networks(
    "LLMCALLER_ALLOWED_NETWORKS",
    env.list("LLMCALLER_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]),
)
LLMCALLER_TRUSTED_PROXIES = _networks(
    "LLMCALLER_TRUSTED_PROXIES", env.list("LLMCALLER_TRUSTED_PROXIES", default=[])
)
# Requests one source address may make a minute, counted before its token is
# looked up, so a host without a token cannot drive work at line rate (0: no limit).
LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE = env.int(
    "LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE", default=600
)
if LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE < 0:
    raise ImproperlyConfigured("LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE must not be negative.")

# --- OAuth 2 client credentials ---------------------------------------------------

# Seconds an access token from /oauth/token/ lives. Its lookup is cached like a
# static token's (LLMCALLER_TOKEN_CACHE_SECONDS): a revocation applies at once in
# the process that revoked it, within LLMCALLER_MEMO_SECONDS everywhere with
# Redis; other processes sharing no cache see it within that many seconds.
LLMCALLER_OAUTH_TOKEN_SECONDS = int(
    _positive(
        "LLMCALLER_OAUTH_TOKEN_SECONDS", env.int("LLMCALLER_OAUTH_TOKEN_SECONDS", default=900)
    )
)
# The toolkit's own application model, named so migrations can depend on it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": LLMCALLER_OAUTH_TOKEN_SECONDS,
    "ACCESS_TOKEN_GENERATOR": "llmcaller.oauth.generate_access_token",
    # A token's scopes are the client's allowed methods (llmcaller.oauth.ClientScopes).
    "SCOPES_BACKEND_CLASS": "llmcaller.oauth.ClientScopes",
    # Refuses tokens to inactive clients and to applications of no client.
    "OAUTH2_VALIDATOR_CLASS": "llmcaller.oauth.ClientValidator",
    # Read-only token pages; revoking needs an operator's permission (llmcaller.oauth_admin).
    "ACCESS_TOKEN_ADMIN_CLASS": "llmcaller.oauth_admin.AccessTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "llmcaller.oauth_admin.RefreshTokenAdmin",
    "SCOPES": {
        "chat": "chat",
        "chatStream": "streaming chat",
        "embed": "embeddings",
        "models": "list models",
        "getHealth": "health",
        "explainRoute": "explain a route (MCP)",
    },
    # Only the token's SHA-256 is stored, as static tokens keep only their HMAC.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # Only client credentials are used: the other grants' leniencies stay off, so
    # `check --deploy` has nothing to say about them.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    **{
        f"COMPLIANT_BCP_RFC9700_{name}": True
        for name in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },  # fmt: skip
}

# --- Metrics and traces ------------------------------------------------------------

# /metrics answers a scraper presenting this bearer token, or calling from these
# networks; with neither set it answers nobody.
LLMCALLER_METRICS_TOKEN = env.str("LLMCALLER_METRICS_TOKEN", default="")
LLMCALLER_METRICS_NETWORKS = _networks(
    "LLMCALLER_METRICS_NETWORKS", env.list("LLMCALLER_METRICS_NETWORKS", default=[])
)

# Traces over OTLP/HTTP (providers.tracing); off by default, and then free.
LLMCALLER_TRACING_ENABLED = env.bool("LLMCALLER_TRACING_ENABLED", default=False)
LLMCALLER_OTLP_ENDPOINT = env.str(
    "LLMCALLER_OTLP_ENDPOINT", default="http://127.0.0.1:4318/v1/traces"
)
LLMCALLER_TRACING_SERVICE_NAME = env.str("LLMCALLER_TRACING_SERVICE_NAME", default="llm-caller")
# --- Provider credentials ---------------------------------------------------------

# Fernet keys for credentials stored in the database, newest first: the first
# encrypts, every one decrypts (`rotate_secrets` moves values to the first).
# Empty: one key derived from SECRET_KEY (the embedded default only).
LLMCALLER_SECRETS_KEYS = env.list("LLMCALLER_SECRETS_KEYS", default=[])
try:
    [Fernet(key) for key in LLMCALLER_SECRETS_KEYS]
except (ValueError, TypeError):
    raise ImproperlyConfigured(
        "LLMCALLER_SECRETS_KEYS must list Fernet keys (32 url-safe base64-encoded bytes each)."
    ) from None
# Only variables with this prefix may hold a provider's credential.
LLMCALLER_CREDENTIAL_ENV_PREFIX = env.str(
    "LLMCALLER_CREDENTIAL_ENV_PREFIX", default="LLMCALLER_PROVIDER_"
)
if not LLMCALLER_CREDENTIAL_ENV_PREFIX:
    raise ImproperlyConfigured("LLMCALLER_CREDENTIAL_ENV_PREFIX must not be empty.")
# A directory of mounted secrets, one file per credential (empty: none).
LLMCALLER_CREDENTIALS_DIR = env.str("LLMCALLER_CREDENTIALS_DIR", default="")

# --- Calls and streams ----------------------------------------------------------------

LLMCALLER_DEFAULT_PROVIDER = env.str("LLMCALLER_DEFAULT_PROVIDER", default="")
LLMCALLER_STREAM_CHUNK_SIZE = int(
    _positive("LLMCALLER_STREAM_CHUNK_SIZE", env.int("LLMCALLER_STREAM_CHUNK_SIZE", default=4000))
)
# An open stream renews its slot; one whose release was lost (a killed worker)
# frees itself after this.
LLMCALLER_STREAM_SLOT_TTL = _positive(
    "LLMCALLER_STREAM_SLOT_TTL", env.int("LLMCALLER_STREAM_SLOT_TTL", default=900)
)
# The cycle collector's thresholds in each worker (gc.set_threshold). A full pass
# stops the worker while it walks every live object, some 240 for each open
# stream: 85 ms with 1,000 open, every stream's next chunk waiting. Python's
# (700, 10, 10) ran one every ~80,000 new objects, three while 1,000 streams
# opened; these run one every ~600,000, and keep young passes under ~3 ms
# (docs/BENCHMARKS.md, "Streams at scale").
LLMCALLER_GC_THRESHOLDS = _gc_thresholds(
    "LLMCALLER_GC_THRESHOLDS", env.list("LLMCALLER_GC_THRESHOLDS", default=["2000", "2", "100"])
)
# Prompts and answers appear in the call log only when this is on.
LLMCALLER_LOG_PROMPTS = env.bool("LLMCALLER_LOG_PROMPTS", default=False)

# --- MCP server (/mcp) ------------------------------------------------------------

# DNS-rebinding protection of the MCP door: the Host and Origin headers a request
# to /mcp may carry ("name:*" allows any port). It cannot be turned off; a
# deployment names its public host here, e.g. llm.example.org,llm.example.org:*
LLMCALLER_MCP_ALLOWED_HOSTS = env.list(
    "LLMCALLER_MCP_ALLOWED_HOSTS",
    default=["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"],
)
LLMCALLER_MCP_ALLOWED_ORIGINS = env.list(
    "LLMCALLER_MCP_ALLOWED_ORIGINS",
    default=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)
if not LLMCALLER_MCP_ALLOWED_HOSTS:
    raise ImproperlyConfigured("LLMCALLER_MCP_ALLOWED_HOSTS must name at least one host.")
# --- Token budgets: each call reserves its worst case before it runs ---------------

# The largest maxTokens a request may ask for (above: 400 BAD_REQUEST).
LLMCALLER_MAX_TOKENS_LIMIT = int(
    _positive("LLMCALLER_MAX_TOKENS_LIMIT", env.int("LLMCALLER_MAX_TOKENS_LIMIT", default=32768))
)
# A budgeted client's chat that names no maxTokens is capped (and reserved) at this.
LLMCALLER_DEFAULT_MAX_TOKENS = int(
    _positive("LLMCALLER_DEFAULT_MAX_TOKENS", env.int("LLMCALLER_DEFAULT_MAX_TOKENS", default=4096))
)
# Seconds a reservation a dead worker never released keeps holding tokens (at most twice this).
LLMCALLER_BUDGET_HOLD_SECONDS = _positive(
    "LLMCALLER_BUDGET_HOLD_SECONDS", env.int("LLMCALLER_BUDGET_HOLD_SECONDS", default=600)
)
