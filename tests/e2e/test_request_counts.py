"""Exact request counts of the ``share`` and ``shares`` modules, from the emulator's request log.

These are the figures of docs/docsite/rst/guide_requests.rst; a change that costs more requests
fails here. Few ansible runs, many tasks each: every task's requests are a slice of the log, in order.
"""

from __future__ import annotations

import re

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MEMBER_ACCOUNTS

A, B, C = MEMBER_ACCOUNTS
HEX32 = re.compile(r"[0-9a-f]{32}")
LIST, SHARE, RECIPIENTS, RECIPIENT, RESOURCES, RESOURCE, EXCLUDED = (
    "/shares",
    "/shares/{id}",
    "/shares/{id}/recipients",
    "/shares/{id}/recipients/{id}",
    "/shares/{id}/resources",
    "/shares/{id}/resources/{id}",
    "/shares/{id}/excluded-recipients",
)
OTHER_SHARES = 1000
SEED_BATCH = 500


def ruleset(number):
    return f"{0xB000 + number:032x}"


def resource(number, **extra):
    return dict(resource_id=ruleset(number), resource_type="custom-ruleset", **extra)


def accounts(*ids):
    return [{"account_id": account} for account in ids]


def share(label, args, register=None):
    task = {"name": label, "edgeops.cloudflare.share": args}
    if register:
        task["register"] = register
    return task


def shares(label, items, **args):
    return {"name": label, "edgeops.cloudflare.shares": dict(shares=items, **args)}


def seed_others(emulator, count, prefix="other"):
    for start in range(0, count, SEED_BATCH):
        emulator.seed(
            [
                dict(name=f"{prefix}-{n:05d}", recipients=accounts(A), resources=[resource(n)])
                for n in range(start, min(count, start + SEED_BATCH))
            ]
        )


def normalized_log(emulator):
    """(method, path with ids as {id}, page) per request; the account prefix is dropped."""
    entries = []
    for entry in emulator.requests_log():
        path = HEX32.sub("{id}", entry["path"].split("/client/v4/accounts/", 1)[1].split("/", 1)[1])
        entries.append((entry["method"], "/" + path, (entry["query"].get("page") or [None])[0]))
    return entries


def slices(log, counts):
    assert len(log) == sum(counts), "expected {} requests, got {}:\n{}".format(
        sum(counts), len(log), "\n".join(map(str, log))
    )
    out, start = [], 0
    for count in counts:
        out.append([entry[:2] for entry in log[start : start + count]])
        start += count
    return out


def test_share_module_request_counts_in_a_large_account(runner, emulator):
    seed_others(emulator, OTHER_SHARES)
    emulator.clear_log()
    base = dict(name="counted", recipients=accounts(A), resources=[resource(1)])

    def changed(**changes):
        return dict(base, **changes)

    org = dict(name="counted-org", recipients=[{}], resources=[resource(9)])
    expected = [
        # (task, its requests, in order)
        # The create answer promises no resources: the share is read back for them, then its recipients.
        (
            share("create", base, register="created"),
            [("GET", LIST), ("POST", LIST), ("GET", SHARE), ("GET", RECIPIENTS)],
        ),
        (share("no-op by name", base), [("GET", LIST), ("GET", RECIPIENTS)]),
        (
            share("no-op by id", dict(share_id="{{ created.share.id }}", name="counted")),
            [("GET", SHARE), ("GET", RECIPIENTS)],
        ),
        # A rename reads the listing: no other active share may have the new name.
        (
            share("rename", dict(share_id="{{ created.share.id }}", name="counted-2")),
            [("GET", SHARE), ("GET", RECIPIENTS), ("GET", LIST), ("PUT", SHARE)],
        ),
        (
            share("add resource", changed(name="counted-2", resources=[resource(1), resource(2)])),
            [("GET", LIST), ("GET", RECIPIENTS), ("POST", RESOURCES)],
        ),
        (
            share("update meta", changed(name="counted-2", resources=[resource(1), resource(2, meta={"v": 1})])),
            [("GET", LIST), ("GET", RECIPIENTS), ("PUT", RESOURCE)],
        ),
        (
            share("remove resource", changed(name="counted-2")),
            [("GET", LIST), ("GET", RECIPIENTS), ("DELETE", RESOURCE)],
        ),
        (
            share("add one recipient", changed(name="counted-2", recipients=accounts(A, B))),
            [("GET", LIST), ("GET", RECIPIENTS), ("POST", RECIPIENTS)],
        ),
        (
            share("remove one recipient", changed(name="counted-2", recipients=accounts(A))),
            [("GET", LIST), ("GET", RECIPIENTS), ("DELETE", RECIPIENT)],
        ),
        # A removed and B, C added: the removal first, the additions last (one PUT for two or more), then the
        # recipients are read back for the result.
        (
            share("replace recipients", changed(name="counted-2", recipients=accounts(B, C))),
            [("GET", LIST), ("GET", RECIPIENTS), ("DELETE", RECIPIENT), ("PUT", RECIPIENTS), ("GET", RECIPIENTS)],
        ),
        # Three changes in one task: one request each.
        (
            share(
                "three changes",
                dict(
                    share_id="{{ created.share.id }}",
                    name="counted-3",
                    recipients=accounts(B, C),
                    resources=[resource(1, meta={"v": 2}), resource(3)],
                ),
            ),
            [
                ("GET", SHARE),
                ("GET", RECIPIENTS),
                ("GET", LIST),
                ("PUT", RESOURCE),
                ("POST", RESOURCES),
                ("PUT", SHARE),
            ],
        ),
        # An organization share's excluded recipients are read too (the share module returns them).
        (
            share("create org share", org),
            [("GET", LIST), ("POST", LIST), ("GET", SHARE), ("GET", RECIPIENTS), ("GET", EXCLUDED)],
        ),
        (share("no-op org share", org), [("GET", LIST), ("GET", RECIPIENTS), ("GET", EXCLUDED)]),
        # The recipients are read before the delete: the result and the diff show the share as it was.
        (
            share("delete", dict(name="counted-3", state="absent")),
            [("GET", LIST), ("GET", RECIPIENTS), ("DELETE", SHARE)],
        ),
        (share("delete again", dict(name="counted-3", state="absent")), [("GET", LIST)]),
    ]
    run = runner.playbook(*(pair[0] for pair in expected))
    assert run.rc == 0, run.output
    assert [r["result"]["changed"] for r in run.results] == [
        True,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        True,
        False,
    ]
    log = normalized_log(emulator)
    assert all(entry[2] is None for entry in log), "a listing was paginated"
    for (task, wanted), got in zip(expected, slices(log, [len(pair[1]) for pair in expected])):
        assert got == wanted, task["name"]


def test_paginated_listing_follows_result_info(runner, emulator):
    """When the API paginates the "unpaginated" answer anyway, the lookup follows result_info at 100 per page."""
    emulator.configure(unpaginated_max=100)
    seed_others(emulator, 249)
    emulator.seed([dict(name="last", recipients=accounts(A), resources=[resource(1)])])
    emulator.clear_log()
    args = dict(name="last", recipients=accounts(A), resources=[resource(1)])
    run = runner.playbook(share("no-op", args), shares("bulk no-op", [args]))
    assert run.rc == 0, run.output
    assert [r["result"]["changed"] for r in run.results] == [False, False]
    log = normalized_log(emulator)
    listing = [("GET", LIST, None), ("GET", LIST, "2"), ("GET", LIST, "3")]
    assert log == listing + [("GET", RECIPIENTS, None)] + listing + [("GET", RECIPIENTS, None)]


def test_bulk_module_request_counts(runner, emulator):
    seed_others(emulator, 300)
    emulator.clear_log()
    account_items = [dict(name=f"acct-{n}", recipients=accounts(A), resources=[resource(n)]) for n in range(10)]
    org_items = [dict(name=f"org-{n}", recipients=[{}], resources=[resource(100 + n)]) for n in range(5)]
    bare_items = [dict(name=f"acct-{n}", resources=[resource(n)]) for n in range(10)]
    changed_items = [dict(item, recipients=accounts(B, C)) for item in account_items] + [
        dict(item, resources=[resource(100 + n, meta={"v": 1})]) for n, item in enumerate(org_items)
    ]
    absent_items = [dict(name=item["name"], state="absent") for item in account_items + org_items]
    tasks = [
        shares("create 15", account_items + org_items, concurrency=4),
        shares("no-op 15", account_items + org_items, concurrency=4),
        shares("no-op without recipients", bare_items + org_items, concurrency=4),
        shares("change 15", changed_items, concurrency=4),
        shares("delete 15", absent_items, concurrency=4),
    ]
    run = runner.playbook(*tasks)
    assert run.rc == 0, run.output
    assert [r["result"]["changed"] for r in run.results] == [True, False, False, True, True]
    counts = [r["result"]["stats"]["requests"] for r in run.results]
    # create: listing + one POST per share; no-op: listing + one recipients read per account share
    # given account recipients; change: + one request per change (A removed first, then B and C added with one
    # PUT); delete: one DELETE each.
    assert counts == [1 + 15, 1 + 10, 1, 1 + 10 + 10 + 10 + 5, 1 + 15]
    log = normalized_log(emulator)
    assert len(log) == sum(counts)
    got = slices(log, counts)
    assert got[0] == [("GET", LIST)] + [("POST", LIST)] * 15
    assert sorted(got[1]) == sorted([("GET", LIST)] + [("GET", RECIPIENTS)] * 10)
    assert got[2] == [("GET", LIST)]
    assert sorted(got[3]) == sorted(
        [("GET", LIST)]
        + [("GET", RECIPIENTS)] * 10
        + [("DELETE", RECIPIENT)] * 10
        + [("PUT", RECIPIENTS)] * 10
        + [("PUT", RESOURCE)] * 5
    )
    assert sorted(got[4]) == sorted([("GET", LIST)] + [("DELETE", SHARE)] * 15)
