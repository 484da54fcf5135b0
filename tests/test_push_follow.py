"""push-follow, the push-taking HTTP/2 client of tools/, against a real Apache.

A redirect whose target mod_http2 pushed is followed with the pushed response;
a client that refuses push, or a host with the module off, requests it; in a
chain of two redirects the second target is requested, since mod_http2 never
pushes from a pushed stream.
"""

import pytest

from harness import push_follow

TARGET = "/targets/t.html"
BODY = "push-follow target\n"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    if not push_follow.binary().is_file():
        pytest.fail(f"{push_follow.binary()} is not built (run `make tools`)", pytrace=False)
    h = httpd_factory("push_follow", module=module_so)
    h.write(f"htdocs{TARGET}", BODY)
    redirects = f"""
    RedirectMatch 302 ^/r/target$ {TARGET}
    RedirectMatch 302 ^/chain/one$ /chain/two
    RedirectMatch 302 ^/chain/two$ {TARGET}
    RedirectMatch 302 ^/loop$ /loop2
    RedirectMatch 302 ^/loop2$ /loop
"""
    h.add_vhost("on", f"    PushRedirect On\n{redirects}"
                      f"    RedirectMatch 302 ^/away$ {h.url('off', TARGET)}\n")
    h.add_vhost("off", f"    PushRedirect Off\n{redirects}")
    h.start()
    return h


def follow(httpd, port_name, path, **kw):
    return push_follow.run(httpd.url(port_name, path), cacert=httpd.cert, **kw)


def test_a_pushed_target_is_taken_from_the_push(httpd):
    r = follow(httpd, "on", "/r/target")
    assert r.exit_code == 0, r.describe()
    assert r.statuses() == [302, 200], r.describe()
    assert r.sources() == ["requested", "pushed"], r.describe()
    first, last = r.hops
    assert first["location"] == httpd.url("on", TARGET)
    assert first["promised"] == [httpd.url("on", TARGET)], r.describe()
    assert last["url"] == httpd.url("on", TARGET)
    assert last["body_bytes"] == len(BODY)
    assert r.trace["push_enabled"] is True
    assert 0 < first["done_ms"] <= last["done_ms"] == r.trace["total_ms"]


def test_a_client_that_refuses_push_requests_the_target(httpd):
    r = follow(httpd, "on", "/r/target", no_push=True)
    assert r.exit_code == 0, r.describe()
    assert r.statuses() == [302, 200], r.describe()
    assert r.sources() == ["requested", "requested"], r.describe()
    assert r.hops[0]["promised"] == []
    assert r.trace["push_enabled"] is False


def test_with_the_module_off_the_target_is_requested(httpd):
    r = follow(httpd, "off", "/r/target")
    assert r.exit_code == 0, r.describe()
    assert r.sources() == ["requested", "requested"], r.describe()
    assert r.hops[0]["promised"] == []


def test_the_second_hop_of_a_chain_is_not_pushed(httpd):
    r = follow(httpd, "on", "/chain/one")
    assert r.exit_code == 0, r.describe()
    assert r.statuses() == [302, 302, 200], r.describe()
    # /chain/two is pushed with the first redirect; the pushed /chain/two is a
    # redirect too, but mod_http2 pushes nothing from a pushed stream.
    assert r.sources() == ["requested", "pushed", "requested"], r.describe()
    assert r.hops[1]["promised"] == []
    assert r.hops[2]["url"] == httpd.url("on", TARGET)


def test_a_cross_origin_hop_opens_a_connection_to_that_origin(httpd):
    r = follow(httpd, "on", "/away")
    assert r.exit_code == 0, r.describe()
    assert r.statuses() == [302, 200], r.describe()
    assert r.sources() == ["requested", "requested"], r.describe()
    assert r.hops[1]["url"] == httpd.url("off", TARGET)
    assert r.hops[1]["body_bytes"] == len(BODY)


def test_connect_to_keeps_the_urls_authority(httpd):
    """Connect to 127.0.0.1 while the URL (SNI, :authority) says some.example."""
    url = httpd.url("on", "/r/target", host="some.example")
    r = push_follow.run(url, extra=["--insecure"],
                        connect_to=f"127.0.0.1:{httpd.port('on')}")
    assert r.exit_code == 0, r.describe()
    # Apache redirects to the authority the client asked for, and pushes from there.
    assert r.hops[0]["location"] == httpd.url("on", TARGET, host="some.example")
    assert r.sources() == ["requested", "pushed"], r.describe()


def test_a_redirect_loop_stops_at_max_redirects(httpd):
    r = follow(httpd, "on", "/loop", extra=["--max-redirects", "3"])
    assert r.exit_code == 1, r.describe()
    assert len(r.hops) == 4, r.describe()
    assert "more than 3 redirects" in r.trace["stopped"]


def test_an_untrusted_certificate_is_refused(httpd):
    r = push_follow.run(httpd.url("on", "/r/target"), cacert=None)
    assert r.exit_code == 1, r.describe()
    assert "certificate" in r.stderr.lower(), r.describe()


def test_text_output_and_help(httpd):
    r = follow(httpd, "on", "/r/target", json_output=False)
    assert r.exit_code == 0, r.describe()
    lines = r.stdout.splitlines()
    assert "push accepted" in lines[0], r.describe()
    assert any(" 302 requested " in line for line in lines), r.describe()
    assert any(" 200 pushed " in line for line in lines), r.describe()
    assert any(f"PUSH_PROMISE: {httpd.url('on', TARGET)}" in line for line in lines)
    h = push_follow.run("", json_output=False, extra=["--help"])
    assert h.exit_code == 0 and "--connect-to" in h.stdout, h.describe()
