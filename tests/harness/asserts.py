"""Assertions shared by the test modules: what a push and a skip look like to a client."""

from . import clients


def link_for(target: str) -> str:
    """The one Link field the module adds for `target` (path and query)."""
    return f"<{target}>; as=document; rel=preload"


def assert_pushed(httpd, r: clients.H2Result, target: str, body: bytes = None,
                  status: int = None, links_before=()):
    """The redirect carried our Link (after the `links_before` it already had), exactly
    one PUSH_PROMISE for `target` arrived, the pushed stream answered 200 (with
    `body`), and the access log says push=<target> for the redirect."""
    assert r.exit_code == 0, r.describe()
    main = r.main
    if status is not None:
        assert main.status == status, r.describe()
    else:
        assert 300 <= main.status < 400, r.describe()
    assert main.headers("link") == [*links_before, link_for(target)], r.describe()
    assert [p.path for p in r.pushes] == [target], r.describe()
    pushed = r.pushes[0]
    assert pushed.status == 200, r.describe()
    if body is not None:
        assert pushed.body == body, r.describe()
    assert pushed.ended, r.describe()
    entries = httpd.wait_access(r.ua, 2)
    first = [e for e in entries if e["uri"] == main.path]
    assert len(first) == 1, entries
    assert first[0]["push"] == target, entries
    assert first[0]["skip"] == "-", entries
    pushed_entries = [e for e in entries if e["uri"] == target]
    assert len(pushed_entries) == 1 and pushed_entries[0]["status"] == "200", entries


def assert_skipped(httpd, r, reason: str, status: int = None, uri: str = None):
    """A redirect went out untouched: no Link from the module, no PUSH_PROMISE, and
    the access log has skip=<reason> and no push. Works for nghttp and curl results."""
    assert r.exit_code == 0, r.describe()
    if isinstance(r, clients.H2Result):
        main = r.main
        assert r.all_promises == [], r.describe()
        uri = uri or main.path
        got_status = main.status
    else:
        main = r
        got_status = r.status
    if status is not None:
        assert got_status == status, r.describe()
    else:
        assert 300 <= got_status < 400, r.describe()
    assert not any("as=document" in v for v in main.headers("link")), r.describe()
    entry = httpd.access_entry(r.ua, uri)
    assert entry["skip"] == reason, entry
    assert entry["push"] == "-", entry


def assert_untouched(httpd, r, uri: str = None):
    """The module did nothing: no Link, no push, neither variable in the log."""
    assert r.exit_code == 0, r.describe()
    if isinstance(r, clients.H2Result):
        assert r.all_promises == [], r.describe()
        main = r.main
        uri = uri or main.path
    else:
        main = r
    assert main.headers("link") == [], r.describe()
    entry = httpd.access_entry(r.ua, uri)
    assert entry["push"] == "-" and entry["skip"] == "-", entry
