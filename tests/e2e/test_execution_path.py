"""Where a task runs: in the controller's worker by default, as a module process when it must, with the same results.

The module path leaves its AnsiballZ file in the remote temporary directory when ANSIBLE_KEEP_REMOTE_FILES is
set; the in-process path never writes one. That is how these tests see which path a task took.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.edgeops.cloudflare.tests.e2e.runner import host_vars
from ansible_collections.edgeops.cloudflare.tests.e2e.support import resource, share_task, spec
from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MEMBER_ACCOUNTS

A, B, C = MEMBER_ACCOUNTS
KEEP = {"ANSIBLE_KEEP_REMOTE_FILES": "1"}
CONNECTION_PLUGINS = str(Path(__file__).resolve().parent / "connection_plugins")
IN_PROCESS, MODULE = {"edgeops_cloudflare_in_process": True}, {"edgeops_cloudflare_in_process": False}


def module_files(runner):
    return sorted(path.name for path in (runner.workdir / "remote-tmp").rglob("AnsiballZ_*.py"))


def play_with(host_variables):
    return {"vars": host_variables}


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (IN_PROCESS, []),
        (MODULE, ["AnsiballZ_share.py"]),
    ],
)
def test_the_switch_chooses_the_path(runner, emulator, variables, expected):
    run = runner.playbook(share_task("share", **spec()), play=play_with(variables), env=KEEP)
    assert run.task("share")["result"]["changed"] is True, run.output
    assert module_files(runner) == expected


def test_async_and_a_remote_connection_take_the_module_path(runner, emulator):
    runner.inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": host_vars(edgeops_cloudflare_in_process=True),
                        "remote": host_vars(ansible_connection="remote_like", edgeops_cloudflare_in_process=True),
                    }
                }
            }
        )
    )
    env = dict(KEEP, ANSIBLE_CONNECTION_PLUGINS=CONNECTION_PLUGINS)
    delegated = dict(share_task("delegated", **spec(name="delegated")), delegate_to="remote")
    run = runner.playbook(delegated, env=env)
    assert run.task("delegated")["result"]["changed"] is True, run.output
    assert module_files(runner) == ["AnsiballZ_share.py"]
    run = runner.playbook(dict(share_task("async", **spec(name="async")), **{"async": 60, "poll": 1}), env=env)
    assert run.task("async")["result"]["changed"] is True, run.output
    assert module_files(runner).count("AnsiballZ_share.py") == 2
    assert sorted(s["name"] for s in emulator.state()) == ["async", "delegated"]


CASES = [
    share_task("create", **spec(recipients=(A, B), resources=[resource(meta={"a": 1})])),
    share_task("no-op", **spec(recipients=(A, B), resources=[resource(meta={"a": 1})])),
    share_task("change", **spec(recipients=(C,), resources=[resource()])),
    dict(share_task("bad option", **dict(spec(), colour="red")), ignore_errors=True),
    dict(share_task("bad id", **spec(recipients=("nope",))), ignore_errors=True),
    dict(
        share_task("api refusal", **spec(name="x" * 40, recipients=("9e1d4c7b2a5f4e8d8c3b6a9f2e5d8c41",))),
        ignore_errors=True,
    ),
    {"name": "info", "edgeops.cloudflare.share_info": {"name": "waf", "include_recipients": True}, "register": "r"},
    {"name": "bulk", "edgeops.cloudflare.shares": {"shares": [spec(name="bulk")]}, "register": "r"},
    share_task("delete", name="waf", state="absent"),
]
VOLATILE = ("id", "created", "modified", "share_id")


def normalized(value):
    """A result with the ids and times every run makes anew blanked out."""
    if isinstance(value, dict):
        return {key: "<v>" if key in VOLATILE or key == "seconds" else normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    return value


@pytest.mark.parametrize("mode", ["normal", "check and diff"])
def test_both_paths_give_the_same_results(runner, emulator, mode):
    check = mode != "normal"
    results = {}
    for path, variables in (("in-process", IN_PROCESS), ("module", MODULE)):
        emulator.reset()
        run = runner.playbook(*CASES, play=play_with(variables), check=check, diff=check)
        results[path] = [(r["task"], r["status"], normalized(r["result"])) for r in run.results]
        for name in ("stats",):
            for _task, _status, result in results[path]:
                result.pop(name, None)
    assert results["in-process"] == results["module"]
    messages = {task: result.get("msg") for task, status, result in results["in-process"] if status == "failed"}
    assert messages["bad option"].startswith("Unsupported parameters for (edgeops.cloudflare.share) module: colour")
    assert "recipients[0].account_id must be a 32-character" in messages["bad id"]


@pytest.mark.parametrize("variables", [IN_PROCESS, MODULE], ids=["in-process", "module"])
def test_adhoc_on_both_paths(runner, emulator, variables):
    runner.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host_vars(**variables)}}}))
    args = spec()
    first = runner.adhoc("edgeops.cloudflare.share", args, env=KEEP)
    second = runner.adhoc("edgeops.cloudflare.share", args, env=KEEP)
    assert first.last["result"]["changed"] is True and second.last["result"]["changed"] is False, first.output
    assert bool(module_files(runner)) == (variables == MODULE)


def test_a_loop_reuses_one_connection_in_process(runner, emulator):
    items = [spec(name=f"loop-{n:02d}") for n in range(10)]
    task = {
        "name": "loop",
        "loop": items,
        "edgeops.cloudflare.share": {
            "name": "{{ item.name }}",
            "recipients": "{{ item.recipients }}",
            "resources": "{{ item.resources }}",
        },
    }
    run = runner.playbook(task, play=play_with(IN_PROCESS))
    assert run.rc == 0, run.output
    assert len(emulator.state()) == 10
    ports = {entry.get("client_port") for entry in emulator.requests_log()}
    assert len(ports) == 1, f"one kept-alive connection for the whole loop, got {len(ports)}"
