"""Settings of the test backend: a minimal Django site behind Apache's mod_proxy."""

SECRET_KEY = "integration-tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "pushsite.urls"
WSGI_APPLICATION = "pushsite.wsgi.application"
INSTALLED_APPS = []
DATABASES = {}
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
APPEND_SLASH = True
# Apache terminates TLS and sends `RequestHeader set X-Forwarded-Proto https`.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_TZ = True

# With DEBUG off Django prints nothing on a 500; print tracebacks to stderr, which
# gunicorn writes to the log that the tests scan.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
}
