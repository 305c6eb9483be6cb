"""``share_recipient`` and ``share_resource`` end to end: one part of a share, the rest left byte-for-byte alone."""

from __future__ import annotations

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, MAIN_ORG, MEMBER_ACCOUNTS
from ansible_collections.edgeops.cloudflare.tests.e2e.support import (
    RULESET,
    RULESET_2,
    resource,
    seed_share,
    share_task,
    writes_of,
)

A, B, C = MEMBER_ACCOUNTS


def task(module, label, **args):
    return {"name": label, "edgeops.cloudflare." + module: args, "register": "result"}


def others(share, field, keep):
    """The share's items of ``field`` except those ``keep`` selects, for byte-for-byte comparison."""
    return [item for item in share[field] if not keep(item)]


def share_state(emulator, share_id):
    return next(s for s in emulator.state() if s["id"] == share_id)


def test_recipient_add_rerun_remove_reremove_leaves_others_alone(runner, emulator):
    seeded = seed_share(emulator, recipients=(A, B))
    before = share_state(emulator, seeded["id"])
    emulator.clear_log()
    add = dict(share_name="waf", recipient_account_id=C)
    remove = dict(add, state="absent")
    run = runner.playbook(
        task("share_recipient", "add", **add),
        task("share_recipient", "add again", **add),
        task("share_recipient", "remove", **remove),
        task("share_recipient", "remove again", **remove),
        diff=True,
    )
    assert run.rc == 0, run.output
    assert [run.task(t)["result"]["changed"] for t in ("add", "add again", "remove", "remove again")] == [
        True,
        False,
        True,
        False,
    ]
    assert writes_of(emulator) == [
        ("POST", "/{}/recipients".format(seeded["id"])),
        ("DELETE", "/{}/recipients/{}".format(seeded["id"], run.task("add")["result"]["recipient"]["id"])),
    ]
    added = run.task("add")["result"]
    assert added["share_id"] == seeded["id"] and added["recipient"]["account_id"] == C
    assert added["diff"] == {"before": {}, "after": added["recipient"]}
    assert run.task("remove")["result"]["recipient"]["association_status"] == "disassociating"
    after = share_state(emulator, seeded["id"])
    assert others(after, "recipients", lambda r: r["account_id"] == C) == before["recipients"]
    assert after["resources"] == before["resources"] and after["name"] == before["name"]
    # Two reads per run: the share list (by name) and its recipients.
    assert len(emulator.requests_log()) == 4 * 2 + 2


def test_recipient_wait_and_re_add_of_a_disassociated_record(runner, emulator):
    emulator.configure(transition_seconds=1)
    seeded = emulator.seed(
        [
            dict(
                name="waf",
                recipients=[{"account_id": A}, {"account_id": B, "association_status": "disassociated"}],
                resources=[resource()],
            )
        ]
    )[0]
    run = runner.playbook(
        task("share_recipient", "add", share_id=seeded["id"], recipient_account_id=B, wait=True, wait_timeout=30)
    )
    assert run.task("add")["result"]["recipient"]["association_status"] == "associated", run.output


def test_organization_recipient_rules_and_an_unknown_share(runner, emulator):
    org_share = emulator.seed([dict(name="org", target_type="organization", resources=[resource()])])[0]
    account_share = seed_share(emulator, name="acct", recipients=(A,))
    emulator.clear_log()
    run = runner.playbook(
        task("share_recipient", "org present", share_id=org_share["id"], recipient_organization_id=MAIN_ORG),
        # Each of these fails (before any write); the play goes on to the next.
        *(
            dict(failing, ignore_errors=True)
            for failing in (
                task("share_recipient", "account on org share", share_id=org_share["id"], recipient_account_id=A),
                task(
                    "share_recipient",
                    "org on account share",
                    share_id=account_share["id"],
                    recipient_organization_id=MAIN_ORG,
                ),
                task(
                    "share_recipient",
                    "remove org",
                    share_id=org_share["id"],
                    recipient_organization_id=MAIN_ORG,
                    state="absent",
                ),
                task(
                    "share_resource", "missing", share_name="nope", resource_type="custom-ruleset", resource_id=RULESET
                ),
            )
        ),
    )
    assert run.task("org present")["result"]["changed"] is False, run.output
    assert run.task("org present")["result"]["recipient"] == {"organization_id": MAIN_ORG}
    for failed in ("account on org share", "org on account share", "remove org", "missing"):
        assert run.task(failed)["status"] == "failed", run.task(failed)
    assert "cannot switch" in run.task("account on org share")["result"]["msg"]
    assert "cannot switch" in run.task("org on account share")["result"]["msg"]
    assert "Delete the share instead" in run.task("remove org")["result"]["msg"]
    assert "No active share named 'nope'" in run.task("missing")["result"]["msg"]
    assert writes_of(emulator) == []


def test_resource_add_update_remove_leaves_others_alone(runner, emulator):
    seeded = seed_share(emulator, resources=[resource(), resource(RULESET_2, meta={"keep": True})])
    before = share_state(emulator, seeded["id"])
    emulator.clear_log()
    policy = dict(share_name="waf", resource_type="gateway-policy", resource_id="6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")
    run = runner.playbook(
        task("share_resource", "add", **policy),
        task("share_resource", "add again", **policy),
        task("share_resource", "update", meta={"v": 2}, **policy),
        task("share_resource", "update again", meta={"v": 2}, **policy),
        task("share_resource", "keep meta", **policy),
        task("share_resource", "remove", state="absent", **policy),
        task("share_resource", "remove again", state="absent", **policy),
        diff=True,
    )
    assert run.rc == 0, run.output
    labels = ("add", "add again", "update", "update again", "keep meta", "remove", "remove again")
    assert [run.task(t)["result"]["changed"] for t in labels] == [True, False, True, False, False, True, False]
    added = run.task("add")["result"]["resource"]
    assert added["resource_account_id"] == MAIN_ACCOUNT and added["meta"] == {}
    assert run.task("update")["result"]["diff"]["before"]["meta"] == {}
    assert run.task("update")["result"]["resource"]["id"] == added["id"]
    path = "/{}/resources".format(seeded["id"])
    assert writes_of(emulator) == [
        ("POST", path),
        ("PUT", path + "/" + added["id"]),
        ("DELETE", path + "/" + added["id"]),
    ]
    after = share_state(emulator, seeded["id"])
    assert others(after, "resources", lambda r: r["resource_type"] == "gateway-policy") == before["resources"]
    assert after["recipients"] == before["recipients"]


def test_check_mode_writes_nothing(runner, emulator):
    seeded = seed_share(emulator, recipients=(A,))
    emulator.clear_log()
    run = runner.playbook(
        task("share_recipient", "add recipient", share_id=seeded["id"], recipient_account_id=B),
        task(
            "share_resource",
            "add resource",
            share_id=seeded["id"],
            resource_type="custom-ruleset",
            resource_id=RULESET_2,
        ),
        check=True,
        diff=True,
    )
    result = run.task("add recipient")["result"]
    assert result["changed"] is True and result["recipient"] == {
        "id": None,
        "account_id": B,
        "association_status": "associating",
    }
    assert run.task("add resource")["result"]["changed"] is True
    assert writes_of(emulator) == []


def test_registered_share_id_feeds_the_part_modules(runner, emulator):
    create = share_task("create", name="waf", recipients=[{"account_id": A}], resources=[resource()])
    create["register"] = "waf"
    run = runner.playbook(
        create,
        task("share_recipient", "recipient", share_id="{{ waf.share.id }}", recipient_account_id=B),
        task(
            "share_resource",
            "resource",
            share_id="{{ waf.share.id }}",
            resource_type="custom-ruleset",
            resource_id=RULESET_2,
        ),
        create | {"name": "converge again"},
        play={"vars": {}},
    )
    assert run.rc == 0, run.output
    share_id = run.task("create")["result"]["share"]["id"]
    assert run.task("recipient")["result"]["share_id"] == share_id
    assert run.task("resource")["result"]["share_id"] == share_id
    # The full-truth share task then purges what the part modules added: both tools are honest about it.
    assert run.task("converge again")["result"]["changed"] is True


def test_adhoc_json_write_and_rerun(runner, emulator):
    seeded = seed_share(emulator, recipients=(A,))
    args = {"share_id": seeded["id"], "recipient_account_id": C}
    first = runner.adhoc("edgeops.cloudflare.share_recipient", args)
    second = runner.adhoc("edgeops.cloudflare.share_recipient", args)
    assert first.rc == 0 and second.rc == 0, first.output + second.output
    assert "CHANGED" in first.stdout and '"changed": false' in second.stdout
    assert first.last["result"]["changed"] is True and second.last["result"]["changed"] is False


def test_a_failure_after_a_write_returns_the_part_and_the_share_id(runner, emulator):
    """A timeout after the write (wait) and a 502 on a write: the failed result still has the documented keys."""
    emulator.configure(transition_seconds=3600)
    seeded = seed_share(emulator, recipients=(A,))
    # The fault hits only the resource POST, not the recipient's.
    emulator.add_faults({"method": "POST", "path": "/resources$", "action": "html", "status": 502})
    run = runner.playbook(
        dict(
            task(
                "share_recipient",
                "wait times out",
                share_id=seeded["id"],
                recipient_account_id=B,
                wait=True,
                wait_timeout=1,
            ),
            ignore_errors=True,
        ),
        dict(
            task("share_resource", "502", share_id=seeded["id"], resource_type="custom-ruleset", resource_id=RULESET_2),
            ignore_errors=True,
        ),
    )
    assert run.task("wait times out")["status"] == "failed"
    result = run.task("wait times out")["result"]
    assert "gave up after wait_timeout=1 s" in result["msg"]
    assert result["changed"] is True and result["share_id"] == seeded["id"] and "share" not in result
    assert result["recipient"]["account_id"] == B and result["recipient"]["association_status"] == "associating"
    assert run.task("502")["status"] == "failed"
    result = run.task("502")["result"]
    assert "HTTP 502" in result["msg"] and result["status"] == 502
    assert result["changed"] is False and result["share_id"] == seeded["id"] and result["resource"] == {}
    assert "share" not in result


def test_adhoc_meta_in_json_and_key_value_form(runner, emulator):
    seeded = seed_share(emulator, recipients=(A,))
    base = "share_id={} resource_type=custom-ruleset resource_id={}".format(seeded["id"], RULESET_2)
    first = runner.adhoc("edgeops.cloudflare.share_resource", base + """ meta='{"owner": "netops"}'""")
    assert first.rc == 0, first.output
    assert first.last["result"]["resource"]["meta"] == {"owner": "netops"}
    second = runner.adhoc("edgeops.cloudflare.share_resource", base + " meta=owner=secops")
    assert second.rc == 0, second.output
    assert second.last["result"]["changed"] is True and second.last["result"]["resource"]["meta"] == {"owner": "secops"}
