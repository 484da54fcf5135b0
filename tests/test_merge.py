"""Per-directory configuration: inner scopes override outer ones directive by
directive, and inherit what they do not set (<Location>, <Directory>, <Files>,
.htaccess with AllowOverride FileInfo).

Redirects that must see <Directory>, <Files> or .htaccess settings are made after
the directory walk: mod_alias `Redirect` inside <Directory> or .htaccess (run in
the fixups hook). Redirects at virtual-host level are decided with the
<Location> configuration only.
"""

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_skipped, assert_untouched

TARGET = "/targets/t.html"
TARGET_BODY = b"merge target\n"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    h = httpd_factory("merge", module=module_so)
    d = h.docroot
    h.write(f"htdocs{TARGET}", TARGET_BODY.decode())
    h.write("htdocs/targets/vhost-excluded.html", "vhost excluded\n")
    h.write("htdocs/targets/other.html", "other\n")
    h.write("htdocs/targets/global-excluded.html", "global excluded\n")
    # Server config: inherited by virtual hosts that do not set it.
    h.add_global("PushRedirectExclude ^/targets/global-excluded")
    for sub in ("status301/inner", "status301/inner2", "files"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    h.write("htdocs/files/special.html", "special\n")
    h.write("htdocs/files/normal.html", "normal\n")
    h.write("htdocs/ht/on/.htaccess", f"PushRedirect On\nRedirect 302 /ht/on/go {TARGET}\n")
    h.write("htdocs/ht/off/.htaccess", f"PushRedirect Off\nRedirect 302 /ht/off/go {TARGET}\n")
    h.write("htdocs/ht/exclude/.htaccess",
            f"PushRedirectExclude ^/targets/t\\.html$\nRedirect 302 /ht/exclude/go {TARGET}\n"
            "Redirect 302 /ht/exclude/other /targets/other.html\n")
    h.write("htdocs/ht/status/.htaccess",
            f"PushRedirectStatus 307\nRedirect 302 /ht/status/a302 {TARGET}\n"
            f"Redirect 307 /ht/status/a307 {TARGET}\n")
    h.write("htdocs/noft/.htaccess", f"PushRedirect On\nRedirect 302 /noft/go {TARGET}\n")
    on_off_common = f"""
    H2Push on
    <Directory "{d}/ht">
        AllowOverride FileInfo
    </Directory>
    <Directory "{d}/noft">
        # The directives belong to FileInfo: other override classes do not allow them.
        AllowOverride AuthConfig Indexes Limit Options=Indexes
    </Directory>
"""
    h.add_vhost("on", on_off_common + f"""
    PushRedirect On
    PushRedirectExclude ^/targets/vhost-excluded

    Redirect /r/target {TARGET}
    Redirect /r/global-excluded /targets/global-excluded.html

    Redirect /loc-off/go {TARGET}
    <Location /loc-off/>
        PushRedirect Off
    </Location>

    # Only WithCredentials set here: Exclude (and On) come from the vhost.
    Redirect /loc-creds/excluded /targets/vhost-excluded.html
    Redirect /loc-creds/go {TARGET}
    <Location /loc-creds/>
        PushRedirectWithCredentials On
    </Location>

    # Exclude set here replaces the vhost's list.
    Redirect /loc-exclude/vhost-excluded /targets/vhost-excluded.html
    Redirect /loc-exclude/other /targets/other.html
    <Location /loc-exclude/>
        PushRedirectExclude ^/targets/other
    </Location>

    # Status set in an outer <Directory>; the nested <Directory> sets nothing of
    # ours and inherits it, inner2 overrides it.
    <Directory "{d}/status301">
        PushRedirectStatus 301
    </Directory>
    <Directory "{d}/status301/inner">
        Redirect 301 /status301/inner/a301 {TARGET}
        Redirect 302 /status301/inner/a302 {TARGET}
    </Directory>
    <Directory "{d}/status301/inner2">
        PushRedirectStatus 302 303
        Redirect 301 /status301/inner2/a301 {TARGET}
        Redirect 302 /status301/inner2/a302 {TARGET}
    </Directory>

    <Directory "{d}/files">
        Redirect 302 /files/special.html {TARGET}
        Redirect 302 /files/normal.html {TARGET}
        <Files "special.html">
            PushRedirect Off
        </Files>
    </Directory>
""")
    # PushRedirect is Off here (the default): .htaccess turns it On.
    h.add_vhost("off", on_off_common + f"""
    Redirect /r/target {TARGET}
""")
    # Sets only PushRedirect: the server's Exclude applies.
    h.add_vhost("inherit", f"""
    H2Push on
    PushRedirect On
    Redirect /r/target {TARGET}
    Redirect /r/global-excluded /targets/global-excluded.html
""")
    h.start()
    return h


def get(httpd, path, port="on", **kw):
    return clients.nghttp(httpd.url(port, path), **kw)


def test_vhost_on_pushes(httpd):
    assert_pushed(httpd, get(httpd, "/r/target"), TARGET, TARGET_BODY, status=302)


def test_vhost_inherits_server_exclude(httpd):
    r = get(httpd, "/r/global-excluded", port="inherit")
    assert_skipped(httpd, r, "excluded", status=302)
    assert_pushed(httpd, get(httpd, "/r/target", port="inherit"), TARGET, TARGET_BODY,
                  status=302)


def test_vhost_exclude_replaces_server_exclude(httpd):
    r = get(httpd, "/r/global-excluded")
    assert_pushed(httpd, r, "/targets/global-excluded.html", b"global excluded\n",
                  status=302)


def test_default_is_off(httpd):
    r = get(httpd, "/r/target", port="off")
    assert r.main.status == 302
    assert_untouched(httpd, r)


def test_location_off_inside_on_vhost(httpd):
    r = get(httpd, "/loc-off/go")
    assert r.main.status == 302
    assert_untouched(httpd, r)


def test_location_inherits_exclude_it_does_not_set(httpd):
    r = get(httpd, "/loc-creds/excluded")
    assert_skipped(httpd, r, "excluded", status=302)


def test_location_sets_with_credentials_and_inherits_on(httpd):
    r = get(httpd, "/loc-creds/go", headers=["cookie: a=b"])
    assert_pushed(httpd, r, TARGET, TARGET_BODY, status=302)


def test_with_credentials_default_is_off(httpd):
    r = get(httpd, "/r/target", headers=["cookie: a=b"])
    assert_skipped(httpd, r, "credentials", status=302)


def test_location_exclude_replaces_vhost_exclude(httpd):
    r = get(httpd, "/loc-exclude/vhost-excluded")
    assert_pushed(httpd, r, "/targets/vhost-excluded.html", b"vhost excluded\n", status=302)
    r = get(httpd, "/loc-exclude/other")
    assert_skipped(httpd, r, "excluded", status=302)


def test_directory_status_inherited_by_nested_directory(httpd):
    r = get(httpd, "/status301/inner/a301")
    assert_pushed(httpd, r, TARGET, TARGET_BODY, status=301)


def test_directory_status_leaves_other_codes_untouched(httpd):
    # 302 is not in the inherited set {301}: not a redirect for the module, so
    # neither Link nor PUSH_REDIRECT_SKIPPED.
    r = get(httpd, "/status301/inner/a302")
    assert r.main.status == 302
    assert_untouched(httpd, r)


def test_nested_directory_overrides_status(httpd):
    r = get(httpd, "/status301/inner2/a302")
    assert_pushed(httpd, r, TARGET, TARGET_BODY, status=302)
    r = get(httpd, "/status301/inner2/a301")
    assert r.main.status == 301
    assert_untouched(httpd, r)


def test_files_off_inside_directory(httpd):
    r = get(httpd, "/files/special.html")
    assert r.main.status == 302
    assert_untouched(httpd, r)
    r = get(httpd, "/files/normal.html")
    assert_pushed(httpd, r, TARGET, TARGET_BODY, status=302)


def test_htaccess_turns_on(httpd):
    r = get(httpd, "/ht/on/go", port="off")
    assert_pushed(httpd, r, TARGET, TARGET_BODY, status=302)


def test_htaccess_turns_off(httpd):
    r = get(httpd, "/ht/off/go")
    assert r.main.status == 302
    assert_untouched(httpd, r)


def test_htaccess_sets_exclude(httpd):
    r = get(httpd, "/ht/exclude/go")
    assert_skipped(httpd, r, "excluded", status=302)
    r = get(httpd, "/ht/exclude/other")
    assert_pushed(httpd, r, "/targets/other.html", b"other\n", status=302)


def test_htaccess_sets_status(httpd):
    r = get(httpd, "/ht/status/a307")
    assert_pushed(httpd, r, TARGET, TARGET_BODY, status=307)
    r = get(httpd, "/ht/status/a302")
    assert r.main.status == 302
    assert_untouched(httpd, r)


@pytest.mark.expect_log(r"\[core:alert\].*PushRedirect not allowed here")
def test_htaccess_needs_allowoverride_fileinfo(httpd):
    r = get(httpd, "/noft/go")
    assert r.main.status == 500, r.describe()
    assert r.pushes == []
    log = "\n".join(line for line in httpd.read_error_log().splitlines()
                    if "noft/.htaccess" in line)
    assert "PushRedirect not allowed here" in log, log
