"""The push-follow client (tools/src/bin/push-follow.rs), run with --json and parsed.

Used by tests/test_push_follow.py and by the benchmark (bench/run.py).
"""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from . import env


def binary() -> Path:
    """The release build by default (`make tools`); PUSH_FOLLOW overrides it."""
    return Path(os.environ.get("PUSH_FOLLOW", env.REPO / "target" / "release" / "push-follow"))


@dataclass
class Run:
    args: List[str]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def trace(self) -> dict:
        assert self.stdout.strip(), self.describe()
        return json.loads(self.stdout)

    @property
    def hops(self) -> List[dict]:
        return self.trace["hops"]

    def sources(self) -> List[str]:
        return [hop["source"] for hop in self.hops]

    def statuses(self) -> List[int]:
        return [hop["status"] for hop in self.hops]

    def describe(self) -> str:
        return (f"$ {' '.join(self.args)}\nexit {self.exit_code}\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}")


def run(url: str, *, cacert: Optional[Path] = None, no_push: bool = False,
        connect_to: Optional[str] = None, extra=(), json_output: bool = True,
        timeout: float = 30) -> Run:
    args = [str(binary())]
    if cacert is not None:
        args += ["--cacert", str(cacert)]
    if no_push:
        args.append("--no-push")
    if connect_to:
        args += ["--connect-to", connect_to]
    if json_output:
        args.append("--json")
    args += [*extra, url]
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return Run(args, p.returncode, p.stdout, p.stderr)
