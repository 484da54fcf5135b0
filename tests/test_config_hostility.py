"""Hostile configuration: empty and huge directive values, pathological regexes,
duplicate directives, every context. Each either works as docs/directives.md
documents or fails `apache2 -t` (for .htaccess: the request, with a 500 and an
error-log line) with a message naming the directive. test_config.py has the
plain bad values; test_merge.py the merges.
"""

import http.client
import re
import ssl
import statistics
import time

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_skipped, assert_untouched
from test_config import config_test

TARGET = "/t.html"
BODY = b"hostile config target\n"
DIRECTIVES = ["PushRedirect", "PushRedirectStatus", "PushRedirectExclude",
              "PushRedirectRequireTLS", "PushRedirectWithCredentials"]


def assert_fails_naming(code, out, directive):
    assert code != 0, out
    assert re.search(rf"\b{directive}\b", out), out
    assert len(out) < 2000, f"message of {len(out)} bytes"


@pytest.mark.parametrize("directive", DIRECTIVES)
def test_empty_value_fails_naming_the_directive(workdir, module_so, directive):
    code, out = config_test(workdir, module_so, f'{directive} ""')
    assert_fails_naming(code, out, directive)


@pytest.mark.parametrize("directive", ["PushRedirect", "PushRedirectRequireTLS",
                                       "PushRedirectWithCredentials"])
def test_huge_flag_value_fails_with_a_short_message(workdir, module_so, directive):
    code, out = config_test(workdir, module_so, f"{directive} {'x' * 100_000}")
    assert_fails_naming(code, out, directive)
    assert "(100000 bytes)" in out, out


def test_huge_status_list_works(workdir, module_so):
    # 100 KB of valid codes on one line: duplicates collapse into the set.
    code, out = config_test(workdir, module_so, "PushRedirectStatus " + "301 302 " * 12_500)
    assert code == 0 and "Syntax OK" in out, out[:500]


def test_huge_status_list_with_one_bad_code_names_it(workdir, module_so):
    code, out = config_test(workdir, module_so, "PushRedirectStatus " + "301 " * 25_000 + "299")
    assert_fails_naming(code, out, "PushRedirectStatus")
    assert "'299'" in out, out


def test_100_kb_regex_compiles_within_limits(workdir, module_so):
    # An alternation of 10,000 literal paths: about 100 KB, compiled once.
    pattern = "^/(?:" + "|".join(f"p{i:05d}x" for i in range(12_500)) + ")$"
    assert len(pattern) > 100_000
    start = time.monotonic()
    code, out = config_test(workdir, module_so, f"PushRedirectExclude {pattern}")
    assert code == 0 and "Syntax OK" in out, out[:500]
    assert time.monotonic() - start < 20


def test_100_kb_regex_over_the_size_limit_fails_naming_the_directive(workdir, module_so):
    pattern = "(?:a{1000}){1000}" * 6000
    assert len(pattern) > 100_000
    code, out = config_test(workdir, module_so, f"PushRedirectExclude {pattern}")
    assert_fails_naming(code, out, "PushRedirectExclude")
    assert "size limit" in out and "bytes)" in out, out


@pytest.mark.parametrize("pattern", ["(?<=a)b", "(a)\\1", "a{2,1}", "(?P<n>a)(?P<n>b)",
                                     "[z-a]", "\\p{NoSuchClass}", "x{4294967296}", "(?z)"])
def test_regex_the_crate_refuses_fails_naming_the_directive(workdir, module_so, pattern):
    code, out = config_test(workdir, module_so, f'PushRedirectExclude "{pattern}"')
    assert_fails_naming(code, out, "PushRedirectExclude")
    assert "is not a valid regular expression" in out, out


@pytest.mark.parametrize("context", [
    "<If \"%{{REQUEST_URI}} =~ m#^/x#\">\n    {d}\n</If>",
    "<LocationMatch \"^/x\">\n    {d}\n</LocationMatch>",
    "<DirectoryMatch \"^/tmp/x\">\n    {d}\n</DirectoryMatch>",
    "<FilesMatch \"\\.html$\">\n    {d}\n</FilesMatch>",
    "<Proxy \"http://127.0.0.1:1/\">\n    {d}\n</Proxy>",
    "<VirtualHost 127.0.0.1:1>\n    <Location /a>\n        <If \"true\">\n"
    "            {d}\n        </If>\n    </Location>\n</VirtualHost>",
])
def test_every_context_accepts_every_directive(workdir, module_so, context):
    body = "\n    ".join(["PushRedirect On", "PushRedirectStatus 301 308",
                          "PushRedirectExclude ^/a ^/b", "PushRedirectRequireTLS Off",
                          "PushRedirectWithCredentials On",
                          "PushRedirectEarlyHintsHTTP1 On"])
    code, out = config_test(workdir, module_so, context.format(d=body))
    assert code == 0 and "Syntax OK" in out, out


@pytest.mark.parametrize("context", [
    '<Directory "/tmp">\n<Limit GET>\n    PushRedirect On\n</Limit>\n</Directory>',
    '<Directory "/tmp">\n<LimitExcept POST>\n    PushRedirect On\n</LimitExcept>\n</Directory>'])
def test_limit_sections_accept_the_directives(workdir, module_so, context):
    # Apache applies a directive that is not about access control inside
    # <Limit> to every method, as for its own directives.
    code, out = config_test(workdir, module_so, context)
    assert code == 0 and "Syntax OK" in out, out


BIG_EXCLUDES = "".join(f"PushRedirectExclude ^/area-{i}/ \\.x{i}$\n" for i in range(499)) \
    + "PushRedirectExclude ^/nothing/ [?]kept-out$\n"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    h = httpd_factory("config-hostility", module=module_so)
    h.write(f"htdocs{TARGET}", BODY.decode())
    h.write("htdocs/badht/.htaccess", "PushRedirectStatus 200\n")
    h.write("htdocs/emptyht/.htaccess", 'PushRedirectExclude ""\n')
    h.write("htdocs/redosht/.htaccess",
            "PushRedirect On\nPushRedirectExclude ^(a+)+$ (a*)*b ^(.*a){12}$\n"
            "RedirectMatch 302 ^/redosht/go$ /t.html?q=" + "a" * 8000 + "!\n")
    # 1,000 patterns, the last of which keeps one target out, and the same
    # redirects without them.
    for name, excludes in (("bigexclude", BIG_EXCLUDES), ("noexclude", "")):
        h.write(f"htdocs/{name}/.htaccess", excludes
                + f"RedirectMatch 302 ^/{name}/go$ {TARGET}\n"
                + f"RedirectMatch 302 ^/{name}/skip$ {TARGET}?kept-out\n")
    h.add_global("""
<Directory "{root}/htdocs/bigexclude">
    AllowOverride FileInfo
</Directory>
<Directory "{root}/htdocs/noexclude">
    AllowOverride FileInfo
</Directory>
<Directory "{root}/htdocs/badht">
    AllowOverride FileInfo
</Directory>
<Directory "{root}/htdocs/emptyht">
    AllowOverride FileInfo
</Directory>
<Directory "{root}/htdocs/redosht">
    AllowOverride FileInfo
</Directory>
""".format(root=h.root))
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    <Location /dup/onoff>
        PushRedirect On
        PushRedirect Off
    </Location>
    <Location /dup/status>
        PushRedirectStatus 301
        PushRedirectStatus 302
    </Location>
    <Location /dup/exclude>
        PushRedirectExclude ^/nothing
        PushRedirectExclude ^/t\\.html
    </Location>
    Redirect 302 /dup/onoff/go {TARGET}
    Redirect 302 /dup/status/go {TARGET}
    Redirect 301 /dup/status/go301 {TARGET}
    Redirect 302 /dup/exclude/go {TARGET}
""")
    h.start()
    return h


def test_duplicate_flag_last_one_wins(httpd):
    assert_untouched(httpd, clients.nghttp(httpd.url("main", "/dup/onoff/go")))


def test_duplicate_status_line_replaces_the_first(httpd):
    assert_pushed(httpd, clients.nghttp(httpd.url("main", "/dup/status/go")), TARGET, BODY)
    assert_untouched(httpd, clients.nghttp(httpd.url("main", "/dup/status/go301")))


def test_duplicate_exclude_lines_accumulate(httpd):
    assert_skipped(httpd, clients.nghttp(httpd.url("main", "/dup/exclude/go")), "excluded")


@pytest.mark.expect_log(r"PushRedirectStatus: '200' is not a redirect status")
def test_bad_value_in_htaccess_is_a_500_naming_the_directive(httpd):
    r = clients.curl(httpd.url("main", "/badht/x"))
    assert r.status == 500, r.describe()
    time.sleep(0.2)
    assert re.search(r"badht/\.htaccess: PushRedirectStatus: '200' is not a redirect status",
                     httpd.read_error_log()), httpd.read_error_log()[-2000:]


@pytest.mark.expect_log(r"PushRedirectExclude: '' is an empty pattern")
def test_empty_pattern_in_htaccess_is_a_500_naming_the_directive(httpd):
    r = clients.curl(httpd.url("main", "/emptyht/x"))
    assert r.status == 500, r.describe()


def test_redos_patterns_in_htaccess_do_not_slow_a_redirect(httpd):
    # Three catastrophic-backtracking shapes against an 8 KB target: none
    # matches, the redirect is pushed, and it takes no longer than a plain one.
    start = time.monotonic()
    r = clients.nghttp(httpd.url("main", "/redosht/go"), bodies=False)
    took = time.monotonic() - start
    assert r.main.status == 302, r.describe()
    entry = httpd.access_entry(r.ua, "/redosht/go")
    assert entry["push"].startswith("/t.html?q=aaa") and entry["push"].endswith("a!"), entry
    assert took < 5, took


def test_config_check_time_with_many_patterns(workdir, module_so):
    # 1,000 exclude lines are compiled once at startup, in well under a minute.
    lines = "\n".join(f"PushRedirectExclude ^/p{i}/(a+)+$" for i in range(1000))
    start = time.monotonic()
    code, out = config_test(workdir, module_so, lines)
    assert code == 0, out[:500]
    assert time.monotonic() - start < 60


def test_a_thousand_patterns_in_htaccess_cost_a_redirect_under_5_ms(httpd):
    """.htaccess is read for every request: its patterns are checked and
    compiled once per child, not once per request (or per pattern)."""
    r = clients.curl(httpd.url("main", "/bigexclude/go"))
    assert r.status == 302 and r.headers("link"), r.describe()
    r = clients.curl(httpd.url("main", "/bigexclude/skip"))
    assert r.status == 302 and not r.headers("link"), r.describe()
    assert httpd.access_entry(r.ua)["skip"] == "excluded"
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", httpd.port("main"), context=context)
    took = {"bigexclude": [], "noexclude": []}
    try:
        for _ in range(30):
            for name, times in took.items():
                start = time.perf_counter()
                conn.request("GET", f"/{name}/go", headers={"Host": "localhost"})
                response = conn.getresponse()
                response.read()
                times.append(time.perf_counter() - start)
                assert response.status == 302 and response.getheader("link"), name
    finally:
        conn.close()
    big, none = (statistics.median(took[name]) for name in ("bigexclude", "noexclude"))
    print(f"1,000 patterns: {big * 1000:.2f} ms a redirect; none: {none * 1000:.2f} ms")
    assert big - none < 0.005, (big, none)
