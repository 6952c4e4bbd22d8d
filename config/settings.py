"""Frontera settings: one module, driven by the environment (12-factor, django-environ).

Every variable is listed in the README's configuration table. With DEBUG off the process refuses
to start without SECRET_KEY and the three separate data keys (see config/keys.py).
The zero-install default (``make run``) is SQLite, in-process Celery tasks, a locmem cache and
console e-mail; DATABASE_URL, CELERY_BROKER_URL and REDIS_URL switch to the real services.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
import structlog
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import keys as keyconf
from config.logging import strip_query_strings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    environ.Env.read_env(str(_dotenv), overwrite=False)


def _required(name: str) -> str:
    """A variable that must be present; one clear startup error naming it otherwise."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable (see README, Configuration).")
    return value


def _bool(name: str, default: bool) -> bool:
    try:
        return env.bool(name, default=default)
    except ValueError as exc:  # pragma: no cover - message matters more than the branch
        raise ImproperlyConfigured(f"{name} must be true or false") from exc


# --- Core -------------------------------------------------------------------------------------
DEBUG = _bool("DEBUG", False)
DEMO_MODE = _bool("DEMO_MODE", False)
SECRET_KEY = _required("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

try:
    FIELD_ENCRYPTION_KEYRING = keyconf.parse_keyring(
        "FIELD_ENCRYPTION_KEYS", _required("FIELD_ENCRYPTION_KEYS")
    )
    BLIND_INDEX_KEY = keyconf.decode_key("BLIND_INDEX_KEY", _required("BLIND_INDEX_KEY"))
    PSEUDONYM_KEY = keyconf.decode_key("PSEUDONYM_KEY", _required("PSEUDONYM_KEY"))
    # Set only while `manage.py rotate_keys --blind-index` runs after a BLIND_INDEX_KEY change.
    BLIND_INDEX_KEY_PREVIOUS = keyconf.optional_key(
        "BLIND_INDEX_KEY_PREVIOUS", env.str("BLIND_INDEX_KEY_PREVIOUS", default="")
    )
    _card_key = env.str("CARD_SIGNING_KEY", default="")
    CARD_SIGNING_KEY = keyconf.decode_key("CARD_SIGNING_KEY", _card_key) if _card_key else None
    keyconf.check_separation(
        SECRET_KEY,
        {
            "FIELD_ENCRYPTION_KEYS": FIELD_ENCRYPTION_KEYRING,
            "BLIND_INDEX_KEY": BLIND_INDEX_KEY,
            **({"BLIND_INDEX_KEY_PREVIOUS": BLIND_INDEX_KEY_PREVIOUS} if BLIND_INDEX_KEY_PREVIOUS else {}),
            "PSEUDONYM_KEY": PSEUDONYM_KEY,
            **({"CARD_SIGNING_KEY": CARD_SIGNING_KEY} if CARD_SIGNING_KEY else {}),
        },
    )
except keyconf.KeyConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
if not DEBUG and CARD_SIGNING_KEY is None:
    raise ImproperlyConfigured("Set the CARD_SIGNING_KEY environment variable (see README).")

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "qsessions",  # sessions with a user foreign key: list and end them per user (SE-3)
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "oauth2_provider",  # partner API clients: client credentials, hashed secrets (api/, docs/api.md)
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_countries",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    # Frontera, bottom layer first (an app imports only from the apps above it in this list)
    "crossings",
    "accounts",
    "privacy",
    "registry",
    "transit",
    "reports",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "qsessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.security_events.DeniedResponseMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.sessions.SessionPolicyMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "privacy.middleware.HistoryContextMiddleware",
    "privacy.middleware.FailClosedMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "accounts.context_processors.frontera",
            ],
        },
    }
]

# --- Data ---------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True  # a request writes all or nothing
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["connect_timeout"] = 5
    # Django binds parameters on the client and never prepares; the one statement the server
    # prepares is the matching engine's candidate lookup (registry.resolution.engine._prepared),
    # run at every registration, whose parsing and planning cost several times its execution.
    # psycopg prepares nothing while prepare_threshold is None (Django's default), and the plan
    # is generic: the custom plan the server would otherwise make for each new set of keys is
    # that same cost again (the history triggers' INSERT ... VALUES are generic plans anyway).
    # Off behind a pooler that cannot keep prepared statements.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        _db_options["prepare_threshold"] = 5  # psycopg's own default; only server-binding cursors use it
        _db_options["options"] = " ".join(filter(None, (_db_options.get("options"), "-c plan_cache_mode=force_generic_plan")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Change history (SECURITY.md LG-2): on PostgreSQL the database's triggers write it, for every
# write, bulk and raw SQL included (privacy.history_triggers); simple-history's own Python writer
# is off there (no double rows) and records save()/delete() only on the SQLite demo.
SIMPLE_HISTORY_ENABLED = not DATABASES["default"]["ENGINE"].endswith("postgresql")
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A hung Redis must not hang requests: fail fast and let the caller degrade.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (empty broker = tasks run in-process, the zero-install default) ----------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False  # the outbox retries; a request never hangs on a dead broker
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
OUTBOX_RELAY_INTERVAL_SECONDS = env.int("OUTBOX_RELAY_INTERVAL_SECONDS", default=10)

# --- Authentication, MFA, lockout ---------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MFA_REQUIRED = _bool("MFA_REQUIRED", not DEBUG)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
OTP_TOTP_ISSUER = "Frontera"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Authenticator secrets and backup codes are never shown in the admin (django-otp).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

AXES_ENABLED = _bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # a border post shares one address
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0)
AXES_HTTP_RESPONSE_CODE = 429
# Per-address brakes (config.ratelimits, django-ratelimit; "<count>/<s|m|h|d>"). A border post's
# devices share one address, so the public card check allows a busy post's scanning rate.
VERIFY_RATE = env.str("VERIFY_RATE", default="120/m")
OAUTH_TOKEN_RATE = env.str("OAUTH_TOKEN_RATE", default="30/m")
RATELIMIT_USE_CACHE = "default"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.ContextWordsValidator"},
]

# --- Sessions and cookies -----------------------------------------------------------------------
_secure_cookies = _bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = _secure_cookies
CSRF_COOKIE_SECURE = _secure_cookies
SESSION_COOKIE_NAME = "__Host-frontera_session" if _secure_cookies else "frontera_session"
CSRF_COOKIE_NAME = "__Host-csrftoken" if _secure_cookies else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_ABSOLUTE_SECONDS", default=8 * 3600)
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=15 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# qsessions keeps the user on each session row. The cached variant only with a shared cache (Redis):
# with a per-process memory cache, a session ended in one worker would live on in another's cache.
SESSION_ENGINE = "qsessions.backends.cached_db" if REDIS_URL else "qsessions.backends.db"

# --- HTTP security ------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/"]  # container and load-balancer probes speak plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _bool("BEHIND_TLS_PROXY", False) else None
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent by config.middleware.SecurityHeadersMiddleware; the camera stays allowed for photo capture.
PERMISSIONS_POLICY = {"camera": "(self)", "geolocation": "()", "microphone": "()", "payment": "()"}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],  # django-csp 4 puts the request's nonce here when a page uses it
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Mexico_City"
USE_I18N = True
USE_TZ = True
POST_TIME_ZONES = ["America/Mexico_City", "America/Guatemala", "America/Cancun"]

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Hashed, compressed static files need `collectstatic`; development and tests serve the sources.
STATIC_MANIFEST = _bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# --- E-mail --------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="frontera@localhost")

# --- Forms and UI --------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
COUNTRIES_FIRST = ["MX", "GT", "HN", "SV", "NI", "BZ"]
COUNTRIES_FIRST_REPEAT = True
UNFOLD = {
    "SITE_TITLE": "Frontera",
    "SITE_HEADER": "Frontera",
    "SHOW_LANGUAGES": True,
}

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Partner clients use OAuth2 bearer tokens (header only); sessions stay for the web UI's JSON.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.PartnerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CappedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Per-agency rate limits (cache-based: a brake on runaway clients, not a security boundary).
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.AgencyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "agency": env.str("API_RATE_PER_AGENCY", default="600/min"),
        "agency_write": env.str("API_WRITE_RATE_PER_AGENCY", default="120/min"),
    },
}
# OAuth2 (django-oauth-toolkit): client credentials only; secrets hashed, tokens stored as a
# SHA-256 checksum only (RFC 9700 storage), header transport only, one-hour tokens.
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("API_TOKEN_SECONDS", default=3600),
    "SCOPES": {
        "stats:read": "Read aggregate statistics",
        "places:read": "Read places",
        "persons:read:pseudonymous": "Read people and registrations (pseudonymous)",
        "persons:read:identified": "Read people and registrations (identified)",
        "events:read": "Read transit events",
        "events:write": "Record transit events",
        "permits:verify": "Verify visitor cards",
        "reports:read": "Read report runs",
        "webhooks": "Receive signed webhooks",
    },
    "DEFAULT_SCOPES": [],
    "SCOPES_BACKEND_CLASS": "api.oauth.AgreementScopes",
    "OAUTH2_VALIDATOR_CLASS": "api.oauth.PartnerOAuth2Validator",
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    # Partners use the client-credentials grant only; the other RFC 9700 defaults are adopted so
    # that `check --deploy` is clean (SECURITY.md CF-2).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named for accounts.PartnerClient's FK
# Webhook endpoints must be https; plain http to 127.0.0.1 only when DEBUG (or a test) allows it.
API_WEBHOOK_ALLOW_LOCAL_HTTP = _bool("API_WEBHOOK_ALLOW_LOCAL_HTTP", DEBUG)
API_WEBHOOK_TIMEOUT_SECONDS = 5
API_MAX_PAGE_SIZE = 200
API_JSON_MAX_DEPTH = 32
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=1_048_576)
SPECTACULAR_SETTINGS = {
    "TITLE": "Frontera partner API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ReportKindEnum": "reports.models.ReportKind"},
}

# --- Logging (structured JSON, request id; never personal data) ----------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = _bool("LOG_JSON", not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.processors.JSONRenderer(),
            "foreign_pre_chain": [
                strip_query_strings,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.stdlib.add_log_level,
                structlog.stdlib.PositionalArgumentsFormatter(),
            ],
        },
        "console": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.dev.ConsoleRenderer(colors=False),
            "foreign_pre_chain": [
                structlog.stdlib.add_log_level,
                structlog.stdlib.PositionalArgumentsFormatter(),
            ],
        },
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json" if LOG_JSON else "console"},
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_structlog": {"level": LOG_LEVEL},
    },
}
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # addresses go to the access log, not the app log

structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        strip_query_strings,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)

# --- Frontera domain settings --------------------------------------------------------------------
SMALL_CELL_K = env.int("SMALL_CELL_K", default=5)
# Reports (reports/): file retention, request limit, longest period, worker behaviour.
REPORT_RETENTION_DAYS = env.int("REPORT_RETENTION_DAYS", default=90)
REPORTS_PER_USER_PER_DAY = env.int("REPORTS_PER_USER_PER_DAY", default=20)
REPORT_MAX_DAYS = env.int("REPORT_MAX_DAYS", default=400)
REPORT_MAX_DELIVERIES = env.int("REPORT_MAX_DELIVERIES", default=3)
REPORT_CHUNK_ROWS = 1000
REPORT_PDF_MAX_ROWS = 60  # a PDF is for reading; CSV and XLSX carry every row
REPORT_CHUNK_DELAY = env.float("REPORT_CHUNK_DELAY", default=0.0)  # tests only: slows runs down
REPORT_DASHBOARD_CACHE_SECONDS = 600
# Distinct persons one user may read per hour before an alert (LG-5); suspend the user on alert.
READ_ALERT_THRESHOLD = env.int("READ_ALERT_THRESHOLD", default=200)
READ_ALERT_SUSPEND = _bool("READ_ALERT_SUSPEND", True)
HEALTH_CHECK_BROKER = bool(CELERY_BROKER_URL)
# Identity resolution (registry/resolution): bulk imports and merges.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_DIR = Path(env.str("IMPORT_DIR", default=str(BASE_DIR / "var" / "imports")))
MERGE_UNDO_DAYS = env.int("MERGE_UNDO_DAYS", default=30)
# People's rights over their data (privacy/rights): answer within N working days (Mon-Fri);
# a cancellation blocks the record for N days before the erasure (docs/privacy.md).
RIGHTS_DUE_WORKING_DAYS = env.int("RIGHTS_DUE_WORKING_DAYS", default=20)
# Official holidays not counted as working days (ISO country codes; the `holidays` package).
RIGHTS_HOLIDAY_COUNTRIES = env.list("RIGHTS_HOLIDAY_COUNTRIES", default=["MX"])
RIGHTS_BLOCKING_DAYS = env.int("RIGHTS_BLOCKING_DAYS", default=30)
# Retention per data class, in days (privacy/retention.py; daily purge, dry run first).
RETENTION_IDENTITY_DAYS = env.int("RETENTION_IDENTITY_DAYS", default=1825)
RETENTION_VULNERABILITY_DAYS = env.int("RETENTION_VULNERABILITY_DAYS", default=730)
RETENTION_EVENTS_DAYS = env.int("RETENTION_EVENTS_DAYS", default=1825)
RETENTION_ACCESS_LOG_DAYS = env.int("RETENTION_ACCESS_LOG_DAYS", default=1825)
RETENTION_DRAFTS_DAYS = env.int("RETENTION_DRAFTS_DAYS", default=30)
RETENTION_IMPORT_FILES_DAYS = env.int("RETENTION_IMPORT_FILES_DAYS", default=7)

# Periodic work; django-celery-beat copies these into its editable schedule on start.
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {"task": "privacy.relay_outbox", "schedule": float(OUTBOX_RELAY_INTERVAL_SECONDS)},
    "detect-overstays": {"task": "transit.detect_overstays", "schedule": 86_400.0},
    "evaluate-read-volume": {"task": "accounts.evaluate_read_volume", "schedule": 300.0},
    "scan-changed-people": {"task": "registry.scan_changed_people", "schedule": 86_400.0},
    "retention-purge": {"task": "privacy.retention_purge", "schedule": 86_400.0},
}
