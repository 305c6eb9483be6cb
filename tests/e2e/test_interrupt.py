"""Interrupting a run: nothing keeps writing, and an immediate re-run does not create a share twice.

ansible-core leaves a module process running when ``ansible-playbook`` is interrupted, and the controller's
worker (which runs the modules' code by default) may outlive it too. Both stop sending requests once
interrupted (a signal, or the controller's process going away); a write that was already in flight still
lands, and a re-run waits for the interrupted process to finish it before reading anything (see
plugins/module_utils/_guard.py). Both paths are tested. The emulator delays the first creates by a few seconds, so
that they are in flight at the interruption and land after the re-run has started; the re-run's own creates are not
delayed.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import yaml

from ansible_collections.edgeops.cloudflare.tests.e2e.runner import host_vars
from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MEMBER_ACCOUNTS

A = MEMBER_ACCOUNTS[0]
CREATE_DELAY = 4
IN_FLIGHT = 2  # the creates a run with concurrency 2 has on their way
NAMES = [f"interrupted-{n:02d}" for n in range(6)]
POLL_LIMIT = 60.0


def poll_until(check, limit=POLL_LIMIT, interval=0.1):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return check()


def bulk_task():
    items = [
        {
            "name": name,
            "recipients": [{"account_id": A}],
            "resources": [{"resource_type": "custom-ruleset", "resource_id": f"{0xC000 + n:032x}"}],
        }
        for n, name in enumerate(NAMES)
    ]
    return {"name": "slow bulk", "edgeops.cloudflare.shares": {"shares": items, "concurrency": 2}}


@pytest.mark.parametrize("path", ["in-process", "module"])
@pytest.mark.parametrize("target", ["process group", "ansible-playbook only"])
def test_interrupted_run_stops_and_an_immediate_rerun_creates_nothing_twice(runner, emulator, target, path):
    runner.inventory.write_text(
        yaml.safe_dump({"all": {"hosts": {"localhost": host_vars(edgeops_cloudflare_in_process=path == "in-process")}}})
    )
    emulator.add_faults({"method": "POST", "action": "delay", "seconds": CREATE_DELAY, "times": IN_FLIGHT})
    process = runner.start_playbook(bulk_task(), new_session=True, verbosity=0)
    # Two creates are on their way (the emulator holds each for CREATE_DELAY seconds before applying it).
    assert poll_until(lambda: emulator.faults()[0]["matched"] == IN_FLIGHT), "no create in flight"
    assert runner.run_processes(), "the run is not running"
    if target == "process group":
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    else:
        os.kill(process.pid, signal.SIGINT)  # the controller alone: its worker goes, the module is orphaned
    code, output = runner.finish(process)
    assert code != 0, output
    rerun = runner.playbook(bulk_task(), verbosity=0)
    assert rerun.rc == 0, rerun.output
    # Once the interrupted processes are gone (their in-flight creates have landed, or never will): every share
    # exactly once, the interrupted run's two creates among them, and nothing sent after the interruption.
    assert poll_until(lambda: not runner.run_processes(), limit=10), f"left running: {runner.run_processes()}"
    posts = [r for r in emulator.requests_log() if r["method"] == "POST"]
    assert [r["fault"] for r in posts].count("delay") == IN_FLIGHT, posts
    assert len(posts) == len(NAMES), [r["body"]["name"] for r in posts]
    active = sorted(s["name"] for s in emulator.state() if s["status"] == "active")
    assert active == NAMES, active
