"""Jabber settings: one module, driven by environment variables with safe defaults."""

import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # A public key signs sessions anyone could forge: only a laptop in debug mode,
    # or the test suite, may run without one of its own.
    if not DEBUG and "pytest" not in sys.modules:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DJANGO_DEBUG=1 to run on a laptop with an insecure development key."
        )
    SECRET_KEY = "insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Not "daphne": its app only replaces runserver, and loading it imports Twisted
    # into every process, uvicorn's too; `manage.py serve` starts either server.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "accounts",
    "presence",
    "chat",
    "search",
    "files",
    # The project package, for its management command ``serve``.
    "jabber",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jabber.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "jabber.urls"
ASGI_APPLICATION = "jabber.asgi.application"

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

# Database: SQLite file by default, anything dj-database-url understands otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Sockets reach the database through one worker thread per process; keeping
        # its connection open saves a connect (and, on SQLite, a WAL checkpoint) per call.
        conn_max_age=env_int("JABBER_DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
    # BEGIN so a read-then-write transaction waits (busy timeout) instead of
    # failing with "database is locked" when it tries to upgrade its lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("JABBER_SQLITE_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
    # Tests use a file too: sockets run queries on worker threads, and a shared
    # in-memory database locks whole tables instead of waiting.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("JABBER_TEST_SQLITE_NAME", str(BASE_DIR / ".test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer and cache: in memory by default, Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
# A socket may sit in a blocking receive for up to the layer's brpop timeout;
# redis-py's socket timeout must be longer or idle sockets die with 1011.
JABBER_CHANNEL_CAPACITY = env_int("JABBER_CHANNEL_CAPACITY", 1000)
JABBER_GROUP_EXPIRY = env_int("JABBER_GROUP_EXPIRY", 86400)
# Sockets and hubs re-join their groups on heartbeats this often.
JABBER_GROUP_REJOIN_INTERVAL = env_float("JABBER_GROUP_REJOIN_INTERVAL", 20.0)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "retry_on_timeout": True,
                        "health_check_interval": 15,
                    }
                ],
                "capacity": JABBER_CHANNEL_CAPACITY,
                "group_expiry": JABBER_GROUP_EXPIRY,
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "pool_class": "jabber.cache.SharedConnectionPool",
                "socket_timeout": 5,
                "socket_connect_timeout": 5,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {
                "capacity": JABBER_CHANNEL_CAPACITY,
                "group_expiry": JABBER_GROUP_EXPIRY,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: username + password, email optional, rate limits on.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_USERNAME_VALIDATORS = "accounts.validators.username_validators"
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("JABBER_LOGIN_RATE", "30/m/ip"),
    "login_failed": os.environ.get("JABBER_LOGIN_FAILED_RATE", "10/m/ip,5/5m/key"),
    "signup": os.environ.get("JABBER_SIGNUP_RATE", "20/m/ip"),
}
LOGIN_REDIRECT_URL = "/chat/"
LOGIN_URL = "/accounts/login/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"


def email_settings(url: str) -> dict:
    """Django's email settings from an EMAIL_URL such as smtp://user:password@host:587.

    smtp:// uses STARTTLS on port 587 or with ?tls=1 (smtp+tls:// always), smtps://
    implicit TLS (default port 465); console:// prints mail.
    """
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtp+tls", "smtps"):
        raise ImproperlyConfigured(
            f"EMAIL_URL: unknown scheme {parts.scheme!r} (smtp, smtp+tls, smtps)"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    ssl = parts.scheme == "smtps"
    port = parts.port or (465 if ssl else 25)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": ssl,
        "EMAIL_USE_TLS": not ssl
        and (parts.scheme == "smtp+tls" or port == 587 or query.get("tls") in ("1", "true")),
    }


# Mail: EMAIL_URL when set; printed in debug; otherwise none (check --deploy says so).
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    globals().update(email_settings(EMAIL_URL))
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "jabber@localhost")
# Unread mentions and direct messages are emailed at most this often per user.
JABBER_EMAIL_DIGEST_MINUTES = env_int("JABBER_EMAIL_DIGEST_MINUTES", 15)
# Where links in emails point (no request to take it from).
JABBER_SITE_URL = os.environ.get("JABBER_SITE_URL", "http://localhost:8000").rstrip("/")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Uploaded files (SPEC §14): through Django's storage API, never served as static
# files; files.views checks read access first. The filesystem by default,
# S3-compatible storage (django-storages, installed separately) when a bucket is set.
MEDIA_ROOT = os.environ.get("JABBER_MEDIA_ROOT", str(BASE_DIR / "media"))
JABBER_S3_BUCKET = os.environ.get("JABBER_S3_BUCKET", "")
if JABBER_S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": JABBER_S3_BUCKET,
            "endpoint_url": os.environ.get("JABBER_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("JABBER_S3_REGION") or None,
            "access_key": os.environ.get("JABBER_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("JABBER_S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# With nginx in front: the internal location prefix that maps to MEDIA_ROOT
# (docs/deploy.md); the view checks access and nginx sends the bytes.
JABBER_MEDIA_ACCEL_REDIRECT = os.environ.get("JABBER_MEDIA_ACCEL_REDIRECT", "")
JABBER_MAX_UPLOAD = env_int("JABBER_MAX_UPLOAD", 25 * 1024 * 1024)
JABBER_UPLOAD_DAILY = env_int("JABBER_UPLOAD_DAILY", 500 * 1024 * 1024)
JABBER_UPLOAD_BURST = env_int("JABBER_UPLOAD_BURST", 20)
JABBER_UPLOAD_PER_SECOND = env_float("JABBER_UPLOAD_PER_SECOND", 0.2)
JABBER_MAX_ATTACHMENTS = 10
JABBER_MAX_IMAGE_PIXELS = env_int("JABBER_MAX_IMAGE_PIXELS", 50_000_000)
JABBER_UPLOAD_RETENTION_DAYS = env_int("JABBER_UPLOAD_RETENTION_DAYS", 30)
# Small uploads stay in memory while they are checked; larger ones go to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security headers; the HTTPS-only ones switch on with DJANGO_SECURE (production).
JABBER_SECURE = env_bool("DJANGO_SECURE", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = JABBER_SECURE
CSRF_COOKIE_SECURE = JABBER_SECURE
SECURE_SSL_REDIRECT = JABBER_SECURE and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000) if JABBER_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = JABBER_SECURE
SECURE_HSTS_PRELOAD = JABBER_SECURE
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if JABBER_SECURE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Limits (docs/protocol.md#limits), each overridable by environment.
JABBER_MAX_BODY = env_int("JABBER_MAX_BODY", 4000)
JABBER_MAX_FRAME = env_int("JABBER_MAX_FRAME", 64 * 1024)
JABBER_RATE_BURST = env_int("JABBER_RATE_BURST", 10)
JABBER_RATE_PER_SECOND = env_float("JABBER_RATE_PER_SECOND", 2.0)
JABBER_REACTION_BURST = env_int("JABBER_REACTION_BURST", 20)
JABBER_REACTION_PER_SECOND = env_float("JABBER_REACTION_PER_SECOND", 5.0)
JABBER_HISTORY_PAGE = env_int("JABBER_HISTORY_PAGE", 50)
JABBER_HISTORY_MAX = env_int("JABBER_HISTORY_MAX", 100)
JABBER_REPLAY_MAX = env_int("JABBER_REPLAY_MAX", 1000)
JABBER_MAX_SOCKETS_PER_USER = env_int("JABBER_MAX_SOCKETS_PER_USER", 20)
JABBER_JOIN_BURST = env_int("JABBER_JOIN_BURST", 30)
JABBER_JOIN_PER_SECOND = env_float("JABBER_JOIN_PER_SECOND", 1.0)
# Every client frame costs one token of its socket's budget (SPEC §15).
JABBER_FRAME_BURST = env_int("JABBER_FRAME_BURST", 60)
JABBER_FRAME_PER_SECOND = env_float("JABBER_FRAME_PER_SECOND", 10.0)
# New rooms per user per hour (SPEC §15): visiting a name creates its room.
JABBER_ROOM_CREATE_RATE = env_int("JABBER_ROOM_CREATE_RATE", 10)
JABBER_TYPING_INTERVAL = env_float("JABBER_TYPING_INTERVAL", 2.0)
# New direct-message conversations a user may open per hour.
JABBER_DM_CREATE_RATE = env_int("JABBER_DM_CREATE_RATE", 20)
JABBER_CLIENT_ID_MAX = 64
# A socket whose client leaves more than this unread is dropped (it resumes).
JABBER_SLOW_CLIENT_BUFFER = env_int("JABBER_SLOW_CLIENT_BUFFER", 1024 * 1024)

# Presence (docs/protocol.md#presence-and-typing): shortened by tests.
JABBER_PRESENCE_TOUCH_INTERVAL = env_float("JABBER_PRESENCE_TOUCH_INTERVAL", 20.0)
JABBER_PRESENCE_TIMEOUT = env_float("JABBER_PRESENCE_TIMEOUT", 60.0)
JABBER_PRESENCE_PRUNE_INTERVAL = env_float("JABBER_PRESENCE_PRUNE_INTERVAL", 15.0)
# A room hears of a presence change at once, but at most once per interval from
# each process; changes inside the interval go out together at its end.
JABBER_PRESENCE_BROADCAST_INTERVAL = env_float("JABBER_PRESENCE_BROADCAST_INTERVAL", 0.25)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "jabber": {"level": os.environ.get("JABBER_LOG_LEVEL", "INFO")},
        "chat": {"level": os.environ.get("JABBER_LOG_LEVEL", "INFO")},
        "presence": {"level": os.environ.get("JABBER_LOG_LEVEL", "INFO")},
    },
}
WHITENOISE_USE_FINDERS = True
