"""The ``resource_sharing`` role end to end: real ansible-playbook processes against the emulator over HTTP."""

from __future__ import annotations

import pytest

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, MEMBER_ACCOUNTS, TOKEN

A, B = MEMBER_ACCOUNTS[:2]
RULESET = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
POLICY = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
ROLE = "edgeops.cloudflare.resource_sharing"
APPLY = "Apply Cloudflare resource shares"
PUBLISH = "Publish the shares and the drift summary for later plays"
VALIDATE = "Validating arguments against arg spec 'main'"

SHARES = [
    {
        "name": "waf",
        "recipients": [{"account_id": A}, {"account_id": B}],
        "resources": [{"resource_id": RULESET, "resource_type": "custom-ruleset"}],
    },
    {
        "name": "org-policy",
        "recipients": [{}],
        "resources": [{"resource_id": POLICY, "resource_type": "gateway-policy", "meta": {"owner": "netops"}}],
    },
]


def role_play(shares=None, **variables):
    """A play that applies the role with ``cloudflare_shares`` (left at its default when ``shares`` is None)."""
    if shares is not None:
        variables["cloudflare_shares"] = shares
    return {"roles": [ROLE], "vars": variables}


def task_name(recorded):
    """A recorded task's own name: ansible-core 2.21 records role tasks as "<role> : <task>", 2.19 without the role."""
    return recorded.split(" : ", 1)[1] if recorded.startswith(ROLE + " : ") else recorded


def role_task(run, name):
    matches = [r for r in run.results if task_name(r["task"]) == name]
    assert len(matches) == 1, f"expected one result for task {name!r}, got {len(matches)}:\n{run.output}"
    return matches[0]


def methods(emulator):
    return [entry["method"] for entry in emulator.requests_log()]


def published(run):
    """The ``resource_sharing_results`` fact the role set."""
    return role_task(run, PUBLISH)["result"]["ansible_facts"]["resource_sharing_results"]


def item_results(run):
    return role_task(run, APPLY)["result"]["results"]


USE_RESULTS = {
    "name": "use the results",
    "ansible.builtin.assert": {
        "that": [
            "resource_sharing_results | map(attribute='name') | list == ['waf', 'org-policy']",
            "resource_sharing_results | map(attribute='id') | select | list | length == 2",
        ]
    },
}


def test_creates_two_shares_then_rerun_makes_only_reads(runner, emulator):
    first = runner.playbook(USE_RESULTS, play=role_play(SHARES))
    assert first.rc == 0, first.output
    assert role_task(first, APPLY)["result"]["changed"] is True
    assert [r["changed"] for r in item_results(first)] == [True, True]
    assert sorted(m for m in methods(emulator) if m != "GET") == ["POST", "POST"]

    shares = published(first)
    assert [s["name"] for s in shares] == ["waf", "org-policy"]
    assert first.task("use the results")["status"] == "ok"
    state = {s["name"]: s for s in emulator.state()}
    assert [s["id"] for s in shares] == [state["waf"]["id"], state["org-policy"]["id"]]
    assert shares[0]["target_type"] == "account" and shares[1]["target_type"] == "organization"
    assert sorted(r["account_id"] for r in shares[0]["recipients"]) == sorted([A, B])
    assert [(r["resource_id"], r["resource_account_id"], r["meta"]) for r in shares[1]["resources"]] == [
        (POLICY, MAIN_ACCOUNT, {"owner": "netops"})
    ]

    emulator.clear_log()
    second = runner.playbook(play=role_play(SHARES))
    assert second.rc == 0, second.output
    assert role_task(second, APPLY)["result"]["changed"] is False, role_task(second, APPLY)
    assert [r["changed"] for r in item_results(second)] == [False, False]
    assert methods(emulator) and set(methods(emulator)) == {"GET"}, emulator.requests_log()
    assert [s["id"] for s in published(second)] == [s["id"] for s in shares]
    assert len(emulator.state()) == 2


def test_check_mode_writes_nothing_and_predicts_the_shares(runner, emulator):
    run = runner.playbook(play=role_play(SHARES), check=True, diff=True)
    assert run.rc == 0, run.output
    assert [r["changed"] for r in item_results(run)] == [True, True]
    assert set(methods(emulator)) == {"GET"}
    assert emulator.state() == []
    assert [(s["name"], s["id"]) for s in published(run)] == [("waf", None), ("org-policy", None)]
    assert item_results(run)[0]["diff"]["after"]["recipients"] == [{"account_id": A}, {"account_id": B}]


def test_updates_and_deletes_through_the_list(runner, emulator):
    seeded = emulator.seed(
        [
            dict(SHARES[0], recipients=[{"account_id": A}]),
            {
                "name": "old",
                "recipients": [{"account_id": A}],
                "resources": [{"resource_id": RULESET, "resource_type": "custom-ruleset"}],
            },
        ]
    )
    emulator.clear_log()
    shares = [SHARES[0], {"name": "old", "state": "absent"}]
    run = runner.playbook(play=role_play(shares))
    assert run.rc == 0, run.output
    assert [r["changed"] for r in item_results(run)] == [True, True]
    writes = sorted((e["method"], e["path"].split("/shares", 1)[1]) for e in emulator.writes())
    assert writes == [("DELETE", "/" + seeded[1]["id"]), ("POST", "/{}/recipients".format(seeded[0]["id"]))]
    assert [s["status"] for s in published(run)] == ["active", "deleting"]


def test_connection_variables_are_used_and_the_token_never_printed(runner, emulator):
    """No CLOUDFLARE_* environment: the role variables alone reach the API; the -vvvv output never shows the token."""
    play = role_play(
        SHARES[:1],
        cloudflare_api_token=TOKEN,
        cloudflare_account_id=MAIN_ACCOUNT,
        cloudflare_base_url=emulator.base_url,
        cloudflare_timeout=20,
        cloudflare_max_retries=0,
        cloudflare_max_retry_wait=5,
    )
    run = runner.playbook(play=play, auth="none")
    assert run.rc == 0, run.output
    assert [r["changed"] for r in item_results(run)] == [True]
    assert TOKEN not in run.output
    assert TOKEN not in str(run.results)
    assert [s["name"] for s in emulator.state()] == ["waf"]


def test_empty_default_list_makes_no_request(runner, emulator):
    run = runner.playbook(play=role_play())
    assert run.rc == 0, run.output
    assert published(run) == []
    assert emulator.requests_log() == []


@pytest.mark.parametrize(
    ("item", "message"),
    [
        pytest.param(
            dict(SHARES[0], state="gone"), "value of state must be one of: present, absent, got: gone", id="bad-state"
        ),
        pytest.param(
            dict(SHARES[0], resources=[{"resource_id": RULESET}]),
            "missing required arguments: resource_type found in cloudflare_shares -> resources",
            id="resource-without-type",
        ),
        pytest.param(
            dict(SHARES[0], resources=[{"resource_id": RULESET, "resource_type": "zone"}]),
            "value of resource_type must be one of: custom-ruleset,",
            id="unknown-resource-type",
        ),
        pytest.param(
            {"recipients": [{"account_id": A}]},
            "one of the following is required: name, share_id",
            id="neither-name-nor-share-id",
        ),
        pytest.param(
            dict(SHARES[0], recipient=[{"account_id": A}]),
            "cloudflare_shares.recipient. Supported parameters include",
            id="unknown-key",
        ),
    ],
)
def test_bad_item_fails_argument_validation_before_any_request(runner, emulator, item, message):
    """The role's argument spec rejects the whole list (even its good first item) before any request."""
    run = runner.playbook(play=role_play([SHARES[1], item], cloudflare_api_token=TOKEN), auth="none")
    assert run.rc != 0, run.output
    failed = [r for r in run.results if r["status"] == "failed"]
    assert len(failed) == 1, run.output
    assert task_name(failed[0]["task"]).startswith(VALIDATE), failed[0]
    assert failed[0]["result"]["msg"].startswith("Validation of arguments failed:")
    assert message in failed[0]["result"]["msg"], failed[0]["result"]["msg"]
    assert all(task_name(r["task"]) != APPLY for r in run.results)
    assert TOKEN not in run.output
    assert emulator.requests_log() == []


OTHER_ACCOUNT = MEMBER_ACCOUNTS[2]  # a real account of the organization: the wrong one to write to
ONE_SHARE = [
    {
        "name": "waf",
        "recipients": [{"account_id": A}],
        "resources": [{"resource_id": RULESET, "resource_type": "custom-ruleset"}],
    }
]
PLAIN_TASK = {"name": "plain share task", "edgeops.cloudflare.share": dict(ONE_SHARE[0], name="plain")}


def owners(emulator):
    return {s["name"]: s["account_id"] for s in emulator.state()}


@pytest.mark.parametrize("connection_in", ["module_defaults", "role variables", "module_defaults of shares"])
def test_role_resolves_connection_options_like_a_plain_task(runner, emulator, connection_in):
    """The environment names another account and a dead API root; module_defaults (or the role's variables) name
    the right ones. The role and a plain task must both write to the right account through the right root."""
    env = {
        "CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT,
        "CLOUDFLARE_BASE_URL": "http://127.0.0.1:9/client/v4",
        "CLOUDFLARE_API_TOKEN": "environment-token-that-is-wrong",
    }
    right = {"account_id": MAIN_ACCOUNT, "base_url": emulator.base_url, "api_token": TOKEN, "max_retries": 0}
    play = role_play(ONE_SHARE)
    if connection_in == "module_defaults":
        play["module_defaults"] = {"group/edgeops.cloudflare.cloudflare": right}
        tasks = [PLAIN_TASK]
    else:
        if connection_in == "role variables":
            play["vars"].update({"cloudflare_" + key: value for key, value in right.items()})
            # The role's variables win over module_defaults that name the wrong account.
            play["module_defaults"] = {"group/edgeops.cloudflare.cloudflare": {"account_id": OTHER_ACCOUNT}}
        else:
            # The documented exception: module_defaults of the shares module itself win over the role's variables.
            play["vars"]["cloudflare_account_id"] = OTHER_ACCOUNT
            play["module_defaults"] = {"edgeops.cloudflare.shares": right}
        tasks = [
            dict(PLAIN_TASK, **{"edgeops.cloudflare.share": dict(PLAIN_TASK["edgeops.cloudflare.share"], **right)})
        ]
    emulator.add_faults({"action": "status", "status": 503, "path": "/shares$", "method": "GET"})
    run = runner.playbook(*tasks, play=play, auth="none", env=env)
    # max_retries: 0 came from the same place: the 503 on the role's listing was not retried.
    apply = role_task(run, APPLY)["result"]
    assert run.rc != 0 and "HTTP 503" in apply["msg"] and "after 1 attempt(s)" in apply["msg"], run.output
    assert emulator.state() == []
    run = runner.playbook(*tasks, play=play, auth="none", env=env)
    assert run.rc == 0, run.output
    assert owners(emulator) == {"waf": MAIN_ACCOUNT, "plain": MAIN_ACCOUNT}
    assert all(entry["auth"] == "token" for entry in emulator.requests_log())


def test_results_carry_the_real_recipients_of_every_share(runner, emulator):
    """An organization share (new or not) and an item that omits recipients: the results still list them."""
    first = runner.playbook(play=role_play(SHARES))
    assert first.rc == 0, first.output
    org = published(first)[1]
    assert sorted(r["account_id"] for r in org["recipients"]) == sorted(MEMBER_ACCOUNTS)
    assert all(r["id"] for r in published(first)[0]["recipients"])
    bare = [{"name": "waf", "resources": SHARES[0]["resources"]}, SHARES[1]]
    second = runner.playbook(play=role_play(bare))
    assert second.rc == 0, second.output
    assert [sorted(r["account_id"] for r in share["recipients"]) for share in published(second)] == [
        sorted([A, B]),
        sorted(MEMBER_ACCOUNTS),
    ]


def test_role_prune_guard_and_drift_summary(runner, emulator):
    org = dict(SHARES[1], target_type="organization", recipients=[{"account_id": a} for a in MEMBER_ACCOUNTS])
    strays = [
        {
            "name": f"stray-{n}",
            "recipients": [{"account_id": A}],
            "resources": [{"resource_id": RULESET, "resource_type": "custom-ruleset"}],
        }
        for n in range(2)
    ]
    emulator.seed([SHARES[0], org] + strays)
    emulator.clear_log()
    # An empty list (a missing variable file) with prune: refused before any write.
    run = runner.playbook(play=role_play([], resource_sharing_prune=True))
    assert (
        run.rc != 0
        and "prune with an empty list of shares would delete all 4" in role_task(run, APPLY)["result"]["msg"]
    )
    # A prune beyond the limit: refused too.
    run = runner.playbook(play=role_play(SHARES, resource_sharing_prune=True, resource_sharing_max_prune=1))
    assert (
        run.rc != 0 and "prune would delete 2 shares, more than max_prune=1" in role_task(run, APPLY)["result"]["msg"]
    )
    assert emulator.writes() == []
    # In check mode, the summary is a drift report; then the prune runs within its limit.
    run = runner.playbook(play=role_play(SHARES, resource_sharing_prune=True), check=True)
    summary = role_task(run, PUBLISH)["result"]["ansible_facts"]["resource_sharing_summary"]
    assert summary["drift"] is True and sorted(e["name"] for e in summary["deleted"]) == ["stray-0", "stray-1"]
    assert emulator.writes() == []
    run = runner.playbook(play=role_play(SHARES, resource_sharing_prune=True))
    assert run.rc == 0, run.output
    assert sorted(s["name"] for s in emulator.state() if s["status"] == "active") == ["org-policy", "waf"]


def test_organization_share_with_excluded_recipients_converges_through_the_role(runner, emulator):
    excluded = sorted([A, B])
    shares = [dict(SHARES[1], excluded_recipients=[B, A])]
    first = runner.playbook(play=role_play(shares))
    assert first.rc == 0, first.output
    assert [r["changed"] for r in item_results(first)] == [True]
    (share,) = published(first)
    assert sorted(e["account_id"] for e in share["excluded_recipients"]) == excluded
    (stored,) = emulator.state()
    live = sorted(
        r["account_id"] for r in stored["recipients"] if r["association_status"] in ("associating", "associated")
    )
    assert live and not set(live) & set(excluded), stored["recipients"]

    emulator.clear_log()
    second = runner.playbook(play=role_play(shares))
    assert second.rc == 0, second.output
    assert role_task(second, APPLY)["result"]["changed"] is False, role_task(second, APPLY)
    assert set(methods(emulator)) == {"GET"}, emulator.requests_log()
    assert sorted(e["account_id"] for e in published(second)[0]["excluded_recipients"]) == excluded

    # Lifting one exclusion through the role: one write, then nothing again.
    shares[0]["excluded_recipients"] = [B]
    emulator.clear_log()
    third = runner.playbook(play=role_play(shares))
    assert [r["changed"] for r in item_results(third)] == [True], third.output
    assert [m for m in methods(emulator) if m != "GET"] == ["DELETE"]
    assert [e["account_id"] for e in published(third)[0]["excluded_recipients"]] == [B]
    emulator.clear_log()
    fourth = runner.playbook(play=role_play(shares))
    assert role_task(fourth, APPLY)["result"]["changed"] is False and set(methods(emulator)) == {"GET"}
