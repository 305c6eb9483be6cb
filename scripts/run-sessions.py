#!/usr/bin/env python
"""Usage: scripts/run-sessions.py [-j N] SESSION...   (nox -s test runs it)

Runs `nox -s SESSION` for each SESSION, N at a time in the order given (put the longest first),
each one's output in .build/sessions/SESSION.log, printed whole when it ends; then a table of
each session's result, wall time and start. Exits non-zero if any session failed.
NOX_ARGS (default: --reuse-venv=yes --error-on-missing-interpreters) goes to every nox.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

LOGS = Path(__file__).resolve().parent.parent / ".build" / "sessions"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("sessions", nargs="+")
    args = parser.parse_args()
    nox_args = shlex.split(os.environ.get("NOX_ARGS", "--reuse-venv=yes --error-on-missing-interpreters"))
    LOGS.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    pending, running, results = list(args.sessions), {}, {}
    try:
        while pending or running:
            while pending and len(running) < args.jobs:
                name = pending.pop(0)
                log = (LOGS / f"{name}.log").open("w")
                print(f"=== {name}: started at +{time.monotonic() - start:.0f}s", flush=True)
                process = subprocess.Popen(
                    [sys.executable, "-m", "nox", *nox_args, "-s", name],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    env={**os.environ, "NO_COLOR": "1"},
                )
                running[process.pid] = (name, process, log, time.monotonic())
            pid, status = os.wait()
            if pid not in running:
                continue
            name, process, log, began = running.pop(pid)
            log.close()
            rc = os.waitstatus_to_exitcode(status)
            results[name] = (rc, time.monotonic() - began, began - start)
            print(
                f"\n==================== {name} ====================\n{(LOGS / f'{name}.log').read_text()}"
                f"---- {name}: {'OK' if rc == 0 else f'FAILED (exit {rc})'} in {results[name][1]:.0f}s",
                flush=True,
            )
    except KeyboardInterrupt:
        for entry in running.values():
            os.killpg(entry[1].pid, signal.SIGTERM)
        raise
    print(f"\n{'session':<24} {'result':<9} {'seconds':>8} {'start at':>9}")
    for name in args.sessions:
        rc, took, began = results[name]
        print(f"{name:<24} {'ok' if rc == 0 else f'FAIL({rc})':<9} {took:>8.0f} {f'+{began:.0f}':>9}")
    failed = [name for name in args.sessions if results[name][0]]
    print(f"{'total (wall)':<34} {time.monotonic() - start:>8.0f}")
    print(
        f"{len(failed)} of {len(args.sessions)} sessions failed: {' '.join(failed)}"
        if failed
        else f"all {len(args.sessions)} sessions passed"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
