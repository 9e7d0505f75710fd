"""Anchorage settings: one file, every value read from the environment.

Defaults are safe for production (DEBUG off, no secret key); ``make run`` sets
the development values it needs. ``.env.example`` documents every variable.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from campaigns.quality import DEFAULT_WEIGHTS, WeightsError, parse_weights
from config.env import env_bool, env_int, env_list, env_str, load_development_env

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the one-box defaults keep their state: SQLite, the folder broker, static files.
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
load_development_env(VAR_DIR / "dev.env")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it (or SECRET_KEY_FILE) in the environment; "
        "`make run` makes a development key in var/dev.env, which commands run in "
        "the same checkout then find."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Wraps the template loaders so "page.html#fragment" renders one partialdef.
    "template_partials",
    "django_celery_beat",
    "axes",
    "campaigns",
    "outreach",
    "links",
    "links.prospecting",
    "links.channels",
    "outreach.journalist_queries",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "config.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "links.context_processors.navigation",
            ],
            # {% partialdef %} in every template without a {% load %}.
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'anchorage.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Dashboard aggregates over a million link checks are estimated costly enough
    # for PostgreSQL's JIT, whose compiling then took 40-50 ms of queries that run
    # in 5-30 ms (tests/benchmarks/bench_dashboard.py); no query here gains from it.
    # The default 4 MB work_mem made a year of outreach activity sort on disk.
    # Added to any options DATABASE_URL carries (?options=, ?currentSchema=).
    # Behind PgBouncer, which refuses unknown startup options, set
    # POSTGRES_SESSION_OPTIONS="" and ALTER ROLE … SET jit = off instead.
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = " ".join(
        filter(
            None,
            [
                _db_options.get("options", ""),
                env_str("POSTGRES_SESSION_OPTIONS", "-c jit=off -c work_mem=16MB"),
            ],
        )
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "campaigns.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username before a password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# "home" sends members to My day and managers to the campaign list.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (imports). Never served by URL: the views that need them read
# them through the storage, after checking who asks.
# docker-compose.yml mounts one volume here in every app container: web saves an
# upload that bulk-worker reads.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles and everything else
# come from this site only, and never inline. Pages keep their JavaScript in
# static/js and their styles in static/css; htmx is told not to inject its
# indicator <style> (base.html, htmx-config) and allowed no eval. Chart.js
# sizes its canvas through element.style (CSSOM), which a policy does not
# govern. `data:` images are Chart.js's and the admin's small icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A reverse proxy terminating TLS may also handle the redirect and HSTS itself;
# then these checks are false alarms.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# --- Sign-in throttling (django-axes) -----------------------------------------
# A username that fails LOGIN_FAILURE_LIMIT times from one address is refused
# there for LOGIN_COOLOFF_MINUTES, counted from its last failure. Keyed on the
# pair, so a stranger guessing from elsewhere cannot lock the owner out. An
# admin lifts a lockout in the admin (Axes: access attempts, delete) or with
# `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A fixed wait, so the lockout page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "campaigns.accounts.lockout_response"
# Proxies in front of the web service that append the client's address to
# X-Forwarded-For (compose runs behind one TLS proxy); 0 counts REMOTE_ADDR.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 1 if env_bool("BEHIND_TLS_PROXY") else 0)
AXES_CLIENT_IP_CALLABLE = "campaigns.accounts.client_ip"
AXES_HTTP_RESPONSE_CODE = 429

# --- Email --------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Anchorage <anchorage@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


def _email_settings(url: str) -> dict[str, object]:
    """EMAIL_URL: smtp://user:pass@host:port (STARTTLS with ?tls=1, SMTPS with smtps://),
    console:// for development, or empty for no mail at all (the in-memory backend)."""
    if not url:
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured("EMAIL_URL must start with smtp://, smtps:// or console://")
    options = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": options.get("tls", ["0"])[0] in {"1", "true"},
        "EMAIL_TIMEOUT": 20,
    }


globals().update(_email_settings(env_str("EMAIL_URL")))

# --- Celery -------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = Path(env_str("CELERY_BROKER_DIR", str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A message taken by a worker that died is handed out again after this long.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
    }
else:
    # The one-box default: a broker that is a folder, so `make run` needs no server.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # kombu's default is ./control, the working folder (it once landed in git).
        "control_folder": str(BROKER_DIR / "control"),
    }
# Heartbeats (config/heartbeats.py): shared by every process, so in Redis when
# there is one. Short timeouts: /healthz must answer even when Redis hangs.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "heartbeats": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "anchorage",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "heartbeats"),
        }
    ),
}
# The API's per-token request budget (api/throttling.py): every web process
# counts in one place, Redis when there is one.
CACHES["api_throttle"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "anchorage:api",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Imports are CPU-bound for seconds at a time; on the link checkers' gevent pool
# they would stall every check in flight, so they have a queue of their own
# (docker-compose.yml runs a prefork worker for it; `make run` consumes both).
# Reading a competitor's backlink export is the same kind of job.
CELERY_TASK_ROUTES = {
    "outreach.tasks.run_import": {"queue": "bulk"},
    "links.prospecting.tasks.read_backlink_export": {"queue": "bulk"},
    # Rescoring thousands of imported prospects is CPU work of the same kind.
    "links.tasks.refresh_stale_quality": {"queue": "bulk"},
    # Chromium renders of script-built pages: seconds of CPU each, on workers
    # of their own (docker-compose.yml's render-worker).
    "links.tasks.render_backlinks": {"queue": "render"},
    # Folding old checks and managing partitions: database work in batches.
    "links.tasks.maintain_check_history": {"queue": "bulk"},
    "campaigns.tasks.compact_tallies": {"queue": "bulk"},
}

# --- Verifier -----------------------------------------------------------------
VERIFIER_ALLOW_PRIVATE_NETWORKS = env_bool("VERIFIER_ALLOW_PRIVATE_NETWORKS", False)
VERIFIER_TIMEOUT_SECONDS = env_int("VERIFIER_TIMEOUT_SECONDS", 15)
VERIFIER_MAX_BYTES = env_int("VERIFIER_MAX_BYTES", 5 * 1024 * 1024)
VERIFIER_MAX_REDIRECTS = env_int("VERIFIER_MAX_REDIRECTS", 5)
# A missing link is confirmed by a second check this many minutes later.
VERIFIER_CONFIRM_MINUTES = env_int("VERIFIER_CONFIRM_MINUTES", 10)
# A page failing without a break for this long raises "page unreachable".
VERIFIER_UNREACHABLE_DAYS = env_int("VERIFIER_UNREACHABLE_DAYS", 3)
# A claimed link is held by its check task this long (Backlink.lease_until); a
# check lost with its worker is claimed again when the lease runs out.
VERIFIER_LEASE_SECONDS = env_int("VERIFIER_LEASE_SECONDS", 900)
VERIFIER_BATCH_SIZE = env_int("VERIFIER_BATCH_SIZE", 25)
VERIFIER_CONCURRENCY = env_int("VERIFIER_CONCURRENCY", 32)
# Requests at once to one site, across every worker. A site is a registrable
# domain (a.example.com and b.example.com share it), despite the name.
VERIFIER_PER_HOST_LIMIT = env_int("VERIFIER_PER_HOST_LIMIT", 2)
# "Re-check now" and "Re-check the dead link": at most this many a member may
# ask for in an hour, and one link (backlink or prospect's dead link) at most
# once per this many seconds.
RECHECK_PER_USER_PER_HOUR = env_int("RECHECK_PER_USER_PER_HOUR", 60)
RECHECK_LINK_INTERVAL_SECONDS = env_int("RECHECK_LINK_INTERVAL_SECONDS", 300)
VERIFIER_DISPATCH_MAX = env_int("VERIFIER_DISPATCH_MAX", 20000)
# Topical relevance (links/relevance.py): off, no target page is read and no
# page scored (checks, verify_url and prospects leave relevance null).
RELEVANCE_ENABLED = env_bool("RELEVANCE_ENABLED", True)
# A target page's text is read again after this many days.
RELEVANCE_REFRESH_DAYS = env_int("RELEVANCE_REFRESH_DAYS", 7)
# A backlink whose page changed is scored again once its score is this old.
# Scoring costs about 6 ms of CPU on a 9 ms check, and mature links are checked
# weekly, so scoring at most monthly keeps the average check within +20 %.
RELEVANCE_RESCORE_DAYS = env_int("RELEVANCE_RESCORE_DAYS", 30)
# Check history (links.history): a backlink's last CHECK_FOLD_KEEP_LAST checks and
# every check that changed something stay in full; older unchanged checks, once
# CHECK_FOLD_AFTER_DAYS old, are folded into one summary per backlink per
# CHECK_FOLD_PERIOD (day, week or month), CHECK_FOLD_BATCH_SIZE backlinks at a time.
# A summary of one check saves nothing and is not made, so a period folds only
# cadences that check more than once in it: month folds weekly checks (the
# settled links' cadence), week folds daily ones (tests/benchmarks/bench_history.py).
CHECK_FOLD_KEEP_LAST = env_int("CHECK_FOLD_KEEP_LAST", 10)
CHECK_FOLD_AFTER_DAYS = env_int("CHECK_FOLD_AFTER_DAYS", 30)
CHECK_FOLD_PERIOD = env_str("CHECK_FOLD_PERIOD", "month")
CHECK_FOLD_BATCH_SIZE = env_int("CHECK_FOLD_BATCH_SIZE", 200)
# PostgreSQL keeps checks in one partition per month, created this many months
# ahead; months older than CHECK_RETENTION_MONTHS are dropped (0: kept forever).
CHECK_PARTITIONS_AHEAD = env_int("CHECK_PARTITIONS_AHEAD", 3)
CHECK_RETENTION_MONTHS = env_int("CHECK_RETENTION_MONTHS", 0)
# Prospect pages read at once by one background scoring task (each site still
# within VERIFIER_PER_HOST_LIMIT across every worker).
RELEVANCE_CONCURRENCY = env_int("RELEVANCE_CONCURRENCY", 8)
# Script-built pages (links/verification/render): a check that finds no link on
# a page that looks built by JavaScript is re-run in headless Chromium on the
# "render" queue. Off, checks read raw HTML only; on, a worker must consume
# that queue (docker-compose.yml's render-worker; `make run` when Chromium is
# installed).
RENDER_ENABLED = env_bool("RENDER_ENABLED", False)
RENDER_CHROMIUM_PATH = env_str("RENDER_CHROMIUM_PATH", "/usr/bin/chromium")
# Wall-clock limit of one render; a page still running its scripts then is an error.
RENDER_TIMEOUT_SECONDS = env_int("RENDER_TIMEOUT_SECONDS", 20)
# Chromium's memory (PSS of its processes) past which the worker restarts it.
RENDER_MEMORY_LIMIT_MB = env_int("RENDER_MEMORY_LIMIT_MB", 1024)
# Requests one page may make while rendered (each through the fetcher).
RENDER_MAX_REQUESTS = env_int("RENDER_MAX_REQUESTS", 100)
VERIFIER_USER_AGENT = env_str(
    "VERIFIER_USER_AGENT", f"AnchorageBot/0.1 (+{SITE_URL}/about/bot; backlink monitor)"
)
# Shown on /about/bot (the page the User-Agent names) for site owners who want
# to reach whoever runs this instance's crawler.
BOT_CONTACT_EMAIL = env_str("BOT_CONTACT_EMAIL", parseaddr(DEFAULT_FROM_EMAIL)[1])

# --- Alert channels (links/channels) ---------------------------------------------
# Each digest goes to every enabled channel (email, Slack, Teams, webhook) as one
# Celery delivery: an attempt that fails for a reason that may pass (a network
# error, a timeout, 5xx, 408, 429) is tried again after BASE * 2^(attempt-1)
# milliseconds, at most ALERT_DELIVERY_MAX_ATTEMPTS attempts in all; then it is
# logged as failed.
ALERT_DELIVERY_MAX_ATTEMPTS = env_int("ALERT_DELIVERY_MAX_ATTEMPTS", 6)
ALERT_DELIVERY_RETRY_BASE_MS = env_int("ALERT_DELIVERY_RETRY_BASE_MS", 30_000)
# One webhook request (Slack, Teams, generic) may take this long in all.
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", 10)
# Let webhook URLs be plain http:// and reach private, loopback or link-local
# addresses (a receiver on this machine or the intranet, and tests). Off: only
# https:// to public addresses, checked like the verifier checks pages.
ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
# "Send test" on a channel's page: at most this many per user per hour.
ALERT_TEST_SENDS_PER_USER_PER_HOUR = env_int("ALERT_TEST_SENDS_PER_USER_PER_HOUR", 10)

# --- Health and metrics -------------------------------------------------------
# /healthz fails when beat's dispatcher (every minute) has not run for this long,
# or when no worker consuming one of HEALTH_WORKER_QUEUES has sent a heartbeat
# (every 15 s) for this long.
HEALTH_DISPATCH_MAX_AGE_SECONDS = env_int("HEALTH_DISPATCH_MAX_AGE_SECONDS", 300)
HEALTH_WORKER_MAX_AGE_SECONDS = env_int("HEALTH_WORKER_MAX_AGE_SECONDS", 60)
# With rendering on, checks hand script-built pages to the render queue, and a
# silent render worker would leave them unchecked, so its silence is a failure too.
HEALTH_WORKER_QUEUES = env_list(
    "HEALTH_WORKER_QUEUES", "celery,bulk,render" if RENDER_ENABLED else "celery,bulk"
)
# How often each worker writes its heartbeat. Not read from the environment:
# HEALTH_WORKER_MAX_AGE_SECONDS is the operator's knob; the suite shortens this
# one (tests/support/fast_heartbeat_settings.py) to watch a worker beat twice.
HEALTH_WORKER_HEARTBEAT_SECONDS = 15.0
# /metrics answers requests made directly (not through a proxy) from these
# addresses or networks (CIDR), and any request with "Authorization: Bearer
# METRICS_TOKEN" when that is set.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from exc
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- Imports ------------------------------------------------------------------
# A spreadsheet bigger than this is refused before it is read; so is one with
# more data rows than IMPORT_MAX_ROWS (the import is one transaction).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 25 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)

# --- Prospecting ---------------------------------------------------------------
# The broken-link finder: links checked at once per scan (threads), pages per
# scan, the seconds before a "maybe dead" link is checked a second time, and the
# time one link check may take (HEAD, and GET when HEAD is refused).
BROKEN_LINKS_CONCURRENCY = env_int("BROKEN_LINKS_CONCURRENCY", 16)
BROKEN_LINKS_MAX_PAGES = env_int("BROKEN_LINKS_MAX_PAGES", 20)
BROKEN_LINKS_RETRY_SECONDS = env_int("BROKEN_LINKS_RETRY_SECONDS", 5)
BROKEN_LINKS_TIMEOUT_SECONDS = env_int("BROKEN_LINKS_TIMEOUT_SECONDS", 10)
# Budgets of the finder: scans queued or running at once per member and per
# campaign, and outbound links kept from one resource page and from one scan
# (each kept link costs a HEAD and perhaps a robots.txt; the rest are skipped
# and the scan says how many).
BROKEN_LINKS_SCANS_PER_USER = env_int("BROKEN_LINKS_SCANS_PER_USER", 2)
BROKEN_LINKS_SCANS_PER_CAMPAIGN = env_int("BROKEN_LINKS_SCANS_PER_CAMPAIGN", 3)
BROKEN_LINKS_MAX_LINKS_PER_PAGE = env_int("BROKEN_LINKS_MAX_LINKS_PER_PAGE", 1000)
BROKEN_LINKS_MAX_LINKS_PER_SCAN = env_int("BROKEN_LINKS_MAX_LINKS_PER_SCAN", 5000)
# Competitor backlink exports: the largest upload read.
LINK_GAP_MAX_UPLOAD_MB = env_int("LINK_GAP_MAX_UPLOAD_MB", 25)
# The journalist-query inbox: the key that encrypts stored IMAP passwords
# (Fernet). Without FIELD_ENCRYPTION_KEY the key is derived from SECRET_KEY, so
# changing SECRET_KEY makes stored passwords unreadable (re-enter them); set a
# dedicated key to rotate SECRET_KEY freely. To rotate this key, list the new
# one first, comma-separated (new,old), run `manage.py rotate_encryption_key`,
# then drop the old one (docs/operations.md). Beat's polling interval is a row
# of django-celery-beat (admin: Periodic tasks), every 10 minutes at first.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")

# --- Dashboard ----------------------------------------------------------------
# Warn on the anchor-text chart when more than this share of links use an
# exact-match anchor (the target's keyword or title): search engines treat a
# profile that uniform as manipulated.
ANCHOR_EXACT_MATCH_WARN_PERCENT = env_int("ANCHOR_EXACT_MATCH_WARN_PERCENT", 30)
if not 0 <= ANCHOR_EXACT_MATCH_WARN_PERCENT <= 100:
    raise ImproperlyConfigured("ANCHOR_EXACT_MATCH_WARN_PERCENT must be between 0 and 100")

# The quality score's weights (campaigns/quality.py): every part named once,
# whole numbers, divided by their sum. After changing them, run
# `manage.py recompute_quality` so stored scores follow.
try:
    QUALITY_WEIGHTS = parse_weights(env_str("QUALITY_WEIGHTS", DEFAULT_WEIGHTS))
except WeightsError as exc:
    raise ImproperlyConfigured(f"QUALITY_WEIGHTS: {exc}") from exc

# --- Outreach email -----------------------------------------------------------
# A domain another campaign wrote to (email or follow-up) within this many days
# gets no new outreach.
OUTREACH_DOMAIN_COOLDOWN_DAYS = env_int("OUTREACH_DOMAIN_COOLDOWN_DAYS", 90)
# An email still "sending" this long after it was claimed belongs to a worker
# that died: it is queued again if it never reached SMTP DATA, else looked up in
# the Sent folder. Longer than the slowest SMTP conversation.
OUTREACH_SEND_LEASE_SECONDS = env_int("OUTREACH_SEND_LEASE_SECONDS", 300)
OUTREACH_SMTP_TIMEOUT_SECONDS = env_int("OUTREACH_SMTP_TIMEOUT_SECONDS", 30)
# At most this many emails per mailbox each minute, so a day's quota is spread
# over the sending hours instead of leaving in one burst.
OUTREACH_SENDS_PER_MINUTE = env_int("OUTREACH_SENDS_PER_MINUTE", 5)
# A failed send is tried again (with backoff) this many times in all.
OUTREACH_MAX_ATTEMPTS = env_int("OUTREACH_MAX_ATTEMPTS", 5)
# Messages read from one mailbox per poll at most.
OUTREACH_POLL_BATCH = env_int("OUTREACH_POLL_BATCH", 200)
# Let mailboxes' SMTP/IMAP hosts be private, loopback or link-local addresses (a
# mail server on this machine or the intranet, and tests). Off: such hosts are
# refused like the verifier refuses them, so a mailbox cannot reach internal services.
MAIL_ALLOW_PRIVATE_NETWORKS = env_bool("MAIL_ALLOW_PRIVATE_NETWORKS", False)
# Mailbox passwords are encrypted with FIELD_ENCRYPTION_KEY (see Prospecting).

# --- Logging ------------------------------------------------------------------
# "plain" for people reading a terminal; "json" for a log shipper: every line is
# one JSON object (time, level, logger, message, exc_info).
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "config.logformat.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # flufl.bounce logs every detector it runs, for every delivery notice, at INFO.
    "loggers": {
        "flufl.bounce": {"level": "WARNING"},
        # django-axes announces its version at every start of every process.
        "axes.apps": {"level": "WARNING"},
    },
}
# A Celery worker replaces the root logger's handlers with its own plain ones
# unless told not to; in json mode its lines go through the handler above.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# --- REST API (api/) ------------------------------------------------------------
# Requests per token (or per signed-in user, for browser calls) as "N/second",
# "N/min", "N/hour" or "N/day"; empty turns the budget off.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
# Rows per page of an API list, unless ?page_size= asks for fewer (or more, up
# to API_MAX_PAGE_SIZE).
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 100)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500)
# Rows one POST /api/v1/prospects/bulk/ may carry; bigger sets go through an import.
API_BULK_MAX_ROWS = env_int("API_BULK_MAX_ROWS", 1000)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a refused request answers 401 with WWW-Authenticate: Bearer.
        "api.authentication.BearerTokenAuthentication",
        # The signed-in browser (the docs page); DRF keeps CSRF checks on it.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Anchorage API",
    "DESCRIPTION": (
        "Campaigns, target pages, prospects, backlinks and alerts. Authenticate with "
        "`Authorization: Bearer <token>` (a personal token from your account page). "
        "A token sees exactly what its user sees."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The alert webhook's payload and headers (api/webhooks.py) first, so the
    # enum hook names its enums too.
    "POSTPROCESSING_HOOKS": [
        "api.webhooks.add_alert_webhook",
        "drf_spectacular.hooks.postprocess_schema_enums",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProspectStatusEnum": "outreach.models.Status",
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "VerdictEnum": "links.models.Verdict",
        # The alerts list and the alert webhook's payload share it.
        "AlertKindEnum": "links.models.Alert.Kind",
        "AlertWebhookEventEnum": "links.channels.models.Event",
        "ProspectKindEnum": "outreach.models.Kind",
        "ImportStateEnum": "outreach.models.ImportJob.State",
        "BacklinkStateEnum": "links.models.BacklinkState",
    },
}
