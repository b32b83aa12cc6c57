"""One settings file, read from the environment with strict parsing.

With nothing set, the embedded defaults run: SQLite, a Celery broker on the
local filesystem (no server) and the bundled Alegra sandbox as the API.
A malformed value stops start-up with a message naming the variable.
"""

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ENMIENDA_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_url(name: str, default: str, schemes: set[str]) -> str:
    value = env_str(name, default)
    scheme = urlparse(value).scheme
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL with one of the schemes {sorted(schemes)}, got scheme {scheme!r}"
        )
    return value


DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("ENMIENDA_TESTING", False)
# Django's technical error pages (tracebacks in the browser) while DEBUG is on; off by default so
# the demo shows the portal's own 403/404/500 pages.
ERROR_PAGES_DEBUG = env_bool("ERROR_PAGES_DEBUG", False)


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def env_required_in_production(name: str, meaning: str) -> None:
    """In production a value the demo can guess must come from the environment."""
    if not DEBUG and not os.environ.get(name, "").strip():
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is false: {meaning}")


def env_origins(name: str) -> list[str]:
    origins = env_list(name, [])
    for origin in origins:
        parts = urlparse(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
            raise ImproperlyConfigured(
                f"{name} must list origins such as https://portal.example.com, got {origin!r}")
    return origins


_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdef"
env_required_in_production("SECRET_KEY", "a long random string (python -c 'import secrets; print(secrets.token_urlsafe(50))')")
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false, not to the demo's key")


def _audit_hmac_key() -> str:
    """The key of the audit chain's HMAC: held by the application, never by the database.

    Separate from SECRET_KEY (rotating that must not break the chain). Development and tests
    get a fixed key derived from a constant; production must set its own.
    """
    raw = os.environ.get("AUDIT_HMAC_KEY", "")
    if raw == "":
        if not DEBUG and not TESTING:
            raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DEBUG is false")
        return hashlib.sha256(b"enmienda audit chain: development and tests only").hexdigest()
    if raw != raw.strip() or len(raw) < 32:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be at least 32 characters, without surrounding spaces")
    if raw == SECRET_KEY:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must differ from SECRET_KEY")
    return raw


AUDIT_HMAC_KEY = _audit_hmac_key()

# Encrypts Alegra tokens at rest. Derived from SECRET_KEY when not given, so the
# demo works; production sets its own so rotating SECRET_KEY keeps tokens readable.
TOKEN_ENCRYPTION_KEY = env_str("TOKEN_ENCRYPTION_KEY", "")

env_required_in_production("ALLOWED_HOSTS", "the host names the portal answers to, comma-separated")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
env_required_in_production("CSRF_TRUSTED_ORIGINS", "the portal's origins, e.g. https://portal.example.com")
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")

# --- HTTPS -----------------------------------------------------------------
# Production defaults are the safe ones; a firm still on plain HTTP says so explicitly.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and scrapers talk to the process directly, often over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
# Both commit every subdomain (and, once submitted, every browser) to HTTPS: opt in.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Only behind a proxy that sets X-Forwarded-Proto itself (and drops the client's): anywhere
# else a client could claim HTTPS with one header.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "portal",
    "invoices",
    "approvals",
    "findings",
    "audit",
    "ninja",
    "api",
    "alegra_sandbox",
    "operations",
]

# Reasons are coded events with their parameters (portal.events): no length fits them all.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

MIDDLEWARE = [
    # First, so its request id and timing cover everything below (redirects included).
    "portal.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale (its words are the client's): the API's errors as problem+json, those
    # given before the API's own handlers run too.
    "api.middleware.ApiProblemsMiddleware",
    # After the locale (its message is translated), before anything reads or writes.
    "portal.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # With DEBUG on, the portal's own 403/404/500 pages instead of Django's technical ones.
    "portal.errors.FriendlyErrorsMiddleware",
    # Last: turns a request axes flagged as locked out into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "portal.context.tenancy",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]


def _database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # A file, not memory, so a worker process started by a test sees the
            # same test database; one per test process, so runs side by side never collide.
            "TEST": {"NAME": VAR_DIR / f"test-db-{os.getpid()}.sqlite3"},
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    import dj_database_url

    scheme = urlparse(url).scheme
    if scheme not in {"postgres", "postgresql", "sqlite"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be postgres:// or sqlite://, got {scheme!r}")
    try:
        max_age = env_int("DB_CONN_MAX_AGE", 0)
        # A kept connection the server dropped meanwhile (a restart, a failover) is replaced
        # before the request uses it, not found broken by the request.
        config = dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=max_age > 0)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    # One test database per test process: concurrent runs on one server never collide.
    config["TEST"] = {"NAME": f"test_{config.get('NAME') or 'enmienda'}_{os.getpid()}"}
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name, or from
# one address, that name or address is locked out for LOGIN_LOCKOUT_MINUTES (every attempt while
# locked out starts the wait again). Names that exist and names that do not are treated alike.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "audit.views_auth.locked_out"
# The address is REMOTE_ADDR, or behind that many proxies of one's own the one they saw
# (portal.addresses): a client cannot pick another one with a forwarding header.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "portal.addresses.client_ip"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "es")
LANGUAGES = [("es", "Español"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/Bogota")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Production serves `collectstatic`'s output with content-hashed names (cached for a year);
# the demo and the tests read the source folders as they are, without collectstatic.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG and not TESTING)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# --- Content-Security-Policy -------------------------------------------------
# Scripts only from our own files (htmx included; `hx-on` and other eval are off, see
# base.html); a <style> block needs the request's nonce; no inline style attributes.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
CSP_REPORT_URI = env_str("CSP_REPORT_URI", "")
if CSP_REPORT_URI:
    _CSP["DIRECTIVES"]["report-uri"] = [CSP_REPORT_URI]
# Report-only lets an operator try a stricter policy without breaking pages.
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# An invoice of 2,000 lines posts about 18,000 fields from the edit screen.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 25_000, minimum=1000)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "enmienda@localhost")

# --- Alegra ---------------------------------------------------------------
PORTAL_BASE_URL = env_url("PORTAL_BASE_URL", "http://127.0.0.1:8000", {"http", "https"})
ALEGRA_BASE_URL = env_url(
    "ALEGRA_BASE_URL", PORTAL_BASE_URL + "/sandbox/api/v1", {"http", "https"}
)
ALEGRA_EMAIL = env_str("ALEGRA_EMAIL", "")
ALEGRA_TOKEN = env_str("ALEGRA_TOKEN", "")

# The bundled Alegra simulator under /sandbox/: for the demo (`make run`) and the tests only.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG or TESTING)


def _webhook_hosts() -> list[str]:
    """The only hosts ("host" or "host:port") the simulator's webhooks may call: the portal's own."""
    hosts = [host.lower() for host in env_list("SANDBOX_WEBHOOK_ALLOWED_HOSTS", [urlparse(PORTAL_BASE_URL).netloc])]
    for host in hosts:
        parts = urlparse(f"http://{host}")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            parts = None
        if parts is None or not parts.hostname or parts.path or parts.query or parts.username or parts.password:
            raise ImproperlyConfigured(f"SANDBOX_WEBHOOK_ALLOWED_HOSTS must list host or host:port, got {host!r}")
    return hosts


SANDBOX_WEBHOOK_ALLOWED_HOSTS = _webhook_hosts()
if ALEGRA_EMAIL and ALEGRA_TOKEN and not SANDBOX_ENABLED and not os.environ.get("ALEGRA_BASE_URL"):
    raise ImproperlyConfigured("ALEGRA_BASE_URL must be set: the bundled sandbox is off (SANDBOX_ENABLED)")
ALEGRA_TIMEOUT_SECONDS = env_int("ALEGRA_TIMEOUT_SECONDS", 20, minimum=1)
ALEGRA_RATE_LIMIT_PER_MINUTE = env_int("ALEGRA_RATE_LIMIT_PER_MINUTE", 150, minimum=1)
# Where processes sharing a credential keep its request budget: redis:// or a folder.
ALEGRA_RATE_LIMIT_STORE = env_str(
    "ALEGRA_RATE_LIMIT_STORE",
    os.environ.get("REDIS_URL", "") or str(VAR_DIR / "ratelimit"),
)

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", {"filesystem", "redis", "rediss", "memory", "amqp"}
)
_BROKER_DIR = Path(env_str("CELERY_BROKER_DIR", str(VAR_DIR / "broker")))  # the filesystem broker's folder
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
# The longest push retry waits under an hour; the broker must not redeliver a
# task that is still legitimately waiting.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
    "CELERY_VISIBILITY_TIMEOUT", 2 * 3600, minimum=60
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# Queues scaled apart: pushes to Alegra, the mirror's reads (sync and webhooks), outbound
# events, and everything else. A worker names the queues it consumes with -Q.
CELERY_TASK_DEFAULT_QUEUE = "default"
TASK_QUEUES = ("default", "pushes", "sync", "events")
CELERY_TASK_ROUTES = {
    "approvals.tasks.push_change": {"queue": "pushes"},
    "approvals.tasks.sweep_pushes": {"queue": "pushes"},
    "invoices.tasks.*": {"queue": "sync"},
    "api.tasks.*": {"queue": "events"},
}
# Workers log through LOGGING below (JSON, redacted), not through Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Requests one API token may make per minute (429 with Retry-After beyond it).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600, minimum=1)
# Outbound events go to addresses on the internet; a host inside the portal's own network
# (loopback, private, link-local…) only when named here, so a subscription cannot reach the intranet.
EVENT_DELIVERY_PRIVATE_HOSTS = [host.lower() for host in env_list("EVENT_DELIVERY_PRIVATE_HOSTS", [])]
SYNC_RECENT_DAYS = env_int("SYNC_RECENT_DAYS", 45, minimum=1)
# New invoices of a mirrored page written with COPY on PostgreSQL (invoices/bulk.py).
MIRROR_COPY = env_bool("MIRROR_COPY", True)
# A full sync requests the next page while it stores the current one (off in the test run, whose
# in-process sandbox must answer on the test's own database connection).
SYNC_READ_AHEAD = env_bool("SYNC_READ_AHEAD", not TESTING)
SYNC_RECENT_EVERY_MINUTES = env_int("SYNC_RECENT_EVERY_MINUTES", 15, minimum=1)
SYNC_FULL_EVERY_HOURS = env_int("SYNC_FULL_EVERY_HOURS", 24, minimum=1)
# Scan the invoices a sync, webhook or push changed, as soon as the change commits.
FINDINGS_SCAN_ON_CHANGE = env_bool("FINDINGS_SCAN_ON_CHANGE", True)
FINDINGS_NIGHTLY_HOUR = env_int("FINDINGS_NIGHTLY_HOUR", 2, minimum=0)
if FINDINGS_NIGHTLY_HOUR > 23:
    raise ImproperlyConfigured(f"FINDINGS_NIGHTLY_HOUR must be an hour from 0 to 23, got {FINDINGS_NIGHTLY_HOUR}")

# --- Audit ---------------------------------------------------------------
# Signed heads of the chains are appended here: keep it outside the database's reach
# (another disk or host, append-only: `chattr +a`, a WORM bucket mount…).
AUDIT_ANCHOR_DIR = Path(env_str("AUDIT_ANCHOR_DIR", str(VAR_DIR / "audit-anchors")))
AUDIT_ANCHOR_EVERY_MINUTES = env_int("AUDIT_ANCHOR_EVERY_MINUTES", 10, minimum=1)

# One JSON object per line in production; readable lines in the demo. Either way every
# line passes the redaction of portal.logging (tokens, passwords, webhook secrets).
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", {"json", "text"})
_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", _LEVELS | {level.lower() for level in _LEVELS}).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.logging.RedactSecretsFilter"}},
    "formatters": {
        "text": {"()": "portal.logging.TextFormatter"},
        "json": {"()": "portal.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # it says "deleted 0 failed attempts" on every login
        # The MCP transport says "session manager started/shutting down" on every stateless request.
        "mcp": {"level": "WARNING"},
        # Django's own handlers print unredacted paths (a 404 on a webhook URL names its
        # secret): these loggers go through the console handler above instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Its 4xx warnings name the path: cleaned on the record itself, so any handler a
        # deployment adds (mail, an error tracker) gets the redacted line too.
        "django.request": {"filters": ["redact"]},
        # Its per-request lines repeat portal.request's; its warnings (4xx, 5xx) stay.
        "django.server": {"handlers": [], "level": "WARNING", "propagate": True, "filters": ["redact"]},
    },
}

# --- Operations: readiness and metrics ---------------------------------------------
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset, it does not exist.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Where counters shared by every process are kept (Alegra's 429s): redis:// or a folder.
METRICS_COUNTER_STORE = env_str("METRICS_COUNTER_STORE", os.environ.get("REDIS_URL", "") or str(VAR_DIR / "counters"))
# /ready/ fails when the scheduler's heartbeat is older than this...
READY_HEARTBEAT_MAX_AGE_SECONDS = env_int("READY_HEARTBEAT_MAX_AGE_SECONDS", 180, minimum=30)
HEARTBEAT_EVERY_SECONDS = env_int("HEARTBEAT_EVERY_SECONDS", 30, minimum=5)
# ...or when a company's last successful sync is older than this (0: report the age only).
READY_SYNC_MAX_AGE_MINUTES = env_int("READY_SYNC_MAX_AGE_MINUTES", 4 * SYNC_RECENT_EVERY_MINUTES)

for _folder in (VAR_DIR, _BROKER_DIR / "out", _BROKER_DIR / "processed", _BROKER_DIR / "control"):
    _folder.mkdir(parents=True, exist_ok=True)
if not STATIC_MANIFEST:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise looks there too, even when reading the sources

from celery.schedules import crontab  # noqa: E402

PUSH_MAX_ATTEMPTS = env_int("PUSH_MAX_ATTEMPTS", 8, minimum=1)
PUSH_RETRY_BASE_SECONDS = env_int("PUSH_RETRY_BASE_SECONDS", 2, minimum=1)
# Below the broker's visibility timeout, so a waiting retry is never delivered twice.
PUSH_RETRY_MAX_SECONDS = env_int("PUSH_RETRY_MAX_SECONDS", 900, minimum=1)
# Crash recovery: the sweeper (every minute, on the scheduler) hands a push whose worker
# showed no life for this long to another worker...
PUSH_STALE_AFTER_SECONDS = env_int("PUSH_STALE_AFTER_SECONDS", 300, minimum=30)
# ...and sends again a queued push nobody picked up; long enough that a backlog draining
# under Alegra's rate limit is not sent twice over.
PUSH_REQUEUE_AFTER_SECONDS = env_int("PUSH_REQUEUE_AFTER_SECONDS", 600, minimum=60)
# A queue of their own for pushes (workers started with `-Q`); empty: the default queue.
PUSH_QUEUE = env_str("PUSH_QUEUE", "")
# The same for outbound event deliveries; empty: the "events" queue of the routes above.
EVENTS_QUEUE = env_str("EVENTS_QUEUE", "")

CELERY_BEAT_SCHEDULE = {
    "sweep-pushes": {"task": "approvals.tasks.sweep_pushes", "schedule": 60},
    "sweep-events": {"task": "api.tasks.sweep_events", "schedule": 60},
    "verify-audit": {"task": "audit.tasks.verify_all", "schedule": crontab(hour=3, minute=30)},
    "anchor-audit": {"task": "audit.tasks.anchor_all", "schedule": AUDIT_ANCHOR_EVERY_MINUTES * 60},
    "remind-pending-requests": {"task": "approvals.tasks.remind_pending_requests",
                                "schedule": crontab(hour=8, minute=0)},
    "sync-recent": {"task": "invoices.tasks.sync_recent_all", "schedule": SYNC_RECENT_EVERY_MINUTES * 60},
    "sync-full": {"task": "invoices.tasks.sync_full_all", "schedule": SYNC_FULL_EVERY_HOURS * 3600},
    "ensure-webhooks": {"task": "invoices.tasks.ensure_webhooks_all", "schedule": 3600},
    # The scheduler's pulse: /ready/ reads when it last ran (through a default-queue worker).
    "heartbeat": {"task": "operations.tasks.heartbeat", "schedule": HEARTBEAT_EVERY_SECONDS},
    "notification-digests": {"task": "portal.tasks.send_digests",
                             "schedule": crontab(hour=env_int("DIGEST_HOUR", 7, minimum=0), minute=30)},
    "scan-anomalies": {"task": "findings.tasks.scan_all",
                       "schedule": crontab(hour=FINDINGS_NIGHTLY_HOUR, minute=45)},
}
