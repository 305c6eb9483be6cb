"""Unit tests of the run guard: the stop flag, signals, the interruption marker and the bounded wait for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ansible_collections.edgeops.cloudflare.plugins.module_utils import _guard
from ansible_collections.edgeops.cloudflare.plugins.module_utils._errors import InputError
from ansible_collections.edgeops.cloudflare.plugins.module_utils._guard import RunGuard


@pytest.fixture(autouse=True)
def private_marker_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(_guard, "marker_dir", lambda: str(tmp_path))
    return tmp_path


def test_a_signal_stops_the_run_instead_of_raising():
    # The handler before: Python's default, or SIG_IGN when pytest itself was started as a background job.
    before = signal.getsignal(signal.SIGINT)
    with RunGuard("k").install() as guard:
        os.kill(os.getpid(), signal.SIGINT)
        assert guard.stopped() and guard.reason == "signal SIGINT"
    assert signal.getsignal(signal.SIGINT) is before


def test_sleep_ends_early_once_stopped():
    guard = RunGuard()
    guard.stop("test")
    guard.sleep(60)  # returns at once: the pytest timeout would fail this test otherwise
    assert guard.stopped()


def test_the_marker_lives_while_the_stopped_run_finishes(private_marker_dir):
    guard = RunGuard("k", max_finish_seconds=30)
    guard.stop("test")
    markers = list(private_marker_dir.iterdir())
    assert [m.name for m in markers] == [f"k.{os.getpid()}"]
    guard.close()
    assert list(private_marker_dir.iterdir()) == []


def test_a_later_run_waits_for_a_live_interrupted_run_then_fails_bounded(private_marker_dir):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (private_marker_dir / f"k.{sleeper.pid}").write_text(f"{sleeper.pid} {4e9:f}")
        now = [0.0]
        guard = RunGuard("k", clock=lambda: now[0])
        guard.sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)
        with pytest.raises(InputError, match=rf"interrupted earlier run on this account \(pid {sleeper.pid}\)"):
            guard.wait_for_interrupted_runs(max_wait=2)
        assert now[0] >= 2
        RunGuard("other-account").wait_for_interrupted_runs(max_wait=0)  # another account: no wait
    finally:
        sleeper.kill()
        sleeper.wait()


def test_markers_of_dead_or_expired_runs_are_removed(private_marker_dir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (private_marker_dir / f"k.{dead.pid}").write_text(f"{dead.pid} {4e9:f}")
    (private_marker_dir / "k.1").write_text("1 0")  # pid 1 is alive, but the marker expired
    RunGuard("k").wait_for_interrupted_runs(max_wait=0)
    assert list(private_marker_dir.iterdir()) == []
