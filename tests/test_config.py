"""Configuration errors: `apache2 -t` fails on a bad directive value, with a message
that names the directive and the bad value; a good configuration passes.
"""

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import env
from harness.httpd import base_config


def config_test(workdir, module_so, snippet: str):
    """Run `apache2 -t` on a minimal config plus `snippet`; (exit code, output)."""
    root = Path(tempfile.mkdtemp(prefix="config-", dir=workdir))
    for sub in ("htdocs/dir", "logs", "run"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "httpd.conf"
    conf.write_text(base_config(root, module_so, [env.free_port()]) + snippet + "\n")
    env.make_readable(root)
    p = subprocess.run([env.APACHE, "-t", "-d", str(root), "-f", str(conf)],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


BAD_VALUES = [
    ("PushRedirect maybe", "PushRedirect", "maybe"),
    ("PushRedirectStatus 299", "PushRedirectStatus", "299"),
    ("PushRedirectStatus 400", "PushRedirectStatus", "400"),
    ("PushRedirectStatus abc", "PushRedirectStatus", "abc"),
    ("PushRedirectStatus 301 302 30x", "PushRedirectStatus", "30x"),
    ("PushRedirectStatus -301", "PushRedirectStatus", "-301"),
    ("PushRedirectExclude (", "PushRedirectExclude", "("),
    ("PushRedirectExclude [a-", "PushRedirectExclude", "[a-"),
    ("PushRedirectRequireTLS maybe", "PushRedirectRequireTLS", "maybe"),
    ("PushRedirectWithCredentials maybe", "PushRedirectWithCredentials", "maybe"),
    ("PushRedirectEarlyHintsAhead maybe", "PushRedirectEarlyHintsAhead", "maybe"),
]
@pytest.mark.parametrize("snippet,directive,value", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_value_fails_config_test(workdir, module_so, snippet, directive, value):
    code, out = config_test(workdir, module_so, snippet)
    assert code != 0, out
    # e.g. "PushRedirectStatus: '299' is not a status code in 300-399"
    assert directive in out, out
    after = out.split(directive, 1)[1]
    assert re.search(r"(?<![\w(\[-])" + re.escape(value) + r"(?![\w-])", after), out


@pytest.mark.parametrize("directive", ["PushRedirect", "PushRedirectStatus",
                                       "PushRedirectExclude", "PushRedirectRequireTLS",
                                       "PushRedirectWithCredentials",
                                       "PushRedirectEarlyHintsAhead"])
def test_missing_argument_fails_config_test(workdir, module_so, directive):
    code, out = config_test(workdir, module_so, directive)
    assert code != 0, out
    assert directive in out, out


def test_bad_value_in_location_fails_config_test(workdir, module_so):
    code, out = config_test(workdir, module_so,
                            "<Location /x>\n    PushRedirectStatus 200\n</Location>")
    assert code != 0, out
    assert "PushRedirectStatus" in out and "200" in out, out


def test_good_config_passes(workdir, module_so):
    code, out = config_test(workdir, module_so, """
PushRedirect On
PushRedirectStatus 301 302 303 307 308
PushRedirectExclude ^/static/
PushRedirectExclude "[?&]nopush=1$"
PushRedirectRequireTLS On
PushRedirectWithCredentials Off
<VirtualHost 127.0.0.1:1>
    PushRedirect off
    PushRedirectStatus 300 399
    <Location /a>
        PushRedirect ON
        PushRedirectRequireTLS off
    </Location>
</VirtualHost>
<Directory "/tmp">
    PushRedirectWithCredentials on
    PushRedirectExclude \\.pdf$
    <Files "x.html">
        PushRedirect Off
    </Files>
</Directory>
""")
    assert code == 0, out
    assert "Syntax OK" in out, out
