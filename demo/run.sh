#!/usr/bin/env bash
# demo/run.sh: run a throwaway Apache with mod_push_redirect and show what it does.
#
# Started by `make demo` after the build. It:
#   - regenerates build/demo/ (ServerRoot, config, logs, self-signed certificate);
#   - starts demo/backend.py, a stand-in for a proxied application;
#   - checks the config (apache2 -t) and starts Apache in the foreground on
#     https://localhost:$DEMO_PORT with HTTP/2 push;
#   - asks nghttp for one redirect of each kind and prints what was pushed,
#     shows a 103 Early Hints sent ahead of a slow backend, and one whose
#     hint was learned from a page's HTML (no Link header);
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
# shellcheck source=demo/lib.sh
. "$here/lib.sh"
prog=demo

port=${DEMO_PORT:-8443}
backend_port=${DEMO_BACKEND_PORT:-0}

demo=$repo/build/demo
out=$demo
base="https://localhost:$port"

# ---------------------------------------------------------------- checks

[[ $port =~ ^[0-9]+$ ]] || die "DEMO_PORT must be a number, not '$port'"
[[ $backend_port =~ ^[0-9]+$ ]] || die "DEMO_BACKEND_PORT must be a number, not '$backend_port'"

check_tools

if port_in_use "$port"; then
    die "port $port is already in use (another demo still running?); choose another with DEMO_PORT=..."
fi

# ---------------------------------------------------------------- cleanup

install_cleanup

# ---------------------------------------------------------------- build/demo

rm -rf "$demo"
mkdir -p "$demo"/{conf,logs,run,tls}
chmod -R u=rwX,go=rX "$demo"

# What Apache's children read (the site, the module) is served from copies
# they can read, wherever the checkout is (under /root, mode 0700, they could not).
readable_copies "$here/site" "$module"
site_dir=${readable_paths[0]}
module=${readable_paths[1]}
if [[ $EUID -eq 0 ]]; then
    getent passwd "$run_user" >/dev/null || die "user $run_user does not exist; set DEMO_USER"
    # The runtime dir holds mutex files that the children reopen.
    chown "$run_user:$run_group" "$demo/run"
fi

# Self-signed certificate for localhost and 127.0.0.1, made on the spot.
make_cert

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

if "$python" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    listen_v6="Listen [::1]:$port"
else
    listen_v6="# No IPv6 loopback on this host: no Listen [::1]:$port"
fi

render "$here/httpd.conf.in" "$demo/conf/httpd.conf" \
    DEMO_DIR="$demo" SITE_DIR="$site_dir" MODULE="$module" MODULE_DIR="$module_dir" \
    PORT="$port" BACKEND_PORT="$backend_port" LISTEN_V6="$listen_v6" \
    RUN_USER="$run_user" RUN_GROUP="$run_group"

httpd_args=(-d "$demo" -f "$demo/conf/httpd.conf")

start_apache

# ---------------------------------------------------------------- show it

access_log=$demo/logs/access.log

cat <<EOF

================================================================================
 mod_push_redirect demo: $base
 Apache $("$httpd" -v | sed -n 's/^Server version: Apache\/\([^ ]*\).*/\1/p'), event MPM, HTTP/2 with H2Push on, PushRedirect On
 module:  $module
 site:    $site_dir (a copy of demo/site)
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

Early Hints ahead of a slow backend (PushRedirectEarlyHintsAhead On in <Location /backend/slow/>;
demo/backend.py thinks 0.3 s before each answer). A first visit to the page and to the
redirect teaches the module what they lead to; then:

\$ nghttp -v --no-push $base/backend/slow/old
EOF
h2get slow-page /backend/slow/page --no-push
h2get slow-old /backend/slow/old --no-push
h2get slow /backend/slow/old --no-push
awk '/ recv \(stream_id=[0-9]+\) (:status|link|location):/ { print }' \
    "$demo/nghttp/slow.txt" | sed 's/^/  /'
# The lead: from the 103's :status line to the 302's, in nghttp's seconds.
lead=$(awk '
    / recv \(stream_id=[0-9]+\) :status: 103/ && !hint { hint = substr($0, 2, index($0, "]") - 2) + 0 }
    / recv \(stream_id=[0-9]+\) :status: 302/ && !final { final = substr($0, 2, index($0, "]") - 2) + 0 }
    END { if (hint && final) printf "%.2f", final - hint }
' "$demo/nghttp/slow.txt")
if [[ -n $lead ]] && awk -v lead="$lead" 'BEGIN { exit !(lead >= 0.2) }'; then
    echo "  => the 103 with /backend/slow/page's stylesheet came $lead s before the 302, ahead of"
    echo "     the backend: a browser fetches it while the backend thinks."
else
    echo "  => UNEXPECTED: no 103 well before the 302 (lead: ${lead:-none}). Transcript: $demo/nghttp/slow.txt"
    failures=$((failures + 1))
fi

cat <<EOF

Early Hints learned from a page's HTML (PushRedirectEarlyHints On for /styled and
/styled.html). /styled.html sends no Link header; its <head> links /styled.css. One
visit to the page teaches the module; then a fresh navigation to the redirect:

\$ nghttp -v --no-push $base/styled
EOF
h2get styled-page /styled.html --no-push
h2get styled /styled --no-push
awk '/ recv \(stream_id=[0-9]+\) (:status|link|location):/ { print }' \
    "$demo/nghttp/styled.txt" | sed 's/^/  /'
# One 103, with the stylesheet, before the 302.
if [[ $(grep -c ' :status: 103' "$demo/nghttp/styled.txt") == 1 ]] &&
    grep -qF 'link: </styled.css>; rel=preload; as=style' "$demo/nghttp/styled.txt"; then
    echo "  => the 103 carries /styled.css, read from /styled.html's <head>: no Link header needed."
else
    echo "  => UNEXPECTED: no 103 with /styled.css before the 302. Transcript: $demo/nghttp/styled.txt"
    failures=$((failures + 1))
fi

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
  nghttp -v --no-push $base/backend/slow/old
      the 103 Early Hints with the learned page's stylesheet, 0.3 s before the 302
      (the backend thinks meanwhile); trace1 in error.log says "sent ahead of the handler".
  nghttp -v --no-push $base/styled
      after one visit to /styled.html, a 103 with the stylesheet its <head> links.

  Logs:   tail -f $demo/logs/access.log $demo/logs/error.log
          (push=<path> or skipped=<reason>; every decision at trace1 in error.log)
  Config: $demo/conf/httpd.conf
EOF

finish_demo
