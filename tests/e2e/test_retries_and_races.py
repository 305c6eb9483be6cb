"""Retries, transient faults and concurrent runs, through real ansible processes against the emulator.

These exercise the collection's own client and engine, the same on every ansible-core: they run on the
newest row (and on the module path), while test_reliability.py, whose checks depend on ansible-core
(argument validation, secrets at every verbosity, TLS and connection errors), runs on every row.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeops.cloudflare.tests.e2e.support import (
    resource,
    seed_share,
    share_task,
    spec,
    writes_of,
)
from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MEMBER_ACCOUNTS

A, B, C = MEMBER_ACCOUNTS


# --- duplicates, transient faults: merged, retried, bounded, counted -------------------------------------


def test_duplicates_in_one_task_are_merged(runner, emulator):
    args = spec(recipients=(A, A, B)) | {"resources": [resource(), resource()]}
    run = runner.playbook(share_task("first", **args), share_task("second", **args))
    assert run.task("first")["result"]["changed"] is True and run.task("second")["result"]["changed"] is False
    post = [r for r in emulator.requests_log() if r["method"] == "POST"][0]["body"]
    assert post["recipients"] == [{"recipient_account_id": A}, {"recipient_account_id": B}]
    assert len(post["resources"]) == 1


# Three 503s then success: test_share.py::test_three_503_then_success.
@pytest.mark.parametrize(
    "fault, attempts",
    [
        ({"action": "status", "status": 429, "retry_after": 1, "times": 2}, 3),
        ({"action": "status", "status": 429, "times": 2}, 3),
        ({"action": "status", "status": 502, "times": 2}, 3),
        ({"action": "status", "status": 504, "times": 2}, 3),
        ({"action": "drop", "times": 2}, 3),
    ],
)
def test_transient_faults_on_reads_are_absorbed(runner, emulator, fault, attempts):
    emulator.add_faults(dict(fault, method="GET"))
    run = runner.playbook(share_task("first", **spec()))
    assert run.task("first")["result"]["changed"] is True, run.output
    first_request = [r for r in emulator.requests_log() if r["method"] == "GET"][:attempts]
    assert [r["fault"] is not None for r in first_request] == [True] * (attempts - 1) + [False]
    assert first_request[-1]["status"] == 200


def test_429_on_create_is_retried_but_500_is_not(runner, emulator):
    emulator.add_faults({"method": "POST", "action": "status", "status": 429, "times": 1})
    run = runner.playbook(share_task("first", **spec()))
    assert run.task("first")["result"]["changed"] is True, run.output
    assert [r["status"] for r in emulator.requests_log() if r["method"] == "POST"] == [429, 201]
    emulator.reset()
    emulator.add_faults({"method": "POST", "action": "status", "status": 500, "times": 1})
    run = runner.playbook(share_task("first", **spec()))
    assert "HTTP 500" in run.task("first")["result"]["msg"]
    assert len([r for r in emulator.requests_log() if r["method"] == "POST"]) == 1


def test_permanent_4xx_is_never_retried(runner, emulator):
    emulator.add_faults({"method": "GET", "action": "status", "status": 403, "times": 5})
    run = runner.playbook(share_task("first", **spec()))
    assert "HTTP 403" in run.task("first")["result"]["msg"]
    assert len(emulator.requests_log()) == 1


def test_total_retry_wait_is_capped_and_configurable(runner, emulator):
    emulator.add_faults({"method": "GET", "action": "status", "status": 429, "retry_after": 30, "times": 5})
    run = runner.playbook(share_task("first", **spec(max_retry_wait=5)))
    message = run.task("first")["result"]["msg"]
    assert "HTTP 429" in message and "after 1 attempt(s)" in message
    # It says why it gave up at once: the wait the API asked for is longer than max_retry_wait allows.
    assert "the next retry would wait 30 s, and max_retry_wait=5 s allows 5 s more" in message, message
    assert run.task("first")["result"]["status"] == 429 and run.task("first")["result"]["error_codes"] == [10001]
    assert len(emulator.requests_log()) == 1
    emulator.reset()
    emulator.add_faults({"method": "GET", "action": "status", "status": 503, "times": 5})
    run = runner.playbook(share_task("first", **spec(max_retries=1)))
    assert "after 2 attempt(s)" in run.task("first")["result"]["msg"]
    assert len(emulator.requests_log()) == 2


# --- concurrency ------------------------------------------------------------------------------------------


def test_two_processes_converging_different_shares(runner, emulator):
    bystander = seed_share(emulator, name="bystander", recipients=(C,))
    before = [s for s in emulator.state() if s["id"] == bystander["id"]]
    emulator.configure(latency_ms=200)
    first = runner.start_playbook(share_task("one", **spec(name="one", recipients=(A,))))
    second = runner.start_playbook(share_task("two", **spec(name="two", recipients=(B,))))
    for process in (first, second):
        returncode, output = runner.finish(process)
        assert returncode == 0, output
    names = sorted(s["name"] for s in emulator.state() if s["status"] == "active")
    assert names == ["bystander", "one", "two"]
    assert [s for s in emulator.state() if s["id"] == bystander["id"]] == before


def test_two_processes_racing_on_one_name_then_the_duplicate_is_reported(runner, emulator):
    # Both lookups answer before either create lands (2 s per request), so both create: the API has no
    # uniqueness. The next run must notice and refuse to guess.
    emulator.configure(latency_ms=2000)
    processes = [runner.start_playbook(share_task("race", **spec(name="race"))) for _racer in range(2)]
    for process in processes:
        returncode, output = runner.finish(process)
        assert returncode == 0, output
    emulator.configure(latency_ms=0)
    created = [s["id"] for s in emulator.state() if s["name"] == "race" and s["status"] == "active"]
    assert len(created) == 2, f"the race did not happen (both processes should have created a share): {created}"
    emulator.clear_log()
    run = runner.playbook(share_task("next run", **spec(name="race")))
    message = run.task("next run")["result"]["msg"]
    assert all(share_id in message for share_id in created) and "will not guess" in message
    assert writes_of(emulator) == []
