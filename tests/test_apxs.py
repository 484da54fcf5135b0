"""The module as linked by `apxs -c` (apxs/) loads into Apache and pushes."""

import pytest

from harness import clients, env
from harness.asserts import assert_pushed

TARGET = "/targets/t.html"


@pytest.fixture(scope="module")
def httpd(httpd_factory):
    so = env.apxs_module_path()
    if not so.is_file():
        pytest.skip(f"apxs-built module not found at {so} "
                    "(built by `make test`; or set PUSH_REDIRECT_MODULE_APXS)")
    h = httpd_factory("apxs", module=so)
    h.write(f"htdocs{TARGET}", "apxs target\n")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    Redirect /r/target {TARGET}
""")
    h.start()
    return h


def test_apxs_module_pushes_a_redirect(httpd):
    r = clients.nghttp(httpd.url("main", "/r/target"))
    assert_pushed(httpd, r, TARGET, b"apxs target\n", status=302)


def test_apxs_module_skips_with_reason(httpd):
    r = clients.nghttp(httpd.url("main", "/r/target"), options=["--no-push"])
    assert r.main.status == 302
    assert r.pushes == []
    assert httpd.access_entry(r.ua)["skip"] == "push-disabled"
