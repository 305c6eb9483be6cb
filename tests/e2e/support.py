"""Task builders and emulator-state readers shared by the end-to-end suites."""

from __future__ import annotations

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MEMBER_ACCOUNTS

A, B, C = MEMBER_ACCOUNTS
RULESET = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
RULESET_2 = "1b2c3d4e5f40718293a4b5c6d7e8f9a0"
POLICY = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def share_task(label="share", **args):
    return {"name": label, "edgeops.cloudflare.share": args, "register": "result"}


def resource(resource_id=RULESET, rtype="custom-ruleset", **extra):
    return dict(resource_id=resource_id, resource_type=rtype, **extra)


def spec(name="waf", recipients=(A,), resources=None, **extra):
    args = dict(name=name, recipients=[{"account_id": r} for r in recipients], resources=resources or [resource()])
    args.update(extra)
    return args


def requests_of(emulator):
    return [(r["method"], r["path"].split("/shares", 1)[-1]) for r in emulator.requests_log()]


def writes_of(emulator):
    return [entry for entry in requests_of(emulator) if entry[0] != "GET"]


def only_share(emulator, status="active"):
    shares = [s for s in emulator.state() if s["status"] == status]
    assert len(shares) == 1, shares
    return shares[0]


def active_accounts(share):
    return sorted(
        r["account_id"] for r in share["recipients"] if r["association_status"] in ("associating", "associated")
    )


def seed_share(emulator, name="waf", recipients=(A,), resources=None, **extra):
    item = dict(
        name=name, recipients=[{"account_id": r} for r in recipients], resources=resources or [resource()], **extra
    )
    return emulator.seed([item])[0]


def assert_changed_then_unchanged(run, first="first", second="second"):
    assert run.rc == 0, run.output
    assert run.task(first)["result"]["changed"] is True, run.task(first)
    assert run.task(second)["result"]["changed"] is False, run.task(second)
