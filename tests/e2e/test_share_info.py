"""The ``share_info`` module end to end: real ``ansible-playbook`` / ``ansible`` processes against the emulator.

Several tasks share one playbook (each ansible process costs about 2 s); the emulator's request
log is in task order, so each task's requests are checked exactly, queries included.
"""

from __future__ import annotations

import yaml

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    EMAIL,
    FOREIGN_ACCOUNT,
    KEY,
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
    TOKEN,
)

A, B, C = MEMBER_ACCOUNTS
RULESET = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
RULESET_2 = "1b2c3d4e5f40718293a4b5c6d7e8f9a0"
POLICY = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
TOKEN_FROM_ENV = "{{ lookup('env', 'TEST_TOKEN') }}"
UNKNOWN_SHARE = "ffffffffffffffffffffffffffffffff"
API_PREFIX = "/client/v4"
SHARES = f"/accounts/{MAIN_ACCOUNT}/shares"
SHARE_FIELDS = {
    "id",
    "name",
    "account_id",
    "account_name",
    "organization_id",
    "status",
    "target_type",
    "kind",
    "created",
    "modified",
}
# Recipients are always read with their association of each resource (and its errors).
WITH_RES = {"include_resources": ["true"]}


def info(label, **args):
    return {"name": label, "edgeops.cloudflare.share_info": args, "register": "result"}


def resource(resource_id=RULESET, rtype="custom-ruleset"):
    return {"resource_id": resource_id, "resource_type": rtype}


def share_spec(name, recipients=(A,), resources=None, **extra):
    return dict(
        name=name,
        recipients=[{"account_id": r} for r in recipients],
        resources=[resource()] if resources is None else resources,
        **extra,
    )


def calls(emulator):
    """(method, path below /client/v4, query) of every API request, in order."""
    return [(r["method"], r["path"].removeprefix(API_PREFIX), r["query"]) for r in emulator.requests_log()]


def shares_of(run, task):
    result = run.task(task)
    assert result["status"] == "ok", result
    assert result["result"]["changed"] is False, result
    return result["result"]["shares"]


def names(shares):
    return [share["name"] for share in shares]


def recipients_path(share_id, owner=MAIN_ACCOUNT):
    return f"/accounts/{owner}/shares/{share_id}/recipients"


# --- filters, sent vs received -------------------------------------------------------------------------


def test_sent_received_and_api_filters_one_request_each(runner, emulator):
    waf, org_wide, gone, received = emulator.seed(
        [
            share_spec("waf"),
            share_spec(
                "org-wide", recipients=(), resources=[resource(POLICY, "gateway-policy")], target_type="organization"
            ),
            share_spec("gone", status="deleted"),
            share_spec("from-b", recipients=(MAIN_ACCOUNT,), account_id=A),
        ]
    )
    emulator.clear_log()
    run = runner.playbook(
        info("all"),
        info("sent", kind="sent"),
        info("received", kind="received"),
        info("deleted", status="deleted"),
        info("organization targeted", target_type="organization"),
        info("two types", resource_types=["gateway-policy", "trust-grant"], status="active"),
        info("name", name="waf"),
        info("no match", name="nope", kind="received"),
        dict(info("check mode", kind="sent", status="active"), check_mode=True),
    )
    assert run.rc == 0, run.output
    assert names(shares_of(run, "all")) == ["waf", "org-wide", "gone", "from-b"]
    assert names(shares_of(run, "sent")) == ["waf", "org-wide", "gone"]
    [got] = shares_of(run, "received")
    assert (got["id"], got["kind"], got["account_id"], got["account_name"]) == (
        received["id"],
        "received",
        A,
        "Account B",
    )
    assert names(shares_of(run, "deleted")) == ["gone"]
    assert names(shares_of(run, "organization targeted")) == ["org-wide"]
    assert names(shares_of(run, "two types")) == ["org-wide"]
    assert [s["id"] for s in shares_of(run, "name")] == [waf["id"]]
    assert shares_of(run, "no match") == []
    assert names(shares_of(run, "check mode")) == ["waf", "org-wide"]
    for share in shares_of(run, "all"):
        assert set(share) == SHARE_FIELDS, share  # no recipients/resources unless asked
    assert {s["kind"] for s in shares_of(run, "sent")} == {"sent"}
    assert shares_of(run, "organization targeted")[0]["id"] == org_wide["id"]
    assert shares_of(run, "deleted")[0]["id"] == gone["id"]
    # One GET per task, carrying exactly the API filters asked for (the name filter stays client-side).
    assert calls(emulator) == [
        ("GET", SHARES, query)
        for query in (
            {},
            {"kind": ["sent"]},
            {"kind": ["received"]},
            {"status": ["deleted"]},
            {"target_type": ["organization"]},
            {"status": ["active"], "resource_types": ["gateway-policy", "trust-grant"]},
            {},
            {"kind": ["received"]},
            {"kind": ["sent"], "status": ["active"]},
        )
    ]


# --- include switches and what each costs -----------------------------------------------------------------


def test_include_switches_cost_exactly_the_requests_they_need(runner, emulator):
    first, second, other, received = emulator.seed(
        [
            share_spec("dup", recipients=(A, B)),
            share_spec("dup", recipients=(C,), resources=[resource(POLICY, "gateway-policy")]),
            share_spec("other"),
            share_spec("from-b", recipients=(MAIN_ACCOUNT,), account_id=A),
        ]
    )
    emulator.clear_log()
    run = runner.playbook(
        info("by id", share_id=first["id"]),
        info("by id with both", share_id=first["id"], include_resources=True, include_recipients=True),
        info("received by id with recipients", share_id=received["id"], include_recipients=True),
        info("list with resources", include_resources=True),
        info("list with recipients", include_recipients=True),
        info("name with recipients", name="dup", include_recipients=True, include_resources=True),
        dict(info("unknown id", share_id=UNKNOWN_SHARE), ignore_errors=True),
    )
    assert run.rc == 0, run.output
    [by_id] = shares_of(run, "by id")
    assert set(by_id) == SHARE_FIELDS and by_id["id"] == first["id"] and by_id["kind"] == "sent"

    [both] = shares_of(run, "by id with both")
    assert [r["account_id"] for r in both["recipients"]] == [A, B]
    assert [(r["resource_type"], r["resource_id"]) for r in both["resources"]] == [("custom-ruleset", RULESET)]
    [got] = shares_of(run, "received by id with recipients")
    assert got["kind"] == "received" and [r["account_id"] for r in got["recipients"]] == [MAIN_ACCOUNT]

    listed = shares_of(run, "list with resources")
    assert names(listed) == ["dup", "dup", "other", "from-b"]
    assert all("resources" in s and "recipients" not in s for s in listed)
    assert [r["resource_id"] for r in listed[1]["resources"]] == [POLICY]
    with_recipients = shares_of(run, "list with recipients")
    assert all("recipients" in s and "resources" not in s for s in with_recipients)
    assert [[r["account_id"] for r in s["recipients"]] for s in with_recipients] == [[A, B], [C], [A], [MAIN_ACCOUNT]]
    dups = shares_of(run, "name with recipients")
    assert [s["id"] for s in dups] == [first["id"], second["id"]]
    assert all(set(s) == SHARE_FIELDS | {"recipients", "resources", "association_errors"} for s in dups)

    unknown = run.task("unknown id")
    assert unknown["status"] == "failed"
    assert f"No share {UNKNOWN_SHARE} in account {MAIN_ACCOUNT}" in unknown["result"]["msg"]
    assert "HTTP 404" in unknown["result"]["msg"] and "Traceback" not in run.output

    ids = [first["id"], second["id"], other["id"], received["id"]]
    with_res = {"include_resources": ["true"]}
    assert calls(emulator) == [
        # by id: 1
        ("GET", "/".join((SHARES, first["id"])), {}),
        # by id + include_resources + include_recipients: 1 + 1
        ("GET", "/".join((SHARES, first["id"])), with_res),
        ("GET", recipients_path(first["id"]), with_res),
        # a received share's recipients through the main account's own path: 1 + 1
        ("GET", "/".join((SHARES, received["id"])), {}),
        ("GET", recipients_path(received["id"]), with_res),
        # list + include_resources: 1
        ("GET", SHARES, with_res),
        # list + include_recipients, 4 shares: 1 + 4
        ("GET", SHARES, {}),
        *[("GET", recipients_path(share_id), with_res) for share_id in ids],
        # name filter + both switches: 1 + one recipients list per matching share (2 of 4)
        ("GET", SHARES, with_res),
        ("GET", recipients_path(first["id"]), with_res),
        ("GET", recipients_path(second["id"]), with_res),
        # unknown id: 1, the 404
        ("GET", "/".join((SHARES, UNKNOWN_SHARE)), {}),
    ]


# --- the name filter reads every page ---------------------------------------------------------------------


def test_name_filter_reads_every_page_when_the_api_paginates(runner, emulator):
    specs = [share_spec(f"filler-{index:03d}") for index in range(110)]
    specs[2] = share_spec("target")
    specs[107] = share_spec("target", recipients=(B,))
    seeded = emulator.seed(specs)
    emulator.configure(unpaginated_max=20)
    emulator.clear_log()
    run = runner.playbook(
        info("target", name="target"),
        info("target with recipients", name="target", include_recipients=True),
        info("nothing", name="filler-999"),
    )
    assert run.rc == 0, run.output
    assert [s["id"] for s in shares_of(run, "target")] == [seeded[2]["id"], seeded[107]["id"]]
    assert [[r["account_id"] for r in s["recipients"]] for s in shares_of(run, "target with recipients")] == [[A], [B]]
    assert shares_of(run, "nothing") == []
    # The unpaginated request answers 20 of 110; restarting at 100 per page (2 pages) beats 5 more pages of 20.
    listing = [
        ("GET", SHARES, {}),
        ("GET", SHARES, {"page": ["1"], "per_page": ["100"]}),
        ("GET", SHARES, {"page": ["2"], "per_page": ["100"]}),
    ]
    assert calls(emulator) == [
        *listing,
        *listing,
        ("GET", recipients_path(seeded[2]["id"]), WITH_RES),
        ("GET", recipients_path(seeded[107]["id"]), WITH_RES),
        *listing,
    ]


# --- organization listing ---------------------------------------------------------------------------------


def test_organization_listing_needs_no_account_id_and_takes_the_global_api_key(runner, emulator):
    mine, members, foreign = emulator.seed(
        [
            share_spec("mine"),
            share_spec("from-b", recipients=(C,), account_id=A, resources=[resource(RULESET_2)]),
            share_spec("foreign", recipients=(), account_id=FOREIGN_ACCOUNT),
        ]
    )
    emulator.clear_log()
    # No account_id anywhere; the Global API key, since Cloudflare's user tokens do not list an organization's shares.
    credentials = {"api_email": EMAIL, "api_key": "{{ lookup('env', 'TEST_API_KEY') }}", "base_url": emulator.base_url}
    run = runner.playbook(
        info("organization", organization_id=MAIN_ORG, **credentials),
        info("organization with recipients", organization_id=MAIN_ORG, include_recipients=True, **credentials),
        info(
            "organization filtered",
            organization_id=MAIN_ORG,
            name="from-b",
            include_resources=True,
            status="active",
            **credentials,
        ),
        info("organization with resources", organization_id=MAIN_ORG, include_resources=True, **credentials),
        dict(
            info(
                "token on the organization",
                organization_id=MAIN_ORG,
                api_token=TOKEN_FROM_ENV,
                base_url=emulator.base_url,
            ),
            ignore_errors=True,
        ),
        auth="none",
        env={"TEST_API_KEY": KEY, "TEST_TOKEN": TOKEN},
    )
    assert run.rc == 0, run.output
    assert [s["id"] for s in shares_of(run, "organization")] == [mine["id"], members["id"]]
    assert [[r["account_id"] for r in s["recipients"]] for s in shares_of(run, "organization with recipients")] == [
        [A],
        [C],
    ]
    [filtered] = shares_of(run, "organization filtered")
    assert filtered["account_id"] == A and [r["resource_id"] for r in filtered["resources"]] == [RULESET_2]
    # Never a silently empty list: the organization listing takes no include_resources, so each share is read.
    assert [[r["resource_id"] for r in s["resources"]] for s in shares_of(run, "organization with resources")] == [
        [RULESET],
        [RULESET_2],
    ]
    message = run.task("token on the organization")["result"]["msg"]
    assert "HTTP 403: [10000]" in message and "use api_email with api_key, the Global API key" in message, message
    org_shares = f"/organizations/{MAIN_ORG}/shares"
    assert calls(emulator) == [
        ("GET", org_shares, {}),
        # each share's recipients through its owner's account
        ("GET", org_shares, {}),
        ("GET", recipients_path(mine["id"]), WITH_RES),
        ("GET", recipients_path(members["id"], owner=A), WITH_RES),
        # the listing without include_resources (not a parameter of it), then the one share through its owner
        ("GET", org_shares, {"status": ["active"]}),
        ("GET", "/accounts/{}/shares/{}".format(A, members["id"]), WITH_RES),
        ("GET", org_shares, {}),
        ("GET", "/".join((SHARES, mine["id"])), WITH_RES),
        ("GET", "/accounts/{}/shares/{}".format(A, members["id"]), WITH_RES),
        ("GET", org_shares, {}),
    ]
    assert {entry["auth"] for entry in emulator.requests_log()[:-1]} == {"key"}
    assert foreign["id"] not in str(run.results)


# --- the real ansible CLI, and the action group -----------------------------------------------------------


def test_adhoc_with_the_ansible_cli(runner, emulator):
    seeded = emulator.seed([share_spec("Shared WAF rules", recipients=(A, B)), share_spec("other")])[0]
    emulator.clear_log()
    run = runner.adhoc("edgeops.cloudflare.share_info", 'name="Shared WAF rules" include_recipients=true')
    assert run.rc == 0, run.output
    assert "localhost | SUCCESS" in run.stdout and '"changed": false' in run.stdout
    [share] = run.last["result"]["shares"]
    assert share["id"] == seeded["id"] and [r["account_id"] for r in share["recipients"]] == [A, B]
    assert len(emulator.requests_log()) == 2


def test_module_defaults_with_the_action_group(runner, emulator, repo_root):
    runtime = yaml.safe_load((repo_root / "meta" / "runtime.yml").read_text())
    assert "share_info" in runtime["action_groups"]["cloudflare"], (
        "meta/runtime.yml: add share_info to the cloudflare group"
    )
    emulator.seed([share_spec("waf")])
    play = {
        "module_defaults": {
            "group/edgeops.cloudflare.cloudflare": {
                "api_token": TOKEN,
                "account_id": MAIN_ACCOUNT,
                "base_url": emulator.base_url,
            }
        }
    }
    run = runner.playbook(info("grouped", name="waf"), auth="none", play=play)
    assert names(shares_of(run, "grouped")) == ["waf"], run.output
    assert {r["auth"] for r in emulator.requests_log()} == {"token"}


# --- bad input: a clear failure before any request --------------------------------------------------------


def test_bad_input_fails_before_any_request(runner, emulator):
    cases = {
        "short share_id": (dict(share_id="abc"), "share_id must be a 32-character lowercase"),
        "upper-case organization_id": (
            dict(organization_id=MAIN_ORG.upper()),
            "organization_id must be a 32-character",
        ),
        "bad account_id": (dict(account_id="023E105F4ECEF8AD9CA31A8372D0C353"), "account_id must be a 32-character"),
        "empty account_id": (dict(account_id=""), "account_id is empty"),
        "share_id with a list filter": (dict(share_id=UNKNOWN_SHARE, kind="sent"), "mutually exclusive"),
        "share_id with organization_id": (dict(share_id=UNKNOWN_SHARE, organization_id=MAIN_ORG), "mutually exclusive"),
        "unknown resource type": (dict(resource_types=["waf-thing"]), "resource_types"),
        "unknown kind": (dict(kind="both"), "kind"),
        "two auth schemes": (
            dict(api_email="e@example.com", api_key="key-Vb71qPz4", api_token=TOKEN),
            "Use one auth scheme",
        ),
    }
    run = runner.playbook(*[dict(info(label, **case[0]), ignore_errors=True) for label, case in cases.items()])
    for label, (args, message) in cases.items():
        result = run.task(label)
        assert result["status"] == "failed", result
        assert message in result["result"]["msg"], (label, args, result["result"]["msg"])
    assert emulator.requests_log() == []
