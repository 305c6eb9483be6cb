"""The live-test kit's guard rails (tests/live), proven against the emulator.

The kit talks to whatever CLOUDFLARE_BASE_URL names; here that is the emulator, with its token and fixed world
(MAIN_ACCOUNT owns, MEMBER_ACCOUNTS are of the same organization). Each test runs the kit as a maintainer would, in
a process of its own (``python -m pytest tests/live``, ``python tests/live/sweep.py``), and reads what happened from
the emulator:

- without its settings, the kit refuses, names every missing variable, and sends nothing;
- the whole live suite passes, names every share it makes with its run prefix, and leaves none active, while a share
  of an earlier run and a share of somebody else stay exactly as they were;
- a step that fails (an injected API error), or a SIGTERM while a create is in flight, still ends with every share
  of the run deleted;
- the sweep deletes exactly the active sent shares named ``edgeops-live-...`` (over several pages), and
  ``--dry-run`` writes nothing.

The live suite runs once in full; the failure and interruption runs stop after their first steps.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, MEMBER_ACCOUNTS, TOKEN
from ansible_collections.edgeops.cloudflare.tests.e2e.runner import secret_forms
from ansible_collections.edgeops.cloudflare.tests.e2e.support import RULESET, RULESET_2, resource
from ansible_collections.edgeops.cloudflare.tests.live import kit

pytestmark = pytest.mark.usefixtures("clean_emulator")

REPO_ROOT = Path(__file__).resolve().parents[2]
SWEEP = REPO_ROOT / "tests" / "live" / "sweep.py"
A, B, C = MEMBER_ACCOUNTS
SUITE_TIMEOUT = 240
PREFIX_LINE = re.compile(r"^live run: prefix (edgeops-live-\d{14}-[0-9a-f]{6}-);", re.M)
# The steps of tests/live/test_live.py; all of them pass against the emulator when a second resource is given.
LIVE_STEPS = 7
# tests/live/README.md: a run costs at most this many requests besides the checks of its waits (none here: the
# emulator settles at once). The emulator counts them all.
DOCUMENTED_MAX_REQUESTS = 80
EARLIER_RUN = "edgeops-live-20000101000000-abcdef-account"


def live_environment(emulator, **overrides):
    """The environment of a maintainer's shell, with the emulator as the API; ``NAME=None`` leaves NAME out."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")}
    env.update(
        {
            kit.OPT_IN: "1",
            kit.TOKEN: TOKEN,
            kit.ACCOUNT: MAIN_ACCOUNT,
            kit.BASE_URL: emulator.base_url,
            kit.RECIPIENT: A,
            kit.RESOURCE_ID: RULESET,
            kit.RESOURCE_ID_2: RULESET_2,
            kit.WAIT_TIMEOUT: "30",
        }
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def live_suite_command(tmp_path):
    return [
        sys.executable,
        "-m",
        "pytest",
        "tests/live",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        str(tmp_path / "live"),
    ]


def run_live_suite(tmp_path, env):
    done = subprocess.run(
        live_suite_command(tmp_path),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def run_sweep(env, *args):
    done = subprocess.run(
        [sys.executable, str(SWEEP), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def assert_no_token_in(output):
    assert not any(form in output for form in secret_forms(TOKEN)), "the emulator's token shows in the kit's output"


def run_prefix(output):
    found = PREFIX_LINE.findall(output)
    assert len(found) == 1, output
    return found[0]


def created_shares(emulator):
    """(seq, name) of every share create (POST), from the emulator's request log."""
    return [
        (entry["seq"], entry["body"]["name"])
        for entry in emulator.requests_log()
        if entry["method"] == "POST" and entry["path"].endswith("/shares")
    ]


def active(emulator, prefix):
    return [share for share in emulator.state() if share["name"].startswith(prefix) and share["status"] == "active"]


# --- (a) refusal -------------------------------------------------------------------------------------------------


def test_without_settings_the_suite_refuses_names_each_variable_and_sends_nothing(emulator, tmp_path):
    unset = (kit.OPT_IN, kit.TOKEN, kit.ACCOUNT, kit.RECIPIENT, kit.RESOURCE_ID, kit.RESOURCE_ID_2, kit.WAIT_TIMEOUT)
    env = live_environment(emulator, **dict.fromkeys(unset))
    code, output = run_live_suite(tmp_path, env)
    assert code == 4, output
    named = re.findall(r"^  (CLOUDFLARE_[A-Z_0-9]+): ", output, re.M)
    assert named == [kit.OPT_IN, kit.TOKEN, kit.ACCOUNT, kit.RECIPIENT, kit.RESOURCE_ID], output
    assert "collected" not in output and "ansible-playbook" not in output  # refused before the suite was collected
    assert emulator.requests_log() == []


def test_the_sweep_refuses_too_and_names_only_what_is_missing(emulator):
    code, output = run_sweep(live_environment(emulator, **{kit.OPT_IN: "yes", kit.ACCOUNT: "", kit.RECIPIENT: None}))
    assert code == 2, output
    # The sweep needs no recipient or resource; the opt-in must be exactly 1; an empty variable counts as unset.
    assert re.findall(r"^  (CLOUDFLARE_[A-Z_0-9]+): (.*?);", output, re.M) == [
        (kit.OPT_IN, "is not 1"),
        (kit.ACCOUNT, "not set"),
    ], output
    assert emulator.requests_log() == []


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (
            {kit.TOKEN: None, kit.EMAIL: "ops@example.com", kit.KEY: None},
            [(kit.KEY, "not set, and CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY go together")],
        ),
        (
            {kit.KEY: "a-global-key"},
            [(kit.TOKEN, "set together with CLOUDFLARE_API_KEY: unset one of them (the modules refuse two schemes)")],
        ),
        ({kit.TOKEN: "line\nbreak-token"}, [(kit.TOKEN, "contains a space or a control character (value not shown)")]),
        ({kit.RECIPIENT: MAIN_ACCOUNT}, [(kit.RECIPIENT, "is CLOUDFLARE_ACCOUNT_ID itself, not another account")]),
        (
            {kit.ACCOUNT: MAIN_ACCOUNT.upper(), kit.RESOURCE_TYPE: "waf"},
            [
                (kit.ACCOUNT, "is not a 32-character lowercase hexadecimal id"),
                (kit.RESOURCE_TYPE, "is not a known resource type"),
                (kit.RESOURCE_TYPE_2, "is not a known resource type"),
            ],
        ),
        (
            {kit.BASE_URL: "https://api.cloudflare.com/", kit.WAIT_TIMEOUT: "0"},
            [
                (kit.BASE_URL, "is not an http(s) URL whose path is /client/v4"),
                (kit.WAIT_TIMEOUT, "is not a whole number of seconds from 1 to 1800"),
            ],
        ),
        ({kit.RESOURCE_ID_2: RULESET}, [(kit.RESOURCE_ID_2, "is the same resource as CLOUDFLARE_LIVE_RESOURCE_ID")]),
    ],
)
def test_each_invalid_setting_is_named_without_its_value(emulator, overrides, expected):
    settings, problems = kit.read_settings(live_environment(emulator, **overrides))
    assert settings is None
    assert [tuple(line.split("; ", 1)[0].split(": ", 1)) for line in problems] == expected, problems
    text = kit.refusal(problems, "live tests")
    assert "line\nbreak-token" not in text and "break-token" not in text and "a-global-key" not in text


def test_complete_settings_are_read_and_never_shown(emulator):
    settings, problems = kit.read_settings(live_environment(emulator, **{kit.EMAIL: "ops@example.com"}))
    assert problems == [] and settings.token == TOKEN and settings.email is None  # the token is the scheme
    assert settings.module_environment() == {
        kit.TOKEN: TOKEN,
        kit.ACCOUNT: MAIN_ACCOUNT,
        kit.BASE_URL: emulator.base_url,
    }
    assert TOKEN not in repr(settings) and settings.wait_timeout == 30 and settings.resource_type_2 == "custom-ruleset"
    prefix = kit.new_run_prefix()
    assert kit.RUN_PREFIX_PATTERN.match(prefix) and prefix != kit.new_run_prefix()


# --- (b) the whole suite --------------------------------------------------------------------------------------------


def test_the_live_suite_passes_names_every_share_with_its_prefix_and_leaves_none(emulator, tmp_path):
    earlier, bystander = emulator.seed(
        [
            dict(name=EARLIER_RUN, recipients=[{"account_id": B}], resources=[resource()]),
            dict(name="production waf", recipients=[{"account_id": C}], resources=[resource()]),
        ]
    )
    before = {share["id"]: share for share in emulator.state()}
    emulator.clear_log()
    code, output = run_live_suite(tmp_path, live_environment(emulator))
    assert code == 0, output
    assert re.search(rf"^=+ {LIVE_STEPS} passed in ", output, re.M), output  # every step ran: none skipped
    prefix = run_prefix(output)
    assert_no_token_in(output)

    created = created_shares(emulator)
    assert [name for _seq, name in created] == [prefix + "account", prefix + "organization"]
    made = [share for share in emulator.state() if share["id"] not in before]
    assert sorted((share["name"], share["status"]) for share in made) == [
        (prefix + "account-renamed", "deleted"),
        (prefix + "organization", "deleted"),
    ]
    # The shares of an earlier run and of anybody else: not touched, not even by the cleanup.
    assert [share for share in emulator.state() if share["id"] in before] == list(before.values())
    assert not [
        entry for entry in emulator.writes() if earlier["id"] in entry["path"] or bystander["id"] in entry["path"]
    ]
    assert f"cleanup of {prefix}*: 0 active sent shares found" in output
    requests = len(emulator.requests_log())
    assert requests <= DOCUMENTED_MAX_REQUESTS, (
        f"{requests} requests; tests/live/README.md says at most {DOCUMENTED_MAX_REQUESTS}"
    )


# --- (c) cleanup after a failure, and after an interruption -----------------------------------------------------------


def test_a_failed_step_still_deletes_every_share_of_the_run(emulator, tmp_path):
    # Every rename (PUT of a share) is refused: the second step fails after the first made the account share.
    emulator.add_faults(
        {
            "method": "PUT",
            "path": r"/shares/[0-9a-f]{32}$",
            "action": "status",
            "status": 400,
            "code": 1001,
            "message": "refused by test_live_kit",
            "times": 100,
        }
    )
    code, output = run_live_suite(tmp_path, live_environment(emulator))
    assert code == 1, output
    prefix = run_prefix(output)
    assert "FAILED tests/live/test_live.py::test_rename_by_share_id_then_share_info" in output
    assert "[1001] refused by test_live_kit" in output
    assert re.search(
        rf"SKIPPED \[{LIVE_STEPS - 2}\] .*not run: the earlier step test_rename_by_share_id_then_share_info failed",
        output,
    ), output
    [share] = [share for share in emulator.state() if share["name"].startswith(prefix)]
    assert (share["name"], share["status"]) == (prefix + "account", "deleted")
    assert "  deleted {} ({})".format(share["name"], share["id"]) in output
    deletes = [entry for entry in emulator.writes() if entry["method"] == "DELETE"]
    assert [entry["path"].rsplit("/", 1)[1] for entry in deletes] == [share["id"]]
    assert_no_token_in(output)


def poll(check, limit=60.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return check()


def test_sigterm_while_a_create_is_in_flight_still_deletes_it(emulator, tmp_path):
    """SIGTERM to pytest alone (its ansible-playbook is killed, the module process is orphaned and its create lands
    late): the cleanup waits for that module process, then finds and deletes the share."""
    emulator.add_faults({"method": "POST", "path": r"/shares$", "action": "delay", "seconds": 2, "times": 1})
    process = subprocess.Popen(
        live_suite_command(tmp_path),
        cwd=REPO_ROOT,
        env=live_environment(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert poll(lambda: emulator.faults()[0]["matched"] >= 1), "no create was sent"
        assert active(emulator, kit.PREFIX_ROOT) == []  # in flight: not there yet
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=SUITE_TIMEOUT)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 2, output  # pytest's "interrupted"
    assert "KeyboardInterrupt: SIGTERM received" in output
    prefix = run_prefix(output)
    [share] = [share for share in emulator.state() if share["name"].startswith(prefix)]
    assert share["status"] == "deleted", share
    assert "  deleted {} ({})".format(share["name"], share["id"]) in output
    log = emulator.requests_log()
    create = next(entry for entry in log if entry["method"] == "POST")
    delete = next(entry for entry in log if entry["method"] == "DELETE")
    assert create["fault"] == "delay" and create["seq"] < delete["seq"]
    assert_no_token_in(output)


# --- (d) the sweep ------------------------------------------------------------------------------------------------


def test_the_sweep_deletes_only_active_sent_edgeops_live_shares(emulator):
    def share(name, **extra):
        return dict(name=name, recipients=[{"account_id": A}], resources=[resource()], **extra)

    # 52 leftovers of earlier runs: more than one page of the sweep's listing (50 a page).
    leftovers = [share(f"edgeops-live-20250101000000-aaaaaa-{n:02d}") for n in range(51)]
    leftovers.append(
        dict(name="edgeops-live-20250101000000-aaaaaa-organization", target_type="organization", resources=[resource()])
    )
    kept = [
        share("edgeops-live-20250101000000-bbbbbb-gone", status="deleting"),  # not active
        share("production edgeops-live-20250101000000-cccccc-x"),  # the prefix elsewhere in the name
        share("EDGEOPS-LIVE-20250101000000-dddddd-upper"),  # another case
        share("edgeops-live"),  # not the prefix
        share("production waf"),
        # received: another account owns it and shares it with the main account
        dict(
            name="edgeops-live-20250101000000-eeeeee-received",
            account_id=A,
            recipients=[{"account_id": MAIN_ACCOUNT}],
            resources=[resource(resource_account_id=A)],
        ),
        share("edgeops-live-20250101000000-ffffff-elsewhere", account_id=B),  # another account's share
    ]
    seeded = emulator.seed(leftovers + kept)
    leftover_ids = {s["id"] for s in seeded[: len(leftovers)]}
    before = emulator.state()
    env = live_environment(emulator, **{kit.RECIPIENT: None, kit.RESOURCE_ID: None, kit.RESOURCE_ID_2: None})

    code, output = run_sweep(env, "--dry-run")
    assert code == 0, output
    assert emulator.writes() == [] and emulator.state() == before
    assert sorted(re.findall(r"^  would delete (\S+) \(([0-9a-f]{32})\)$", output, re.M)) == sorted(
        (s["name"], s["id"]) for s in seeded[: len(leftovers)]
    )
    assert "dry run, nothing deleted: edgeops-live-*: 52 active sent shares found" in output

    emulator.clear_log()
    code, output = run_sweep(env)
    assert code == 0, output
    deleted = {entry["path"].rsplit("/", 1)[1] for entry in emulator.writes()}
    assert deleted == leftover_ids and len(emulator.writes()) == len(leftovers)
    assert all(entry["method"] == "DELETE" for entry in emulator.writes())
    after = {s["id"]: s for s in emulator.state()}
    assert {after[i]["status"] for i in leftover_ids} == {"deleted"}
    assert [after[s["id"]] for s in before if s["id"] not in leftover_ids] == [
        s for s in before if s["id"] not in leftover_ids
    ]
    assert len(re.findall(r"^  deleted edgeops-live-20250101000000-aaaaaa-", output, re.M)) == len(leftovers)
    listing = [entry for entry in emulator.requests_log() if entry["method"] == "GET"]
    assert [entry["query"]["page"] for entry in listing] == [["1"], ["2"], ["1"]], json.dumps(
        listing
    )  # two pages, then the check
    assert_no_token_in(output)

    code, output = run_sweep(env)
    assert code == 0 and "edgeops-live-*: 0 active sent shares found" in output, output


def test_the_sweep_reports_a_share_it_could_not_delete_and_fails(emulator):
    seeded = emulator.seed(
        [
            dict(name=f"edgeops-live-20250101000000-aaaaaa-{n}", recipients=[{"account_id": A}], resources=[resource()])
            for n in range(2)
        ]
    )
    emulator.add_faults(
        {
            "method": "DELETE",
            "path": seeded[0]["id"] + "$",
            "action": "status",
            "status": 403,
            "code": 10000,
            "message": "Authentication error",
            "times": 10,
        }
    )
    env = live_environment(emulator, **{kit.RECIPIENT: None, kit.RESOURCE_ID: None})
    code, output = run_sweep(env)
    assert code == 1, output
    assert (
        "COULD NOT DELETE {} ({}): DELETE /accounts/{}/shares/{}: HTTP 403: 10000 Authentication error".format(
            seeded[0]["name"], seeded[0]["id"], MAIN_ACCOUNT, seeded[0]["id"]
        )
        in output
    )
    assert "  deleted {} ({})".format(seeded[1]["name"], seeded[1]["id"]) in output
    assert [s["status"] for s in emulator.state()] == ["active", "deleted"]


def test_the_kit_and_the_emulator_know_the_resource_types_the_modules_accept():
    """Three lists on purpose (the kit and the emulator stay independent of the code under test); they must agree."""
    from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import RESOURCE_TYPES
    from ansible_collections.edgeops.cloudflare.tests.emulator import server
    from ansible_collections.edgeops.cloudflare.tests.live import kit

    assert kit.RESOURCE_TYPES == RESOURCE_TYPES == server.RESOURCE_TYPES
