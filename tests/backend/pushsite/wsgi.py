"""WSGI entry point, with one shim Django cannot do: two Location fields."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushsite.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

_django = get_wsgi_application()


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        out = []
        for name, value in headers:
            if name.lower() == "x-test-second-location":
                out.append(("Location", value))
            else:
                out.append((name, value))
        return start_response(status, out, exc_info)

    return _django(environ, start)
