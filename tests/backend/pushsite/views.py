"""Views that redirect the way Django applications do, and a few that misbehave.

Bodies end with a newline and are distinct, so a test can tell which page a
pushed stream carried.
"""

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect

TARGET_BODY = "django target\n"
PAGE_BODY = "django page\n"


def text(body, status=200):
    return HttpResponse(body, status=status, content_type="text/plain")


def health(request):
    return text("ok\n")


def target(request):
    return text(TARGET_BODY)


def page(request):
    # Reached as /app/page/; a request for /app/page gets CommonMiddleware's
    # APPEND_SLASH redirect (301, Location: /app/page/).
    return text(PAGE_BODY)


def whoami(request):
    # Tells whether the request carried credentials (a pushed request must not).
    cookie = request.META.get("HTTP_COOKIE", "none")
    auth = request.META.get("HTTP_AUTHORIZATION", "none")
    return text(f"cookie={cookie} authorization={auth}\n")


def redirect_relative(request):
    return HttpResponseRedirect("/app/target/")


def redirect_relative_path(request):
    # A path-relative Location: resolved against /app/rel it is /app/target/.
    return HttpResponseRedirect("target/")


def redirect_absolute(request):
    # Behind the proxy this is https://127.0.0.1:<backend port>/app/target/;
    # ProxyPassReverse maps it back to the front end's origin.
    return HttpResponseRedirect(request.build_absolute_uri("/app/target/"))


def redirect_external(request):
    return redirect("https://other.example/")


def redirect_whoami(request):
    return HttpResponseRedirect("/app/whoami/")


def optout_redirect(request):
    # The backend's opt-out: X-Push-Redirect with the value of ?v= (default off).
    response = HttpResponseRedirect("/app/target/")
    response["X-Push-Redirect"] = request.GET.get("v", "off")
    return response


def optout_page(request):
    # Not a redirect, but carries the opt-out header: it must not leak either.
    response = text(PAGE_BODY)
    response["X-Push-Redirect"] = "off"
    return response


def linked_nopush(request):
    response = HttpResponseRedirect("/app/target/")
    response["Link"] = "</app/target/>; rel=preload; nopush"
    return response


def linked_other(request):
    response = HttpResponseRedirect("/app/target/")
    response["Link"] = "</app/page/>; rel=preload; nopush"
    return response


def redirect_self(request):
    # Redirects to exactly what was asked for (path and query).
    return HttpResponseRedirect(request.get_full_path())


def no_location(request):
    return HttpResponse("no location\n", status=302, content_type="text/plain")


def empty_location(request):
    response = HttpResponse("empty location\n", status=302, content_type="text/plain")
    response["Location"] = ""
    return response


def bad_location(request):
    # Not a URL: an IPv6 host that is never closed. Set raw (HttpResponseRedirect
    # would reject it).
    response = HttpResponse("bad location\n", status=302, content_type="text/plain")
    response["Location"] = "http://[::1"
    return response


def two_locations(request):
    # Django keeps one field per name; pushsite.wsgi turns this marker into a
    # second Location field.
    response = HttpResponseRedirect("/app/target/")
    response["X-Test-Second-Location"] = "/app/page/"
    return response


def raw_location(request):
    # Location taken verbatim from ?to= (a backend reflecting user input).
    response = HttpResponse("raw location\n", status=302, content_type="text/plain")
    response["Location"] = request.GET.get("to", "")
    return response


def non_utf8_location(request):
    # gunicorn sends header values as latin-1: this is the single byte 0xE9.
    response = HttpResponse("non-utf8 location\n", status=302, content_type="text/plain")
    response["Location"] = "/app/target/\u00e9"
    return response
