"""The ``share`` module end to end: real ansible-playbook processes against the emulator over HTTP."""

from __future__ import annotations

import time

import pytest

from ansible_collections.edgeops.cloudflare.tests.e2e.runner import secret_forms
from ansible_collections.edgeops.cloudflare.tests.e2e.support import (
    POLICY,
    RULESET,
    RULESET_2,
    active_accounts,
    assert_changed_then_unchanged,
    only_share,
    requests_of,
    resource,
    seed_share,
    share_task,
    spec,
    writes_of,
)
from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    EMAIL,
    FOREIGN_ACCOUNT,
    KEY,
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
)

A, B, C = MEMBER_ACCOUNTS


# --- create, re-run, check mode, diff -------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["minimal", "generous"])
def test_create_then_rerun_is_unchanged_with_exact_request_counts(runner, emulator, profile):
    """The create answer promises no resources (minimal, the reference): the share is read back once for them."""
    emulator.configure(answer_profile=profile)
    run = runner.playbook(share_task("first", **spec()), share_task("second", **spec()), diff=True)
    assert_changed_then_unchanged(run)
    share_id = run.task("first")["result"]["share"]["id"]
    read_back = [("GET", "/" + share_id)] if profile == "minimal" else []
    assert requests_of(emulator) == [
        ("GET", ""),
        ("POST", ""),
        *read_back,
        ("GET", f"/{share_id}/recipients"),
        ("GET", ""),
        ("GET", f"/{share_id}/recipients"),
    ]
    created = run.task("first")["result"]
    assert [r["resource_id"] for r in created["share"]["resources"]] == [RULESET]
    assert all(r["id"] for r in created["share"]["resources"]), "the resources' real ids, read back"
    assert [r["resource_id"] for r in created["diff"]["after"]["resources"]] == [RULESET]
    share = run.task("second")["result"]["share"]
    assert share["name"] == "waf" and share["target_type"] == "account" and share["status"] == "active"
    assert [r["account_id"] for r in share["recipients"]] == [A]
    assert [
        (r["resource_type"], r["resource_id"], r["resource_account_id"], r["meta"]) for r in share["resources"]
    ] == [("custom-ruleset", RULESET, MAIN_ACCOUNT, {})]
    assert only_share(emulator)["id"] == share["id"]


def test_check_mode_reports_and_diffs_a_create_and_a_change_and_writes_nothing(runner, emulator):
    seeded = seed_share(emulator, recipients=(A,))
    emulator.clear_log()
    run = runner.playbook(
        share_task("create", **spec(name="fresh")),
        share_task("change", **spec(recipients=(A, B))),
        check=True,
        diff=True,
    )
    assert run.rc == 0, run.output
    created = run.task("create")["result"]
    assert created["changed"] is True
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"] == {
        "name": "fresh",
        "target_type": "account",
        "recipients": [{"account_id": A}],
        "resources": [
            {"resource_type": "custom-ruleset", "resource_account_id": MAIN_ACCOUNT, "resource_id": RULESET, "meta": {}}
        ],
    }
    assert '+    "name": "fresh"' in run.stdout or '"name": "fresh"' in run.stdout
    changed = run.task("change")["result"]
    assert changed["changed"] is True
    assert changed["diff"]["before"]["recipients"] == [{"account_id": A}]
    assert changed["diff"]["after"]["recipients"] == [{"account_id": A}, {"account_id": B}]
    assert {entry[0] for entry in requests_of(emulator)} == {"GET"}
    assert [s["id"] for s in emulator.state()] == [seeded["id"]]
    assert active_accounts(only_share(emulator)) == [A]


def test_public_example_organization_share(runner, emulator):
    args = dict(
        name="My Shared WAF Managed Rule",
        recipients=[{}],
        resources=[dict(resource(), resource_account_id=MAIN_ACCOUNT, meta={})],
    )
    named = {**args, "recipients": [{"organization_id": MAIN_ORG}]}
    run = runner.playbook(share_task("first", **args), share_task("second", **args), share_task("named", **named))
    assert_changed_then_unchanged(run)
    assert run.task("named")["result"]["changed"] is False, run.output
    assert writes_of(emulator) == [("POST", "")]
    post = [r for r in emulator.requests_log() if r["method"] == "POST"][0]
    assert post["body"]["recipients"] == [{}]
    share = only_share(emulator)
    assert share["target_type"] == "organization"


# --- in-place updates -------------------------------------------------------------------------------------


def test_recipient_add_single_uses_post(runner, emulator):
    seeded = seed_share(emulator, recipients=(A,))
    emulator.clear_log()
    run = runner.playbook(
        share_task("first", **spec(recipients=(A, B))), share_task("second", **spec(recipients=(A, B)))
    )
    assert_changed_then_unchanged(run)
    assert writes_of(emulator) == [("POST", "/{}/recipients".format(seeded["id"]))]
    assert len(requests_of(emulator)) == 3 + 2
    assert active_accounts(only_share(emulator)) == [A, B]


def test_recipients_removed_with_one_put_of_the_kept_ones_and_purged(runner, emulator):
    seeded = seed_share(emulator, recipients=(A, B, C))
    emulator.clear_log()
    run = runner.playbook(share_task("first", **spec(recipients=(C,))), share_task("second", **spec(recipients=(C,))))
    assert_changed_then_unchanged(run)
    assert writes_of(emulator) == [("PUT", "/{}/recipients".format(seeded["id"]))]
    assert [r["body"] for r in emulator.writes()] == [[{"recipient_account_id": C}]]
    share = only_share(emulator)
    assert active_accounts(share) == [C]
    assert sorted(
        r["account_id"] for r in share["recipients"] if r["association_status"].startswith("disassociat")
    ) == [A, B]


def test_purge_recipients_false_keeps_others(runner, emulator):
    seed_share(emulator, recipients=(A,))
    args = spec(recipients=(B,), purge_recipients=False)
    run = runner.playbook(share_task("first", **args), share_task("second", **args))
    assert_changed_then_unchanged(run)
    assert active_accounts(only_share(emulator)) == [A, B]


def test_disassociated_recipient_wanted_again_is_re_added(runner, emulator):
    seeded = emulator.seed(
        [
            dict(
                name="waf",
                recipients=[{"account_id": A, "association_status": "disassociated"}, {"account_id": B}],
                resources=[resource()],
            )
        ]
    )[0]
    emulator.clear_log()
    run = runner.playbook(
        share_task("first", **spec(recipients=(A, B))), share_task("second", **spec(recipients=(A, B)))
    )
    assert_changed_then_unchanged(run)
    assert writes_of(emulator) == [("POST", "/{}/recipients".format(seeded["id"]))]
    assert active_accounts(only_share(emulator)) == [A, B]


def test_resources_added_removed_and_meta_updated_in_place(runner, emulator):
    seeded = seed_share(emulator, resources=[resource(meta={"v": 1}), resource(RULESET_2)])
    emulator.clear_log()
    args = spec(resources=[resource(meta={"v": 2}), resource(POLICY, "gateway-policy")])
    run = runner.playbook(share_task("first", **args), share_task("second", **args))
    assert_changed_then_unchanged(run)
    writes = writes_of(emulator)
    assert sorted(method for method, path in writes) == ["DELETE", "POST", "PUT"]
    assert all(path.startswith("/{}/resources".format(seeded["id"])) for method, path in writes)
    share = only_share(emulator)
    assert share["id"] == seeded["id"]
    active = {r["resource_id"]: r["meta"] for r in share["resources"] if r["status"] == "active"}
    assert active == {RULESET: {"v": 2}, POLICY: {}}
    assert len(requests_of(emulator)) == 2 + 3 + 2


# --- delete ---------------------------------------------------------------------------------------------


def test_deleting_share_is_not_found_by_name(runner, emulator):
    emulator.configure(transition_seconds=3600)
    seed_share(emulator, status="deleting")
    run = runner.playbook(share_task("first", name="waf", state="absent"), share_task("create", **spec()))
    assert run.task("first")["result"]["changed"] is False
    assert run.task("create")["result"]["changed"] is True, run.output
    assert len(emulator.state()) == 2


def test_absent_twice_returns_and_diffs_the_real_recipients(runner, emulator):
    seeded = seed_share(emulator, recipients=(A, B))
    emulator.clear_log()
    args = dict(name="waf", state="absent")
    run = runner.playbook(share_task("first", **args), share_task("second", **args), diff=True)
    assert_changed_then_unchanged(run)
    assert writes_of(emulator) == [("DELETE", "/" + seeded["id"])]
    result = run.task("first")["result"]
    assert result["diff"]["before"]["recipients"] == [{"account_id": A}, {"account_id": B}], result["diff"]
    assert result["diff"]["after"] == {}
    assert sorted(r["account_id"] for r in result["share"]["recipients"]) == [A, B]
    assert result["share"]["id"] == seeded["id"] and result["share"]["status"] == "deleting"
    assert run.task("second")["result"]["share"] == {}
    # listing, recipients (the share as it was, for the result and the diff), DELETE; then the listing
    assert len(requests_of(emulator)) == 3 + 1


def test_wait_for_a_share_that_was_already_deleting(runner, emulator):
    seeded = seed_share(emulator, status="deleting")
    emulator.clear_log()
    process = runner.start_playbook(share_task("wait", name="waf", state="absent", wait=True, wait_timeout=60))
    polls = poll_until(lambda: [r for r in emulator.requests_log() if r["path"].endswith(seeded["id"])])
    assert polls, "the task never looked at the deleting share"
    emulator.advance()
    code, output = runner.finish(process)
    assert code == 0, output
    assert writes_of(emulator) == []
    assert '"status": "deleted"' in output and '"changed": false' in output


def poll_until(check, timeout=30.0, interval=0.1):
    """check()'s first truthy value, polled at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return check()


def test_rename_to_a_name_another_share_has_is_refused_unless_allowed(runner, emulator):
    renamed, other = emulator.seed(
        [
            dict(name="old", recipients=[{"account_id": A}], resources=[resource()]),
            dict(name="taken", recipients=[{"account_id": B}], resources=[resource()]),
        ]
    )
    emulator.clear_log()
    run = runner.playbook(
        dict(share_task("refused", share_id=renamed["id"], name="taken"), ignore_errors=True),
        share_task("allowed", share_id=renamed["id"], name="taken", allow_duplicate_name=True),
    )
    message = run.task("refused")["result"]["msg"]
    assert "would give it the name of the active share {}".format(other["id"]) in message, message
    assert "allow_duplicate_name=true" in message
    assert run.task("allowed")["result"]["changed"] is True
    # The one write is the allowed rename's.
    assert writes_of(emulator) == [("PUT", "/" + renamed["id"])]
    assert sorted(s["name"] for s in emulator.state()) == ["taken", "taken"]


def test_omitted_meta_leaves_the_meta_alone(runner, emulator):
    seed_share(emulator, resources=[resource(meta={"owner": "netops"})])
    emulator.clear_log()
    run = runner.playbook(
        *(
            share_task(f"no meta, purge {purge}", **spec(resources=[resource()], purge_resources=purge))
            for purge in (False, True)
        ),
        share_task("cleared", **spec(resources=[resource(meta={})])),
    )
    for purge in (False, True):
        assert run.task(f"no meta, purge {purge}")["result"]["changed"] is False, run.output
        assert run.task(f"no meta, purge {purge}")["result"]["share"]["resources"][0]["meta"] == {"owner": "netops"}
    assert run.task("cleared")["result"]["changed"] is True
    # The one write is the task that clears the meta.
    assert [(method, "/resources/" in path) for method, path in writes_of(emulator)] == [("PUT", True)]
    assert only_share(emulator)["resources"][0]["meta"] == {}


def test_a_swap_of_recipients_and_resources_never_exposes_even_when_a_delete_fails(runner, emulator):
    """A and SECRET out, B and PUBLIC in; the removal of SECRET fails. B must never have been able to see SECRET."""
    seeded = seed_share(emulator, recipients=(A,), resources=[resource(RULESET)])
    secret = ("custom-ruleset", MAIN_ACCOUNT, RULESET)
    emulator.add_faults({"method": "DELETE", "path": "/resources/", "action": "status", "status": 500, "times": 5})
    run = runner.playbook(share_task("swap", **spec(recipients=(B,), resources=[resource(RULESET_2)])))
    result = run.task("swap")
    assert result["status"] == "failed" and "Not done: remove resource" in result["result"]["msg"], result
    assert f"add recipient account {B}" in result["result"]["msg"].split("Not done:")[1]
    assert (seeded["id"], B, *secret) not in emulator.exposures()
    emulator.clear_faults()
    run = runner.playbook(share_task("again", **spec(recipients=(B,), resources=[resource(RULESET_2)])))
    assert run.task("again")["result"]["changed"] is True
    # A left before PUBLIC arrived, B came after SECRET left: each account only ever saw its own resource.
    assert {pair[1:] for pair in emulator.exposures()} == {(A, *secret), (B, "custom-ruleset", MAIN_ACCOUNT, RULESET_2)}


def test_wait_for_deletion(runner, emulator):
    emulator.configure(transition_seconds=1)
    seed_share(emulator)
    run = runner.playbook(share_task("first", name="waf", state="absent", wait=True, wait_timeout=30))
    assert run.rc == 0, run.output
    assert run.task("first")["result"]["share"]["status"] == "deleted"


# --- refusals -------------------------------------------------------------------------------------------


def test_create_without_resources_and_a_switch_of_target_type_are_refused_without_write(runner, emulator):
    seed_share(emulator)
    emulator.clear_log()
    run = runner.playbook(
        dict(share_task("no resources", name="new", recipients=[{"account_id": A}]), ignore_errors=True),
        dict(share_task("switch", **spec() | {"recipients": [{}]}), ignore_errors=True),
    )
    assert "creating it needs resources" in run.task("no resources")["result"]["msg"]
    assert "cannot switch" in run.task("switch")["result"]["msg"]
    assert writes_of(emulator) == []


def test_api_validation_error_is_one_readable_message(runner, emulator):
    run = runner.playbook(share_task("first", **spec(recipients=(FOREIGN_ACCOUNT,))))
    message = run.task("first")["result"]["msg"]
    assert message.startswith(f"POST /accounts/{MAIN_ACCOUNT}/shares: HTTP 4"), message
    assert "[" in message and "Traceback" not in run.output


# --- authentication and secrets -------------------------------------------------------------------------


def test_bad_token_fails_readably_and_never_shows_the_token(runner, emulator):
    bad = "bad-token-Zq93xLm2"
    run = runner.playbook(share_task("first", **spec()), verbosity=4, env={"CLOUDFLARE_API_TOKEN": bad})
    message = run.task("first")["result"]["msg"]
    assert "Authentication error" in message and "[10000]" in message and "HTTP 403" in message
    for form in secret_forms(bad):
        assert form not in run.output
        assert form not in str(emulator.requests_log())


def test_legacy_email_and_key_auth_options(runner, emulator):
    args = spec(api_email=EMAIL, api_key=KEY, account_id=MAIN_ACCOUNT, base_url=emulator.base_url)
    run = runner.playbook(share_task("first", **args), share_task("second", **args), auth="none", verbosity=4)
    assert_changed_then_unchanged(run)
    assert {r["auth"] for r in emulator.requests_log()} == {"key"}
    for form in secret_forms(KEY):
        assert form not in run.output


def test_legacy_auth_from_environment(runner, emulator):
    env = {
        "CLOUDFLARE_EMAIL": EMAIL,
        "CLOUDFLARE_API_KEY": KEY,
        "CLOUDFLARE_ACCOUNT_ID": MAIN_ACCOUNT,
        "CLOUDFLARE_BASE_URL": emulator.base_url,
    }
    run = runner.playbook(share_task("first", **spec()), auth="none", env=env)
    assert run.task("first")["result"]["changed"] is True, run.output
    assert {r["auth"] for r in emulator.requests_log()} == {"key"}


# --- transient and permanent faults ---------------------------------------------------------------------


def test_three_503_then_success(runner, emulator):
    emulator.add_faults({"method": "GET", "action": "status", "status": 503, "times": 3})
    run = runner.playbook(share_task("first", **spec()))
    assert run.task("first")["result"]["changed"] is True, run.output
    assert [r["status"] for r in emulator.requests_log()[:4]] == [503, 503, 503, 200]


def test_502_html_page_is_a_readable_failure(runner, emulator):
    emulator.add_faults({"action": "html", "status": 502, "times": 10})
    run = runner.playbook(share_task("first", **spec()))
    message = run.task("first")["result"]["msg"]
    assert "HTTP 502 with a body that is not Cloudflare JSON" in message and "after 5 attempt(s)" in message
    assert "Traceback" not in run.output


def test_hanging_server_fails_within_the_timeout_bound(runner, emulator):
    emulator.add_faults({"action": "hang", "seconds": 30, "times": 10})
    run = runner.playbook(share_task("first", **spec(timeout=1)))
    message = run.task("first")["result"]["msg"]
    assert f"timed out after 1 s waiting for 127.0.0.1:{emulator.port}" in message and "after 5 attempt(s)" in message
    # 5 attempts (the first and max_retries=4), each cut off by the timeout: the bound is in the request count.
    assert [entry["fault"] for entry in emulator.requests_log()] == ["hang"] * 5


# --- wait -----------------------------------------------------------------------------------------------


def test_wait_returns_once_recipients_are_associated(runner, emulator):
    emulator.configure(transition_seconds=1)
    run = runner.playbook(share_task("first", **spec(recipients=(A, B), wait=True, wait_timeout=30)))
    result = run.task("first")["result"]
    assert result["changed"] is True, run.output
    assert {r["association_status"] for r in result["share"]["recipients"]} == {"associated"}


def test_wait_polls_at_once_then_after_half_a_second_doubling_until_wait_timeout(runner, emulator):
    """The documented schedule: at once, then after 0.5, 1, 2, 4 s. The emulator's clock stamps each poll; only
    lower bounds are asserted (a busy machine can only make the gaps longer)."""
    emulator.configure(transition_seconds=3600)
    run = runner.playbook(
        dict(share_task("bounded", **spec(name="bounded", wait=True, wait_timeout=2)), ignore_errors=True),
        dict(share_task("polled", **spec(name="polled", wait=True, wait_timeout=8)), ignore_errors=True),
    )
    bounded = run.task("bounded")
    assert bounded["status"] == "failed"
    assert "gave up after wait_timeout=2 s" in bounded["result"]["msg"] and "associating" in bounded["result"]["msg"]
    assert bounded["result"]["changed"] is True and bounded["result"]["share"]["id"]
    assert run.task("polled")["status"] == "failed", run.output
    share_id = run.task("polled")["result"]["share"]["id"]
    polls = [
        entry["time"]
        for entry in emulator.requests_log()
        if entry["method"] == "GET" and entry["path"].endswith(f"/shares/{share_id}/recipients")
    ]
    # The create reads the recipients back; the wait polls at once, then sleeps 0.5, 1, 2, 4 s (bounded by 8 s).
    gaps = [later - earlier for earlier, later in zip(polls, polls[1:])]
    assert len(gaps) >= 5, gaps
    assert [gap >= minimum for gap, minimum in zip(gaps[1:], (0.5, 1.0, 2.0, 4.0))] == [True] * 4, gaps
