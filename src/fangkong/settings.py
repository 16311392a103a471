"""The one settings module of Fangkong, configured by environment (twelve-factor).

Everything that differs between deployments comes from ``FANGKONG_*`` variables with
defaults that are safe for the embedded demo: an SQLite file under ``./var/`` and a
secret generated once into that same folder, never one committed to the repository.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("FANGKONG_VAR_DIR", Path.cwd() / "var")).resolve()


class SettingError(ValueError):
    """A ``FANGKONG_*`` variable holds a value this module cannot read: a startup error."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_bool(name: str, default: bool) -> bool:
    """A yes/no variable. ``FANGKONG_DEBUG=flase`` stops the start instead of reading as no."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingError(f"{name}={value!r}: expected one of 1/0, true/false, yes/no, on/off")


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number variable (at least ``minimum``); anything else stops the start."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise SettingError(f"{name}={value!r}: expected a whole number") from None
    if number < minimum:
        raise SettingError(f"{name}={value!r}: must be at least {minimum}")
    return number


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_database(name: str, default: str = "", *, conn_max_age: int = 0) -> dict | None:
    """A database URL (``postgres://…``, ``sqlite:///…``); an unreadable one stops the start.

    Connections are kept for ``conn_max_age`` seconds and checked before each reuse, so a
    database restart costs one reconnect rather than an error."""
    value = (os.environ.get(name) or default).strip()
    if not value:
        return None
    try:
        config = dj_database_url.parse(
            value, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0
        )
    except ValueError as exc:
        raise SettingError(f"{name}={value!r}: {exc}") from None
    if not config.get("ENGINE") or not config.get("NAME"):
        raise SettingError(f"{name}={value!r}: expected a database URL with a database name")
    return config


def _secret_key() -> str:
    """Use FANGKONG_SECRET_KEY, else a key generated once and kept under var/."""
    key = os.environ.get("FANGKONG_SECRET_KEY")
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("FANGKONG_DEBUG", False)
# Set by `fangkong demo` for itself and the server it starts: the demo's relaxed defaults
# (any Host header, the Django admin mounted) never apply to a real deployment by accident.
DEMO = _env_bool("FANGKONG_DEMO", False)


def _env_list(name: str, default: str) -> list[str]:
    """A comma-separated variable, blanks dropped."""
    return [item.strip() for item in _env_str(name, default).split(",") if item.strip()]


# Personal isolation links are built from the Host header, so only known names are answered
# outside the demo (a deployment lists its own: FANGKONG_ALLOWED_HOSTS=fk.example.gov.cn).
ALLOWED_HOSTS = _env_list("FANGKONG_ALLOWED_HOSTS", "*" if DEMO else "localhost,127.0.0.1,[::1]")
# The Django admin (users, regions, audit log) is mounted at /admin/ only when asked for.
FANGKONG_ADMIN_ENABLED = _env_bool("FANGKONG_ADMIN_ENABLED", DEMO)


def _env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated IP addresses or networks (``127.0.0.1,10.0.0.0/8``)."""
    networks = []
    for item in os.environ.get(name, "").split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip()))
        except ValueError:
            raise SettingError(
                f"{name}: {item.strip()!r} is not an IP address or network"
            ) from None
    return networks


# Load balancers whose X-Forwarded-For names the client (fangkong.core.proxy); empty: none.
FANGKONG_TRUSTED_PROXIES = _env_networks("FANGKONG_TRUSTED_PROXIES")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("FANGKONG_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    # Django's admin, logging in through the web UI's throttled and audited login page.
    "fangkong.core.apps.FangkongAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "fangkong.core",
    "fangkong.people",
    "fangkong.quarantine",
    "fangkong.testing",
    "fangkong.screening",
    "fangkong.tracing",
    "fangkong.checkpoints",
    "fangkong.supplies",
    "fangkong.tipoffs",
    "fangkong.supervision",
    "fangkong.places",
    "fangkong.emergency",
    "fangkong.reports",
    "fangkong.web",
]

MIDDLEWARE = [
    # Removes itself unless FANGKONG_TRUSTED_PROXIES is set.
    "fangkong.core.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # An address that flooded the public tip-off form: 429 before sessions, CSRF and parsing.
    "fangkong.tipoffs.middleware.RefuseFloodedSenders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Chinese unless the user picked English with the switch (not the browser's language).
    "fangkong.web.middleware.LanguageMiddleware",
    # NUL, control and direction characters refused in paths, queries, forms and JSON.
    "fangkong.core.middleware.RejectUnsafeText",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Removes itself unless a replica is configured.
    "fangkong.core.replica.ReadYourWritesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A signed-in request from a revoked field-app phone: 401, its session ended.
    "fangkong.core.devices.DeviceGate",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A list page names the same villages on every row: each label is read once per request.
    "fangkong.core.regions.RememberRegionLabels",
]

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.web.context.navigation",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'fangkong.sqlite3'}"
# Each server thread keeps its own connection for this many seconds (checked before reuse):
# `fangkong serve` sizes its threads so that all of them fit in PostgreSQL's max_connections.
DB_CONN_MAX_AGE = _env_int("FANGKONG_DB_CONN_MAX_AGE", 600)
DATABASES = {
    "default": _env_database("FANGKONG_DATABASE_URL", _default_db, conn_max_age=DB_CONN_MAX_AGE)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server read while the worker writes; a busy timeout instead of
    # "database is locked" errors when both write at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# A streaming replica for boards, exports and reports (fangkong.core.replica): reads go
# there only where a module asks, never for a user who wrote in the last few seconds.
_replica = _env_database("FANGKONG_REPLICA_DATABASE_URL", conn_max_age=DB_CONN_MAX_AGE)
if _replica is not None:
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise SettingError(
            "FANGKONG_REPLICA_DATABASE_URL: the replica must use the primary's database engine"
        )
    _replica["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    _replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_HEALTH_CHECKS"]
    # Tests run against one test database: the replica alias reads the primary's.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["fangkong.core.replica.ReplicaRouter"]
# After a successful write, the writer's reads stay on the primary this many seconds.
FANGKONG_REPLICA_PIN_SECONDS = _env_int("FANGKONG_REPLICA_PIN_SECONDS", 10)
# After the replica could not be reached, reads use the primary for this many seconds.
FANGKONG_REPLICA_RETRY_SECONDS = _env_int("FANGKONG_REPLICA_RETRY_SECONDS", 30, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
# The model backend, with the session's user and its region codes read in one statement.
AUTHENTICATION_BACKENDS = ["fangkong.core.user_lookup.RegistryBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Argon2id tuned to the 2-core reference machine (core.hashers); hashes of the earlier
# PBKDF2 default still verify and are re-made with Argon2 on the next login. Tests swap in a
# fast hasher (tests/conftest.py).
PASSWORD_HASHERS = [
    "fangkong.core.hashers.FangkongArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "fangkong.core.passwords.NotTheDemoPasswordValidator"},
]

# Failed-login throttle (core.login): failures are counted per account and address pair;
# after MAX_FAILURES within the window each further try of that pair waits BACKOFF seconds,
# doubled per failure (capped at the window); one address may fail ADDRESS_MAX_FAILURES
# times in the window across all accounts (against password spraying).
LOGIN_THROTTLE_MAX_FAILURES = _env_int("FANGKONG_LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_THROTTLE_WINDOW_SECONDS = _env_int("FANGKONG_LOGIN_WINDOW_SECONDS", 900, minimum=1)
LOGIN_THROTTLE_BACKOFF_SECONDS = _env_int("FANGKONG_LOGIN_BACKOFF_SECONDS", 2, minimum=1)
LOGIN_THROTTLE_ADDRESS_MAX_FAILURES = _env_int(
    "FANGKONG_LOGIN_ADDRESS_MAX_FAILURES", 100, minimum=1
)
# API tokens (core.tokens): each lives TTL hours and is renewed (POST /auth/token/renew)
# until MAX_AGE days after the password login; at most TOKENS_PER_USER live per user.
API_TOKEN_TTL_HOURS = _env_int("FANGKONG_API_TOKEN_TTL_HOURS", 12, minimum=1)
API_TOKEN_MAX_AGE_DAYS = _env_int("FANGKONG_API_TOKEN_MAX_AGE_DAYS", 30, minimum=1)
API_TOKENS_PER_USER = _env_int("FANGKONG_API_TOKENS_PER_USER", 5, minimum=1)
# Request bodies: Django's 2.5 MB everywhere, but up to this on the bulk endpoints that
# document larger batches (100,000 lab results, 20,000 sample scans: core.http.bulk_body).
FANGKONG_BULK_MAX_BYTES = _env_int("FANGKONG_BULK_MAX_BYTES", 32 * 1024 * 1024, minimum=1)
# Largest ledger file (台账) an upload may be; bigger files are refused before import.
FANGKONG_LEDGER_MAX_BYTES = _env_int("FANGKONG_LEDGER_MAX_BYTES", 60 * 1024 * 1024, minimum=1)
# Where uploaded ledgers wait for the worker.
FANGKONG_LEDGER_DIR = Path(_env_str("FANGKONG_LEDGER_DIR", str(VAR_DIR / "ledgers")))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("FANGKONG_STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("FANGKONG_MEDIA_ROOT", VAR_DIR / "media"))

TASKS = {
    "default": {
        "BACKEND": _env_str("FANGKONG_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# How often `fangkong worker` raises missed-check alerts and escalates unhandled ones.
FANGKONG_MONITOR_INTERVAL_SECONDS = _env_int("FANGKONG_MONITOR_INTERVAL", 300, minimum=1)
# How often the worker recomputes the whole contact graph behind the services' back.
FANGKONG_TRACING_RECLASSIFY_SECONDS = _env_int(
    "FANGKONG_TRACING_RECLASSIFY_SECONDS", 24 * 3600, minimum=60
)
# Contacts count from this many days before onset (the national guidance's look-back).
FANGKONG_TRACING_LOOKBACK_DAYS = _env_int("FANGKONG_TRACING_LOOKBACK_DAYS", 4, minimum=1)
# The measure each contact level requires (kind of isolation, days): rules are data, so a
# deployment overrides this dict in a settings module of its own, not in code.
FANGKONG_TRACING_MEASURES = {"close": ("centralised", 14), "secondary": ("home", 7)}
# Where `fangkong serve` listens unless --host/--port say otherwise.
FANGKONG_HOST = _env_str("FANGKONG_HOST", "127.0.0.1")
FANGKONG_PORT = _env_int("FANGKONG_PORT", 8000, minimum=1)
# Server processes (0: one per CPU core) and the threads of each; every thread keeps one
# database connection, so workers x threads must fit in PostgreSQL's max_connections.
FANGKONG_SERVE_WORKERS = _env_int("FANGKONG_SERVE_WORKERS", 0)
FANGKONG_SERVE_THREADS = _env_int("FANGKONG_SERVE_THREADS", 4, minimum=1)
# Memory ceilings in MiB (0: none). A server process or a worker that reaches its ceiling
# fails the allocation (the request or task fails, the process lives on) or dies and is
# restarted; a server process above three quarters of it is replaced between requests.
FANGKONG_SERVE_MAX_MEMORY_MB = _env_int("FANGKONG_SERVE_MAX_MEMORY_MB", 1024)
FANGKONG_WORKER_MAX_MEMORY_MB = _env_int("FANGKONG_WORKER_MAX_MEMORY_MB", 2048)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SAMESITE = "Lax"
# HTTPS deployments: cookies only over HTTPS, HSTS, and the proxy's header that says a
# request came over HTTPS (FANGKONG_PROXY_SSL_HEADER=X-Forwarded-Proto: the proxy sets it
# to "https"; only set it when the proxy always overwrites that header).
SESSION_COOKIE_SECURE = _env_bool("FANGKONG_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = _env_int("FANGKONG_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("FANGKONG_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = _env_bool("FANGKONG_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


def _env_header(name: str) -> tuple[str, str] | None:
    """An HTTP header name (``X-Forwarded-Proto``) as Django's (META key, "https") pair."""
    value = _env_str(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", value):
        raise SettingError(f"{name}={value!r}: expected a header name such as X-Forwarded-Proto")
    return "HTTP_" + value.upper().replace("-", "_"), "https"


# Behind trusted load balancers (FANGKONG_TRUSTED_PROXIES, see fangkong.core.proxy, which also
# takes the client address from their X-Forwarded-For) nginx says the scheme in
# X-Forwarded-Proto; FANGKONG_PROXY_SSL_HEADER names another header.
SECURE_PROXY_SSL_HEADER = _env_header("FANGKONG_PROXY_SSL_HEADER") or (
    ("HTTP_X_FORWARDED_PROTO", "https") if FANGKONG_TRUSTED_PROXIES else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from our own static files (htmx,
# cytoscape, Swagger UI are vendored; no inline scripts or event handlers in any template),
# no plug-ins, no framing. Inline *styles* stay allowed: cytoscape and Swagger UI set
# style attributes, and progress bars carry their width as one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"denials": {"()": "fangkong.core.logs.DenialsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["denials"]}},
    "root": {"handlers": ["console"], "level": _env_str("FANGKONG_LOG_LEVEL", "WARNING")},
}
