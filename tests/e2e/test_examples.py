"""Every module's EXAMPLES, run as written against the emulator: no example in the docs may be broken.

For each module in plugins/modules, the EXAMPLES YAML is played as one play (in order, so a later example
can use what an earlier one registered), after seeding the emulator with the shares the examples refer to.
Ad hoc command lines quoted in EXAMPLES comments (``#   ansible localhost -m ... -a '...'``) are run too.
Credentials come from the environment (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_BASE_URL),
as the examples assume; ``vault_cloudflare_api_token`` is a play variable (as a vaulted vars file would give it;
not ``-e``, which ``ansible-playbook -vvvv`` echoes).
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
import yaml

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    EMAIL,
    KEY,
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
    TOKEN,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(path for path in (REPO_ROOT / "plugins" / "modules").glob("*.py") if path.name != "__init__.py")

# The share the examples name ("Shared WAF rules") and address by id (3fd85f74...), with the recipient and
# the Gateway policy that the removal examples take out. Accounts and the organization are the emulator's
# fixed world (tests/emulator/CONTRACT.md), which the examples use as they are.
EXAMPLE_SHARE_ID = "3fd85f74b32742f1bff64a85009dda07"
WORLD = [
    {
        "id": EXAMPLE_SHARE_ID,
        "name": "Shared WAF rules",
        "recipients": [{"account_id": MEMBER_ACCOUNTS[0]}, {"account_id": MEMBER_ACCOUNTS[2]}],
        "resources": [
            {"resource_type": "custom-ruleset", "resource_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9"},
            {"resource_type": "gateway-policy", "resource_id": "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"},
        ],
    }
]
VAULT_VARS = {"vault_cloudflare_api_token": TOKEN, "vault_cloudflare_email": EMAIL, "vault_cloudflare_api_key": KEY}
ADHOC_LINE = re.compile(r"^#\s*(ansible\s+\S+\s+.*)$")


def examples_text(path):
    """The EXAMPLES string of a module file, read without importing the module."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no EXAMPLES")


def leaf_tasks(tasks):
    for task in tasks:
        if "block" in task:
            yield from leaf_tasks(task["block"])
        else:
            yield task


def literal_values(node, key):
    """Every literal (untemplated) value of ``key`` anywhere in ``node``."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key and isinstance(value, str) and "{{" not in value:
                yield value
            yield from literal_values(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from literal_values(value, key)


def adhoc_commands(text):
    """(module, args) of each ``ansible localhost -m MODULE -a ARGS`` line quoted in a comment."""
    commands = []
    for line in text.splitlines():
        match = ADHOC_LINE.match(line.strip())
        if not match:
            continue
        argv = shlex.split(match.group(1))
        assert argv[1] == "localhost" and "-m" in argv and "-a" in argv, f"unexpected ad hoc example: {line}"
        commands.append((argv[argv.index("-m") + 1], argv[argv.index("-a") + 1]))
    return commands


@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
@pytest.mark.parametrize("module_path", MODULES, ids=[path.stem for path in MODULES])
def test_examples_run_against_the_emulator(module_path, check, runner, emulator):
    """In the world the examples refer to, every example runs, in normal and in check mode."""
    tasks, leaves = example_tasks(module_path)
    seeded_ids = {share["id"] for share in emulator.seed(WORLD)}
    for share_id in literal_values(tasks, "share_id"):
        assert share_id in seeded_ids, f"{module_path.name}: share_id {share_id} is not in this test's WORLD"
    # Ids in examples are the emulator's fixed world, so they stay realistic and the examples run as written.
    for key, known in (
        ("account_id", (MAIN_ACCOUNT, *MEMBER_ACCOUNTS)),
        ("recipient_account_id", MEMBER_ACCOUNTS),
        ("organization_id", (MAIN_ORG,)),
    ):
        for value in literal_values(tasks, key):
            assert value in known, f"{module_path.name}: {key} {value} is not in the emulator's world"
    run_examples(runner, emulator, module_path, tasks, leaves, check)
    for module, args in adhoc_commands(examples_text(module_path)):
        adhoc = runner.adhoc(module, args, check=check)
        assert adhoc.rc == 0, f"ansible localhost -m {module} -a {args!r}\n{adhoc.output}"
        assert adhoc.last["status"] == "ok", adhoc.output


# The modules whose examples make what they use: a new user can paste them into an empty account.
SELF_CONTAINED = [path for path in MODULES if path.stem in ("share", "shares")]


@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
@pytest.mark.parametrize("module_path", SELF_CONTAINED, ids=[path.stem for path in SELF_CONTAINED])
def test_examples_run_in_an_empty_account(module_path, check, runner, emulator):
    tasks, leaves = example_tasks(module_path)
    run_examples(runner, emulator, module_path, tasks, leaves, check)


def example_tasks(module_path):
    tasks = yaml.safe_load(examples_text(module_path))
    assert isinstance(tasks, list) and tasks, f"{module_path.name}: EXAMPLES is not a list of tasks"
    fqcn = "edgeops.cloudflare." + module_path.stem
    leaves = list(leaf_tasks(tasks))
    assert any(fqcn in task for task in leaves), f"{module_path.name}: no example uses {fqcn}"
    assert all(task.get("name") for task in leaves), f"{module_path.name}: every example task needs a name"
    return tasks, leaves


def run_examples(runner, emulator, module_path, tasks, leaves, check):
    """One play of the examples in order; every task ok (in check mode, a task with ``when`` may skip); check
    mode writes nothing."""
    emulator.clear_log()
    run = runner.playbook(*tasks, play={"vars": VAULT_VARS}, check=check, diff=check)
    assert run.rc == 0, run.output
    assert [r["task"] for r in run.results] == [task["name"] for task in leaves], run.output
    may_skip = {task["name"] for task in leaves if check and "when" in task}
    not_ok = [
        (r["task"], r["status"])
        for r in run.results
        if r["status"] != "ok" and not (r["status"] == "skipped" and r["task"] in may_skip)
    ]
    assert not not_ok, f"{module_path.name}: {not_ok}\n{run.output}"
    if check:
        assert emulator.writes() == [], f"check mode wrote: {emulator.writes()}"
