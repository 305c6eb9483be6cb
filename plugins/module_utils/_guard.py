# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Stop cleanly when the run is interrupted, and make the next run wait for an interrupted one.

ansible-core does not stop a module process when ``ansible-playbook`` is interrupted: the module
may get the signal (Ctrl-C reaches the whole process group) or be left running on its own (the
controller's worker killed, the module re-parented). A ``RunGuard`` turns both into one
"stopped" flag that the HTTP client checks before every request, so no request is sent after
the interruption. Requests already in flight cannot be called back; the stopped run leaves a
marker until it exits, and the next run on the same account waits for it (bounded) before its
own first request, so that it does not plan from a listing that an in-flight create is about to
change (which would create the share twice).

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import signal
import tempfile
import threading
import time

from ._errors import InputError

WATCH_INTERVAL = 0.25
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parent_of(pid):
    """The parent pid of ``pid`` where /proc tells it (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _ancestors():
    """This process's parent and grandparent (the module runs under a shell started by the controller's worker)."""
    parent = os.getppid()
    grandparent = _parent_of(parent)
    return [pid for pid in (parent, grandparent) if pid and pid > 1]


def marker_dir():
    return os.path.join(tempfile.gettempdir(), f"edgeops-cloudflare-{os.getuid()}")


def marker_key(base_url, account_id):
    return hashlib.sha256((f"{base_url}|{account_id}").encode()).hexdigest()[:20]


class RunGuard:
    """One run's stop flag, its signal handlers and ancestor watchdog, and its interruption marker.

    ``sleep(seconds)`` waits but returns early once stopped; ``stopped()`` says whether to stop.
    ``max_finish_seconds``: how long an interrupted run may still need (its in-flight requests),
    written into the marker so that a later run knows how long to wait for it.
    """

    def __init__(self, key=None, max_finish_seconds=60.0, clock=time.monotonic):
        self._stopped = threading.Event()
        self.reason = None
        self._key = key
        self._max_finish = max_finish_seconds
        self._clock = clock
        self._marker = None
        self._previous_handlers = {}
        self._watched = []
        self._watchdog = None

    # --- the flag -----------------------------------------------------------------------------------------

    def stopped(self):
        return self._stopped.is_set()

    def sleep(self, seconds):
        self._stopped.wait(max(0.0, seconds))

    def stop(self, reason):
        if self._stopped.is_set():
            return
        self.reason = reason
        self._write_marker()
        self._stopped.set()

    # --- what stops it ------------------------------------------------------------------------------------

    def install(self):
        """Catch the stop signals (in the main thread) and watch the ancestors until ``close()``; returns self.

        In a module process and in the controller's worker alike: the handlers in place before are
        restored at ``close()``, so a worker goes back to ansible-core's own handling after the task.
        """
        if threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                signum = getattr(signal, name, None)
                if signum is not None:
                    self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
        self._watched = _ancestors()
        self._watchdog = threading.Thread(target=self._watch, name="edgeops-cloudflare-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def _on_signal(self, signum, frame):
        self.stop(f"signal {signal.Signals(signum).name}")

    def _watch(self):
        while not self._stopped.wait(WATCH_INTERVAL):
            if self._ancestry_broken():
                self.stop("the controller process that started this run went away")

    def _ancestry_broken(self):
        """Whether a watched ancestor died. A dead process may linger as a zombie nobody reaps, but its children
        are re-parented at once: so a changed parent of a watched process tells it too."""
        if not self._watched:
            return False
        chain = [os.getppid()] + [_parent_of(pid) for pid in self._watched[:-1]]
        return chain != self._watched or not all(_alive(pid) for pid in self._watched)

    def close(self):
        """Restore the signal handlers and remove this run's marker (the run is over, nothing is in flight)."""
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}
        if self._marker:
            with contextlib.suppress(OSError):
                os.unlink(self._marker)
            self._marker = None
        if self._watchdog is not None:
            self._stopped.set()
            self._watchdog = None

    def __enter__(self):
        """``with guard.install(...):`` installs as asked, then ``close()`` at the end."""
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- the marker ---------------------------------------------------------------------------------------

    def _write_marker(self):
        if not self._key:
            return
        directory = marker_dir()
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            path = os.path.join(directory, f"{self._key}.{os.getpid()}")
            with open(path, "w") as marker:
                marker.write(f"{os.getpid()} {time.time() + self._max_finish:f}")
            self._marker = path
        except OSError:
            self._marker = None  # best effort: a read-only temp dir must not turn a stop into a crash

    def wait_for_interrupted_runs(self, max_wait=None, poll=0.1):
        """Wait until no interrupted run of the same account is still finishing; fail after a bounded time."""
        if not self._key:
            return
        deadline = self._clock() + (self._max_finish if max_wait is None else max_wait)
        while True:
            pending = self._interrupted_runs()
            if not pending:
                return
            if self._clock() >= deadline or self.stopped():
                raise InputError(
                    "An interrupted earlier run on this account (pid {}) is still finishing a request it had sent; "
                    "this run did not start, so that it cannot act on a state that request is about to change. "
                    "Re-run when that process has exited.".format(", ".join(str(pid) for pid in pending))
                )
            self.sleep(poll)

    def _interrupted_runs(self):
        pending = []
        for path in glob.glob(os.path.join(marker_dir(), self._key + ".*")):
            try:
                with open(path) as marker:
                    pid_text, until_text = marker.read().split()
                pid, until = int(pid_text), float(until_text)
            except (OSError, ValueError):
                continue
            if pid != os.getpid() and _alive(pid) and time.time() < until:
                pending.append(pid)
            elif pid != os.getpid():
                with contextlib.suppress(OSError):
                    os.unlink(path)
        return pending
