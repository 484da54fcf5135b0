#!/usr/bin/env bash
# demo/run.sh: run a throwaway Apache with mod_push_redirect and show what it does.
#
# Started by `make demo` after the build. It:
#   - regenerates build/demo/ (ServerRoot, config, logs, self-signed certificate);
#   - starts demo/backend.py, a stand-in for a proxied application;
#   - checks the config (apache2 -t) and starts Apache in the foreground on
#     https://localhost:$DEMO_PORT with HTTP/2 push;
#   - asks nghttp for one redirect of each kind and prints what was pushed;
#   - keeps running until Ctrl-C, then stops Apache and the backend.
#
# Environment:
#   DEMO_PORT=8443            HTTPS port (loopback only)
#   DEMO_BACKEND_PORT=0       port of the backend on 127.0.0.1 (0: any free port)
#   DEMO_ONESHOT=1            exit after the printout (exit status 1 if a result
#                             is not the expected one)
#   DEMO_USER=www-data        user (and group, DEMO_GROUP) of Apache's children when run as root
#   PUSH_REDIRECT_MODULE=...  module to load (default build/mod_push_redirect.so)
#   APACHE2=/usr/sbin/apache2, APACHE_MODULE_DIR=/usr/lib/apache2/modules
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

port=${DEMO_PORT:-8443}
backend_port=${DEMO_BACKEND_PORT:-0}
oneshot=${DEMO_ONESHOT:-0}
module=${PUSH_REDIRECT_MODULE:-$repo/build/mod_push_redirect.so}
httpd=${APACHE2:-/usr/sbin/apache2}
module_dir=${APACHE_MODULE_DIR:-/usr/lib/apache2/modules}
run_user=${DEMO_USER:-www-data}
run_group=${DEMO_GROUP:-$run_user}
python=/usr/bin/python3
[[ -x $python ]] || python=python3

demo=$repo/build/demo
base="https://localhost:$port"

apache_pid=
backend_pid=
site_tmp=

die() {
    echo "demo: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- checks

[[ $port =~ ^[0-9]+$ ]] || die "DEMO_PORT must be a number, not '$port'"
[[ $backend_port =~ ^[0-9]+$ ]] || die "DEMO_BACKEND_PORT must be a number, not '$backend_port'"

for tool in "$httpd" nghttp curl openssl "$python"; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found; run 'make deps' (as root) or install apache2, nghttp2-client, curl, openssl, python3"
done

[[ $module = /* ]] || module=$PWD/$module
[[ -f $module ]] || die "module not found: $module (run 'make build' first, or set PUSH_REDIRECT_MODULE)"

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
if port_in_use "$port"; then
    die "port $port is already in use (another demo still running?); choose another with DEMO_PORT=..."
fi

# ---------------------------------------------------------------- cleanup

stop_pid() { # pid name
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "demo: $2 (pid $pid) did not stop in 10s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap - EXIT INT TERM HUP
    trap '' PIPE # stdout may be gone: writing must not kill us before the clean up
    if [[ -n $apache_pid ]]; then
        echo "demo: stopping Apache" 2>/dev/null || true
        stop_pid "$apache_pid" apache2
    fi
    stop_pid "$backend_pid" backend
    if [[ -n $site_tmp ]]; then
        rm -rf "$site_tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# Output piped into something that stops reading (| head): still clean up.
trap 'exit 141' PIPE

# ---------------------------------------------------------------- build/demo

rm -rf "$demo"
mkdir -p "$demo"/{conf,logs,run,tls,htdocs}
cp -R "$here/site/." "$demo/htdocs/"
chmod -R u=rwX,go=rX "$demo"

# Apache's children run as $run_user and must be able to read the site. When
# the checkout is somewhere they cannot reach (e.g. under /root, mode 0700),
# serve a copy from a temporary directory instead.
site_dir=$demo/htdocs
if [[ $EUID -eq 0 ]]; then
    getent passwd "$run_user" >/dev/null || die "user $run_user does not exist; set DEMO_USER"
    if ! runuser -u "$run_user" -- test -r "$site_dir/new.html" 2>/dev/null; then
        site_tmp=$(mktemp -d /tmp/push-redirect-demo-site.XXXXXX)
        cp -R "$here/site/." "$site_tmp/"
        chmod -R u=rwX,go=rX "$site_tmp"
        chmod 755 "$site_tmp"
        site_dir=$site_tmp
        echo "demo: $run_user cannot read $demo, serving the site from $site_dir"
    fi
    # The runtime dir holds mutex files that the children reopen.
    chown "$run_user:$run_group" "$demo/run"
fi

# Self-signed certificate for localhost and 127.0.0.1, made on the spot.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$demo/tls/localhost.key" -out "$demo/tls/localhost.crt" \
    >"$demo/logs/openssl.log" 2>&1 ||
    { cat "$demo/logs/openssl.log" >&2; die "openssl could not make the certificate"; }
chmod 600 "$demo/tls/localhost.key"

# ---------------------------------------------------------------- backend

"$python" "$here/backend.py" --port "$backend_port" --port-file "$demo/run/backend.port" \
    >/dev/null 2>>"$demo/logs/backend.log" &
backend_pid=$!
for _ in $(seq 1 50); do
    [[ -s $demo/run/backend.port ]] && break
    kill -0 "$backend_pid" 2>/dev/null ||
        { cat "$demo/logs/backend.log" >&2; die "the backend did not start"; }
    sleep 0.1
done
[[ -s $demo/run/backend.port ]] || die "the backend did not start in 5s"
backend_port=$(<"$demo/run/backend.port")

# ---------------------------------------------------------------- httpd.conf

sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

if "$python" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    listen_v6="Listen [::1]:$port"
else
    listen_v6="# No IPv6 loopback on this host: no Listen [::1]:$port"
fi

sed -e "s|@DEMO_DIR@|$(sed_escape "$demo")|g" \
    -e "s|@SITE_DIR@|$(sed_escape "$site_dir")|g" \
    -e "s|@MODULE@|$(sed_escape "$module")|g" \
    -e "s|@MODULE_DIR@|$(sed_escape "$module_dir")|g" \
    -e "s|@PORT@|$port|g" \
    -e "s|@BACKEND_PORT@|$backend_port|g" \
    -e "s|@LISTEN_V6@|$(sed_escape "$listen_v6")|g" \
    -e "s|@RUN_USER@|$(sed_escape "$run_user")|g" \
    -e "s|@RUN_GROUP@|$(sed_escape "$run_group")|g" \
    "$here/httpd.conf.in" >"$demo/conf/httpd.conf"

httpd_args=(-d "$demo" -f "$demo/conf/httpd.conf")

echo "demo: $httpd -t ${httpd_args[*]}"
if ! "$httpd" "${httpd_args[@]}" -t; then
    die "the configuration does not pass 'apache2 -t' (see above; config: $demo/conf/httpd.conf)"
fi

# ---------------------------------------------------------------- Apache

"$httpd" "${httpd_args[@]}" -DFOREGROUND &
apache_pid=$!

ready=
for _ in $(seq 1 100); do
    if ! kill -0 "$apache_pid" 2>/dev/null; then
        wait "$apache_pid" 2>/dev/null || true
        apache_pid=
        echo "demo: Apache exited during startup; end of $demo/logs/error.log:" >&2
        tail -n 20 "$demo/logs/error.log" >&2 || true
        exit 1
    fi
    if curl -sk -o /dev/null --max-time 2 "$base/"; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ -n $ready ]] || die "Apache does not answer on $base after 10s; see $demo/logs/error.log"

# ---------------------------------------------------------------- show it

access_log=$demo/logs/access.log
failures=0

# h2get NAME PATH [nghttp options...]: nghttp -nv into $demo/nghttp/NAME.txt
h2get() {
    local name=$1 path=$2
    shift 2
    mkdir -p "$demo/nghttp"
    timeout 20 nghttp -nv "$@" "$base$path" >"$demo/nghttp/$name.txt" 2>&1 || true
}

# promised_path FILE: the :path of the first PUSH_PROMISE in an nghttp -v transcript
promised_path() {
    awk '
        / recv \(stream_id=[0-9]+\) :path: / { last = $NF }
        / recv PUSH_PROMISE frame / { print last; exit }
    ' "$1"
}

# has_link FILE: the response carried a Link header
has_link() {
    grep -qE ' recv \(stream_id=[0-9]+\) link: ' "$1"
}

# log_field PATH COUNT_BEFORE FIELD: FIELD (push or skipped) of the first access
# log line for "GET PATH HTTP/2.0" after the COUNT_BEFORE ones already there.
# The line is written when the stream ends, so wait a little for it.
log_count() {
    grep -cF "\"GET $1 HTTP/2.0\"" "$access_log" 2>/dev/null || true
}
log_field() {
    local path=$1 before=$2 field=$3 line= i
    for i in $(seq 1 30); do
        line=$(grep -F "\"GET $path HTTP/2.0\"" "$access_log" 2>/dev/null | sed -n "$((before + 1))p" || true)
        [[ -n $line ]] && break
        sleep 0.1
    done
    sed -n "s/.* $field=\([^ ]*\).*/\1/p" <<<"$line"
}

# probe LABEL PATH EXPECT [nghttp options...]; EXPECT is "push:/target" or "skip:reason"
probe() {
    local label=$1 path=$2 expect=$3 name before file target reason result
    shift 3
    name=$(tr -c 'A-Za-z0-9\n' '_' <<<"$path$*" | head -c 80)
    before=$(log_count "$path")
    h2get "$name" "$path" "$@"
    file=$demo/nghttp/$name.txt
    target=$(promised_path "$file")
    if [[ -n $target ]]; then
        result="push:$target"
        printf '  %-42s %-16s pushed %s\n' "$label" "$path" "$target"
    else
        reason=$(log_field "$path" "$before" skipped)
        result="skip:${reason:--}"
        if has_link "$file"; then
            printf '  %-42s %-16s not pushed (%s), Link header present\n' "$label" "$path" "${reason:--}"
        else
            printf '  %-42s %-16s not pushed (%s), no Link header\n' "$label" "$path" "${reason:--}"
        fi
    fi
    if [[ $result != "$expect" ]]; then
        printf '  %-42s %-16s ^ UNEXPECTED: expected %s (transcript: %s)\n' "" "" "$expect" "$file"
        failures=$((failures + 1))
    fi
}

cat <<EOF

================================================================================
 mod_push_redirect demo: $base
 Apache $("$httpd" -v | sed -n 's/^Server version: Apache\/\([^ ]*\).*/\1/p'), event MPM, HTTP/2 with H2Push on, PushRedirect On
 module:  $module
 backend: demo/backend.py on 127.0.0.1:$backend_port (behind ProxyPass /backend/)
================================================================================

\$ nghttp -nv $base/old      (mod_alias: Redirect /old /new.html)
EOF

before=$(log_count /old)
h2get old /old
# The lines that matter: the 302 and its Location and Link on stream 13, the
# PUSH_PROMISE (with the promised request's :path) and the pushed stream's 200.
awk '
    / recv \(stream_id=[0-9]+\) (:status|location|link):/ { print; next }
    / recv \(stream_id=[0-9]+\) :path: /                { print; next }
    / recv PUSH_PROMISE frame /                         { print; getline; getline; print; next }
' "$demo/nghttp/old.txt" | sed 's/^/  /'
old_target=$(promised_path "$demo/nghttp/old.txt")
if [[ $old_target == /new.html ]]; then
    echo "  => /new.html was pushed with the 302: the client has it before it follows the redirect."
    echo "     Access log: $(grep -F '"GET /old HTTP/2.0"' "$access_log" | sed -n "$((before + 1))p")"
else
    echo "  => UNEXPECTED: no push of /new.html. Full transcript: $demo/nghttp/old.txt"
    failures=$((failures + 1))
fi

cat <<EOF

The other redirects (nghttp -nv for each; the skip reason is from the access log):
EOF
probe "mod_rewrite RewriteRule [R=302]" /rewrite push:/new.html
probe "mod_dir trailing slash" /docs push:/docs/
probe "ErrorDocument 404 with a full URL" /gone push:/new.html
probe "backend: 302 Location: /new.html" /backend/login push:/new.html
probe "backend: 302 to https://example.org/" /backend/away skip:cross-origin
probe "backend: X-Push-Redirect: off" /backend/optout skip:opt-out
probe "client refuses push (nghttp --no-push)" /old skip:push-disabled --no-push
probe "request with a Cookie" /rewrite skip:credentials -H "cookie: session=1"

cat <<EOF

Try it yourself:
  nghttp -nv $base/old
      302 with "link: </new.html>; as=document; rel=preload", then a PUSH_PROMISE
      whose :path is /new.html, then ":status: 200" on the pushed (even) stream.
  nghttp -ns $base/docs
      the statistics at the end list the pushed /docs/ (marked "*") next to /docs.
  nghttp -nv --no-push $base/old
      what a browser gets today: the client sends SETTINGS_ENABLE_PUSH=0, so there
      is no Link header and no PUSH_PROMISE (skipped: push-disabled).
  nghttp -nv -H 'cookie: session=1' $base/old
      skipped (credentials): a pushed request would carry no cookie.
  curl --http1.1 -sk -o /dev/null -D - $base/old
      HTTP/1.1 has no push; the Link header is added all the same. (Not curl -I:
      HEAD requests are skipped, reason "method".)
  curl --http1.1 -sk -o /dev/null -D - $base/backend/optout
      the backend's X-Push-Redirect: off is honoured, and removed from the response.

  Logs:   tail -f $demo/logs/access.log $demo/logs/error.log
          (push=<path> or skipped=<reason>; every decision at trace1 in error.log)
  Config: $demo/conf/httpd.conf
EOF

if [[ $failures -gt 0 ]]; then
    echo
    echo "demo: $failures result(s) were not the expected ones (see above)." >&2
fi

if [[ $oneshot == 1 ]]; then
    [[ $failures -eq 0 ]] || exit 1
    exit 0
fi

echo
echo "Apache runs in the foreground on $base; press Ctrl-C to stop it."
wait "$apache_pid" || true
apache_pid=
echo "demo: Apache exited; see $demo/logs/error.log" >&2
exit 1
