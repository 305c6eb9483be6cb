"""The bulk ``shares`` module end to end: real ansible-playbook processes against the emulator."""

from __future__ import annotations

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import FOREIGN_ACCOUNT, MAIN_ACCOUNT, MEMBER_ACCOUNTS

A, B, C = MEMBER_ACCOUNTS
POLICY = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def ruleset(number):
    return f"{0xA000 + number:032x}"


def resource(resource_id, rtype="custom-ruleset", **extra):
    return dict(resource_id=resource_id, resource_type=rtype, **extra)


def item(name, recipients=(A,), resources=None, number=0, **extra):
    spec = dict(
        name=name,
        recipients=[{"account_id": r} for r in recipients],
        resources=resources or [resource(ruleset(number))],
    )
    spec.update(extra)
    return spec


def seed_item(name, recipients=(A,), resources=None, number=0, **extra):
    spec = dict(
        name=name,
        recipients=[{"account_id": r} for r in recipients],
        resources=resources or [resource(ruleset(number))],
    )
    spec.update(extra)
    return spec


def bulk_task(label, shares, register="result", **args):
    return {
        "name": label,
        "edgeops.cloudflare.shares": dict(shares=shares, **args),
        "register": register,
        "ignore_errors": True,
    }


def log_of(emulator):
    return [(r["method"], r["path"].split("/shares", 1)[-1], r["status"]) for r in emulator.requests_log()]


def writes_of(emulator):
    return [entry[:2] for entry in log_of(emulator) if entry[0] != "GET"]


def active(emulator, name=None):
    return [s for s in emulator.state() if s["status"] == "active" and (name is None or s["name"] == name)]


def live_accounts(share):
    return sorted(
        r["account_id"] for r in share["recipients"] if r["association_status"] in ("associating", "associated")
    )


def by_name(result):
    return {outcome["name"]: outcome for outcome in result["results"]}


def test_create_then_rerun_unchanged_with_one_listing(runner, emulator):
    shares = [item(f"bulk-{n:02d}", number=n) for n in range(8)]
    run = runner.playbook(bulk_task("first", shares, concurrency=3), bulk_task("second", shares, concurrency=3))
    first, second = run.task("first")["result"], run.task("second")["result"]
    assert run.task("first")["status"] == "ok", run.output
    assert first["changed"] is True and second["changed"] is False
    assert [o["name"] for o in first["results"]] == [f"bulk-{n:02d}" for n in range(8)]
    assert all(o["actions"] == ["create share {!r}".format(o["name"])] for o in first["results"])
    assert all(o["actions"] == [] and not o["changed"] for o in second["results"])
    # Create: one listing and one POST per share. Re-run: one listing and one recipients read per share.
    log = log_of(emulator)
    assert log[0] == ("GET", "", 200) and log[1:9] == [("POST", "", 201)] * 8
    assert log[9] == ("GET", "", 200) and sorted(entry[1] for entry in log[10:]) == sorted(
        "/{}/recipients".format(o["share_id"]) for o in first["results"]
    )
    assert len(log) == 1 + 8 + 1 + 8
    assert first["stats"]["requests"] == 9 and second["stats"]["requests"] == 9
    assert second["stats"]["connections"] <= 4  # the listing's connection, then one per worker
    created = first["results"][0]["share"]
    assert created["recipients"] == [{"id": None, "account_id": A, "association_status": "associating"}]
    assert [r["resource_id"] for r in created["resources"]] == [ruleset(0)]
    assert len(active(emulator)) == 8


def test_changes_failures_and_rerun(runner, emulator):
    seeded = {
        share["name"]: share
        for share in emulator.seed(
            [
                seed_item("recips", recipients=(A, B, C), number=1),
                seed_item("addres", number=2),
                seed_item("meta", resources=[resource(ruleset(3), meta={"v": 1})]),
                seed_item("rename-me", number=4),
                seed_item("doomed", number=5),
                dict(
                    name="org",
                    target_type="organization",
                    recipients=[{"account_id": a} for a in MEMBER_ACCOUNTS],
                    resources=[resource(ruleset(6))],
                ),
                seed_item("dup", number=7),
                seed_item("dup", number=8),
            ]
        )
    }
    emulator.clear_log()
    shares = [
        item("recips", recipients=(C,), number=1),  # PUT recipients
        item("addres", resources=[resource(ruleset(2)), resource(POLICY, "gateway-policy")]),  # POST resource
        item("meta", resources=[resource(ruleset(3), meta={"v": 2})]),  # PUT resource
        dict(share_id=seeded["rename-me"]["id"], name="renamed"),  # PUT share
        dict(name="doomed", state="absent"),  # DELETE share
        dict(name="org", recipients=[{}], resources=[resource(ruleset(6))]),  # no-op, no recipients read
        item("dup", number=7),  # two shares named dup
        item("foreign", recipients=(FOREIGN_ACCOUNT,), number=9),  # the API refuses it
        item(
            "bad-input", resources=[resource(ruleset(10), resource_account_id="NOT-HEX")]
        ),  # refused before any request
        item("new", number=11),  # POST share
    ]
    run = runner.playbook(bulk_task("first", shares, concurrency=4), diff=True)
    task = run.task("first")
    result = task["result"]
    assert task["status"] == "failed", run.output
    outcomes = by_name(result)
    failed = sorted(name for name, o in outcomes.items() if o["failed"])
    assert failed == ["bad-input", "dup", "foreign"]
    msg = result["msg"]
    assert msg.startswith("3 of 10 shares failed")
    assert "'dup': 2 active shares are named 'dup'" in msg and seeded["dup"]["id"] in msg
    assert f"'foreign': POST /accounts/{MAIN_ACCOUNT}/shares: HTTP 4" in msg
    assert "'bad-input': shares[8].resources[0].resource_account_id must be a 32-character" in msg
    assert sorted(result["failed_shares"]) == ["'bad-input'", "'dup'", "'foreign'"]
    assert result["changed"] is True
    for name in ("recips", "addres", "meta", "renamed", "doomed", "new"):
        assert outcomes[name]["changed"] is True and not outcomes[name]["failed"], outcomes[name]
    assert outcomes["org"]["changed"] is False
    assert outcomes["recips"]["actions"] == [f"set recipient accounts to {C}"]
    assert "recipients" not in outcomes["org"]["share"]
    # One write per change; the organization share needed no recipients read.
    writes = sorted(writes_of(emulator))
    ids = {name: seeded[name]["id"] for name in ("recips", "addres", "meta", "rename-me", "doomed")}
    assert writes == sorted(
        [
            ("PUT", "/{}/recipients".format(ids["recips"])),
            ("POST", "/{}/resources".format(ids["addres"])),
            ("PUT", "/{}/resources/{}".format(ids["meta"], seeded["meta"]["resources"][0]["id"])),
            ("PUT", "/{}".format(ids["rename-me"])),
            ("DELETE", "/{}".format(ids["doomed"])),
            ("POST", ""),
            ("POST", ""),
        ]
    )
    reads = [entry[1] for entry in log_of(emulator) if entry[0] == "GET"]
    assert reads.count("") == 1
    assert "/{}/recipients".format(seeded["org"]["id"]) not in reads
    # listing, recipients of recips/addres/meta (account recipients given), and of doomed (its deletion is shown
    # in diff mode, with the recipients it had)
    assert len(reads) == 1 + 3 + 1
    assert "/{}/recipients".format(seeded["doomed"]["id"]) in reads
    # Diff mode: one diff per changed share, headed by its name.
    headers = sorted(d["before_header"] for d in result["diff"])
    assert headers == sorted(["'recips'", "'addres'", "'meta'", "'renamed'", "'doomed'", "'new'"])
    recips_diff = next(d for d in result["diff"] if d["before_header"] == "'recips'")
    assert recips_diff["before"]["recipients"] == [{"account_id": A}, {"account_id": B}, {"account_id": C}]
    assert recips_diff["after"]["recipients"] == [{"account_id": C}]
    assert live_accounts(active(emulator, "recips")[0]) == [C]
    # Fix the failing items and re-run: they converge, the others are left as they are.
    first_dup = next(share for share in emulator.state() if share["name"] == "dup")
    fixed = [s for s in shares if s.get("name") not in ("dup", "foreign", "bad-input")]
    fixed += [
        dict(share_id=first_dup["id"], name="dup", recipients=[{"account_id": A}], resources=[resource(ruleset(7))]),
        item("foreign", recipients=(B,), number=9),
        item("bad-input", resources=[resource(ruleset(10))]),
    ]
    run = runner.playbook(bulk_task("again", fixed), bulk_task("noop", fixed))
    assert run.task("again")["status"] == "ok", run.output
    assert sorted(o["name"] for o in run.task("again")["result"]["results"] if o["changed"]) == ["bad-input", "foreign"]
    assert run.task("noop")["result"]["changed"] is False, run.task("noop")


def test_check_mode_writes_nothing_and_prune_previews(runner, emulator):
    emulator.seed(
        [
            seed_item("keep", number=1),
            seed_item("stray-1", number=2),
            seed_item("stray-2", number=3),
            seed_item("named-by-failing-item", number=4),
        ]
    )
    emulator.clear_log()
    shares = [
        item("keep", recipients=(A, B), number=1),
        item("brand-new", number=5),
        item("named-by-failing-item", recipients=(FOREIGN_ACCOUNT,), number=4),
    ]
    run = runner.playbook(bulk_task("preview", shares, prune=True), check=True, diff=True)
    result = run.task("preview")["result"]
    assert writes_of(emulator) == []
    outcomes = by_name(result)
    assert outcomes["keep"]["actions"] == [f"add recipient account {B}"]
    assert outcomes["brand-new"]["actions"] == ["create share 'brand-new'"]
    pruned = sorted(o["name"] for o in result["results"] if o["pruned"])
    assert pruned == ["stray-1", "stray-2"]
    assert all(o["changed"] and o["actions"] == ["delete share"] for o in result["results"] if o["pruned"])
    # Check mode plans the foreign recipient as an add (only the API knows it is foreign): not a failure here.
    assert len(result["diff"]) == 5
    run = runner.playbook(bulk_task("apply", shares, prune=True))
    result = run.task("apply")["result"]
    assert run.task("apply")["status"] == "failed" and result["failed_shares"] == ["'named-by-failing-item'"]
    assert sorted(s["name"] for s in active(emulator)) == ["brand-new", "keep", "named-by-failing-item"]


def test_duplicate_items_fail_alone_and_before_any_request(runner, emulator):
    run = runner.playbook(bulk_task("dups", [item("twice"), item("twice", number=1)]))
    task = run.task("dups")
    assert task["status"] == "failed"
    assert [o["failed"] for o in task["result"]["results"]] == [True, True]
    assert "shares[0] and shares[1] both have name 'twice'" in task["result"]["msg"]
    assert emulator.requests_log() == []
    run = runner.playbook(bulk_task("dups", [item("twice"), item("other", number=2), item("twice", number=1)]))
    assert [o["failed"] for o in run.task("dups")["result"]["results"]] == [True, False, True]
    assert [s["name"] for s in active(emulator)] == ["other"]


def test_rate_limit_429_is_honoured_and_the_budget_avoids_it(runner, emulator):
    limit = {"requests": 6, "window_seconds": 2}
    emulator.configure(rate_limit=limit)
    shares = [item(f"rl-{n}", number=n) for n in range(8)]
    # No client budget: 9 requests against 6 per 2 s; the emulator answers 429 with Retry-After,
    # every worker pauses, and all shares are created.
    run = runner.playbook(bulk_task("unbudgeted", shares, request_budget=0, concurrency=4))
    result = run.task("unbudgeted")["result"]
    assert run.task("unbudgeted")["status"] == "ok", run.output
    assert result["stats"]["rate_limited"] >= 1
    assert 429 in [entry[2] for entry in log_of(emulator)]
    assert len(active(emulator)) == 8
    # A budget of half the limit (room for the difference between the client's send times and the
    # server's arrival times on a busy machine): no 429 at all, the workers wait instead.
    emulator.configure(rate_limit=limit)
    emulator.clear_log()
    run = runner.playbook(bulk_task("budgeted", shares, request_budget=3, request_budget_window=2, concurrency=4))
    result = run.task("budgeted")["result"]
    assert run.task("budgeted")["status"] == "ok", run.output
    statuses = [entry[2] for entry in log_of(emulator)]
    assert len(statuses) == 9 and 429 not in statuses
    assert result["stats"]["rate_limited"] == 0 and result["stats"]["throttled_seconds"] > 0


def test_open_url_path_and_wait(runner, emulator):
    emulator.configure(transition_seconds=1)
    shares = [item(f"w-{n}", number=n, wait=True, wait_timeout=30) for n in range(2)]
    run = runner.playbook(bulk_task("waited", shares, keep_alive=False))
    result = run.task("waited")["result"]
    assert run.task("waited")["status"] == "ok", run.output
    assert result["stats"]["connections"] is None
    for outcome in result["results"]:
        assert [r["association_status"] for r in outcome["share"]["recipients"]] == ["associated"]


def test_listing_failure_fails_the_task_without_writes(runner, emulator):
    emulator.add_faults(
        {"method": "GET", "action": "status", "status": 403, "code": 10000, "message": "Authentication error"}
    )
    run = runner.playbook(bulk_task("denied", [item("x")]))
    task = run.task("denied")
    assert task["status"] == "failed"
    assert "HTTP 403" in task["result"]["msg"] and "[10000]" in task["result"]["msg"]
    assert writes_of(emulator) == []


# --- prune deletes only what is certain ---------------------------------------------------------------------


def test_prune_deletes_nothing_while_an_item_is_invalid(runner, emulator):
    production, _stray = emulator.seed([seed_item("Production WAF", number=1), seed_item("stray", number=2)])
    invalid_items = {
        "upper-case id": dict(share_id=production["id"].upper(), recipients=[{"account_id": A}]),
        "trailing space": item("Production WAF ", number=1),
        "bad state": dict(item("Production WAF", number=1), state="gone"),
    }
    emulator.clear_log()
    # For each kind of invalid item: a check-mode preview, then the run itself (one playbook; none may delete).
    tasks = []
    for kind, invalid in invalid_items.items():
        shares = [item("kept", number=3), invalid]
        tasks += [
            dict(bulk_task(f"preview ({kind})", shares, prune=True), check_mode=True),
            bulk_task(f"prune ({kind})", shares, prune=True),
        ]
    run = runner.playbook(*tasks)
    for kind in invalid_items:
        assert not any(o["pruned"] for o in run.task(f"preview ({kind})")["result"]["results"]), kind
        result = run.task(f"prune ({kind})")["result"]
        assert run.task(f"prune ({kind})")["status"] == "failed", kind
        assert "prune deleted nothing: 1 item(s) are invalid (shares[1])" in result["msg"], result["msg"]
        assert not any(o["pruned"] for o in result["results"]), kind
    assert [w for w in writes_of(emulator) if w[0] == "DELETE"] == []
    assert sorted(s["name"] for s in active(emulator)) == ["Production WAF", "kept", "stray"]
    # Fixed, the prune deletes what no item names, and only that.
    run = runner.playbook(bulk_task("prune", [item("kept", number=3), item("Production WAF", number=1)], prune=True))
    assert run.task("prune")["status"] == "ok", run.output
    assert sorted(s["name"] for s in active(emulator)) == ["Production WAF", "kept"]


def test_prune_deletes_nothing_while_an_item_names_a_share_id_that_is_not_there(runner, emulator):
    production, _stray = emulator.seed([seed_item("Production WAF", number=1), seed_item("stray", number=2)])
    # A well-formed id with one character wrong: the share it means is one prune would delete.
    typo = production["id"][:-1] + ("0" if production["id"][-1] != "0" else "1")
    shares = [item("kept", number=3), dict(share_id=typo, recipients=[{"account_id": A}])]
    emulator.clear_log()
    run = runner.playbook(bulk_task("prune", shares, prune=True))
    result = run.task("prune")["result"]
    assert run.task("prune")["status"] == "failed"
    assert (
        "prune deleted nothing: 1 item(s) name a share_id that is no active share of the account (shares[1])"
        in result["msg"]
    ), result["msg"]
    assert [w for w in writes_of(emulator) if w[0] == "DELETE"] == []
    assert sorted(s["name"] for s in active(emulator)) == ["Production WAF", "kept", "stray"]
    shares[1]["share_id"] = production["id"]
    run = runner.playbook(bulk_task("prune", shares, prune=True))
    assert run.task("prune")["status"] == "ok", run.output
    assert sorted(s["name"] for s in active(emulator)) == ["Production WAF", "kept"]


def test_prune_keeps_a_share_whose_name_differs_only_in_case_or_spacing(runner, emulator):
    emulator.seed([seed_item("Production WAF", number=1)])
    run = runner.playbook(bulk_task("prune", [item("production  waf", number=1)], prune=True))
    result = run.task("prune")["result"]
    assert any("prune kept share 'Production WAF'" in warning for warning in result["warnings"]), result
    assert sorted(s["name"] for s in active(emulator)) == ["Production WAF", "production  waf"]


def test_one_share_named_by_name_and_by_id_fails_both_items(runner, emulator):
    seeded = emulator.seed([seed_item("x", number=1)])[0]
    shares = [
        item("x", recipients=(A,), number=1),
        dict(share_id=seeded["id"], recipients=[{"account_id": B}]),
        item("other", number=2),
    ]
    emulator.clear_log()
    run = runner.playbook(bulk_task("clash", shares), bulk_task("again", shares))
    for label in ("clash", "again"):
        result = run.task(label)["result"]
        assert [o["failed"] for o in result["results"]] == [True, True, False], result
        assert (
            "shares[0] (by name) and shares[1] (by share_id) address the same share {}".format(seeded["id"])
            in result["msg"]
        )
    assert writes_of(emulator) == [("POST", "")]  # only "other", once
    assert live_accounts(active(emulator, "x")[0]) == [A]


def test_a_bad_option_type_fails_only_its_item_and_names_it(runner, emulator):
    shares = [
        item("fine", number=1),
        dict(item("gone", number=2), state="gone"),
        dict(item("slow", number=3), wait=True, wait_timeout="x"),
        dict(item("typo", number=4), recipent=[]),
    ]
    run = runner.playbook(bulk_task("types", shares))
    result = run.task("types")["result"]
    assert [o["failed"] for o in result["results"]] == [False, True, True, True]
    assert "'gone': shares[1]: value of state must be one of: present, absent, got: gone" in result["msg"]
    assert "'slow': shares[2]: argument 'wait_timeout' is of type str" in result["msg"]
    assert "'typo': shares[3]: unsupported option recipent" in result["msg"]
    assert [s["name"] for s in active(emulator)] == ["fine"]


def test_prune_and_delete_diffs_show_the_real_recipients(runner, emulator):
    emulator.seed([seed_item("stray", recipients=(A, B), number=1), seed_item("gone", recipients=(C,), number=2)])
    run = runner.playbook(bulk_task("prune", [dict(name="gone", state="absent")], prune=True), diff=True)
    diffs = {d["before_header"]: d for d in run.task("prune")["result"]["diff"]}
    stray = next(key for key in diffs if key.startswith("pruned share 'stray'"))
    assert diffs[stray]["before"]["recipients"] == [{"account_id": A}, {"account_id": B}]
    assert diffs["'gone'"]["before"]["recipients"] == [{"account_id": C}]


def test_include_recipients_returns_them_for_every_share(runner, emulator):
    shares = [
        item("acct", number=1),
        dict(name="org", recipients=[{}], resources=[resource(ruleset(2))]),
        dict(name="acct", resources=[resource(ruleset(1))]),
    ]
    run = runner.playbook(
        bulk_task("create", shares[:2], include_recipients=True),
        bulk_task("bare", shares[2:], include_recipients=True),
        bulk_task("lean", shares[1:2]),
    )
    created = by_name(run.task("create")["result"])
    assert [r["account_id"] for r in created["acct"]["share"]["recipients"]] == [A]
    assert all(r["id"] for r in created["acct"]["share"]["recipients"])
    # An organization share's recipients come from the organization's members.
    assert sorted(r["account_id"] for r in created["org"]["share"]["recipients"]) == sorted(MEMBER_ACCOUNTS)
    assert [r["account_id"] for r in by_name(run.task("bare")["result"])["acct"]["share"]["recipients"]] == [A]
    # Without include_recipients, recipients that were not read are not made up.
    assert "recipients" not in by_name(run.task("lean")["result"])["org"]["share"]


def test_a_swap_never_exposes_even_when_a_delete_fails(runner, emulator):
    seeded = emulator.seed([seed_item("swap", recipients=(A,), number=1)])[0]
    secret = ("custom-ruleset", MAIN_ACCOUNT, ruleset(1))
    emulator.add_faults({"method": "DELETE", "path": "/resources/", "action": "status", "status": 500, "times": 5})
    shares = [item("swap", recipients=(B,), number=2)]
    run = runner.playbook(bulk_task("swap", shares))
    assert run.task("swap")["status"] == "failed"
    assert (seeded["id"], B, *secret) not in emulator.exposures()
    emulator.clear_faults()
    run = runner.playbook(bulk_task("again", shares))
    assert run.task("again")["status"] == "ok"
    assert {pair[1] + "/" + pair[4] for pair in emulator.exposures()} == {A + "/" + ruleset(1), B + "/" + ruleset(2)}


# --- drift summary and the prune guard ----------------------------------------------------------------------


def test_summary_reports_drift_in_check_mode_and_what_changed_after(runner, emulator):
    emulator.seed([seed_item("same", number=1), seed_item("changed", number=2), seed_item("stray", number=3)])
    shares = [item("same", number=1), item("changed", recipients=(A, B), number=2), item("new", number=4)]
    emulator.clear_log()
    run = runner.playbook(bulk_task("report", shares, prune=True), check=True)
    report = run.task("report")["result"]["summary"]
    assert writes_of(emulator) == []
    assert report["drift"] is True
    assert report["counts"] == {"created": 1, "updated": 1, "deleted": 1, "unchanged": 1, "failed": 0}
    assert [e["name"] for e in report["created"]] == ["new"] and [e["name"] for e in report["updated"]] == ["changed"]
    assert [(e["name"], e["pruned"]) for e in report["deleted"]] == [("stray", True)]
    assert [e["name"] for e in report["unchanged"]] == ["same"]
    run = runner.playbook(
        bulk_task("apply", shares, prune=True), bulk_task("again", shares, prune=True, register="again")
    )
    assert run.task("apply")["result"]["summary"]["counts"] == report["counts"]
    again = run.task("again")["result"]["summary"]
    assert again["drift"] is False and again["counts"]["unchanged"] == 3


def test_prune_beyond_max_prune_fails_before_any_write(runner, emulator):
    emulator.seed([seed_item("kept", number=0)] + [seed_item(f"stray-{n}", number=n + 1) for n in range(3)])
    emulator.clear_log()
    run = runner.playbook(bulk_task("guard", [item("kept", number=0)], prune=True, max_prune=2))
    message = run.task("guard")["result"]["msg"]
    assert run.task("guard")["status"] == "failed"
    assert "prune would delete 3 shares, more than max_prune=2" in message and "'stray-0'" in message, message
    assert "raise max_prune (0: no limit)" in message
    assert writes_of(emulator) == [] and len(active(emulator)) == 4
    run = runner.playbook(bulk_task("allowed", [item("kept", number=0)], prune=True, max_prune=3))
    assert run.task("allowed")["status"] == "ok" and [s["name"] for s in active(emulator)] == ["kept"]


def test_prune_with_an_empty_list_fails_unless_max_prune_is_zero(runner, emulator):
    emulator.seed([seed_item("one", number=1), seed_item("two", number=2)])
    emulator.clear_log()
    run = runner.playbook(
        dict(bulk_task("empty, check mode", [], prune=True), check_mode=True), bulk_task("empty", [], prune=True)
    )
    for label in ("empty, check mode", "empty"):
        assert run.task(label)["status"] == "failed"
        message = run.task(label)["result"]["msg"]
        assert "prune with an empty list of shares would delete all 2 sent shares of the account" in message, message
        assert "set max_prune to 0 (no limit)" in message
    assert writes_of(emulator) == [] and len(active(emulator)) == 2
    run = runner.playbook(bulk_task("everything", [], prune=True, max_prune=0))
    assert run.task("everything")["status"] == "ok" and active(emulator) == []
