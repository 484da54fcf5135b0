"""The Django example (examples/django, `make demo-django`) end to end.

Runs examples/django/run.sh in one-shot mode on free ports: Django 3.2 under
gunicorn with the usual middleware, behind an Apache with mod_proxy and the
module. The script exits 1 when a result is not the one it expects; beyond
that, this test reads what the clients saw (the nghttp transcripts the script
keeps) and what Apache logged for each of Django's redirects.
"""

import os
import re
import subprocess

import pytest

from harness import clients, env
from harness.asserts import link_for
from harness.backend import BAD_LINE as GUNICORN_BAD_LINE
from harness.httpd import bad_lines

# (label printed by run.sh, path asked, Accept-Language sent, target pushed)
PUSHED = [
    ("LocaleMiddleware: / to the language", "/", None, "/en/"),
    ("LocaleMiddleware, Accept-Language: fr", "/about/", "fr", "/fr/about/"),
    ("CommonMiddleware APPEND_SLASH", "/en/about", None, "/en/about/"),
    ("login_required, anonymous", "/en/account/", None, "/en/accounts/login/?next=/en/account/"),
    ("a view returning redirect()", "/en/go/", None, "/en/about/"),
]
# (label, path, skip reason in the access log)
SKIPPED = [
    ("a view with X-Push-Redirect: off", "/en/optout/", "opt-out"),
    ("SECURE_SSL_REDIRECT over plain HTTP", "/fr/", "insecure"),
    ("logged in as demo (session cookie)", "/fr/account", "credentials"),
]


@pytest.fixture(scope="module")
def example(workdir):
    """Runs the example once; returns (stdout, output directory, https port)."""
    out = workdir / "demo-django"
    port, http_port = env.free_port(), env.free_port()
    run_env = dict(os.environ, DEMO_ONESHOT="1", DEMO_OUT=str(out), DEMO_PORT=str(port),
                   DEMO_HTTP_PORT=str(http_port), PUSH_REDIRECT_MODULE=str(env.module_path()))
    done = subprocess.run([str(env.REPO / "examples/django/run.sh")], env=run_env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, out, port


def transcript(out, path: str, accept_language=None) -> clients.H2Result:
    """The nghttp -v run that asked for `path` (with that Accept-Language)."""
    found = []
    for f in sorted((out / "nghttp").glob("*.txt")):
        raw = f.read_bytes()
        streams, main_id = clients.parse_nghttp(raw, with_bodies=False)
        if main_id is None:
            continue
        r = clients.H2Result([str(f)], 0, raw, "", "", streams, main_id)
        if r.main.path == path and clients.values(r.main.request, "accept-language")[:1] == \
                ([accept_language] if accept_language else []):
            found.append(r)
    assert len(found) == 1, f"{len(found)} transcripts for {path} in {out / 'nghttp'}"
    return found[0]


def access_skips(out) -> dict:
    """request target -> skipped= values of the redirects Apache logged."""
    skips = {}
    for line in (out / "logs" / "access.log").read_text().splitlines():
        m = re.search(r'"GET (\S+) HTTP/2\.0" (3\d\d) push=(\S+) skipped=(\S+)', line)
        if m and m.group(3) == "-":
            skips.setdefault(m.group(1), []).append(m.group(4))
    return skips


@pytest.mark.parametrize("label,path,language,target", PUSHED)
def test_django_redirect_is_pushed(example, label, path, language, target):
    stdout, out, _ = example
    assert re.search(rf"{re.escape(label)}\s+{re.escape(path)}\s+pushed {re.escape(target)}\n",
                     stdout), stdout
    r = transcript(out, path, language)
    assert r.main.status in (301, 302), r.describe()
    assert r.main.headers("link") == [link_for(target)], r.describe()
    assert [p.path for p in r.pushes] == [target], r.describe()
    assert r.pushes[0].status == 200, r.describe()
    if language:
        # mod_http2 copies Accept-Language into the pushed request.
        assert clients.values(r.pushes[0].request, "accept-language") == [language]


@pytest.mark.parametrize("label,path,reason", SKIPPED)
def test_django_redirect_is_skipped(example, label, path, reason):
    stdout, out, port = example
    assert re.search(rf"{re.escape(label)}\s+{re.escape(path)}\s+not pushed \({reason}\), "
                     r"no Link header\n", stdout), stdout
    r = transcript(out, path)
    assert r.main.status in (301, 302), r.describe()
    assert r.all_promises == [] and r.main.headers("link") == [], r.describe()
    assert access_skips(out).get(path) == [reason]
    if reason == "opt-out":
        # The view's header is honoured and never reaches the client.
        assert r.main.headers("x-push-redirect") == [], r.describe()
    if reason == "insecure":
        # Django's SECURE_SSL_REDIRECT, to the TLS virtual host (SECURE_SSL_HOST).
        assert r.main.header("location") == f"https://localhost:{port}{path}", r.describe()


def test_django_example_logs_are_clean(example):
    _, out, _ = example
    assert bad_lines((out / "logs" / "error.log").read_text()) == []
    gunicorn = (out / "logs" / "gunicorn.log").read_text()
    assert not [line for line in gunicorn.splitlines() if GUNICORN_BAD_LINE.search(line)], gunicorn
