"""`make demo` keeps working: demo/run.sh in one-shot mode on a free port.

In one-shot mode the script checks each redirect kind against what it expects
(and exits 1 on a mismatch), so this test asserts on its exit status and on
the lines it prints for the user.
"""

import os
import subprocess

from harness import env


def test_demo_shows_each_redirect_kind(module_so):
    run_env = dict(os.environ, DEMO_ONESHOT="1", DEMO_PORT=str(env.free_port()),
                   PUSH_REDIRECT_MODULE=str(module_so))
    done = subprocess.run([str(env.REPO / "demo" / "run.sh")], env=run_env,
                          capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "recv PUSH_PROMISE frame" in out, out
    assert "link: </new.html>; as=document; rel=preload" in out, out
    # The 103 sent ahead of the slow backend, with the learned page's preload.
    assert ":status: 103" in out and "link: </new.css>; rel=preload; as=style" in out, out
    assert "before the 302, ahead of" in out, out
    # The 103 learned from /styled.html's <head>, which has no Link header.
    assert "link: </styled.css>; rel=preload; as=style" in out, out
    assert "read from /styled.html's <head>: no Link header needed." in out, out
    for line in ("/rewrite         pushed /new.html",
                 "/docs            pushed /docs/",
                 "/gone            pushed /new.html",
                 "/backend/login   pushed /new.html",
                 "/backend/away    not pushed (cross-origin)",
                 "/backend/optout  not pushed (opt-out)",
                 "not pushed (push-disabled)",
                 "not pushed (credentials)"):
        assert line in out, f"missing {line!r} in:\n{out}"
