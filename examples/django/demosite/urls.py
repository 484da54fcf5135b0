from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

# Every page lives under a language prefix (/en/, /fr/): LocaleMiddleware
# redirects /about/ to /en/about/ (or /fr/about/, from Accept-Language).
urlpatterns = i18n_patterns(
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("account/", views.account, name="account"),
    path("go/", views.go, name="go"),
    path("optout/", views.optout, name="optout"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
)
