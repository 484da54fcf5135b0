#!/usr/bin/python3
"""What Apache's children read, in a place they can read, wherever the checkout is.

Started as root, Apache runs its children as www-data; a checkout under /root
(mode 0700), the natural place for a root login, is out of their reach, and so
is anything in it: the module (which a www-data Apache loads itself, as under
valgrind in the bench), a site, a runtime directory. So every program here
that starts Apache (the tests, the bench, the demos) hands Apache copies made
by this module instead of paths into the checkout: one world-readable
temporary directory per run, each source copied into it once.

As a program (for the demos' shell scripts):

    readable.py DIR SOURCE...   copy each SOURCE (a file or a directory) into
                                DIR (made, mode 0755), readable by all; prints
                                the copies' paths, one per line
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_run_dir = None
_copies = {}


def make_readable(path: Path):
    """Directories and executables 0755, other files 0644 (symlinks left alone)."""
    path = Path(path)
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if p.is_symlink():
            continue
        executable = p.is_dir() or os.access(p, os.X_OK)
        p.chmod(0o755 if executable else 0o644)


def copy_into(directory: Path, source: Path) -> Path:
    """A copy of `source` (file or directory tree) in `directory`, readable by all."""
    directory, source = Path(directory), Path(source)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    target = directory / source.name
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    make_readable(target)
    return target


def run_dir() -> Path:
    """This process's world-readable temporary directory (removed at exit unless
    PUSH_REDIRECT_KEEP_TMP is set)."""
    global _run_dir
    if _run_dir is None:
        _run_dir = Path(tempfile.mkdtemp(prefix="push-redirect-readable-"))
        _run_dir.chmod(0o755)
        if not os.environ.get("PUSH_REDIRECT_KEEP_TMP"):
            atexit.register(shutil.rmtree, _run_dir, True)
    return _run_dir


def readable_copy(source: Path) -> Path:
    """The run's copy of `source`, made on first use (again if the source changed)."""
    source = Path(source).resolve()
    st = source.stat()
    key = (source, st.st_mtime_ns, st.st_size)
    if key not in _copies:
        # One subdirectory per source: two files may share a name.
        _copies[key] = copy_into(run_dir() / str(len(_copies)), source)
    return _copies[key]


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__.split("As a program")[1], file=sys.stderr)
        return 2
    directory = Path(argv[1])
    for source in argv[2:]:
        print(copy_into(directory, Path(source)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
