#!/usr/bin/env bash
# examples/django/run.sh: the Django example under gunicorn behind a throwaway
# Apache with mod_push_redirect, and which of Django's redirects get pushed.
#
# Started by `make demo-django` after the build. It:
#   - regenerates build/demo-django/ (ServerRoot, config, logs, certificate,
#     the example's SQLite database with its user demo / demo-password);
#   - starts gunicorn with the example project on 127.0.0.1;
#   - starts Apache (examples/django/httpd.conf.in) on https://localhost:$DEMO_PORT
#     (HTTP/2, push) and http://localhost:$DEMO_HTTP_PORT (plain, for
#     SECURE_SSL_REDIRECT), both proxying to gunicorn;
#   - asks nghttp for each kind of Django redirect, anonymous and logged in,
#     and prints pushed or not pushed with the reason from the access log;
#   - keeps running until Ctrl-C, then stops Apache and gunicorn.
#
# Environment:
#   DEMO_PORT=8443, DEMO_HTTP_PORT=8080  the HTTPS and plain HTTP ports (loopback)
#   DEMO_ONESHOT=1            exit after the printout (exit status 1 if a result
#                             is not the expected one)
#   DEMO_OUT=build/demo-django  where it writes
#   DEMO_USER=www-data        user (and group, DEMO_GROUP) of Apache's children when run as root
#   PUSH_REDIRECT_MODULE=...  module to load (default build/mod_push_redirect.so)
#   APACHE2=/usr/sbin/apache2, APACHE_MODULE_DIR=/usr/lib/apache2/modules
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=demo/lib.sh
. "$repo/demo/lib.sh"
prog=demo-django

port=${DEMO_PORT:-8443}
http_port=${DEMO_HTTP_PORT:-8080}
out=${DEMO_OUT:-$repo/build/demo-django}
base="https://localhost:$port"
plain="http://localhost:$http_port"

# ---------------------------------------------------------------- checks

for p in "$port" "$http_port"; do
    [[ $p =~ ^[0-9]+$ ]] || die "DEMO_PORT and DEMO_HTTP_PORT must be numbers, not '$p'"
    if port_in_use "$p"; then
        die "port $p is already in use; choose others with DEMO_PORT=... DEMO_HTTP_PORT=..."
    fi
done
check_tools
"$python" -c 'import django, gunicorn' 2>/dev/null ||
    die "$python has no Django or gunicorn; run 'make deps-django' (python3-django, gunicorn)"

install_cleanup

# The module Apache loads, as a copy www-data can read wherever the checkout is.
readable_copies "$module"
module=${readable_paths[0]}

# ---------------------------------------------------------------- build/demo-django

[[ $out = /* ]] || out=$PWD/$out
rm -rf "$out"
mkdir -p "$out"/{conf,logs,run,tls}
if [[ $EUID -eq 0 ]]; then
    getent passwd "$run_user" >/dev/null || die "user $run_user does not exist; set DEMO_USER"
    chown "$run_user:$run_group" "$out/run"  # mutex files the children reopen
fi
make_cert

# ---------------------------------------------------------------- Django under gunicorn

export DJANGO_SETTINGS_MODULE=demosite.settings DEMO_DJANGO_DATA_DIR=$out \
    DJANGO_SECURE_SSL_HOST=localhost:$port PYTHONDONTWRITEBYTECODE=1
unset PYTHONPATH PYTHONHOME
"$python" "$here/manage.py" migrate --noinput >"$out/logs/migrate.log" 2>&1 ||
    { cat "$out/logs/migrate.log" >&2; die "manage.py migrate failed"; }

backend_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m gunicorn --bind "127.0.0.1:$backend_port" --workers 2 --chdir "$here" \
    --error-logfile - --log-level warning demosite.wsgi \
    >"$out/logs/gunicorn.log" 2>&1 &
backend_pid=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$backend_port/" && break
    kill -0 "$backend_pid" 2>/dev/null || { cat "$out/logs/gunicorn.log" >&2; die "gunicorn did not start"; }
    sleep 0.1
done
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$backend_port/" || die "gunicorn does not answer after 10s"

# ---------------------------------------------------------------- Apache

render "$here/httpd.conf.in" "$out/conf/httpd.conf" \
    OUT="$out" MODULE="$module" MODULE_DIR="$module_dir" LISTEN_ADDR=127.0.0.1 PORT="$port" \
    HTTP_PORT="$http_port" BACKEND="127.0.0.1:$backend_port" RUN_USER="$run_user" RUN_GROUP="$run_group"
httpd_args=(-d "$out" -f "$out/conf/httpd.conf")
start_apache

# ---------------------------------------------------------------- log in as demo

# The login form's CSRF cookie, then the POST; the session cookie is what a
# logged-in browser sends with every request.
jar=$out/run/cookies.txt
login_url=$base/en/accounts/login/
curl -sk -c "$jar" -o /dev/null "$login_url"
csrftoken=$(awk '$6 == "csrftoken" { print $7 }' "$jar")
login_status=$(curl -sk -b "$jar" -c "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
    -e "$login_url" --data-urlencode "csrfmiddlewaretoken=$csrftoken" \
    --data-urlencode username=demo --data-urlencode password=demo-password "$login_url")
sessionid=$(awk '$6 == "sessionid" { print $7 }' "$jar")
[[ -n $sessionid ]] || die "logging in as demo failed (answer: $login_status; see $out/logs/gunicorn.log)"
session_cookie="cookie: csrftoken=$csrftoken; sessionid=$sessionid"
# A real session: with it, the account page is demo's (not a redirect to login).
account_page=$(curl -sk -H "$session_cookie" "$base/en/account/")
grep -q "Account page of demo" <<<"$account_page" ||
    die "the session cookie does not log demo in (see $out/logs/gunicorn.log)"

# ---------------------------------------------------------------- show it

cat <<EOF

================================================================================
 mod_push_redirect, Django example: $base (and $plain)
 Django $("$python" -c 'import django; print(django.get_version())') under gunicorn on 127.0.0.1:$backend_port, behind Apache's mod_proxy
 MIDDLEWARE: Security, Session, Locale (i18n_patterns: en, fr), Common
 (APPEND_SLASH), Csrf, Authentication, Message
================================================================================

\$ nghttp -nv $base/about/      (LocaleMiddleware adds the language prefix)
EOF
h2get about /about/
awk '
    / recv \(stream_id=[0-9]+\) (:status|location|link):/ { print; next }
    / recv \(stream_id=[0-9]+\) :path: /                { print; next }
    / recv PUSH_PROMISE frame /                         { print; getline; getline; print; next }
' "$out/nghttp/about.txt" | sed 's/^/  /'

cat <<EOF

Django's redirects, anonymous over HTTPS (nghttp -nv; the reason is from the access log):
EOF
probe "LocaleMiddleware: / to the language" / push:/en/
probe "LocaleMiddleware, Accept-Language: fr" /about/ push:/fr/about/ -H "accept-language: fr"
probe "CommonMiddleware APPEND_SLASH" /en/about push:/en/about/
probe "login_required, anonymous" /en/account/ "push:/en/accounts/login/?next=/en/account/"
probe "a view returning redirect()" /en/go/ push:/en/about/
probe "a view with X-Push-Redirect: off" /en/optout/ skip:opt-out

cat <<EOF

Skipped, and why:
EOF
base=$plain probe "SECURE_SSL_REDIRECT over plain HTTP" /fr/ skip:insecure
probe "logged in as demo (session cookie)" /fr/account skip:credentials -H "$session_cookie"
echo "  (the pushed request would carry no cookie: demo would be shown the anonymous page)"

cat <<EOF

Try it yourself:
  nghttp -nv $base/en/account/
      anonymous: 302 to the login page, pushed (the pushed page is the login form).
  nghttp -nv -H 'accept-language: fr' $base/
      302 to /fr/ with "link: </fr/>; as=document; rel=preload"; mod_http2 copies
      Accept-Language into the pushed request, so the pushed page is the French one.
  curl --http1.1 -sk -o /dev/null -D - $base/en/optout/
      the view's X-Push-Redirect: off is honoured, and removed from the response.
  nghttp -nv $plain/en/about/
      over plain HTTP Django redirects to https: not pushed (insecure).
  Log in as demo / demo-password at $base/en/accounts/login/ : from then on
  the browser sends a session cookie and redirects are skipped (credentials).

  Logs:   tail -f $out/logs/access.log $out/logs/error.log $out/logs/gunicorn.log
  Config: $out/conf/httpd.conf, examples/django/demosite/settings.py
EOF

finish_demo
