"""Unit tests of the bulk helpers: request budget, item checks, pruning, isolation of failures, concurrency."""

from __future__ import annotations

import threading
import time

import pytest
import yaml

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.cloudflare.plugins.module_utils import _bulk
from ansible_collections.edgeops.cloudflare.plugins.module_utils._bulk import (
    BudgetedTransport,
    RequestBudget,
    check_distinct,
    converge_all,
    prepare,
    prune_plan,
    summary,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._client import RawResponse
from ansible_collections.edgeops.cloudflare.plugins.module_utils._errors import CloudflareError
from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import common_argument_spec, share_options
from ansible_collections.edgeops.cloudflare.plugins.modules import share as share_module
from ansible_collections.edgeops.cloudflare.plugins.modules import shares as shares_module

OWNER = "023e105f4ecef8ad9ca31a8372d0c353"
A = "1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10"
B = "2c7a1f5b0d3e4f9a9b8c7d6e5f4a3b21"


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


# --- request budget -----------------------------------------------------------------------------------------


def test_budget_lets_a_burst_through_then_waits_for_the_oldest_to_leave_the_window():
    clock = FakeClock()
    budget = RequestBudget(3, 10, clock=clock, sleep=clock.sleep)
    sent = []
    for dummy in range(5):
        budget.acquire()
        sent.append(clock.now)
    assert sent == [1000.0, 1000.0, 1000.0, 1010.0, 1010.0]
    assert budget.waited == 10.0


def test_budget_zero_is_unlimited_but_pauses_still_hold():
    clock = FakeClock()
    budget = RequestBudget(0, 10, clock=clock, sleep=clock.sleep)
    for dummy in range(100):
        budget.acquire()
    assert clock.sleeps == []
    budget.pause(2.5)
    budget.acquire()
    assert clock.sleeps == [2.5] and budget.waited == 2.5


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 5),
    window=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 8, allow_nan=False), min_size=1, max_size=40),
)
def test_budget_never_exceeds_the_limit_in_any_window(limit, window, gaps):
    clock = FakeClock()
    budget = RequestBudget(limit, window, clock=clock, sleep=clock.sleep)
    sent = []
    for gap in gaps:
        clock.now += gap
        budget.acquire()
        sent.append(clock.now)
    for index, start in enumerate(sent):
        assert sum(1 for t in sent[index:] if t < start + window - 1e-9) <= limit  # 1e-9: float rounding


def test_budget_is_thread_safe():
    budget = RequestBudget(50, 60)
    counted = []

    def worker():
        for dummy in range(10):
            budget.acquire()
            counted.append(1)

    threads = [threading.Thread(target=worker) for dummy in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counted) == 50 and len(budget._sent) == 50


def test_budgeted_transport_counts_and_pauses_everyone_on_429():
    clock = FakeClock()
    budget = RequestBudget(0, 10, clock=clock, sleep=clock.sleep)
    answers = [RawResponse(429, {"Retry-After": "3"}, b""), RawResponse(429, {}, b""), RawResponse(200, {}, b"{}")]
    transport = BudgetedTransport(lambda *args: answers.pop(0), budget)
    statuses = [transport("GET", "u", {}, None, 5, True, None).status for dummy in range(3)]
    assert statuses == [429, 429, 200]
    assert transport.requests == 3 and transport.rate_limited == 2
    assert clock.sleeps == [3.0, _bulk.DEFAULT_429_PAUSE]


# --- items ------------------------------------------------------------------------------------------------


def params(**values):
    base = {key: spec.get("default") for key, spec in share_options().items()}
    base.update(values)
    return base


def test_share_options_are_the_share_modules_options():
    module_spec = share_module.argument_spec()
    for key in common_argument_spec():
        module_spec.pop(key)
    assert share_options() == module_spec


def test_two_items_for_one_share_fail_up_front_and_alone():
    clashes = check_distinct(
        [
            params(name="a"),
            params(name="b"),
            params(name="a"),
            params(share_id="c" * 32, name="a"),
            params(share_id="c" * 32),
        ]
    )
    assert sorted(clashes) == [0, 2, 3, 4] and "shares[0] and shares[2] both have name 'a'" in clashes[2]
    assert "shares[3] and shares[4] both have share_id '{}'".format("c" * 32) in clashes[4]
    # Two shares may have one name: items that give their ids are two shares.
    assert check_distinct([params(share_id="c" * 32, name="a"), params(share_id="d" * 32, name="a")]) == {}
    items = prepare([params(name="a"), params(name="b"), params(name="a")], OWNER, False)
    assert [item.error is None for item in items] == [False, True, False]


def test_an_invalid_item_fails_alone():
    items = prepare(
        [
            params(name="ok", recipients=[{"account_id": A}]),
            params(name="bad", recipients=[]),
            params(share_id="XYZ"),
            params(name="w", wait=True, wait_timeout=0),
        ],
        OWNER,
        False,
    )
    assert [item.error is None for item in items] == [True, False, False, False]
    assert "shares[1].recipients must not be empty" in items[1].error
    assert "shares[2].share_id must be a 32-character" in items[2].error
    assert "shares[3].wait_timeout must be a positive" in items[3].error


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"name": "x", "state": "gone"}, "shares[0]: value of state must be one of: present, absent, got: gone"),
        ({"name": "x", "wait_timeout": "x"}, "shares[0]: argument 'wait_timeout' is of type"),
        ({"name": "x", "colour": "red"}, "shares[0]: unsupported option colour. Supported parameters include"),
        ({"state": "absent"}, "shares[0]: one of the following is required: name, share_id"),
        ({"name": "x", "resources": [{"resource_id": "r"}]}, "missing required arguments: resource_type"),
        ("just a string", "shares[0] must be a mapping"),
    ],
)
def test_each_item_is_checked_against_the_argument_spec_on_its_own(raw, message):
    items = prepare([raw, params(name="fine")], OWNER, False)
    assert message in items[0].error
    assert items[1].error is None


def test_absent_items_refuse_recipients_and_resources():
    items = prepare([params(name="x", state="absent", recipients=[{"account_id": A}])], OWNER, False)
    assert "shares[0].state=absent deletes the whole share" in items[0].error
    assert "edgeops.cloudflare.share_recipient" in items[0].error


LISTING = [
    {"id": "1" * 32, "name": "kept", "status": "active", "kind": "sent"},
    {"id": "2" * 32, "name": "by-id", "status": "active", "kind": "sent"},
    {"id": "3" * 32, "name": "stray", "status": "active", "kind": "sent"},
    {"id": "4" * 32, "name": "received", "status": "active", "kind": "received"},
    {"id": "5" * 32, "name": "Production  WAF", "status": "active", "kind": "sent"},
]


def test_prune_spares_every_share_an_item_names_and_near_misses():
    items = prepare(
        [params(name="kept"), params(share_id="2" * 32, name="renamed"), params(name="production waf")], OWNER, False
    )
    targets, notes = prune_plan(LISTING, items)
    assert [share["name"] for share in targets] == ["stray"]
    assert notes == [
        "prune kept share 'Production  WAF' ({}): its name differs from the item name 'production waf' "
        "only in case or spacing".format("5" * 32)
    ]


@pytest.mark.parametrize(
    "bad_item",
    [
        params(share_id="3" * 31 + "F"),
        params(name="stray "),
        {"name": "stray", "state": "gone"},
    ],
)
def test_prune_deletes_nothing_while_an_item_is_invalid(bad_item):
    items = prepare([params(name="kept"), bad_item], OWNER, False)
    targets, notes = prune_plan(LISTING, items)
    assert targets == []
    assert notes[0].startswith("prune deleted nothing: 1 item(s) are invalid (shares[1])")


def test_prune_deletes_nothing_while_an_item_names_a_share_id_that_is_not_there():
    items = prepare([params(name="kept"), params(share_id="6" * 32)], OWNER, False)
    targets, notes = prune_plan(LISTING, items)
    assert targets == []
    assert notes[0].startswith(
        "prune deleted nothing: 1 item(s) name a share_id that is no active share of the account (shares[1])"
    )
    # A share_id that is already gone is what an item with state absent asks for: prune goes on.
    items = prepare([params(name="kept"), params(share_id="6" * 32, state="absent")], OWNER, False)
    assert [share["name"] for share in prune_plan(LISTING, items)[0]] == ["by-id", "stray", "Production  WAF"]


# --- converge_all with an in-memory API ----------------------------------------------------------------------


class FakeApi:
    """The ShareApi surface converge uses, in memory; records concurrency and can fail some shares' writes."""

    account_id = OWNER

    def __init__(self, shares, fail_names=(), delay=0.01):
        self.shares = {share["id"]: share for share in shares}
        self.fail_names = set(fail_names)
        self.delay = delay
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.calls = []
        self.counter = 0

    def _enter(self, call):
        with self.lock:
            self.calls.append(call)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.delay)
        with self.lock:
            self.active -= 1

    def list_shares(self, **filters):
        self._enter(("list",))
        return [dict(share) for share in self.shares.values() if share["status"] == "active"]

    def get_share(self, share_id):
        self._enter(("get", share_id))
        share = self.shares.get(share_id)
        return dict(share) if share else None

    def list_recipients(self, share_id):
        self._enter(("recipients", share_id))
        return [
            {"id": "r" + account[1:], "account_id": account, "association_status": "associated"}
            for account in self.shares[share_id]["_accounts"]
        ]

    def perform(self, share_id, action):
        name = action.fields.get("body", {}).get("name") or (self.shares.get(share_id) or {}).get("name")
        self._enter((action.kind, name))
        if name in self.fail_names:
            raise CloudflareError(f"{action.kind}: HTTP 400: [1001] refused", status=400, codes=(1001,))
        if action.kind == "create_share":
            with self.lock:
                self.counter += 1
                share_id = f"{self.counter:032x}"
            return {
                "id": share_id,
                "name": name,
                "status": "active",
                "kind": "sent",
                "target_type": "account",
                "account_id": OWNER,
                "resources": [],
            }
        return None


def seeded(name, number, accounts=(A,)):
    return {
        "id": f"{0xF000 + number:032x}",
        "name": name,
        "status": "active",
        "kind": "sent",
        "target_type": "account",
        "account_id": OWNER,
        "_accounts": list(accounts),
        "resources": [
            {
                "id": f"{0xE000 + number:032x}",
                "resource_type": "custom-ruleset",
                "resource_account_id": OWNER,
                "resource_id": f"{number:032x}",
                "meta": {},
                "status": "active",
            }
        ],
    }


def wanted(name, number, accounts=(A,)):
    return params(
        name=name,
        recipients=[{"account_id": account} for account in accounts],
        resources=[{"resource_type": "custom-ruleset", "resource_id": f"{number:032x}", "meta": {}}],
    )


def test_failures_are_isolated_and_named_and_others_converge():
    api = FakeApi([seeded(f"s{n}", n) for n in range(6)], fail_names={"s2", "new-bad"})
    items = prepare(
        [wanted(f"s{n}", n, accounts=(A, B) if n % 2 == 0 else (A,)) for n in range(6)]
        + [wanted("new-bad", 99), params(name="broken", resources=[])],
        OWNER,
        False,
    )
    outcomes, _notes = converge_all(api, items, concurrency=3)
    assert [o["name"] for o in outcomes] == ["s0", "s1", "s2", "s3", "s4", "s5", "new-bad", "broken"]
    assert [o["changed"] for o in outcomes] == [True, False, False, False, True, False, False, False]
    assert [o["failed"] for o in outcomes] == [False, False, True, False, False, False, True, True]
    assert outcomes[0]["actions"] == [f"add recipient account {B}"]
    result = summary(outcomes, diff=False)
    assert result["msg"].startswith("3 of 8 shares failed")
    assert "'s2': add_recipient: HTTP 400: [1001] refused" in result["msg"]
    assert "'new-bad': create_share: HTTP 400" in result["msg"]
    assert "'broken': shares[7].resources must not be empty" in result["msg"]
    assert result["failed_shares"] == ["'s2'", "'new-bad'", "'broken'"]
    assert all("diff" not in o for o in outcomes)
    assert api.calls.count(("list",)) == 1


def test_concurrency_is_bounded_and_used():
    api = FakeApi([seeded(f"s{n}", n) for n in range(24)], delay=0.02)
    items = prepare([wanted(f"s{n}", n) for n in range(24)], OWNER, False)
    converge_all(api, items, concurrency=4)
    assert api.max_active == 4
    api = FakeApi([seeded(f"s{n}", n) for n in range(8)], delay=0.005)
    converge_all(api, prepare([wanted(f"s{n}", n) for n in range(8)], OWNER, False), concurrency=1)
    assert api.max_active == 1


def test_check_mode_and_prune_write_nothing_and_diff_every_change():
    api = FakeApi([seeded("keep", 1), seeded("stray", 2)])
    items = prepare([wanted("keep", 1, accounts=(B,)), wanted("new", 3)], OWNER, True)
    outcomes, notes = converge_all(api, items, concurrency=2, prune=True, check_mode=True, diff=True)
    assert notes == []
    assert [call[0] for call in api.calls if call[0] not in ("list", "recipients")] == []
    assert [(o["name"], o["pruned"], o["actions"]) for o in outcomes] == [
        ("keep", False, [f"remove recipient account {A}", f"add recipient account {B}"]),
        ("new", False, ["create share 'new'"]),
        ("stray", True, ["delete share"]),
    ]
    result = summary(outcomes, diff=True)
    assert [d["before_header"] for d in result["diff"]] == [
        "'keep'",
        "'new'",
        f"pruned share 'stray' ({0xF000 + 2:032x})",
    ]
    assert result["diff"][2]["after"] == {}
    assert result["diff"][2]["before"]["recipients"] == [{"account_id": A}]
    assert "msg" not in result


def test_recipients_are_read_only_when_the_item_manages_account_recipients():
    api = FakeApi([seeded("a", 1), seeded("b", 2)])
    items = prepare(
        [params(name="a", resources=[{"resource_type": "custom-ruleset", "resource_id": f"{1:032x}"}]), wanted("b", 2)],
        OWNER,
        False,
    )
    outcomes, _notes = converge_all(api, items)
    assert [call for call in api.calls if call[0] == "recipients"] == [("recipients", f"{0xF000 + 2:032x}")]
    assert "recipients" not in outcomes[0]["share"] and outcomes[1]["share"]["recipients"]
    assert not any(o["changed"] for o in outcomes)


def _doc_spec(options):
    """The argspec-relevant parts of documented options (what validate-modules compares)."""
    spec = {}
    for name, doc in options.items():
        entry = {
            key: doc[key] for key in ("type", "default", "choices", "aliases", "required", "elements") if key in doc
        }
        if "suboptions" in doc:
            entry["options"] = _doc_spec(doc["suboptions"])
        spec[name] = entry
    return spec


def _arg_spec(options):
    spec = {}
    for name, arg in options.items():
        entry = {
            key: arg[key]
            for key in ("type", "default", "choices", "aliases", "required", "elements")
            if key in arg and not (key == "required" and arg[key] is False)
        }
        if "options" in arg:
            entry["options"] = _arg_spec(arg["options"])
        spec[name] = entry
    return spec


def test_shares_item_docs_match_the_share_options_each_item_is_validated_against():
    """validate-modules cannot see the items' spec (each item is validated on its own, not by AnsibleModule)."""
    documented = yaml.safe_load(shares_module.DOCUMENTATION)["options"]["shares"]["suboptions"]
    assert _doc_spec(documented) == _arg_spec(share_options())
