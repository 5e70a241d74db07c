"""OpsDesk settings, all driven by the environment (django-environ).

Development defaults are safe and need no configuration: SQLite in
``var/db.sqlite3``, DEBUG on, mail to files in ``var/mail/``. Production is
``DEBUG=false`` plus a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``; see
``docs/operations.md``.
"""

from pathlib import Path

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_q",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "axes",
    "csp",
    # The floors, from the ground up (docs/architecture.md).
    "core",
    "tickets",
    "sla",
    "notifications",
    "routing",
    "deferrals",
    "escalations",
    "reports",
    "intake",
    "channels",
    "portal",
    "opsdesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tickets.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.csp.CSPMiddleware",  # django-csp's, the policy of an ordinary response built once
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsdesk.urls"
WSGI_APPLICATION = "opsdesk.wsgi.application"

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
                "opsdesk.context_processors.portal",
            ],
        },
    },
]
# Form widgets: Django's markup, the common widgets drawn in Python instead of one template per <option>.
FORM_RENDERER = "core.form_renderer.FastRenderer"

# --- Database -------------------------------------------------------------
# SQLite is the embedded default; DATABASE_URL=postgres://... selects PostgreSQL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: the web server and the q-cluster share the file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL: the hot lookups compiled once per process (core.rowcache, each marked ``prepare=True``) are prepared
# on the server and planned once per connection; planning their wide joins cost the server several times running
# them. Turn off behind a connection pooler in transaction mode that does not keep prepared statements per client
# (PgBouncer before 1.21, or without max_prepared_statements). docs/operations.md.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # reports.ClockFact's covering index (Index(include=...)) is for PostgreSQL; SQLite builds it without the
    # included columns, which is fine. Without this, every command that checks the database (migrate, ...)
    # prints models.W040. Silenced only when the database is SQLite: PostgreSQL builds the index in full.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.auth.ModelBackend",  # Django's, with a person's permissions read in one query
    "django.contrib.auth.backends.ModelBackend",  # sessions signed in through it before core.auth's stay signed in
]
# What core.auth.ModelBackend reads with the signed-in person, in the same query: every page uses the profile.
AUTH_USER_SELECT_RELATED = ("profile",)
# Django's database sessions, read by a statement compiled once per process (core/sessions.py).
SESSION_ENGINE = "core.sessions"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Almaty")
# No ticket without control: after every migrate, make sure a catch-all SLA policy exists (sla.defaults).
SLA_ENSURE_CATCH_ALL = env.bool("SLA_ENSURE_CATCH_ALL", default=True)
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Uploaded files (attachments) ------------------------------------------
# Stored through the default storage (docs/channels.md: any Django storage backend, e.g. django-storages
# with S3, by STORAGES["default"]); served only through /attachments/<id>/ to users who can see the ticket.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"  # never routed: files go out through the permission-checking view
ATTACHMENT_MAX_FILE_BYTES = env.int("ATTACHMENT_MAX_FILE_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_MAX_MESSAGE_BYTES = env.int("ATTACHMENT_MAX_MESSAGE_BYTES", default=25 * 1024 * 1024)
ATTACHMENT_MAX_FILES = env.int("ATTACHMENT_MAX_FILES", default=10)
# Portal uploads: the guard stops keeping an ``attachments`` file once it breaks a limit (core/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "core.uploads.AttachmentSizeGuard",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
ATTACHMENT_LINK_MAX_AGE = env.int("ATTACHMENT_LINK_MAX_AGE", default=7 * 24 * 3600)  # signed links for gateways
ATTACHMENT_FORBIDDEN_EXTENSIONS = env.list(
    "ATTACHMENT_FORBIDDEN_EXTENSIONS",
    default=[
        "exe",
        "bat",
        "cmd",
        "com",
        "scr",
        "pif",
        "msi",
        "msp",
        "dll",
        "cpl",
        "js",
        "jse",
        "vbs",
        "vbe",
        "wsf",
        "wsh",
        "ps1",
        "hta",
        "jar",
        "lnk",
        "reg",
        "sh",
    ],
)

# --- Email ----------------------------------------------------------------
# EMAIL_URL selects the backend. Without it, development writes each message to a file under var/mail/
# (bin/run-dev prints where), so notification bodies do not flood the console of `make run`.
if env.str("EMAIL_URL", default="") or not DEBUG:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
    vars().update(EMAIL_CONFIG)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OpsDesk <opsdesk@localhost>")

# --- Security -------------------------------------------------------------
# HTTPS hardening is on whenever DEBUG is off; HTTPS=false keeps it off for a
# plain-HTTP deployment behind a trusted network (and for the test server).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.bool("BEHIND_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],  # csp.constants.NONCE: the literal "'nonce'" is an invalid source
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}

# --- django-q2 ------------------------------------------------------------
# ORM broker by default (SQLite or PostgreSQL); REDIS_URL switches the broker
# to Redis while schedules stay in the database. See docs/operations.md.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="opsdesk"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 90,
    "retry": 120,
    "max_attempts": 3,
    "catch_up": False,
    "queue_limit": 50,
    "bulk": 10,
    "save_limit": 1000,
    "label": "Django Q",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "core.taskqueue.OrmBroker"  # django-q's ORM broker, the task row written faster
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Q_CLUSTER["workers"] = min(Q_CLUSTER["workers"], 2)

# --- Intake API -----------------------------------------------------------
# Files travel in the JSON as base64 (4 bytes for every 3): by default the body may carry the largest message
# ATTACHMENT_MAX_MESSAGE_BYTES allows, plus 256 KB of text. The API reads the body itself, in one bounded read,
# so DATA_UPLOAD_MAX_MEMORY_SIZE (Django's limit for request.body and forms) does not apply to it.
INTAKE_MAX_BODY_BYTES = env.int(
    "INTAKE_MAX_BODY_BYTES", default=4 * -(-ATTACHMENT_MAX_MESSAGE_BYTES // 3) + 256 * 1024
)

# --- Receiving email (channels.inbound; see docs/channels.md, "Receiving email") ---
EMAIL_INTAKE_RATE_LIMIT = env.int("EMAIL_INTAKE_RATE_LIMIT", default=30)  # emails taken per sender and window
EMAIL_INTAKE_RATE_WINDOW = env.int("EMAIL_INTAKE_RATE_WINDOW", default=3600)  # seconds
EMAIL_INTAKE_OWN_ADDRESSES = env.list("EMAIL_INTAKE_OWN_ADDRESSES", default=[])  # never taken as customer mail
EMAIL_FETCH_BATCH = env.int("EMAIL_FETCH_BATCH", default=200)  # emails read per mailbox and poll
EMAIL_FETCH_TIMEOUT = env.int("EMAIL_FETCH_TIMEOUT", default=30)  # seconds, IMAP socket
EMAIL_FETCH_CA_FILE = env.str("EMAIL_FETCH_CA_FILE", default="")  # PEM CA(s) for IMAP TLS instead of the system's
# --- end of receiving email ---

# --- Notifications (notifications; see docs/notifications.md) ---
SMS_PROVIDER = env.str("SMS_PROVIDER", default="notifications.channels.LogSmsProvider")
NOTIFY_SITE_URL = env.str("NOTIFY_SITE_URL", default="http://127.0.0.1:8000")  # links in emails and webhooks
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)  # then a delivery is failed
NOTIFY_SENDING_TIMEOUT = env.int("NOTIFY_SENDING_TIMEOUT", default=600)  # seconds before a stuck send is reclaimed
# --- end of notifications --------------------------------------------------

# --- Outbound delivery to customers (channels; docs/channels.md "Outbound delivery") ---
# The domain of the Message-IDs OpsDesk gives its emails to customers (default: DEFAULT_FROM_EMAIL's domain).
CHANNELS_MAIL_DOMAIN = env.str("CHANNELS_MAIL_DOMAIN", default="")
CHANNELS_MAX_ATTEMPTS = env.int("CHANNELS_MAX_ATTEMPTS", default=8)  # then a reply is "not delivered"
CHANNELS_SENDING_TIMEOUT = env.int("CHANNELS_SENDING_TIMEOUT", default=600)  # seconds before a stuck send is reclaimed
CHANNELS_GATEWAY_TIMEOUT = env.int("CHANNELS_GATEWAY_TIMEOUT", default=10)  # seconds a reply callback may take
# How long a satisfaction survey link works, from the moment the ticket is done (docs/satisfaction.md).
SATISFACTION_SURVEY_MAX_AGE = env.int("SATISFACTION_SURVEY_MAX_AGE", default=14 * 24 * 3600)
# --- end of outbound delivery -------------------------------------------------

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
