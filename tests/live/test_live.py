"""The live scenario: every module against the API the settings name, each change run twice (changed, then not).

The steps run in order and build on each other (conftest.py skips the rest once one fails). Every share is named
with the run prefix and deleted at the end (conftest.py), also after a failure. See tests/live/README.md.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeops.cloudflare.tests.live import kit
from ansible_collections.edgeops.cloudflare.tests.live.live_runner import describe_failure

LIVE = ("associating", "associated")


class Scenario:
    """What the steps made, for the steps after them."""

    account_share_id = None
    organization_share_id = None


@pytest.fixture(scope="session")
def scenario():
    return Scenario()


@pytest.fixture
def live(live_session, live_runner, live_settings):
    return Live(live_session, live_runner, live_settings)


class Live:
    """Task builders and checks over one run's prefix and settings."""

    def __init__(self, session, runner, settings):
        self.session, self.runner, self.settings = session, runner, settings
        self.account_name = session.name("account")
        self.renamed = session.name("account-renamed")
        self.organization_name = session.name("organization")

    def resource(self, second=False, **extra):
        if second:
            return dict(resource_type=self.settings.resource_type_2, resource_id=self.settings.resource_id_2, **extra)
        return dict(resource_type=self.settings.resource_type, resource_id=self.settings.resource_id, **extra)

    def waiting(self):
        return {"wait": True, "wait_timeout": self.settings.wait_timeout}

    def run(self, what, *tasks, registers=None):
        """Run one playbook of ``tasks`` (label, module, args); fail the step with the failed task's message.

        ``registers``: {label: variable} for the tasks whose result a later task of the playbook reads.
        """
        registers = registers or {}
        run = self.runner.playbook(
            *(
                dict(
                    {"name": label, "edgeops.cloudflare." + module: args},
                    **({"register": registers[label]} if label in registers else {}),
                )
                for label, module, args in tasks
            )
        )
        assert run.rc == 0 and len(run.results) == len(tasks), describe_failure(run, what)
        return run

    @staticmethod
    def changed(run, *labels):
        return [run.task(label)["result"]["changed"] for label in labels]


def test_create_account_share_then_converge(live, scenario):
    spec = dict(
        name=live.account_name,
        recipients=[{"account_id": live.settings.recipient_account_id}],
        resources=[live.resource()],
        **live.waiting(),
    )
    run = live.run(
        "create the account share, converge it by share_id",
        ("create", "share", spec),
        ("create again", "share", spec),
        ("converge by share_id", "share", dict(spec, share_id="{{ created.share.id }}")),
        registers={"create": "created"},
    )
    assert live.changed(run, "create", "create again", "converge by share_id") == [True, False, False]
    share = run.task("create again")["result"]["share"]
    assert share["name"] == live.account_name and share["target_type"] == "account" and share["status"] == "active"
    assert (
        run.task("create")["result"]["share"]["id"]
        == share["id"]
        == run.task("converge by share_id")["result"]["share"]["id"]
    )
    assert [(r["account_id"], r["association_status"]) for r in share["recipients"]] == [
        (live.settings.recipient_account_id, "associated")
    ]
    assert [(r["resource_type"], r["resource_id"], r["status"]) for r in share["resources"]] == [
        (live.settings.resource_type, live.settings.resource_id, "active")
    ]
    scenario.account_share_id = share["id"]


def test_rename_by_share_id_then_share_info(live, scenario):
    spec = dict(share_id=scenario.account_share_id, name=live.renamed)
    run = live.run(
        "rename the account share, read it with share_info",
        ("rename", "share", spec),
        ("rename again", "share", spec),
        (
            "by id",
            "share_info",
            dict(share_id=scenario.account_share_id, include_recipients=True, include_resources=True),
        ),
        ("by name", "share_info", dict(name=live.renamed, kind="sent", status="active")),
    )
    assert live.changed(run, "rename", "rename again", "by id", "by name") == [True, False, False, False]
    share = run.task("rename again")["result"]["share"]
    assert (share["id"], share["name"]) == (scenario.account_share_id, live.renamed)
    [by_id] = run.task("by id")["result"]["shares"]
    assert (by_id["id"], by_id["name"], by_id["status"], by_id["kind"]) == (
        scenario.account_share_id,
        live.renamed,
        "active",
        "sent",
    )
    assert [r["account_id"] for r in by_id["recipients"] if r["association_status"] in LIVE] == [
        live.settings.recipient_account_id
    ]
    assert [(r["resource_type"], r["resource_id"]) for r in by_id["resources"] if r["status"] == "active"] == [
        (live.settings.resource_type, live.settings.resource_id)
    ]
    assert [found["id"] for found in run.task("by name")["result"]["shares"]] == [scenario.account_share_id]


def test_share_recipient_remove_then_add(live, scenario):
    """The one recipient account given goes and comes back (the share keeps its resources meanwhile)."""
    part = dict(
        share_id=scenario.account_share_id, recipient_account_id=live.settings.recipient_account_id, **live.waiting()
    )
    gone = dict(part, state="absent")
    run = live.run(
        "remove and add the recipient",
        ("remove", "share_recipient", gone),
        ("remove again", "share_recipient", gone),
        ("add", "share_recipient", part),
        ("add again", "share_recipient", part),
    )
    assert live.changed(run, "remove", "remove again", "add", "add again") == [True, False, True, False]
    assert run.task("remove")["result"]["recipient"]["association_status"] == "disassociated"
    assert run.task("add again")["result"]["recipient"]["association_status"] == "associated"


def test_share_resource_add_update_remove(live, scenario):
    if not live.settings.resource_id_2:
        pytest.skip(
            "CLOUDFLARE_LIVE_RESOURCE_ID_2 is not set: adding and removing a resource needs a second resource "
            "the account owns (removing the only one would leave the share empty)"
        )
    part = dict(share_id=scenario.account_share_id, **live.resource(second=True))
    update = dict(part, meta={"edgeops_live": "updated"})
    gone = dict(part, state="absent")
    run = live.run(
        "add, update and remove a resource",
        ("add", "share_resource", part),
        ("add again", "share_resource", part),
        ("update meta", "share_resource", update),
        ("update meta again", "share_resource", update),
        ("remove", "share_resource", gone),
        ("remove again", "share_resource", gone),
    )
    labels = ("add", "add again", "update meta", "update meta again", "remove", "remove again")
    assert live.changed(run, *labels) == [True, False, True, False, True, False]
    added = run.task("add")["result"]["resource"]
    assert added["meta"] == {} and run.task("update meta")["result"]["resource"]["id"] == added["id"]
    assert run.task("update meta again")["result"]["resource"]["meta"] == {"edgeops_live": "updated"}
    assert run.task("remove")["result"]["resource"]["status"] in ("deleting", "deleted")


def test_create_organization_share_then_bulk_converge_both(live, scenario):
    """recipients: [{}] is the owner's own organization (no wait: the API adds its members in the background).

    Then the shares module on both shares: a meta change on the account share, nothing on the organization share.
    """
    spec = dict(name=live.organization_name, recipients=[{}], resources=[live.resource()])
    items = [
        dict(
            share_id=scenario.account_share_id,
            name=live.renamed,
            recipients=[{"account_id": live.settings.recipient_account_id}],
            resources=[live.resource(meta={"edgeops_live": "bulk"})],
        ),
        dict(
            share_id="{{ organization.share.id }}",
            name=live.organization_name,
            recipients=[{}],
            resources=[live.resource()],
        ),
    ]
    run = live.run(
        "create the organization share, converge both shares in bulk",
        ("create", "share", spec),
        ("create again", "share", spec),
        ("bulk", "shares", {"shares": items}),
        ("bulk again", "shares", {"shares": items}),
        registers={"create": "organization"},
    )
    assert live.changed(run, "create", "create again", "bulk", "bulk again") == [True, False, True, False]
    share = run.task("create again")["result"]["share"]
    assert (share["name"], share["target_type"], share["status"]) == (live.organization_name, "organization", "active")
    assert run.task("create")["result"]["share"]["id"] == share["id"]
    scenario.organization_share_id = share["id"]
    first, second = run.task("bulk")["result"], run.task("bulk again")["result"]
    assert [(r["share_id"], r["change"]) for r in first["results"]] == [
        (scenario.account_share_id, "update"),
        (scenario.organization_share_id, "none"),
    ]
    assert second["summary"]["counts"]["unchanged"] == 2 and second["summary"]["drift"] is False


def test_delete_both_shares(live, scenario):
    """The account share with the share module, the organization share with the shares module; both waited for."""
    spec = dict(share_id=scenario.account_share_id, state="absent", **live.waiting())
    item = dict(share_id=scenario.organization_share_id, state="absent", **live.waiting())
    run = live.run(
        "delete both shares",
        ("delete", "share", spec),
        ("delete again", "share", spec),
        ("delete in bulk", "shares", {"shares": [item]}),
        ("delete in bulk again", "shares", {"shares": [item]}),
    )
    assert live.changed(run, "delete", "delete again", "delete in bulk", "delete in bulk again") == [
        True,
        False,
        True,
        False,
    ]
    assert run.task("delete")["result"]["share"]["status"] == "deleted"
    bulk = run.task("delete in bulk")["result"]
    assert bulk["summary"]["counts"]["deleted"] == 1 and bulk["results"][0]["share"]["status"] == "deleted"


def test_no_share_of_this_run_is_left(live):
    """What the cleanup would delete, read with the kit's own client: nothing, if the modules deleted everything."""
    left = kit.ApiClient(live.settings).sent_shares(live.session.prefix)
    assert left == [], "still active: {}".format([(s["name"], s["id"]) for s in left])
