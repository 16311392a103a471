"""The one settings module of Fangkong, configured by environment (twelve-factor).

Everything that differs between deployments comes from ``FANGKONG_*`` variables with
defaults that are safe for the embedded demo: an SQLite file under ``./var/`` and a
secret generated once into that same folder, never one committed to the repository.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("FANGKONG_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
ALLOWED_HOSTS = [h for h in os.environ.get("FANGKONG_ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("FANGKONG_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "fangkong.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Chinese unless the user picked English with the switch (not the browser's language).
    "fangkong.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("FANGKONG_DATABASE_URL") or _default_db, conn_max_age=60
    )
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Argon2 is not in the pinned set; PBKDF2-SHA256 with Django 5.2's 1,000,000 iterations is
# the strong default. Tests swap in a fast hasher (tests/conftest.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Failed-login throttle: after this many failures for one username or one client address
# within the window, further attempts are refused until the window passes.
LOGIN_THROTTLE_MAX_FAILURES = int(os.environ.get("FANGKONG_LOGIN_MAX_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("FANGKONG_LOGIN_WINDOW_SECONDS", "900"))
API_TOKEN_TTL_HOURS = int(os.environ.get("FANGKONG_API_TOKEN_TTL_HOURS", "720"))
# Largest ledger file (台账) an upload may be; bigger files are refused before import.
FANGKONG_LEDGER_MAX_BYTES = int(os.environ.get("FANGKONG_LEDGER_MAX_BYTES", 60 * 1024 * 1024))

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
        "BACKEND": os.environ.get("FANGKONG_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# How often `fangkong worker` raises missed-check alerts and escalates unhandled ones.
FANGKONG_MONITOR_INTERVAL_SECONDS = int(os.environ.get("FANGKONG_MONITOR_INTERVAL", "300"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SECURE = _env_bool("FANGKONG_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FANGKONG_LOG_LEVEL", "WARNING")},
}
