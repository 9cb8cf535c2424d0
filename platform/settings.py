"""Settings of the e-BOK platform, read from the environment.

Development defaults are safe for a laptop; ``DJANGO_ENV=production`` turns on
everything ``manage.py check --deploy`` asks for.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_secret(name: str, default: str = "") -> str:
    """A secret from the file named by ``<NAME>_FILE`` (Docker or Kubernetes secrets,
    a Vault Agent template), else from ``<NAME>``. Setting both is an error."""
    path = os.environ.get(f"{name}_FILE")
    if path is None:
        return os.environ.get(name, default)
    if name in os.environ:
        raise RuntimeError(f"Set {name} or {name}_FILE, not both.")
    return Path(path).read_text(encoding="utf-8").strip()


def env_keys(name: str) -> list[str]:
    """A secret holding several keys, the current one first (commas or whitespace)."""
    return env_secret(name).replace(",", " ").split()


def refuse_published_secret(name: str, *values: str) -> None:
    """Production never runs on a value printed in this repository (docs/KEY-MANAGEMENT.md)."""
    if PRODUCTION and any(v.startswith(DEV_SECRET_PREFIX) or "change-me" in v for v in values):
        raise RuntimeError(f"{name} holds a published development or example value.")


PRODUCTION = os.environ.get("DJANGO_ENV", "development") == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)
DEV_SECRET_PREFIX = "dev-only-insecure-key-"  # noqa: S105 - marks the development default
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set in production.")
    SECRET_KEY = DEV_SECRET_PREFIX + "x" * 40
# Earlier keys still accepted for signatures (sessions, password resets) while they age out.
SECRET_KEY_FALLBACKS = env_keys("SECRET_KEY_FALLBACKS")
refuse_published_secret("SECRET_KEY", SECRET_KEY, *SECRET_KEY_FALLBACKS)

BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}"] + [
    h for h in os.environ.get("EXTRA_ALLOWED_HOSTS", "").split(",") if h
]
# Where residents reach the portal; used in the access letters.
PORTAL_SCHEME = os.environ.get("PORTAL_SCHEME", "https" if PRODUCTION else "http")
PORTAL_PORT = os.environ.get("PORTAL_PORT", "" if PRODUCTION else "8000")

# --- Tenancy -----------------------------------------------------------------

SHARED_APPS = [
    # Before django_tenants, so that tenants' migrate_schemas (which also migrates the
    # template schema) wins over django-tenants' command of the same name.
    "tenants",
    "django_tenants",
    "ebok.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ebok.keys",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (no CDN)
    "monitoring",  # security alerts (public schema) and retention
]
TENANT_APPS = [
    "ebok.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ebok.keys",
    "axes",
    "ebok",
    "ebok.portal",
    "ebok.panel",
    "ebok.api",
    "connectors",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Cooperative"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "ebok_platform.urls_public"
ROOT_URLCONF = "ebok_platform.urls_tenant"
# New cooperatives are cloned from a migrated template schema: seconds, not minutes.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# How long a host → cooperative lookup stays cached in each web process.
TENANT_CACHE_SECONDS = env_int("TENANT_CACHE_SECONDS", 30)
# SET search_path once after each switch of schema, not before every query
# (docs/decisions/0803-search-path-once-per-switch.md).
TENANT_LIMIT_SET_CALLS = True
# migrate_schemas leaves alone the schemas that already have every migration.
GET_EXECUTOR_FUNCTION = "tenants.migration_executors.get_executor"

DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ebok"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# django-tenants' backend with a table listing that does not scan every schema.
DATABASES["default"]["ENGINE"] = "tenants.postgresql_backend"
# A password handed out on its own (e.g. by a vault's database engine) wins over the URL's.
if DATABASE_PASSWORD := env_secret("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = DATABASE_PASSWORD
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_secret("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "ebok"),
    }
}

# --- Request handling ----------------------------------------------------------

MIDDLEWARE = [
    "ebok_platform.middleware.RefuseNulBytesMiddleware",
    "ebok_platform.middleware.TrustedProxyMiddleware",
    "tenants.middleware.CooperativeMiddleware",
    "monitoring.middleware.TrafficCounterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ebok_platform.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ebok_platform.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "ebok_platform.middleware.DeniedRequestsMiddleware",
    "ebok.keys.middleware.KeyServiceUnavailableMiddleware",
    "ebok.accounts.device_cookies.DeviceCookieMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.cooperative",
            ],
        },
    }
]

WSGI_APPLICATION = "ebok_platform.wsgi.application"

# --- Accounts, passwords, sessions ---------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "ebok.accounts.device_cookies.DeviceCookieBackend",
    "ebok.accounts.backends.AccountBackend",
]
# Peppered Argon2id first (ASVS 2.4.5, decision 0814); the plain Argon2id and PBKDF2 hashes
# still verify and are redone with the first hasher at the next login.
PASSWORD_HASHERS = [
    "ebok.accounts.hashers.PepperedArgon2idHasher",
    "ebok.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Secret HMAC keys applied before Argon2id, the current one first (base64 of at least 32
# random bytes each); kept apart from the database. Derived from SECRET_KEY in development.
PASSWORD_PEPPERS = env_keys("PASSWORD_PEPPERS")
refuse_published_secret("PASSWORD_PEPPERS", *PASSWORD_PEPPERS)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "ebok.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
# An issued (random) password that nobody used expires after this many days.
ISSUED_PASSWORD_VALID_DAYS = env_int("ISSUED_PASSWORD_VALID_DAYS", 14)

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_DOMAIN = None  # host-only: a cookie of odra.<host> never reaches another host
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600  # the absolute limit; idle limits are enforced per kind
# One-time messages in a signed cookie (not the session: a "you have logged out" would
# otherwise start a new session right after logout), prefixed like the others below.
MESSAGE_STORAGE = "ebok_platform.messages.PrefixedCookieStorage"
MESSAGE_COOKIE_NAME = "messages"
RESIDENT_IDLE_SECONDS = 30 * 60
STAFF_IDLE_SECONDS = 15 * 60
# Sensitive actions need an authentication (login or re-authentication) this recent;
# staff API writes need a token issued this recently (docs/decisions/0760-…).
RECENT_AUTHENTICATION_SECONDS = env_int("RECENT_AUTHENTICATION_SECONDS", 10 * 60)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "portal:login"

AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ebok.accounts.views_lockout.lockout_response"
# The client address is REMOTE_ADDR, which TrustedProxyMiddleware sets from
# X-Forwarded-For only for requests that came through a trusted proxy.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
TRUSTED_PROXIES = [p for p in os.environ.get("TRUSTED_PROXIES", "127.0.0.1/32,::1/128").split(",")]
# Device cookies (docs/decisions/0730-device-cookies.md): failed logins are also counted
# per account across addresses; past the limit in the window only browsers that logged
# in to that account before (a signed, host-only cookie) may try, each a few times.
UNTRUSTED_LOGIN_FAILURE_LIMIT = env_int("UNTRUSTED_LOGIN_FAILURE_LIMIT", 20)
UNTRUSTED_LOGIN_WINDOW_SECONDS = env_int("UNTRUSTED_LOGIN_WINDOW_SECONDS", 3600)
DEVICE_COOKIE_FAILURE_LIMIT = env_int("DEVICE_COOKIE_FAILURE_LIMIT", 5)
DEVICE_COOKIE_AGE_DAYS = env_int("DEVICE_COOKIE_AGE_DAYS", 180)
DEVICE_COOKIE_SECURE = PRODUCTION
DEVICE_COOKIE_NAME = "__Host-device" if PRODUCTION else "ebok_device"

# --- Internationalisation -----------------------------------------------------

LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
TIME_ZONE = "Europe/Warsaw"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Outgoing e-mail (notices to account holders, decision 0710) ---------------------

# SMTP when EMAIL_HOST is set, and always in production (default: a relay on localhost:25);
# in development without a host the mail is printed by the console backend.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or PRODUCTION
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# The display name is replaced by the cooperative's name in its accounts' notices.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"e-BOK <no-reply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static and stored files ----------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "tenants.storage.CooperativeFileStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Private files: never under a public URL, always through a view that checks rights.
PRIVATE_STORAGE_ROOT = Path(os.environ.get("PRIVATE_STORAGE_ROOT", BASE_DIR / "var" / "files"))
# Each cooperative's inbox, archive and quarantine live under this folder by default.
CONNECTOR_ROOT = Path(os.environ.get("CONNECTOR_ROOT", BASE_DIR / "var" / "connectors"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Limits of an accounting package (see docs/zsi-export notes in connectors/).
ZSI_MAX_UNCOMPRESSED_BYTES = env_int("ZSI_MAX_UNCOMPRESSED_BYTES", 2 * 1024**3)
ZSI_MAX_FILES = env_int("ZSI_MAX_FILES", 100_000)
# One PDF of a package: it is encrypted whole in memory before it is stored (decision 0812).
ZSI_MAX_DOCUMENT_BYTES = env_int("ZSI_MAX_DOCUMENT_BYTES", 32 * 1024**2)
# Where the ZSI-REST connector may connect (ASVS 5.2.6, 12.6.1; decision 0810): host
# patterns ("zsi.odra.pl", "*.zsi.example.pl", ":8443" for another port than the scheme's,
# ":*" for any), networks whose private addresses are nevertheless allowed (a ZSI server
# behind a VPN), and the schemes: https only in production.
ZSI_REST_ALLOWED_HOSTS = os.environ.get("ZSI_REST_ALLOWED_HOSTS", "").replace(",", " ").split()
ZSI_REST_ALLOWED_NETWORKS = (
    os.environ.get("ZSI_REST_ALLOWED_NETWORKS", "").replace(",", " ").split()
)
ZSI_REST_SCHEMES = ("https",) if PRODUCTION else ("https", "http")
# Keys (docs/KEY-MANAGEMENT.md): Fernet keys, the current one first, earlier ones after it
# until `rotate_secrets` re-encrypted everything. Derived from SECRET_KEY in development.
CONNECTOR_SECRET_KEYS = env_keys("CONNECTOR_SECRET_KEYS") or env_keys("CONNECTOR_SECRET_KEY")
OTP_KEY_ENCRYPTION_KEYS = env_keys("OTP_KEY_ENCRYPTION_KEYS")
refuse_published_secret("CONNECTOR_SECRET_KEYS", *CONNECTOR_SECRET_KEYS)
refuse_published_secret("OTP_KEY_ENCRYPTION_KEYS", *OTP_KEY_ENCRYPTION_KEYS)
# Stored documents' PDFs (decision 0812): Fernet only, whatever SECRETS_BACKEND says.
DOCUMENT_KEYS = env_keys("DOCUMENT_KEYS")
refuse_published_secret("DOCUMENT_KEYS", *DOCUMENT_KEYS)
# Who encrypts those secrets (decision 0783): "fernet" (the keys above, in this process) or
# "vault-transit" (HashiCorp Vault's Transit engine; the keys never leave Vault).
SECRETS_BACKEND = os.environ.get("SECRETS_BACKEND", "fernet")
VAULT_ADDR = os.environ.get("VAULT_ADDR", "").rstrip("/")
# VAULT_TOKEN_FILE (e.g. a Vault Agent's token sink) is re-read at each use, so a renewed
# token is picked up without a restart.
VAULT_TOKEN = env_secret("VAULT_TOKEN")
VAULT_TOKEN_FILE = os.environ.get("VAULT_TOKEN_FILE", "")
refuse_published_secret("VAULT_TOKEN", VAULT_TOKEN)
VAULT_CACERT = os.environ.get("VAULT_CACERT", "")
VAULT_TRANSIT_MOUNT = os.environ.get("VAULT_TRANSIT_MOUNT", "transit")
VAULT_TRANSIT_CONNECTOR_KEY = os.environ.get(
    "VAULT_TRANSIT_CONNECTOR_KEY", "ebok-connector-secrets"
)
VAULT_TRANSIT_OTP_KEY = os.environ.get("VAULT_TRANSIT_OTP_KEY", "ebok-totp-keys")
VAULT_TIMEOUT_SECONDS = float(os.environ.get("VAULT_TIMEOUT_SECONDS", 5))
# clamd that scans PDFs of packages and uploaded logos: tcp://host:3310, or "off"
# (production must say so explicitly; decision 0782).
ANTIVIRUS_URL = os.environ.get("ANTIVIRUS_URL", "")
ANTIVIRUS_TIMEOUT_SECONDS = float(os.environ.get("ANTIVIRUS_TIMEOUT_SECONDS", 60))

# --- Celery -----------------------------------------------------------------------

CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_DEFAULT_QUEUE", "default")
CELERY_SYNC_QUEUE = os.environ.get("CELERY_SYNC_QUEUE", "syncs")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# How often beat asks the dispatcher which cooperatives are due.
SYNC_DISPATCH_SECONDS = float(os.environ.get("SYNC_DISPATCH_SECONDS", 60))
SYNC_DISPATCH_JITTER_SECONDS = float(os.environ.get("SYNC_DISPATCH_JITTER_SECONDS", 30))

# --- Security checks and retention (docs/decisions/0750-alerts-and-retention.md) ------

# Every SECURITY_CHECK_SECONDS each cooperative's last window is checked; a count at or
# over its threshold raises an alert (ALERT_<KIND>=0 switches a kind off).
SECURITY_CHECK_SECONDS = float(os.environ.get("SECURITY_CHECK_SECONDS", 300))
SECURITY_ALERT_WINDOW_MINUTES = env_int("SECURITY_ALERT_WINDOW_MINUTES", 60)
SECURITY_ALERT_THRESHOLDS = {
    kind: env_int(f"ALERT_{kind.upper()}", default)
    for kind, default in {
        "failed_logins_account": 10,  # per login
        "failed_logins_address": 20,  # per client address
        "lockouts": 3,  # per cooperative
        "denials_account": 20,  # access refused, per login
        "denials_address": 30,  # access refused, per client address
        "staff_reads": 100,  # person cards opened by one staff member
        "api_errors": 300,  # API answers 4xx/5xx, per cooperative
        "requests": 50_000,  # all requests, per cooperative
        "sync_failures": 3,  # syncs failed or rejected in a row
    }.items()
}
# Retention: older records are deleted daily (RETENTION_RUN_SECONDS) and by
# `manage.py purge_expired_records`.
RETENTION_RUN_SECONDS = float(os.environ.get("RETENTION_RUN_SECONDS", 24 * 3600))
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 730)
LOGIN_RETENTION_DAYS = env_int("LOGIN_RETENTION_DAYS", 365)
API_TOKEN_GRACE_DAYS = env_int("API_TOKEN_GRACE_DAYS", 7)
SYNC_RECORD_RETENTION_DAYS = env_int("SYNC_RECORD_RETENTION_DAYS", 365)
PACKAGE_RETENTION_DAYS = env_int("PACKAGE_RETENTION_DAYS", 90)

# --- Transport to the backends (decision 0770) -------------------------------------

# Production talks to PostgreSQL and Redis on other machines only over verified TLS
# (sslmode=verify-full, rediss://…?ssl_cert_reqs=required); ALLOW_PLAINTEXT_BACKENDS
# accepts plain connections on a network you trust on purpose.
if PRODUCTION and not env_bool("ALLOW_PLAINTEXT_BACKENDS", False):
    from django.core.exceptions import ImproperlyConfigured

    from ebok_platform.transport import plaintext_backends

    if problems := plaintext_backends(
        DATABASES["default"], {"REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": CELERY_BROKER_URL}
    ):
        raise ImproperlyConfigured("; ".join(problems))

# --- REST API ------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["ebok.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "ebok.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [
        "ebok.api.throttles.IPRateThrottle",
        "ebok.api.throttles.TokenRateThrottle",
    ],
    # Counted in the Redis cache, per cooperative (cache keys carry the schema).
    "DEFAULT_THROTTLE_RATES": {
        "ip": os.environ.get("API_RATE_IP", "600/min"),
        "token": os.environ.get("API_RATE_TOKEN", "300/min"),
        "login": os.environ.get("API_RATE_LOGIN", "20/min"),
    },
    # REMOTE_ADDR is already the client's address (decision 0005): never re-read X-Forwarded-For.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-BOK API",
    "DESCRIPTION": "Residents' and staff API of a housing cooperative's e-BOK.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PremisesKindEnum": "ebok.models.Premises.Kind",
        "LedgerEntryKindEnum": "ebok.models.LedgerEntry.Kind",
        "DocumentKindEnum": "ebok.models.Document.Kind",
        "AccountKindEnum": "ebok.accounts.models.User.Kind",
        "StaffRoleEnum": "ebok.accounts.models.User.Role",
        "BlockReasonEnum": "ebok.accounts.models.User.BlockReason",
    },
}
API_TOKEN_HOURS = env_int("API_TOKEN_HOURS", 12)

# --- Security headers ----------------------------------------------------------------

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
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
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_NAME = "__Host-language"
    MESSAGE_COOKIE_NAME = "__Host-messages"

# stdout logs: one JSON object per line in production (a newline or control character
# in a message or a traceback is escaped, so nobody forges a log line; ASVS 7.3.1),
# readable text in development. LOG_FORMAT=json|console overrides.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "console")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "console": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
# The worker and beat log through the same JSON handler instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
# At most this many access.denied events per cooperative a minute; a scanner's flood
# stays in the stdout log (docs/decisions/0740-audited-reads-and-denials.md).
DENIALS_AUDITED_PER_MINUTE = env_int("DENIALS_AUDITED_PER_MINUTE", 300)
