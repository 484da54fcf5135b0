"""Views of the example. None of them knows about push; their redirects are
Django's own (redirect(), login_required), plus one view that opts out."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


def home(request):
    return render(request, "demosite/page.html", {"title": "Home"})


def about(request):
    return render(request, "demosite/page.html", {"title": "About"})


@login_required
def account(request):
    # Anonymous visitors get 302 to the login page (?next=...); Apache pushes it.
    return render(request, "demosite/account.html", {"title": "Your account"})


def go(request):
    # A view that redirects with django.shortcuts.redirect(): pushed.
    return redirect("about")


def optout(request):
    # A view that does not want its redirect pushed: mod_push_redirect honours
    # the header (skip reason "opt-out") and removes it from the response.
    response = redirect("about")
    response["X-Push-Redirect"] = "off"
    return response
