"""The API reference's edges, over real HTTP: minimal answers, association errors, excluded recipients,
permissions, and the forms in which the API may echo identities (issue #10).

The emulator answers no more than the reference promises by default (the "minimal" profile); some tests
switch it to what the reference's examples show ("generous") to prove both work.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeops.cloudflare.tests.e2e.support import (
    POLICY,
    RULESET,
    RULESET_2,
    resource,
    seed_share,
    spec,
)
from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, MEMBER_ACCOUNTS, READ_TOKEN

A, B, C = MEMBER_ACCOUNTS
ENTITLEMENT = "Recipient is missing necessary entitlement"


def task(module, label, **args):
    return {"name": label, "edgeops.cloudflare." + module: args, "register": "result", "ignore_errors": True}


def paths(emulator):
    return [(r["method"], r["path"].split("/shares", 1)[-1]) for r in emulator.requests_log()]


def writes(emulator):
    return [entry for entry in paths(emulator) if entry[0] != "GET"]


# --- minimal answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["minimal", "generous"])
def test_bulk_create_lists_the_resources_without_an_extra_request(runner, emulator, profile):
    emulator.configure(answer_profile=profile)
    item = spec(name="bulk", resources=[resource(), resource(POLICY, "gateway-policy", meta={"owner": "netops"})])
    run = runner.playbook(task("shares", "create", shares=[item]), diff=True)
    outcome = run.task("create")["result"]["results"][0]
    assert [r["resource_id"] for r in outcome["share"]["resources"]] == [RULESET, POLICY]
    assert [r["resource_id"] for r in outcome["diff"]["after"]["resources"]] == [RULESET, POLICY]
    assert outcome["share"]["resources"][1]["meta"] == {"owner": "netops"}
    assert run.task("create")["result"]["stats"]["requests"] == 2  # the listing and the POST


# --- association errors -----------------------------------------------------------------------------------


def test_wait_fails_at_once_on_a_terminal_association_error_and_names_it(runner, emulator):
    associating = [{"account_id": a, "association_status": "associating"} for a in (A, B)]
    share = emulator.seed([dict(name="waf", recipients=associating, resources=[resource()])])[0]
    emulator.add_association_error(share["id"], B, ENTITLEMENT, terminal=True)
    emulator.clear_log()
    run = runner.playbook(task("share", "wait", **spec(recipients=(A, B), wait=True, wait_timeout=120)))
    result = run.task("wait")
    assert result["status"] == "failed"
    message = result["result"]["msg"]
    assert (
        f"Cloudflare will not associate it: recipient account {B}, resource {RULESET}: {ENTITLEMENT} (terminal)"
        in message
    ), message
    assert result["result"]["share"]["association_errors"] == [
        {"account_id": B, "resource_id": RULESET, "error": ENTITLEMENT, "terminal": True}
    ]
    # At once: the lookup, its recipients, and one poll of the wait; no waiting for wait_timeout.
    assert paths(emulator) == [
        ("GET", ""),
        ("GET", "/{}/recipients".format(share["id"])),
        ("GET", "/{}/recipients".format(share["id"])),
    ]


def test_a_timeout_names_the_errors_cloudflare_still_retries(runner, emulator):
    share = emulator.seed(
        [dict(name="waf", recipients=[{"account_id": A, "association_status": "associating"}], resources=[resource()])]
    )[0]
    emulator.add_association_error(share["id"], A, "Temporary failure", terminal=False)
    run = runner.playbook(task("share", "wait", **spec(wait=True, wait_timeout=1)))
    message = run.task("wait")["result"]["msg"]
    assert f"gave up after wait_timeout=1 s: recipients still pending: {A} (associating)" in message, message
    assert f"errors being retried: recipient account {A}, resource {RULESET}: Temporary failure" in message


def test_share_recipient_and_share_info_return_the_association_errors(runner, emulator):
    share = emulator.seed(
        [dict(name="waf", recipients=[{"account_id": A, "association_status": "associating"}], resources=[resource()])]
    )[0]
    emulator.add_association_error(share["id"], A, ENTITLEMENT, terminal=True)
    run = runner.playbook(
        task("share_recipient", "recipient", share_id=share["id"], recipient_account_id=A),
        task("share_recipient", "waiting recipient", share_id=share["id"], recipient_account_id=A, wait=True),
        task("share_info", "info", share_id=share["id"], include_recipients=True),
    )
    recipient = run.task("recipient")["result"]["recipient"]
    assert recipient["resources"] == [
        {"resource_id": RULESET, "resource_version": 0, "error": ENTITLEMENT, "terminal": True}
    ]
    assert run.task("waiting recipient")["status"] == "failed"
    assert ENTITLEMENT in run.task("waiting recipient")["result"]["msg"]
    assert run.task("info")["result"]["shares"][0]["association_errors"] == [
        {"account_id": A, "resource_id": RULESET, "error": ENTITLEMENT, "terminal": True}
    ]


# --- excluded recipients of organization shares -----------------------------------------------------------


def org_spec(excluded, **extra):
    return dict(name="org-wide", recipients=[{}], resources=[resource()], excluded_recipients=list(excluded), **extra)


def live(emulator, share_id):
    share = next(s for s in emulator.state() if s["id"] == share_id)
    return sorted(
        r["account_id"] for r in share["recipients"] if r["association_status"] in ("associating", "associated")
    )


def test_excluded_recipients_are_created_converged_and_lifted_in_place(runner, emulator):
    run = runner.playbook(
        task("share", "create", **org_spec([A, B])), task("share", "again", **org_spec([B, A])), diff=True
    )
    created = run.task("create")["result"]
    assert created["changed"] is True and run.task("again")["result"]["changed"] is False, run.output
    share_id = created["share"]["id"]
    assert sorted(e["account_id"] for e in created["share"]["excluded_recipients"]) == [A, B]
    assert all(e["id"] for e in created["share"]["excluded_recipients"])
    assert created["diff"]["after"]["excluded_recipients"] == [A, B]
    assert live(emulator, share_id) == [C]
    emulator.clear_log()
    # Preview (check mode), then lift A's exclusion and exclude C: C goes out first (POST), A comes back last
    # (DELETE). Those two are the only writes: the preview made none.
    run = runner.playbook(
        dict(task("share", "preview", **org_spec([B, C])), check_mode=True, diff=True),
        task("share", "change", **org_spec([B, C])),
        task("share", "no-op", **org_spec([B, C])),
    )
    assert run.task("preview")["result"]["diff"]["before"]["excluded_recipients"] == [A, B]
    assert run.task("preview")["result"]["diff"]["after"]["excluded_recipients"] == [B, C]
    assert run.task("change")["result"]["changed"] is True and run.task("no-op")["result"]["changed"] is False
    assert [entry[0] for entry in writes(emulator)] == ["POST", "DELETE"]
    assert live(emulator, share_id) == [A]
    # An empty list lifts every exclusion.
    run = runner.playbook(task("share", "lift all", **org_spec([])))
    assert run.task("lift all")["result"]["changed"] is True and live(emulator, share_id) == [A, B, C]


def test_excluded_recipients_through_shares_share_info_and_the_export(runner, emulator):
    run = runner.playbook(
        task("shares", "bulk", shares=[org_spec([A])]),
        task("shares", "bulk again", shares=[org_spec([A])]),
        task("share_info", "info", share_id="{{ result.results[0].share_id }}", include_recipients=True),
        task("share_info", "export", include_spec=True),
    )
    assert run.task("bulk")["result"]["changed"] is True and run.task("bulk again")["result"]["changed"] is False
    share_id = run.task("bulk")["result"]["results"][0]["share_id"]
    assert run.task("info")["result"]["shares"][0]["id"] == share_id
    assert [e["account_id"] for e in run.task("info")["result"]["shares"][0]["excluded_recipients"]] == [A]
    assert run.task("export")["result"]["shares"][0]["spec"]["excluded_recipients"] == [A]


def test_excluded_recipients_are_refused_for_account_shares(runner, emulator):
    seed_share(emulator, name="accounts")
    emulator.clear_log()
    run = runner.playbook(
        task("share", "with accounts", **dict(spec(), excluded_recipients=[B])),
        task("share", "existing", name="accounts", excluded_recipients=[B]),
    )
    assert (
        "excluded_recipients is for shares that target the whole organization"
        in run.task("with accounts")["result"]["msg"]
    )
    assert "targets accounts; excluded_recipients is for shares" in run.task("existing")["result"]["msg"]
    assert writes(emulator) == []


# --- permissions ------------------------------------------------------------------------------------------


def test_a_read_only_token_reads_and_a_write_says_which_permission_it_needs(runner, emulator):
    seed_share(emulator)
    env = {"CLOUDFLARE_API_TOKEN": READ_TOKEN}
    run = runner.playbook(
        task("share_info", "read", name="waf"), task("share", "write", **spec(recipients=(A, B))), env=env
    )
    assert run.task("read")["status"] == "ok" and len(run.task("read")["result"]["shares"]) == 1
    message = run.task("write")["result"]["msg"]
    assert "HTTP 403: [10000] Authentication error" in message
    assert "a write needs a token with the account's Resource Sharing Edit permission" in message, message
    assert [r["auth"] for r in emulator.requests_log()] == ["read-token"] * len(emulator.requests_log())


def test_an_unknown_share_reads_as_no_share_in_the_account(runner, emulator):
    unknown = "f" * 32
    run = runner.playbook(
        task("share_info", "by id", share_id=unknown),
        task("share_recipient", "part", share_id=unknown, recipient_account_id=A),
    )
    assert f"no share {unknown} in account {MAIN_ACCOUNT}" in run.task("by id")["result"]["msg"]
    assert f"No active share {unknown} in account {MAIN_ACCOUNT}" in run.task("part")["result"]["msg"]


# --- identity and echo: no input makes every run a change -------------------------------------------------


def each_module_twice(single, bulk):
    """Tasks "share first/second" (``share`` with ``single``), then "shares first/second" (``shares`` with ``bulk``)."""
    return [
        *(task("share", f"share {label}", **single) for label in ("first", "second")),
        *(task("shares", f"shares {label}", shares=[bulk]) for label in ("first", "second")),
    ]


def assert_each_module_changed_then_unchanged(run):
    for module in ("share", "shares"):
        assert run.task(f"{module} first")["result"]["changed"] is True, run.output
        assert run.task(f"{module} second")["result"]["changed"] is False, run.task(f"{module} second")


@pytest.mark.parametrize(
    "config",
    [
        {"resource_id_form": "canonical"},
        {"empty_meta_echo": "null"},
        {"empty_meta_echo": "omitted"},
        {"meta_key_order": "reversed"},
    ],
    ids=["id-normalised", "meta-null", "meta-omitted", "meta-reordered"],
)
def test_whatever_the_api_echoes_the_second_run_changes_nothing(runner, emulator, config):
    emulator.configure(**config)
    resources = [
        resource("6F1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B", "gateway-policy", meta={}),
        resource(RULESET_2, meta={"a": 1, "b": {"c": [1, 2]}}),
    ]
    single, bulk = spec(name="single", resources=resources), spec(name="bulk", resources=resources)
    run = runner.playbook(*each_module_twice(single, bulk))
    assert_each_module_changed_then_unchanged(run)
    assert [w[0] for w in writes(emulator)] == ["POST", "POST"]


# --- deleted shares: the live API purges them ------------------------------------------------------------


def test_a_deleted_share_that_is_purged_reads_as_deleted_and_the_rerun_changes_nothing(runner, emulator):
    emulator.configure(deleted_shares="purged", transition_seconds=1)
    seed_share(emulator, name="single")
    seed_share(emulator, name="bulk")
    kept = seed_share(emulator, name="other")
    absent = dict(state="absent", wait=True, wait_timeout=30)
    run = runner.playbook(
        *each_module_twice(dict(name="single", **absent), dict(name="bulk", **absent)),
        task("share_info", "read single", name="single"),
        task("share_info", "read bulk", name="bulk"),
    )
    assert_each_module_changed_then_unchanged(run)
    assert run.task("share first")["result"]["share"]["status"] == "deleted"
    assert run.task("shares first")["result"]["results"][0]["share"]["status"] == "deleted"
    assert run.task("read single")["result"]["shares"] == [] and run.task("read bulk")["result"]["shares"] == []
    assert [w[0] for w in writes(emulator)] == ["DELETE", "DELETE"]
    assert [s["id"] for s in emulator.state()] == [kept["id"]]
