"""Adoption: docs/examples/export.yml writes the account's shares as role variables; applying them changes nothing.

Real ansible-playbook processes run the example playbook as written (credentials from the environment).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, MEMBER_ACCOUNTS

A, B, C = MEMBER_ACCOUNTS
EXPORT_PLAYBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "export.yml"
ROLE = "edgeops.cloudflare.resource_sharing"


def ruleset(number):
    return f"{0xE000 + number:032x}"


WORLD = [
    {
        "name": "waf",
        "recipients": [{"account_id": B}, {"account_id": A}, {"account_id": C, "association_status": "disassociated"}],
        "resources": [
            {"resource_type": "custom-ruleset", "resource_id": ruleset(1), "meta": {"owner": "sec", "v": [1, 2]}},
            {"resource_type": "custom-ruleset", "resource_id": ruleset(2), "status": "deleted"},
        ],
    },
    {
        "name": "org-wide",
        "target_type": "organization",
        "recipients": [{"account_id": a} for a in MEMBER_ACCOUNTS],
        "resources": [{"resource_type": "gateway-policy", "resource_id": "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"}],
    },
    {
        "name": "twice",
        "recipients": [{"account_id": A}],
        "resources": [{"resource_type": "custom-ruleset", "resource_id": ruleset(3)}],
    },
    {
        "name": "twice",
        "recipients": [{"account_id": B}],
        "resources": [{"resource_type": "custom-ruleset", "resource_id": ruleset(4)}],
    },
    {
        "name": "going",
        "status": "deleting",
        "recipients": [{"account_id": A}],
        "resources": [{"resource_type": "custom-ruleset", "resource_id": ruleset(5)}],
    },
    {
        "name": "received",
        "account_id": A,
        "recipients": [{"account_id": MAIN_ACCOUNT}],
        "resources": [{"resource_type": "custom-ruleset", "resource_id": ruleset(6), "resource_account_id": A}],
    },
]


def run_export(runner, target):
    run = runner.playbook_file(EXPORT_PLAYBOOK, extra_vars={"export_file": str(target)})
    assert run.rc == 0, run.output
    return run


def test_export_is_stable_and_applying_it_changes_nothing(runner, emulator, tmp_path):
    seeded = emulator.seed(WORLD)
    target = tmp_path / "cloudflare_shares.yml"
    run_export(runner, target)
    first = target.read_bytes()
    second_run = run_export(runner, target)
    assert target.read_bytes() == first
    assert second_run.results[-1]["result"]["changed"] is False
    exported = yaml.safe_load(first)["cloudflare_shares"]
    twice_ids = sorted(s["id"] for s in seeded if s["name"] == "twice")
    assert [(s["name"], s.get("share_id")) for s in exported] == [
        ("org-wide", None),
        ("twice", twice_ids[0]),
        ("twice", twice_ids[1]),
        ("waf", None),
    ]
    waf = exported[-1]
    assert waf["recipients"] == [{"account_id": a} for a in sorted([A, B])]
    assert waf["resources"] == [
        {
            "meta": {"owner": "sec", "v": [1, 2]},
            "resource_account_id": MAIN_ACCOUNT,
            "resource_id": ruleset(1),
            "resource_type": "custom-ruleset",
        }
    ]
    assert exported[0]["recipients"] == [{}]
    emulator.clear_log()
    play = {"roles": [ROLE], "vars_files": [str(target)], "vars": {"resource_sharing_prune": True}}
    for check in (True, False):
        run = runner.playbook(play=play, check=check)
        assert run.rc == 0, run.output
        assert [
            r["result"]["ansible_facts"]["resource_sharing_summary"]
            for r in run.results
            if "resource_sharing_summary" in r["result"].get("ansible_facts", {})
        ][0]["drift"] is False
    assert emulator.writes() == []
