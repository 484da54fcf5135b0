"""Settings of the example: a usual Django project behind Apache (mod_proxy,
TLS and HTTP/2 in Apache, gunicorn on 127.0.0.1).

Nothing here knows about HTTP/2 push: mod_push_redirect in Apache adds the
Link header to Django's redirects. What matters for it is marked "Apache".
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# run.sh puts the database in its output directory (build/demo-django).
DATA_DIR = Path(os.environ.get("DEMO_DJANGO_DATA_DIR", BASE_DIR))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "demosite",
]

# The usual list, in Django's documented order (LocaleMiddleware after
# SessionMiddleware and before CommonMiddleware).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
APPEND_SLASH = True

ROOT_URLCONF = "demosite.urls"
WSGI_APPLICATION = "demosite.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": DATA_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

USE_I18N = True
USE_TZ = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"

# Apache: TLS ends there, and its `RequestHeader set X-Forwarded-Proto https`
# tells Django the request was secure (`set` overwrites what a client sends).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Over plain HTTP Django redirects to https: a redirect mod_push_redirect skips
# ("insecure"). SECURE_SSL_HOST names the TLS virtual host (run.sh sets it).
SECURE_SSL_REDIRECT = True
SECURE_SSL_HOST = os.environ.get("DJANGO_SECURE_SSL_HOST") or None
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Tracebacks to stderr (gunicorn's log) even with DEBUG off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
}
