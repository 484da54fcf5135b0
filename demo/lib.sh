# demo/lib.sh: what the demos (demo/run.sh, examples/django/run.sh) share.
# Sourced, not run, with $repo set to the checkout. A demo then sets
#
#   prog         name in messages ("demo")
#   out          its output directory (build/...): conf/, logs/, run/, tls/, nghttp/
#   base         https://localhost:PORT, the URL probes ask
#   httpd_args   apache2's -d/-f arguments
#
# and may set apache_pid, backend_pid (stopped on exit) and temp_dirs (removed).

# The environment both demos read (see their headers).
oneshot=${DEMO_ONESHOT:-0}
module=${PUSH_REDIRECT_MODULE:-$repo/build/mod_push_redirect.so}
httpd=${APACHE2:-/usr/sbin/apache2}
module_dir=${APACHE_MODULE_DIR:-/usr/lib/apache2/modules}
run_user=${DEMO_USER:-www-data}
run_group=${DEMO_GROUP:-$run_user}
# Debian's interpreter: it has Django and gunicorn (a pyenv python on PATH may not).
python=/usr/bin/python3
[[ -x $python ]] || python=python3

apache_pid=
backend_pid=
temp_dirs=()
failures=0

die() {
    echo "$prog: $*" >&2
    exit 1
}

# check_tools: the programs the demos run, and the module, are there.
check_tools() {
    local tool
    for tool in "$httpd" nghttp curl openssl "$python"; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "$tool not found; run 'make deps-demo' (as root) or install apache2, nghttp2-client, curl, openssl, python3"
    done
    [[ $module = /* ]] || module=$PWD/$module
    [[ -f $module ]] || die "module not found: $module (run 'make build' first, or set PUSH_REDIRECT_MODULE)"
}

# readable_copies SOURCE...: copies of what Apache's children read, in a new
# temporary directory they can read whatever the permissions of the checkout
# (tests/harness/readable.py, the one way the tests and the bench use too);
# their paths in readable_paths, in order. Removed on exit.
readable_copies() {
    local dir
    dir=$(mktemp -d "/tmp/push-redirect-$prog.XXXXXX")
    temp_dirs+=("$dir")
    mapfile -t readable_paths < <("$python" "$repo/tests/harness/readable.py" "$dir" "$@")
    [[ ${#readable_paths[@]} -eq $# ]] || die "could not copy $* into $dir"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

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
        echo "$prog: $2 (pid $pid) did not stop in 10s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap - EXIT INT TERM HUP
    trap '' PIPE # stdout may be gone: writing must not kill us before the clean up
    if [[ -n $apache_pid ]]; then
        echo "$prog: stopping Apache" 2>/dev/null || true
        stop_pid "$apache_pid" apache2
    fi
    stop_pid "$backend_pid" backend
    if [[ ${#temp_dirs[@]} -gt 0 ]]; then
        rm -rf "${temp_dirs[@]}"
    fi
}

install_cleanup() {
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    # Output piped into something that stops reading (| head): still clean up.
    trap 'exit 141' PIPE
}

# make_cert: a self-signed certificate for localhost and 127.0.0.1 in $out/tls.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "extendedKeyUsage=serverAuth" \
        -keyout "$out/tls/localhost.key" -out "$out/tls/localhost.crt" \
        >"$out/logs/openssl.log" 2>&1 ||
        { cat "$out/logs/openssl.log" >&2; die "openssl could not make the certificate"; }
    chmod 600 "$out/tls/localhost.key"
}

sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# render TEMPLATE OUTPUT NAME=VALUE...: replace each @NAME@ by its VALUE.
render() {
    local template=$1 output=$2 pair
    shift 2
    local args=()
    for pair in "$@"; do
        args+=(-e "s|@${pair%%=*}@|$(sed_escape "${pair#*=}")|g")
    done
    sed "${args[@]}" "$template" >"$output"
}

# start_apache: check the configuration, start Apache in the foreground (in
# the background of this script) and wait until $base answers.
start_apache() {
    local ready= i
    echo "$prog: $httpd -t ${httpd_args[*]}"
    if ! "$httpd" "${httpd_args[@]}" -t; then
        die "the configuration does not pass 'apache2 -t' (see above; config: $out/conf/httpd.conf)"
    fi
    "$httpd" "${httpd_args[@]}" -DFOREGROUND &
    apache_pid=$!
    for i in $(seq 1 100); do
        if ! kill -0 "$apache_pid" 2>/dev/null; then
            wait "$apache_pid" 2>/dev/null || true
            apache_pid=
            echo "$prog: Apache exited during startup; end of $out/logs/error.log:" >&2
            tail -n 20 "$out/logs/error.log" >&2 || true
            exit 1
        fi
        if curl -sk -o /dev/null --max-time 2 "$base/"; then
            ready=1
            break
        fi
        sleep 0.1
    done
    [[ -n $ready ]] || die "Apache does not answer on $base after 10s; see $out/logs/error.log"
}

# ---------------------------------------------------------------- probes
#
# They need $out/logs/access.log in the format
#   ... "%r" ... push=%{PUSH_REDIRECT}e skipped=%{PUSH_REDIRECT_SKIPPED}e

# h2get NAME PATH [nghttp options...]: nghttp -nv into $out/nghttp/NAME.txt
h2get() {
    local name=$1 path=$2
    shift 2
    mkdir -p "$out/nghttp"
    timeout 20 nghttp -nv "$@" "$base$path" >"$out/nghttp/$name.txt" 2>&1 || true
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
    grep -cF "\"GET $1 HTTP/2.0\"" "$out/logs/access.log" 2>/dev/null || true
}
log_field() {
    local path=$1 before=$2 field=$3 line= i
    for i in $(seq 1 30); do
        line=$(grep -F "\"GET $path HTTP/2.0\"" "$out/logs/access.log" 2>/dev/null | sed -n "$((before + 1))p" || true)
        [[ -n $line ]] && break
        sleep 0.1
    done
    sed -n "s/.* $field=\([^ ]*\).*/\1/p" <<<"$line"
}

# probe LABEL PATH EXPECT [nghttp options...]; EXPECT is "push:/target" or "skip:reason".
# Prints one line: pushed /target, or not pushed (reason from the access log).
probe() {
    local label=$1 path=$2 expect=$3 name before file target reason result
    shift 3
    name=$(tr -c 'A-Za-z0-9\n' '_' <<<"$path$*" | head -c 80)
    before=$(log_count "$path")
    h2get "$name" "$path" "$@"
    file=$out/nghttp/$name.txt
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

# finish_demo: report failures; exit in one-shot mode, else wait for Apache.
finish_demo() {
    if [[ $failures -gt 0 ]]; then
        echo
        echo "$prog: $failures result(s) were not the expected ones (see above)." >&2
    fi
    if [[ $oneshot == 1 ]]; then
        [[ $failures -eq 0 ]] || exit 1
        exit 0
    fi
    echo
    echo "Apache runs in the foreground on $base; press Ctrl-C to stop it."
    wait "$apache_pid" || true
    apache_pid=
    echo "$prog: Apache exited; see $out/logs/error.log" >&2
    exit 1
}
