#!/usr/bin/python3
"""Reads AddressSanitizer / LeakSanitizer reports (files asan.<pid> that
`make asan` makes Apache write) and counts them: all, and those with a frame
in our code (the module's C shim or the Rust library). Exit status 1 when one
of ours is found, or when the directory is missing.

    stress/asan_reports.py build/asan/logs
"""

import re
import sys
from pathlib import Path

# A frame in our code: the shim's file, an exported push_redirect_* function,
# or the Rust crates' symbols.
OURS = re.compile(r"mod_push_redirect\.c|push_redirect_|push_redirect_core|"
                  r"mod_push_redirect/src|core/src/")
# Objects that live as long as the configuration: made while Apache reads it
# (the shim's directive handlers), or caches inside the compiled exclude set.
# Their cleanup is registered on the configuration pool, which Apache's
# children never destroy before they exit (the parent does, and reports none):
# reported at a child's exit, like Apache's own regexes (pcre2_compile).
CONFIG_LIFETIME = re.compile(r"in (add_exclude|add_excludes|set_statuses|set_flag) |"
                             r"ExcludeSet|RegexSet")
REPORT_START = re.compile(r"^==\d+==ERROR: (AddressSanitizer|LeakSanitizer)", re.M)
LEAK_START = re.compile(r"^(Direct|Indirect) leak of", re.M)


def reports(text: str):
    starts = [m.start() for m in REPORT_START.finditer(text)] + [len(text)]
    for a, b in zip(starts, starts[1:]):
        yield text[a:b]


def entries(report: str):
    """One entry per leaked allocation stack; a memory error is one entry."""
    starts = [m.start() for m in LEAK_START.finditer(report)]
    if not starts:
        yield report
        return
    for a, b in zip(starts, starts[1:] + [len(report)]):
        yield report[a:b]


def main() -> int:
    logdir = Path(sys.argv[1])
    if not logdir.is_dir():
        print(f"{logdir}: no such directory", file=sys.stderr)
        return 1
    files = sorted(logdir.glob("asan.*"))
    kinds, ours, config_lifetime, others = {}, [], 0, 0
    for f in files:
        for rep in reports(f.read_text(errors="replace")):
            kind = rep.splitlines()[0].split("ERROR: ", 1)[1][:80]
            kinds[kind] = kinds.get(kind, 0) + 1
            for entry in entries(rep):
                if not OURS.search(entry):
                    others += 1
                elif "leak of" in entry.splitlines()[0] and CONFIG_LIFETIME.search(entry):
                    config_lifetime += 1
                else:
                    ours.append((f.name, entry))
    print(f"sanitizer report files: {len(files)}; reports: {sum(kinds.values())} "
          f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    print(f"entries without a frame of ours: {others}; leaks of our configuration-lifetime "
          f"objects at a child's exit: {config_lifetime}; other entries in our code: {len(ours)}")
    for name, entry in ours[:5]:
        print(f"--- {name}\n{entry[:4000]}")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
