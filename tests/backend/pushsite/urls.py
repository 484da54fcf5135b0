from django.urls import path

from . import views

urlpatterns = [
    path("app/health/", views.health),
    path("app/target/", views.target),
    path("app/page/", views.page),
    path("app/whoami/", views.whoami),
    path("app/redirect/relative/", views.redirect_relative),
    path("app/rel", views.redirect_relative_path),
    path("app/redirect/absolute/", views.redirect_absolute),
    path("app/redirect/external/", views.redirect_external),
    path("app/redirect/whoami/", views.redirect_whoami),
    path("app/optout/", views.optout_redirect),
    path("app/optout-page/", views.optout_page),
    path("app/linked/", views.linked_nopush),
    path("app/linked-other/", views.linked_other),
    path("app/self/", views.redirect_self),
    path("app/no-location/", views.no_location),
    path("app/empty-location/", views.empty_location),
    path("app/bad-location/", views.bad_location),
    path("app/two-locations/", views.two_locations),
    path("app/raw-location/", views.raw_location),
    path("app/non-utf8-location/", views.non_utf8_location),
]
