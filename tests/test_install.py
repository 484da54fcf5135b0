"""`make install` (with DESTDIR, so the machine's Apache is left alone) puts a
loadable module and the Debian .load/.conf where Apache looks for them."""

import subprocess

from harness import env


def test_make_install_into_destdir(workdir):
    dest = workdir / "destdir"
    done = subprocess.run(["make", "-C", str(env.REPO), "install", f"DESTDIR={dest}"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    module = dest / "usr/lib/apache2/modules/mod_push_redirect.so"
    assert module.read_bytes() == env.module_path().read_bytes()
    load = (dest / "etc/apache2/mods-available/push_redirect.load").read_text()
    assert "LoadModule push_redirect_module /usr/lib/apache2/modules/mod_push_redirect.so" in load
    conf = (dest / "etc/apache2/mods-available/push_redirect.conf").read_text()
    assert "<IfModule push_redirect_module>" in conf

    # The installed .conf is valid with the installed module loaded.
    config = workdir / "install-check.conf"
    mpm = f"LoadModule mpm_event_module {env.APACHE_MODULES}/mod_mpm_event.so\n"
    config.write_text(mpm + load.replace("/usr/lib/apache2/modules/mod_push_redirect.so", str(module))
                      + conf + f"\nServerName localhost\nErrorLog {workdir}/install-check.log\n"
                      f"PidFile {workdir}/install-check.pid\n")
    check = subprocess.run([env.APACHE, "-t", "-d", str(workdir), "-f", str(config)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Syntax OK" in check.stderr
