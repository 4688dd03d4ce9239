"""Settings for the after-sales desk, read from the environment.

Every value a deployment changes comes from an environment variable (see README,
"Configuration"). With nothing set and ``DEBUG=1`` the desk runs on a SQLite file and a
filesystem Celery broker under ``var/``, so a newcomer needs no server at all.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_decimal, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))


def _private_folder(folder: Path) -> None:
    """``folder`` made if missing and left 0700, also when an older desk or another umask made
    it 0755: what lies under VAR_DIR (the SQLite file, photos, sheets, imports, the filesystem
    broker's messages) is the desk user's alone (QUALITY.md, issue 12 section 6)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)


def _private_file(path: Path) -> None:
    """``path`` made empty if missing (an empty file is an empty SQLite database) and left
    0600; SQLite gives its -wal and -shm files the database file's mode."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_uid == os.getuid():
        path.chmod(0o600)


_private_folder(VAR_DIR)

DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-not-secret-aftersales-desk-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - DEBUG only
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY (production) or DEBUG=1 (development)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin site lets in administrators and supervisors only (aftersales/admin.py).
    "aftersales.admin.DeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    # Who changed which reference data (shops, couriers, rate card, users), before and after.
    "simple_history",
    # Login lockout after repeated failures (django-axes, settings under "Login lockout"
    # below), under the desk's name for it (aftersales/apps.py).
    "aftersales.apps.DeskAxesConfig",
    "tickets.apps.TicketsConfig",
    "finance_exports.apps.FinanceExportsConfig",
    # The API for the shops' ERPs and scripts (issue 16): Django REST Framework under /api/v1/,
    # its OpenAPI schema generated from the code, Swagger UI served from static files.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api.apps.ApiConfig",
]

MIDDLEWARE = [
    # Each request's id (the proxy's X-Request-ID or a new one), on its log lines and answer.
    "aftersales.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, error pages and static files included.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aftersales.sessions.IdleSessionMiddleware",
    "aftersales.middleware.ChosenLanguageMiddleware",
    # /healthz, /healthz/web and /readyz answered whatever the Host (a load balancer probes a
    # node by its address): before CommonMiddleware, which checks the Host against ALLOWED_HOSTS.
    "aftersales.middleware.HealthProbeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Under /api/: the language from Accept-Language, and a refused request (NUL, too large)
    # answered in the API's JSON error shape rather than with a page (api/middleware.py).
    "api.middleware.ApiRequestMiddleware",
    # No NUL character reaches a view (PostgreSQL refuses text holding one).
    "aftersales.middleware.RefuseNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a logged-in user unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A 405 gets the desk's page (Django's has no body).
    "aftersales.middleware.MethodNotAllowedPageMiddleware",
    # Records the logged-in user as the author of each reference-data change.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Answers a locked-out login with the desk's lockout page (django-axes wants it last).
    "axes.middleware.AxesMiddleware",
]
# Old versions of reference data are read, never restored with one click: a change is made
# (and recorded) like any other.
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"

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
                "tickets.context_processors.desk",
            ],
            # ``{% url %}`` keeping its reversals (a hundred links on a dashboard).
            "builtins": ["aftersales.template_urls"],
        },
    },
]
# Selects are written in Python, the same HTML as Django's templates (aftersales.form_renderer).
FORM_RENDERER = "aftersales.form_renderer.DeskFormRenderer"

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    _private_file(VAR_DIR / "desk.sqlite3")
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'desk.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, worker and beat share the file; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Covering (INCLUDE) columns speed up PostgreSQL; SQLite builds the same index without them.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No parallel workers for the desk's queries unless asked: its pages read a page of rows
    # through indexes, where starting workers costs more than it saves, and under load they
    # wait for cores the other requests hold (the nickname-part search of an agent: 20 ms
    # alone, 40-53 ms as a parallel plan on the 2-core machine at load 7, bench/README).
    # Reports that scan whole tables can be given workers with PG_PARALLEL_WORKERS.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    # A database that takes the connection and never answers fails a page, a task and the
    # health probes after DATABASE_CONNECT_TIMEOUT_SECONDS (libpq's connect_timeout) instead of
    # holding them until gunicorn kills the worker; a connect_timeout in DATABASE_URL wins.
    _pg_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5))
    if "max_parallel_workers_per_gather" not in _pg_options.get("options", ""):
        _pg_options["options"] = (
            _pg_options.get("options", "")
            + f" -c max_parallel_workers_per_gather={env_int('PG_PARALLEL_WORKERS', 0)}"
        ).strip()
    # Parameters travel beside the SQL (psycopg's server-side binding) instead of being quoted
    # into it in Python: 4 ms of a dashboard's CPU at 100,000 tickets (bench/README "Prepared
    # statements"). A query then takes at most 65,535 parameters (SQLite, the other database
    # the suite runs on, 32,766): long id lists go as one array (``tickets.selectors.AnyOf``)
    # or in chunks.
    _pg_options.setdefault("server_side_binding", True)
    # DATABASE_PREPARE_THRESHOLD=N keeps a statement a connection has run N times parsed on
    # the server (a prepared statement; the dashboard's SQL -25 %), each run still planned
    # for its own values (plan_cache_mode): a plan made once for any shop or search term
    # could be far worse for the next. Off by default: a migration that changes a column's
    # type makes the running release's prepared statements fail ("cached plan must not
    # change result type") until its connections close, and a transaction-pooling PgBouncer
    # cannot keep them. Turn it on where every web node and worker restarts right after
    # ``migrate`` and connections go straight to PostgreSQL (README "Configuration").
    _prepare = (env_str("DATABASE_PREPARE_THRESHOLD") or "none").strip().lower()
    # 0 would prepare every statement at once, and a migration's statements of several
    # commands cannot be prepared: the threshold is 1 or more.
    if _prepare != "none" and not (_prepare.isdigit() and int(_prepare) >= 1):
        raise ImproperlyConfigured(
            f"DATABASE_PREPARE_THRESHOLD must be a whole number from 1 or 'none', not {_prepare!r}."
        )
    _pg_options.setdefault("prepare_threshold", None if _prepare == "none" else int(_prepare))
    # Only with preparing on: the setting holds for every plan the session keeps, the
    # foreign-key checks' and the guard triggers' too, which run one query per written row.
    # Planned afresh each time, the finance sheet's 200,000 claim checks took 3.5 s of a
    # 100,000-entry sheet instead of 1.2 s (bench/README, tenth session). A bulk write turns
    # it back for its own transaction (``tickets.db.checks_keep_plans``).
    # (whether preparing is on as the connection has it: DATABASE_URL's
    # ?prepare_threshold=N turns it on too)
    if (
        _pg_options.get("prepare_threshold") is not None
        and "plan_cache_mode" not in _pg_options["options"]
    ):
        _pg_options["options"] += " -c plan_cache_mode=force_custom_plan"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tickets.User"

# --- Auth and sessions ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Login lockout (django-axes; issue 12 section 6) -------------------------------------
# Every password check (the desk's /login/ and the admin's) goes through axes first: after
# LOGIN_FAILURE_LIMIT wrong passwords for one account from one address, or
# LOGIN_ADDRESS_FAILURE_LIMIT for any accounts from one address, within LOGIN_LOCKOUT_MINUTES,
# that login is refused, right password or not, until the time has passed or a supervisor or
# administrator unlocks it (/lockouts/, or the admin's "Access attempts"). aftersales/lockout.py.
AUTHENTICATION_BACKENDS = [
    "aftersales.lockout.DeskLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "aftersales.lockout.DeskLockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
DESK_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30))
# A successful login forgets that account's own failures from that address.
AXES_RESET_ON_SUCCESS = True
# A login refused because it is locked is not another failure: a locked agent who keeps trying
# would otherwise count toward the address's limit and lock out colleagues at the same office
# address (and keep pushing the end of the lockout away).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "aftersales.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "aftersales.lockout.client_ip"
# axes' admin pages are registered by tickets/admin.py, read-only but for the unlock.
AXES_ENABLE_ADMIN = False
# No "AXES: BEGIN version ..." line on stderr at every start, `manage.py --help` included.
AXES_VERBOSE = False
# Behind a reverse proxy the client's address is in X-Forwarded-For: TRUSTED_PROXIES is how
# many proxies (each appending to that header) stand in front of gunicorn; 0 = none, the
# connection's own address counts (a client can't forge it).
DESK_TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# A reverse proxy or load balancer in front (issue 15): BEHIND_PROXY=1 (the default when
# TRUSTED_PROXIES is set) trusts its X-Forwarded-Proto (a request it received over https is
# secure: no redirect loop, secure cookies) and X-Forwarded-Host (the host the browser asked
# for, still checked against ALLOWED_HOSTS). Without a proxy both headers are the client's own
# words and are ignored.
BEHIND_PROXY = env_bool("BEHIND_PROXY", DESK_TRUSTED_PROXIES > 0)
if BEHIND_PROXY:
    USE_X_FORWARDED_HOST = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Idle sessions end after SESSION_IDLE_MINUTES: the expiry moves on with the requests, written
# at most once a minute (aftersales.sessions.IdleSessionMiddleware), not on every page.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_TOUCH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Messages wait in the session (on the server) for the next page, never in a cookie: the
# cookie storage (Django's default, through the fallback) is signed but not encrypted, and
# a message may carry what is shown once - a new API token, a webhook's signing secret
# (issue 16 review 9).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CSRF_COOKIE_HTTPONLY = True

# --- Security in production -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The pages keep to this policy (issue 12 §6): scripts and stylesheets only from the desk's own
# static files (no inline <script>, no onclick=, no style=), no plugins, no framing, forms
# posting to the desk only. tests/e2e/test_csp.py fails on any violation in the main pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# A form refused for its CSRF token says why in plain words and offers the way back.
CSRF_FAILURE_VIEW = "aftersales.error_views.csrf_failure"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/web)?$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Language, time, money --------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files and private files -----------------------------------------------------
STATIC_URL = "static/"
# The image sets STATIC_ROOT outside VAR_DIR: a volume mounted on VAR_DIR would hide the
# collected files and their manifest.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Photos, sheets and import files are private: no MEDIA_URL serves them, views check the
    # user first. The local folder unless S3_BUCKET is set (s3_storage below, issue 15).
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "private", "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "private"


def s3_storage(*, bucket: str, endpoint_url: str | None, region: str, prefix: str) -> dict:
    """The default storage in an S3-compatible object store (issue 15): the bucket, its
    endpoint (None: AWS itself; e.g. https://oss-cn-hangzhou.aliyuncs.com for Aliyun OSS,
    https://cos.ap-shanghai.myqcloud.com for Tencent COS, http://127.0.0.1:PORT for moto),
    its region and a key prefix ("desk/": every key starts with it; "" none). Credentials come
    from boto3's own chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY first. Private: no ACL,
    signed requests, no file overwritten, no URL (``aftersales.storage.DeskS3Storage``)."""
    from botocore.config import Config

    return {
        "BACKEND": "aftersales.storage.DeskS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "location": prefix.strip("/"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            # A downloaded file above 8 MiB waits on the local disk, not in memory.
            "max_memory_size": 8 * 1024 * 1024,
            "client_config": Config(
                region_name=region,
                signature_version="s3v4",
                s3={"addressing_style": env_str("S3_ADDRESSING_STYLE", "auto")},
                # A store that does not answer fails the upload within seconds, not minutes:
                # by default about 2 x 5 s unreachable, 2 x 10 s stalled, within gunicorn's
                # 30 s worker timeout, so the user reads why instead of the worker being
                # killed mid-request (and a file stored before the kill left without its row).
                connect_timeout=env_int("S3_CONNECT_TIMEOUT_SECONDS", 5),
                read_timeout=env_int("S3_READ_TIMEOUT_SECONDS", 10),
                retries={"max_attempts": env_int("S3_MAX_ATTEMPTS", 2), "mode": "standard"},
                # OSS and COS do not take the checksums boto3 sends unasked since 1.36.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        },
    }


S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=env_str("S3_ENDPOINT_URL") or None,
        region=env_str("S3_REGION") or "us-east-1",
        prefix=env_str("S3_PREFIX") or "",
    )
# Stored photos, sheets and imports are readable by the desk's own user only (issue 12 §6):
# the storage gives each file 0600 and each folder it makes 0700. The sheet writer and its
# temporary folder keep to the same modes (aftersales/spreadsheets.py, finance_exports).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
WHITENOISE_USE_FINDERS = DEBUG
# Files served at the site's root: /favicon.ico, which browsers ask for by themselves.
WHITENOISE_ROOT = BASE_DIR / "webroot"

# --- Celery ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A task is acknowledged when it ends (CELERY_TASK_ACKS_LATE). One taken by a worker that
    # then vanished (its machine died, kill -9: nothing was acknowledged or handed back) goes
    # back to the queue for another worker CELERY_VISIBILITY_TIMEOUT seconds after it was
    # taken; a running worker looks for such tasks every CELERY_UNACKED_RESTORE_SECONDS
    # (kombu's Redis transport; its own default looks only every 10 x 10 s). The timeout must
    # be longer than the longest task (CELERY_TASK_TIME_LIMIT, an hour) and the longest retry
    # countdown (ten minutes), or a task still running is given to a second worker as well
    # (a sheet build survives that: one sheet per kind and date under a row lock; not every
    # task does). The multi-node test (tests/multinode) sets 40 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600),
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 10),
        "unacked_restore_throttle": 1,
    }
else:
    # No server needed: kombu's filesystem transport and a file result backend under var/.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_BROKER_DIR / 'results'}"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Celery's persistent scheduler, which also records beat's heartbeat (aftersales/celery.py).
CELERY_BEAT_SCHEDULER = "aftersales.celery:DeskScheduler"

# --- The daily sheets for finance (finance_exports) ---------------------------------------


def _env_clock(name: str, default: str) -> tuple[int, int]:
    """A time of day from the environment, "HH:MM" (24-hour), as (hour, minute)."""
    raw = env_str(name, default).strip()
    hour, _sep, minute = raw.partition(":")
    if hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60:
        return int(hour), int(minute)
    raise ImproperlyConfigured(f"{name} must be a time of day like 16:00, got {raw!r}")


# When each sheet is due, Asia/Shanghai "HH:MM". The time is also the sheet's cut-off: the
# finance sheet holds money recorded before 16:00, the exchange-goods list the exchanges queued
# before 17:00. Beat runs the build at that time (on the days its builder's period says: daily,
# the 1st for a month's courier losses and exchange slips, the 1st/11th/21st for an invoice
# batch); a missed run is caught up later.
FINANCE_SHEET_TIMES = {
    "finance": _env_clock("FINANCE_SHEET_AT", "16:00"),
    "exchanges": _env_clock("FINANCE_EXCHANGE_LIST_AT", "17:00"),
    "courier_loss": _env_clock("FINANCE_COURIER_LOSS_AT", "09:00"),
    "invoices": _env_clock("FINANCE_INVOICE_BATCH_AT", "09:00"),
    "exchange_slips": _env_clock("FINANCE_EXCHANGE_SLIPS_AT", "09:00"),
}
# A failing build is tried this many times in all (task retries with exponential backoff
# starting at FINANCE_SHEET_RETRY_SECONDS), then the sheet is marked failed with the reason.
FINANCE_SHEET_MAX_ATTEMPTS = env_int("FINANCE_SHEET_MAX_ATTEMPTS", 5)
FINANCE_SHEET_RETRY_SECONDS = env_int("FINANCE_SHEET_RETRY_SECONDS", 30)
# A sheet still "building" this long after its last change lost its worker: catch-up resumes it.
FINANCE_SHEET_STALE_MINUTES = env_int("FINANCE_SHEET_STALE_MINUTES", 15)
# After a long outage, catch-up builds at most this many missed days (older money is not lost:
# it goes on the first sheet built).
FINANCE_CATCH_UP_DAYS = env_int("FINANCE_CATCH_UP_DAYS", 31)
# Sheets are written here first and moved into private storage only when complete.
FINANCE_SHEET_TMP_DIR = Path(env_str("FINANCE_SHEET_TMP_DIR", str(VAR_DIR / "tmp" / "sheets")))
FINANCE_SHEET_TMP_MAX_AGE_HOURS = env_int("FINANCE_SHEET_TMP_MAX_AGE_HOURS", 24)
# The warehouse's tracking-number upload (the exchange list with its last column filled in).
FINANCE_TRACKING_UPLOAD_MAX_BYTES = env_int("FINANCE_TRACKING_UPLOAD_MAX_BYTES", 2 * 1024 * 1024)

# The month's VIP follow-ups (特邀VIP回访) are planned on the 1st at this time, Asia/Shanghai
# "HH:MM", before the morning shift; missed (beat down), they are planned by the catch-up check.
DESK_VIP_FOLLOW_UPS_AT = _env_clock("DESK_VIP_FOLLOW_UPS_AT", "08:00")

# The beat schedule, in Asia/Shanghai time: the fixed entries here; the sheets' entries (one per
# scheduled sheet builder, the minutely catch-up check, the nightly clean-up) come from
# finance_exports.tasks.beat_schedule(), which aftersales/celery.py adds when the Celery app is
# finalized, so a sheet kind is declared once, by its builder. The catch-up check also plans
# the month's VIP follow-ups when beat missed their entry.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "tickets.tasks.heartbeat", "schedule": 60.0},
    "vip-follow-ups": {
        "task": "tickets.tasks.plan_vip_follow_ups",
        "schedule": crontab(
            day_of_month="1",
            hour=DESK_VIP_FOLLOW_UPS_AT[0],
            minute=DESK_VIP_FOLLOW_UPS_AT[1],
        ),
    },
}

# --- The desk's business settings -------------------------------------------------------
# Service levels (DOMAIN.md "Tickets").
DESK_FIRST_RESPONSE_MINUTES = env_int("DESK_FIRST_RESPONSE_MINUTES", 5)
DESK_LOGISTICS_RESOLUTION_HOURS = env_int("DESK_LOGISTICS_RESOLUTION_HOURS", 48)
DESK_RESOLUTION_HOURS = env_int("DESK_RESOLUTION_HOURS", 72)


def _env_hours(name: str, default: str) -> tuple[int, int]:
    """A daily window from the environment, "HH:MM-HH:MM" (24:00 allowed at the end), as
    (opens, closes) in minutes after midnight, closing at least an hour after the opening
    (``tickets.business_hours.MIN_WINDOW_MINUTES``, the rule a shop's own hours follow)."""
    raw = env_str(name, default).strip()
    parts = raw.split("-")
    minutes = []
    for part in parts:
        hour, _sep, minute = part.strip().partition(":")
        if hour.isdigit() and minute.isdigit() and int(minute) < 60:
            minutes.append(int(hour) * 60 + int(minute))
    if len(parts) == len(minutes) == 2 and 0 <= minutes[0] <= minutes[1] - 60 <= 23 * 60:
        return minutes[0], minutes[1]
    raise ImproperlyConfigured(
        f"{name} must be a daily window of an hour or more like 09:00-24:00, got {raw!r}"
    )


# The service-level clock runs in these hours (Beijing time) unless a shop has its own
# (issue 13 section 3): the times above are business time, so a ticket opened at 23:58 is
# due a reply at 09:03. Outside them the night shift's handover carries the work over.
DESK_BUSINESS_HOURS = _env_hours("DESK_BUSINESS_HOURS", "09:00-24:00")
# A ticket that has not changed status for this many days in a non-final status is stale
# (停滞): refunded or shipped and never closed, say. Shown in the list, its filter and the
# dashboard, whether or not it is overdue.
DESK_STALE_AFTER_DAYS = env_int("DESK_STALE_AFTER_DAYS", 7)
# A shipped order confirms itself this many days after shipping (plus any extension).
DESK_AUTO_CONFIRM_DAYS = env_int("DESK_AUTO_CONFIRM_DAYS", 10)
# Where returns go, per shop location (Shop.location): quick replies fill {退货地址} from the
# order's shop. Empty: the phrase shows the gap for the agent to fill, never another
# location's address. (The shop has no address field yet; these stand in for it.)
DESK_RETURN_ADDRESSES = {
    "wuhan": env_str("DESK_RETURN_ADDRESS_WUHAN", ""),
    "shanghai": env_str("DESK_RETURN_ADDRESS_SHANGHAI", ""),
}
# Compensation above this needs a supervisor's approval before it counts.
DESK_COMPENSATION_APPROVAL_THRESHOLD = env_decimal("DESK_COMPENSATION_APPROVAL_THRESHOLD", "50")
# Tmall late shipment: 30% of the paid amount, at most 500 yuan.
DESK_LATE_SHIPMENT_RATE = env_decimal("DESK_LATE_SHIPMENT_RATE", "0.30")
DESK_LATE_SHIPMENT_CAP = env_decimal("DESK_LATE_SHIPMENT_CAP", "500")
# The shipping promise an imported order gets when the export has no promised time:
# this many hours after payment (the platforms' default is 72).
DESK_SHIP_WITHIN_HOURS = env_int("DESK_SHIP_WITHIN_HOURS", 72)
# Order import in the browser: largest file accepted (16 MiB is about 40,000 orders, a preview
# well within a web request; larger back-fills go through `manage.py import_orders`), and how
# long an unconfirmed preview keeps its files.
DESK_IMPORT_MAX_BYTES = env_int("DESK_IMPORT_MAX_BYTES", 16 * 1024 * 1024)
DESK_IMPORT_PREVIEW_HOURS = env_int("DESK_IMPORT_PREVIEW_HOURS", 24)
# Review follow-ups: standard compensation and the harassment guard.
DESK_REVIEW_COMPENSATION = {
    "neutral": env_decimal("DESK_REVIEW_NEUTRAL", "5"),
    "negative": env_decimal("DESK_REVIEW_NEGATIVE", "10"),
}
DESK_REVIEW_MAX_CONTACTS_PER_DAY = env_int("DESK_REVIEW_MAX_CONTACTS_PER_DAY", 2)
DESK_REVIEW_MAX_CONTACTS_TOTAL = env_int("DESK_REVIEW_MAX_CONTACTS_TOTAL", 3)
# Quality alert: N complaints about one SKU+batch within D days.
DESK_QUALITY_ALERT_COUNT = env_int("DESK_QUALITY_ALERT_COUNT", 3)
DESK_QUALITY_ALERT_DAYS = env_int("DESK_QUALITY_ALERT_DAYS", 7)
# Photos.
DESK_PHOTO_MAX_BYTES = env_int("DESK_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
DESK_PHOTOS_PER_TICKET = env_int("DESK_PHOTOS_PER_TICKET", 20)
DESK_DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo-desk-2026")
# Health (/healthz): a worker and beat record their heartbeats this often, from their own
# processes (aftersales/celery.py); one not seen for DESK_HEARTBEAT_STALE_SECONDS is stale.
DESK_HEARTBEAT_SECONDS = env_int("DESK_HEARTBEAT_SECONDS", 30)
DESK_HEARTBEAT_STALE_SECONDS = env_int("DESK_HEARTBEAT_STALE_SECONDS", 180)

# Notifications (issue 13 section 2): how far ahead a ticket's due time or an intervention's
# evidence deadline is announced, checked every minute by beat.
DESK_SLA_WARNING_MINUTES = env_int("DESK_SLA_WARNING_MINUTES", 30)
DESK_INTERVENTION_WARNING_HOURS = env_int("DESK_INTERVENTION_WARNING_HOURS", 24)
# The team chat robots (tickets.services.notifications.chat_send): one attempt (connect, TLS,
# request, the whole answer) ends within DESK_CHAT_TIMEOUT_SECONDS; a failure that may pass is
# retried DESK_CHAT_MAX_RETRIES times, the n-th after DESK_CHAT_RETRY_SECONDS * 2**(n-1)
# seconds (+-25 % jitter): 6 attempts over about 31 minutes by default. Robot URLs must be
# https to public addresses unless DESK_CHAT_ALLOW_PRIVATE_URLS (tickets/chat_urls.py).
DESK_CHAT_TIMEOUT_SECONDS = env_int("DESK_CHAT_TIMEOUT_SECONDS", 10)
DESK_CHAT_MAX_RETRIES = env_int("DESK_CHAT_MAX_RETRIES", 5)
DESK_CHAT_RETRY_SECONDS = env_int("DESK_CHAT_RETRY_SECONDS", 60)
DESK_CHAT_ALLOW_PRIVATE_URLS = env_bool("DESK_CHAT_ALLOW_PRIVATE_URLS", False)
# The chat task has a queue of its own, so sheets and imports never wait behind a robot that
# does not answer; every worker consumes it (Procfile: -Q celery,chat).
CELERY_TASK_ROUTES = {"tickets.tasks.chat_send": {"queue": "chat"}}
CELERY_BEAT_SCHEDULE["notifications-due"] = {
    "task": "tickets.tasks.notifications_due",
    "schedule": 60.0,
}

# --- The API (issue 16; api/) ----------------------------------------------------------
# Requests per minute one token may make, and batches (orders, refunds) per minute, counted
# in the cache below; the largest request body the API reads (10,000 orders with 15,000 items
# are about 10 MB of JSON) and the most records one batch may hold.
DESK_API_RATE = env_str("DESK_API_RATE", "300/min")
DESK_API_BATCH_RATE = env_str("DESK_API_BATCH_RATE", "30/min")
# Refused bearer tokens per caller's address; past it the address gets 429 (api/throttling.py).
DESK_API_REFUSED_RATE = env_str("DESK_API_REFUSED_RATE", "30/min")
DESK_API_MAX_BODY_BYTES = env_int("DESK_API_MAX_BODY_BYTES", 32 * 1024 * 1024)
DESK_API_MAX_RECORDS = env_int("DESK_API_MAX_RECORDS", 20_000)
DESK_API_PAGE_SIZE = env_int("DESK_API_PAGE_SIZE", 50)
# Outgoing webhooks for an ERP: how long a receiver may take to answer, how many times a
# failed delivery is retried (backoff 2 s doubling, at most 10 min apart).
DESK_WEBHOOK_TIMEOUT_SECONDS = env_int("DESK_WEBHOOK_TIMEOUT_SECONDS", 5)
DESK_WEBHOOK_MAX_RETRIES = env_int("DESK_WEBHOOK_MAX_RETRIES", 8)
# Deliveries no task will send (the broker was down at the commit, the endpoint was off) are
# queued again, each once, and given up past the retry limit (api.webhooks, issue 16).
CELERY_BEAT_SCHEDULE["webhook-catch-up"] = {
    "task": "api.tasks.webhook_catch_up",
    "schedule": 300.0,
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": DESK_API_RATE,
        "api_batch": DESK_API_BATCH_RATE,
        "api_refused": DESK_API_REFUSED_RATE,
    },
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "售后工作台 API",
    "DESCRIPTION": (
        "Orders and refunds in, tickets and money out, for the shops' ERPs and scripts. "
        "Every call carries `Authorization: Bearer <token>`; errors come in one shape "
        "(`Error`), in Chinese unless the request says `Accept-Language: en`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "tickets.models.tickets.TicketKind",
        "TimelineKindEnum": "tickets.models.tickets.TicketEventKind",
        "PromiseKindEnum": "tickets.models.tickets.PromiseKind",
        "LedgerKindEnum": "tickets.models.ledger.LedgerEntryKind",
        "SheetKindEnum": "finance_exports.models.SheetKind",
        "SheetStatusEnum": "finance_exports.models.SheetStatus",
        "TicketStatusEnum": "tickets.models.tickets.TicketStatus",
        "OrderStatusEnum": "tickets.models.orders.OrderStatus",
    },
}
# The cache the API's rate limits are counted in: Redis when there is one (shared by every web
# process), else files under VAR_DIR (shared by the processes of one machine).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "desk",
        }
    }
else:
    _private_folder(VAR_DIR / "cache")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Logging: never a phone number, a query string or a session id in the logs ----------
# One handler, which redacts (aftersales/logging.py). Django's own "django" and "django.server"
# loggers (runserver's request lines carry query strings) write through it instead of the
# handlers Django's default configuration gives them; Celery keeps this configuration
# (aftersales/celery.py); gunicorn's logs: aftersales/gunicorn_conf.py.
_LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, process, request_id;
# aftersales/observability.py), for a log collector; "text" (the default) for a person.
LOG_FORMAT = (env_str("LOG_FORMAT") or "text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "aftersales.logging.RedactPersonalData"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "aftersales.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": _LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": _LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # The Redis client gives this logger an unfiltered stderr handler of its own unless it
        # already exists (redis.utils): declared here, it writes through the redacting one.
        "push_response": {"handlers": ["console"], "level": _LOG_LEVEL, "propagate": False},
        # sentry-sdk gives its logger a stderr handler of its own the same way (sentry_sdk.debug).
        "sentry_sdk.errors": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# --- Error reports (issue 15): Sentry when SENTRY_DSN is set -----------------------------
# Web, worker and beat alike (each loads these settings); personal data scrubbed before an
# event leaves the process (aftersales.observability.scrub_event).
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from .observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT") or "production",
        release=env_str("SENTRY_RELEASE") or None,
    )
