"""liverecord settings, read from the environment.

The embedded default (no variable set) runs on SQLite in ``var/``, local storage in ``var/media`` and a
Celery broker on the filesystem. Production sets ``DATABASE_URL``, ``CELERY_BROKER_URL``,
``SECRET_KEY`` and ``LIVEREC_ENCRYPTION_KEY`` (see ``deploy/production.env.example``).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from liverecord.env import env_bool, env_float_list, env_int, env_list, env_str, persistent_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LIVEREC_VAR_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env_str("SECRET_KEY") or persistent_secret(VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Fernet keys for secrets at rest; several comma-separated keys allow rotation (the first encrypts).
LIVEREC_ENCRYPTION_KEYS = env_list("LIVEREC_ENCRYPTION_KEY", []) or [
    persistent_secret(VAR_DIR / "encryption.key", lambda: Fernet.generate_key().decode())
]

INSTALLED_APPS = [
    "liverecord.admin_site.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "liverecord",
    "templates_app",
    "rules",
    "recordings",
    "rooms",
    "vendors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "liverecord.urls"
WSGI_APPLICATION = "liverecord.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "liverecord" / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait on locks instead of failing, and let readers run during writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: end-to-end tests share the test database with a web server and worker threads.
    # One per process, so two test runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every web process and host: the API rate limit counts in it (atomic increments). Production:
# Redis. The embedded default: diskcache's SQLite files in var/, shared by the gunicorn workers (Django's own
# file cache is not atomic across processes, and its locmem cache is one per process).
_cache_url = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url, "KEY_PREFIX": "liverecord"}
        if _cache_url
        else {"BACKEND": "diskcache.DjangoCache", "LOCATION": str(VAR_DIR / "cache"), "OPTIONS": {"size_limit": 2**26}}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# The console shows times to the second (liverecord/formats/en/formats.py).
FORMAT_MODULE_PATH = ["liverecord.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# One line per event: plain, or JSON lines with LIVEREC_LOG_FORMAT=json (python-json-logger). Every record carries
# the ids of the session, task, file or cloud recording it concerns (liverecord.ops.logs.LogContextFilter).
LIVEREC_LOG_FORMAT = env_str("LIVEREC_LOG_FORMAT", "plain")
if LIVEREC_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LIVEREC_LOG_FORMAT must be plain or json, not {LIVEREC_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "liverecord.ops.logs.LogContextFilter"}},
    "formatters": {
        "plain": {"()": "liverecord.ops.logs.PlainFormatter"},
        "json": {"()": "liverecord.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LIVEREC_LOG_FORMAT, "filters": ["context"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Celery's own loggers propagate to the root handler (the worker keeps its own setup out: settings below).
    "loggers": {"celery": {"level": env_str("LOG_LEVEL", "INFO")}},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["liverecord.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["liverecord.api.permissions.IsAppClient"],
    "DEFAULT_THROTTLE_CLASSES": ["liverecord.api.throttling.AppRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "liverecord.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "liverecord.api.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    # `?format=` filters files by format (SPEC.md); it must not pick a renderer.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "liverecord API",
    "DESCRIPTION": "Self-hosted live-stream recording: templates, rules, push domains, storage, recordings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and ReDoc from the service's own static files (drf-spectacular-sidecar): docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "liverecord.api.schema.nullable_responses",
        "liverecord.api.schema.error_responses",
    ],
}

# Celery. The embedded default is kombu's filesystem transport: no broker server to run.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT = "liverecord.broker:Transport"
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Every task's queue, in one place: services enqueue by name (recordings/dispatch.py), so the route is here.
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {
    "liverecord.ping": {"queue": "default"},
    "liverecord.record_stream": {"queue": "record"},
    "liverecord.task_windows": {"queue": "default"},
    "liverecord.close_hls_playlist": {"queue": "io"},
    "liverecord.upload_file": {"queue": "io"},
    "liverecord.retry_backups": {"queue": "default"},
    "liverecord.expire_files": {"queue": "default"},
    "liverecord.deliver_callback": {"queue": "io"},
    "liverecord.resend_callbacks": {"queue": "default"},
    "liverecord.watchdog": {"queue": "default"},
    "liverecord.recorder_takeover": {"queue": "default"},
    "liverecord.sync_hls": {"queue": "io"},
    "liverecord.cloud_recordings_tick": {"queue": "default"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
# The worker logs through LOGGING above (one format for web and worker), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Scheduled recordings start and end on these ticks (and catch up edges missed while down).
    "record-task-windows": {"task": "liverecord.task_windows", "schedule": 2.0},
    "recorder-watchdog": {"task": "liverecord.watchdog", "schedule": 2.0},
    # A recorder no worker of its ingest's queue took within 5 s goes to the shared record queue (SPEC.md).
    "recorder-takeover": {"task": "liverecord.recorder_takeover", "schedule": 1.0},
    # Cloud recordings: max_idle_time (and its 334 callbacks), max_record_time, streams joined or left unseen.
    "cloud-recordings": {"task": "liverecord.cloud_recordings_tick", "schedule": 2.0},
    "retry-backups": {"task": "liverecord.retry_backups", "schedule": 30.0},
    "expire-files": {"task": "liverecord.expire_files", "schedule": 60.0},
    "resend-callbacks": {"task": "liverecord.resend_callbacks", "schedule": 30.0},
}

# liverecord's own settings (see SPEC.md and README.md).
LIVEREC_API_RATE = env_str("LIVEREC_API_RATE", "50/s")
LIVEREC_MIN_RECORD_INTERVAL = env_int("LIVEREC_MIN_RECORD_INTERVAL", 60, minimum=1, maximum=60)
# Callback 334 while a cloud recording's room is empty: this long after it empties, then as often (SPEC: 30 s).
LIVEREC_ROOM_IDLE_CALLBACK_SECONDS = env_int("LIVEREC_ROOM_IDLE_CALLBACK_SECONDS", 30, minimum=1, maximum=3600)
LIVEREC_HOOK_TOKEN = env_str("LIVEREC_HOOK_TOKEN") or persistent_secret(VAR_DIR / "hook_token")
LIVEREC_RTMP_PORT = env_int("LIVEREC_RTMP_PORT", 1935, minimum=1, maximum=65535)
LIVEREC_MEDIA_DIR = Path(env_str("LIVEREC_MEDIA_DIR", str(VAR_DIR / "media"))).resolve()
LIVEREC_SPOOL_DIR = Path(env_str("LIVEREC_SPOOL_DIR", str(VAR_DIR / "spool"))).resolve()
LIVEREC_HEARTBEAT_SECONDS = env_int("LIVEREC_HEARTBEAT_SECONDS", 2, minimum=1, maximum=60)
# A recorder whose heartbeat is older than this is taken for dead; the watchdog queues it again.
LIVEREC_RECORDER_STALE_SECONDS = env_int("LIVEREC_RECORDER_STALE_SECONDS", 8, minimum=2, maximum=600)
# Admission control: streams one worker process records at once; a full worker hands new ones to another.
LIVEREC_STREAMS_PER_WORKER = env_int("LIVEREC_STREAMS_PER_WORKER", 50, minimum=1, maximum=10000)
# A live HLS recording's new segments and playlist are uploaded this often while it records.
LIVEREC_HLS_SYNC_SECONDS = env_int("LIVEREC_HLS_SYNC_SECONDS", 6, minimum=1, maximum=600)
# How long a recorder waits out a database outage before it gives a file up (it keeps spooling meanwhile).
LIVEREC_DB_OUTAGE_SECONDS = env_int("LIVEREC_DB_OUTAGE_SECONDS", 600, minimum=1)
LIVEREC_STALL_TIMEOUT = env_int("LIVEREC_STALL_TIMEOUT", 60, minimum=5, maximum=3600)
LIVEREC_DOWNLOAD_URL_SECONDS = env_int("LIVEREC_DOWNLOAD_URL_SECONDS", 3600, minimum=60, maximum=604800)
LIVEREC_WEB_PORT = env_int("LIVEREC_WEB_PORT", 8000, minimum=1, maximum=65535)
# nginx-rtmp only accepts pushes to applications it names: rtmp://host:1935/<app>/<stream>.
LIVEREC_RTMP_APPS = env_list("LIVEREC_RTMP_APPS", ["live"])
# run_ingest lets nginx-rtmp write every push to <var>/nginx/record too; a recorder on this host follows that
# file from the push's first packet (nginx-rtmp has no GOP cache: a pull would lose the first GOP).
LIVEREC_INGEST_RECORD = env_bool("LIVEREC_INGEST_RECORD", True)
LIVEREC_MAX_OVERLAPPING_TASKS = env_int("LIVEREC_MAX_OVERLAPPING_TASKS", 10, minimum=1, maximum=1000)
# Files: upload retries (queue io), then the local backup spool retried until LIVEREC_BACKUP_RETENTION.
LIVEREC_UPLOAD_RETRY_DELAYS = env_float_list("LIVEREC_UPLOAD_RETRY_DELAYS", [5.0, 30.0, 120.0])
LIVEREC_BACKUP_RETRY_SECONDS = env_int("LIVEREC_BACKUP_RETRY_SECONDS", 300, minimum=1)
# An upload still "uploading" after this long lost its message (a killed worker): beat queues it again.
LIVEREC_UPLOAD_STUCK_SECONDS = env_int("LIVEREC_UPLOAD_STUCK_SECONDS", 300, minimum=10)
# An upload claims its file for this long, plus a second per MiB: a second run of the same upload (a re-queued
# message) leaves it alone until then; past it the claim is taken for dead (a killed worker) and beat queues it again.
LIVEREC_UPLOAD_LEASE_SECONDS = env_int("LIVEREC_UPLOAD_LEASE_SECONDS", 300, minimum=5)
LIVEREC_BACKUP_RETENTION = env_int("LIVEREC_BACKUP_RETENTION", 3 * 86400, minimum=60)
# Callbacks: a 2xx within the timeout is success; otherwise 6 attempts in all, retried with exponential backoff
# and jitter over about an hour (workers.callbacks.backoff_delays), or after these fixed delays when set.
LIVEREC_CALLBACK_TIMEOUT = env_int("LIVEREC_CALLBACK_TIMEOUT", 10, minimum=1, maximum=60)
LIVEREC_CALLBACK_ATTEMPTS = env_int("LIVEREC_CALLBACK_ATTEMPTS", 6, minimum=1, maximum=50)
LIVEREC_CALLBACK_RETRY_DELAYS = env_float_list("LIVEREC_CALLBACK_RETRY_DELAYS", [])
# Callback URLs on private, loopback or reserved addresses are refused (SSRF), unless allowed: the embedded
# default (no DATABASE_URL) allows them, so a receiver on the same box works out of the box.
LIVEREC_ALLOW_PRIVATE_CALLBACKS = env_bool("LIVEREC_ALLOW_PRIVATE_CALLBACKS", not env_str("DATABASE_URL"))
# Where users reach this service: download links of locally stored files in callbacks are built on it.
LIVEREC_PUBLIC_URL = env_str("LIVEREC_PUBLIC_URL", f"http://127.0.0.1:{LIVEREC_WEB_PORT}").rstrip("/")

# Operations (SPEC.md "Operations"). This ingest host's name: its recorders' queue is record.<name>.
LIVEREC_INGEST_HOST = env_str("LIVEREC_INGEST_HOST") or socket.gethostname()
# /metrics answers only with "Authorization: Bearer <token>" when set.
LIVEREC_METRICS_TOKEN = env_str("LIVEREC_METRICS_TOKEN")
# Web and worker processes of a host write their metrics here (prometheus-client's multiprocess mode); one scrape
# of any web process sums them. Set before prometheus_client is imported (liverecord.ops.metrics is loaded after
# the settings).
PROMETHEUS_MULTIPROC_DIR = Path(env_str("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics"))).resolve()
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# How often each worker says which queues it consumes (readiness reads it from the cache).
LIVEREC_CONSUMER_BEAT_SECONDS = env_int("LIVEREC_CONSUMER_BEAT_SECONDS", 5, minimum=1, maximum=60)
