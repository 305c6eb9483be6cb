"""Unit tests of the pure share planner, including a hypothesis property test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.cloudflare.plugins.module_utils._errors import InputError
from ansible_collections.edgeops.cloudflare.plugins.module_utils._actions import (
    ACTION_KINDS,
    Action,
    apply_action,
    apply_plan,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import (
    RESOURCE_TYPES,
    active_recipients,
    active_resources,
    share_view,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._planner import (
    check_absent_options,
    desired_from_params,
    plan,
    plan_delete,
)

OWNER = "023e105f4ecef8ad9ca31a8372d0c353"
ORG = "5f0c7c1b2ed04c41a0e0d7e5a2f7c0d1"
ACCOUNTS = [f"{n:032x}" for n in range(1, 7)]
RULESET = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"


def params(**overrides):
    base = dict(name="waf", recipients=None, resources=None, purge_recipients=True, purge_resources=True)
    base.update(overrides)
    return base


def desired(**overrides):
    return desired_from_params(params(**overrides), OWNER)


def recipient(account, status="associated", rid=None):
    return {"id": rid or "r" + account[-6:], "account_id": account, "association_status": status}


def resource(resource_id=RULESET, meta=None, status="active", rtype="custom-ruleset", rid=None):
    return {
        "id": rid or "x" + resource_id[-6:],
        "resource_id": resource_id,
        "resource_type": rtype,
        "resource_account_id": OWNER,
        "meta": meta or {},
        "status": status,
    }


def share(recipients=(), resources=(), name="waf", target_type="account"):
    return {
        "id": "s" * 32,
        "name": name,
        "status": "active",
        "kind": "sent",
        "target_type": target_type,
        "organization_id": ORG,
        "account_id": OWNER,
        "recipients": list(recipients),
        "resources": list(resources),
    }


def res_param(resource_id=RULESET, meta=None, rtype="custom-ruleset"):
    return {"resource_id": resource_id, "resource_type": rtype, "resource_account_id": None, "meta": meta}


def test_create_needs_name_recipients_and_resources():
    with pytest.raises(InputError, match="recipients and resources"):
        plan(None, desired())


def test_create_builds_one_request_with_wire_names():
    actions = plan(
        None,
        desired(
            recipients=[
                {"account_id": ACCOUNTS[1], "organization_id": None},
                {"account_id": ACCOUNTS[0], "organization_id": None},
            ],
            resources=[res_param()],
        ),
    )
    assert actions == [
        Action(
            "create_share",
            body={
                "name": "waf",
                "recipients": [{"recipient_account_id": ACCOUNTS[0]}, {"recipient_account_id": ACCOUNTS[1]}],
                "resources": [
                    {
                        "resource_type": "custom-ruleset",
                        "resource_account_id": OWNER,
                        "resource_id": RULESET,
                        "meta": {},
                    }
                ],
            },
        )
    ]


def test_empty_recipient_item_means_own_organization():
    actions = plan(None, desired(recipients=[{"account_id": None, "organization_id": None}], resources=[res_param()]))
    assert actions[0].fields["body"]["recipients"] == [{}]


def test_noop_when_everything_matches():
    current = share(
        [recipient(ACCOUNTS[0]), recipient(ACCOUNTS[1], "disassociated")],
        [resource(), resource(status="deleted", rid="old")],
    )
    wanted = desired(recipients=[{"account_id": ACCOUNTS[0]}], resources=[res_param()])
    assert plan(current, wanted) == []


def test_single_recipient_change_uses_post_or_delete():
    current = share([recipient(ACCOUNTS[0])], [resource()])
    assert plan(current, desired(recipients=[{"account_id": ACCOUNTS[0]}, {"account_id": ACCOUNTS[1]}])) == [
        Action("add_recipient", account_id=ACCOUNTS[1])
    ]
    current = share([recipient(ACCOUNTS[0]), recipient(ACCOUNTS[1])], [resource()])
    assert plan(current, desired(recipients=[{"account_id": ACCOUNTS[0]}])) == [
        Action("remove_recipient", recipient_id=current["recipients"][1]["id"], account_id=ACCOUNTS[1])
    ]


def test_several_removals_are_one_put_of_the_kept_accounts_and_come_first():
    current = share([recipient(ACCOUNTS[0]), recipient(ACCOUNTS[1]), recipient(ACCOUNTS[2])], [resource()])
    actions = plan(current, desired(recipients=[{"account_id": ACCOUNTS[0]}], resources=[res_param("other")]))
    assert [a.kind for a in actions] == ["replace_recipients", "add_resource", "remove_resource"]
    assert actions[0] == Action("replace_recipients", account_ids=[ACCOUNTS[0]])


def test_several_additions_are_one_put_of_the_final_accounts_and_come_last():
    current = share([recipient(ACCOUNTS[0])], [resource()])
    wanted = [{"account_id": a} for a in ACCOUNTS[:3]]
    actions = plan(current, desired(recipients=wanted, resources=[res_param("other")]))
    assert [a.kind for a in actions] == ["add_resource", "remove_resource", "replace_recipients"]
    assert actions[-1] == Action("replace_recipients", account_ids=ACCOUNTS[:3])


def test_a_swap_removes_before_resources_change_and_adds_after():
    current = share([recipient(ACCOUNTS[0]), recipient(ACCOUNTS[1])], [resource("secret")])
    actions = plan(
        current,
        desired(recipients=[{"account_id": ACCOUNTS[2]}, {"account_id": ACCOUNTS[3]}], resources=[res_param("public")]),
    )
    # Removing every current account cannot be a PUT of the kept ones (there are none): one DELETE each.
    assert [a.kind for a in actions] == [
        "remove_recipient",
        "remove_recipient",
        "add_resource",
        "remove_resource",
        "replace_recipients",
    ]


def test_one_removal_and_one_addition_are_a_delete_first_and_a_post_last():
    current = share([recipient(ACCOUNTS[0]), recipient(ACCOUNTS[1])], [resource()])
    actions = plan(current, desired(recipients=[{"account_id": ACCOUNTS[2]}, {"account_id": ACCOUNTS[0]}]))
    assert actions == [
        Action("remove_recipient", recipient_id=current["recipients"][1]["id"], account_id=ACCOUNTS[1]),
        Action("add_recipient", account_id=ACCOUNTS[2]),
    ]


def test_omitted_meta_leaves_an_existing_resource_alone_and_a_new_one_gets_empty():
    current = share([recipient(ACCOUNTS[0])], [resource(meta={"keep": 1})])
    assert plan(current, desired(resources=[res_param(meta=None)], purge_resources=False)) == []
    assert plan(current, desired(resources=[res_param(meta=None)])) == []
    assert plan(current, desired(resources=[res_param(meta={})]))[0].kind == "update_resource"
    added = plan(current, desired(resources=[res_param(), res_param("new")], purge_resources=False))
    assert added == [Action("add_resource", key=("custom-ruleset", OWNER, "new"), meta={})]
    assert desired(resources=[res_param(meta=None), res_param(meta={"a": 1})]).resources == {
        ("custom-ruleset", OWNER, RULESET): {"a": 1}
    }


def test_absent_refuses_recipients_and_resources():
    with pytest.raises(InputError, match="state=absent deletes the whole share, but the task also gives recipients"):
        check_absent_options({"recipients": [{"account_id": ACCOUNTS[0]}]})
    check_absent_options({"recipients": None, "resources": None})


def test_purge_false_only_adds_with_posts():
    current = share([recipient(ACCOUNTS[0])], [resource()])
    actions = plan(
        current, desired(recipients=[{"account_id": ACCOUNTS[1]}, {"account_id": ACCOUNTS[2]}], purge_recipients=False)
    )
    assert [a.kind for a in actions] == ["add_recipient", "add_recipient"]


def test_disassociated_recipient_wanted_again_is_added():
    current = share([recipient(ACCOUNTS[0], "disassociated")], [resource()])
    assert plan(current, desired(recipients=[{"account_id": ACCOUNTS[0]}])) == [
        Action("add_recipient", account_id=ACCOUNTS[0])
    ]


def test_meta_change_is_an_update_in_place_and_purge_removes():
    current = share([recipient(ACCOUNTS[0])], [resource(meta={"a": 1}), resource("other")])
    actions = plan(current, desired(resources=[res_param(meta={"a": 2})]))
    assert [a.kind for a in actions] == ["update_resource", "remove_resource"]
    assert actions[0].fields["share_resource_id"] == current["resources"][0]["id"]
    assert plan(current, desired(resources=[res_param(meta={"a": 1})], purge_resources=False)) == []


def test_order_removes_recipients_first_and_adds_them_last():
    current = share([recipient(ACCOUNTS[0]), recipient(ACCOUNTS[1])], [resource()])
    actions = plan(
        current,
        desired(
            name="new",
            recipients=[{"account_id": ACCOUNTS[0]}, {"account_id": ACCOUNTS[1]}, {"account_id": ACCOUNTS[2]}],
            resources=[res_param("other")],
        ),
    )
    assert [a.kind for a in actions] == ["add_resource", "remove_resource", "add_recipient", "rename_share"]


def test_switching_target_type_is_refused():
    current = share([recipient(ACCOUNTS[0])], [resource()])
    with pytest.raises(InputError, match="cannot switch"):
        plan(current, desired(recipients=[{}]))
    org_share = share([], [resource()], target_type="organization")
    with pytest.raises(InputError, match="cannot switch"):
        plan(org_share, desired(recipients=[{"account_id": ACCOUNTS[0]}]))
    assert plan(org_share, desired(recipients=[{"organization_id": ORG}])) == []
    with pytest.raises(InputError, match="owner's organization"):
        plan(org_share, desired(recipients=[{"organization_id": ACCOUNTS[3]}]))


@pytest.mark.parametrize(
    "recipients, message",
    [
        ([], "must not be empty"),
        ([{"account_id": ACCOUNTS[0], "organization_id": ORG}], r"recipients\[0\] sets both"),
        ([{"account_id": ACCOUNTS[0]}, {}], "mixes accounts and an organization"),
        ([{"account_id": "ABC"}], r"recipients\[0\]\.account_id must be a 32-character"),
        ([{"organization_id": ORG}, {"organization_id": ACCOUNTS[0]}], "several organizations"),
    ],
)
def test_bad_recipients(recipients, message):
    with pytest.raises(InputError, match=message):
        desired(recipients=recipients)


@pytest.mark.parametrize(
    "resources, message",
    [
        ([], "must not be empty"),
        ([res_param(rtype="waf")], r"resources\[0\]\.resource_type must be one of"),
        ([res_param(resource_id="  ")], r"resources\[0\]\.resource_id must be a non-empty"),
        ([res_param(resource_id=" x")], r"resources\[0\]\.resource_id must not start or end with whitespace"),
        ([res_param(meta={"a": 1}), res_param(meta={"a": 2})], "different meta"),
        ([res_param(meta="a=1")], r"resources\[0\]\.meta must be a mapping"),
    ],
)
def test_bad_resources(resources, message):
    with pytest.raises(InputError, match=message):
        desired(resources=resources)


def test_duplicates_are_merged():
    wanted = desired(
        recipients=[{"account_id": ACCOUNTS[0]}, {"account_id": ACCOUNTS[0]}], resources=[res_param(), res_param()]
    )
    assert wanted.recipient_accounts == (ACCOUNTS[0],)
    assert len(wanted.resources) == 1


def test_delete_plan_and_view():
    current = share([recipient(ACCOUNTS[0])], [resource()])
    assert plan_delete(None) == []
    after = apply_plan(current, plan_delete(current), OWNER)
    assert after["status"] == "deleting" and share_view(after) == {}
    assert share_view(current)["recipients"] == [{"account_id": ACCOUNTS[0]}]


# Property: applying the plan yields the desired state, and planning again yields nothing.

recipient_statuses = st.sampled_from(["associating", "associated", "disassociating", "disassociated"])
resource_statuses = st.sampled_from(["active", "deleting", "deleted"])
resource_ids = st.sampled_from([f"{n:032x}" for n in range(100, 106)])
metas = st.sampled_from([{}, {"a": 1}, {"b": [1, 2]}])
wanted_metas = st.sampled_from([None, {}, {"a": 1}, {"b": [1, 2]}])


@st.composite
def current_shares(draw):
    recipients = [
        recipient(account, draw(recipient_statuses), rid=f"r{index}")
        for index, account in enumerate(draw(st.lists(st.sampled_from(ACCOUNTS), max_size=6)))
    ]
    resources = [
        resource(rid_, draw(metas), draw(resource_statuses), draw(st.sampled_from(RESOURCE_TYPES[:2])), rid=f"x{index}")
        for index, rid_ in enumerate(draw(st.lists(resource_ids, max_size=6)))
    ]
    # The API never holds two active records of one account or one resource triple.
    seen_accounts, seen_keys = set(), set()
    for item in recipients:
        if item["association_status"] in ("associating", "associated"):
            if item["account_id"] in seen_accounts:
                item["association_status"] = "disassociated"
            seen_accounts.add(item["account_id"])
    for item in resources:
        key = (item["resource_type"], item["resource_id"])
        if item["status"] == "active":
            if key in seen_keys:
                item["status"] = "deleted"
            seen_keys.add(key)
    return draw(st.one_of(st.none(), st.just(share(recipients, resources, name=draw(st.sampled_from(["waf", "old"]))))))


@st.composite
def desired_params(draw):
    recipients = draw(st.one_of(st.none(), st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=6)))
    resources = draw(
        st.one_of(
            st.none(),
            st.lists(
                st.tuples(resource_ids, st.sampled_from(RESOURCE_TYPES[:2]), wanted_metas),
                min_size=1,
                max_size=6,
                unique_by=lambda item: item[:2],
            ),
        )
    )
    return params(
        name=draw(st.sampled_from(["waf", "new"])),
        recipients=None if recipients is None else [{"account_id": a} for a in recipients],
        resources=None if resources is None else [res_param(r, m, t) for r, t, m in resources],
        purge_recipients=draw(st.booleans()),
        purge_resources=draw(st.booleans()),
    )


def exposures(state):
    """(account, resource key) pairs that can see each other in this state."""
    if not state or state.get("status") != "active":
        return set()
    return {(account, key) for account in active_recipients(state) for key in active_resources(state)}


@settings(max_examples=400, deadline=None)
@given(current=current_shares(), wanted_params=desired_params())
def test_plan_converges_in_one_step_and_never_exposes(current, wanted_params):
    wanted = desired_from_params(wanted_params, OWNER)
    if current is None and (wanted.recipient_accounts is None or wanted.resources is None):
        with pytest.raises(InputError):
            plan(current, wanted)
        return
    actions = plan(current, wanted)
    after = apply_plan(current, actions, OWNER)
    assert plan(after, wanted) == []
    # The exposure rule, at every step: an account sees a resource only if it did before, or will after.
    allowed = exposures(current) | exposures(after)
    state = current
    for action in actions:
        state = apply_action(state, action, OWNER)
        assert exposures(state) <= allowed, (action, exposures(state) - allowed)
    view, before = share_view(after), share_view(current)
    assert view["name"] == wanted.name
    accounts = {r["account_id"] for r in view["recipients"]}
    if wanted.recipient_accounts is not None:
        expected = set(wanted.recipient_accounts)
        assert accounts == expected if wanted.purge_recipients else accounts >= expected
    else:
        assert view["recipients"] == before["recipients"]
    keys = {(r["resource_type"], r["resource_account_id"], r["resource_id"]): r["meta"] for r in view["resources"]}
    if wanted.resources is not None:
        assert {k: keys[k] for k, meta in wanted.resources.items() if meta is not None} == {
            k: meta for k, meta in wanted.resources.items() if meta is not None
        }
        present_before = active_resources(current or {})
        for key, meta in wanted.resources.items():
            if meta is None:
                assert keys[key] == (present_before[key].get("meta") or {} if key in present_before else {})
        if wanted.purge_resources:
            assert set(keys) == set(wanted.resources)
    else:
        assert view["resources"] == before["resources"]


def test_every_action_kind_has_its_request_and_an_unknown_kind_is_an_error():
    key = ("custom-ruleset", OWNER, RULESET)
    requests = [
        (Action("create_share", body={"name": "n"}), ("POST", (), {"name": "n"})),
        (Action("rename_share", name="n"), ("PUT", ("S",), {"name": "n"})),
        (Action("delete_share"), ("DELETE", ("S",), None)),
        (
            Action("replace_recipients", account_ids=["a"]),
            ("PUT", ("S", "recipients"), [{"recipient_account_id": "a"}]),
        ),
        (Action("add_recipient", account_id="a"), ("POST", ("S", "recipients"), {"recipient_account_id": "a"})),
        (Action("remove_recipient", recipient_id="r", account_id="a"), ("DELETE", ("S", "recipients", "r"), None)),
        (
            Action("add_resource", key=key, meta={}),
            (
                "POST",
                ("S", "resources"),
                dict(resource_type="custom-ruleset", resource_account_id=OWNER, resource_id=RULESET, meta={}),
            ),
        ),
        (
            Action("update_resource", key=key, share_resource_id="x", meta={"a": 1}),
            ("PUT", ("S", "resources", "x"), {"meta": {"a": 1}}),
        ),
        (Action("remove_resource", key=key, share_resource_id="x"), ("DELETE", ("S", "resources", "x"), None)),
        (Action("add_excluded_recipient", account_id="a"), ("POST", ("S", "excluded-recipients"), {"account_id": "a"})),
        (
            Action("remove_excluded_recipient", excluded_recipient_id="e", account_id="a"),
            ("DELETE", ("S", "excluded-recipients", "e"), None),
        ),
        (
            Action("replace_excluded_recipients", account_ids=["a"]),
            ("PUT", ("S", "excluded-recipients"), [{"account_id": "a"}]),
        ),
    ]
    assert sorted(action.kind for action, _request in requests) == sorted(ACTION_KINDS)
    for action, expected in requests:
        assert action.request("S") == expected, action
        assert action.describe()
    with pytest.raises(ValueError, match="unknown action kind 'drop_share'"):
        Action("drop_share")


@pytest.mark.parametrize(
    "echoed",
    [
        dict(resource_id="6F1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B"),
        dict(resource_id="6f1c2b3a4d5e4f608a7b9c0d1e2f3a4b"),
        dict(resource_id="6f1c2b3a4d5e4f608a7b9c0d1e2f3a4b", meta=None),
    ],
)
def test_no_input_makes_every_run_a_change_whatever_form_the_api_echoes(echoed):
    """A UUID in another case or without dashes is the same resource; meta null (or missing) is {}."""
    stored = dict(resource(rtype="gateway-policy"), **echoed)
    current = share([recipient(ACCOUNTS[0])], [stored])
    wanted = [res_param("6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b", meta={}, rtype="gateway-policy")]
    assert plan(current, desired(resources=wanted)) == []
    del stored["meta"]
    assert plan(current, desired(resources=wanted)) == []


def test_meta_keys_in_another_order_are_the_same_meta_but_list_order_matters():
    current = share([recipient(ACCOUNTS[0])], [resource(meta={"b": [1, 2], "a": 1})])
    assert plan(current, desired(resources=[res_param(meta={"a": 1, "b": [1, 2]})])) == []
    assert [a.kind for a in plan(current, desired(resources=[res_param(meta={"a": 1, "b": [2, 1]})]))] == [
        "update_resource"
    ]


def test_one_resource_given_in_two_forms_is_listed_once():
    wanted = desired(
        resources=[
            res_param("6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b", rtype="gateway-policy"),
            res_param("6F1C2B3A4D5E4F608A7B9C0D1E2F3A4B", rtype="gateway-policy", meta={"a": 1}),
        ]
    )
    assert wanted.resources == {("gateway-policy", OWNER, "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"): {"a": 1}}


def org_share(excluded=()):
    state = share([recipient(account) for account in ACCOUNTS[:3]], [resource()], target_type="organization")
    state["excluded_recipients"] = [{"id": "e" + account[-6:], "account_id": account} for account in excluded]
    return state


def test_exclusions_go_first_and_lifted_ones_last_in_batches_like_recipients():
    current = org_share(excluded=ACCOUNTS[:2])
    actions = plan(
        current,
        desired(recipients=[{}], excluded_recipients=[ACCOUNTS[2], ACCOUNTS[3]], resources=[res_param("other")]),
    )
    assert [a.kind for a in actions] == [
        "replace_excluded_recipients",
        "add_resource",
        "remove_resource",
        "replace_excluded_recipients",
    ]
    # First every old and new exclusion (no account gets in early), at the end only the wanted ones.
    assert (
        actions[0].fields["account_ids"] == sorted(ACCOUNTS[:4]) and actions[-1].fields["account_ids"] == ACCOUNTS[2:4]
    )
    one = plan(org_share(excluded=[ACCOUNTS[0]]), desired(excluded_recipients=[ACCOUNTS[1]]))
    assert [(a.kind, a.fields["account_id"]) for a in one] == [
        ("add_excluded_recipient", ACCOUNTS[1]),
        ("remove_excluded_recipient", ACCOUNTS[0]),
    ]
    assert plan(org_share(excluded=[ACCOUNTS[0]]), desired(excluded_recipients=[ACCOUNTS[0]])) == []
    assert (
        plan(org_share(excluded=[ACCOUNTS[0]]), desired(excluded_recipients=[], purge_excluded_recipients=False)) == []
    )


def test_a_new_organization_share_is_created_then_its_exclusions_made():
    actions = plan(None, desired(recipients=[{}], resources=[res_param()], excluded_recipients=ACCOUNTS[:2]))
    assert [a.kind for a in actions] == ["create_share", "replace_excluded_recipients"]
    after = apply_plan(None, actions, OWNER)
    assert [e["account_id"] for e in after["excluded_recipients"]] == ACCOUNTS[:2]
    assert share_view(after)["excluded_recipients"] == ACCOUNTS[:2]


def test_exclusions_are_refused_for_account_shares():
    with pytest.raises(InputError, match="excluded_recipients is for shares that target the whole organization"):
        desired(recipients=[{"account_id": ACCOUNTS[0]}], excluded_recipients=[ACCOUNTS[1]])
    with pytest.raises(InputError, match="targets accounts; excluded_recipients is for shares"):
        plan(share([recipient(ACCOUNTS[0])], [resource()]), desired(excluded_recipients=[ACCOUNTS[1]]))
    with pytest.raises(InputError, match=r"excluded_recipients\[0\] must be a 32-character"):
        desired(recipients=[{}], excluded_recipients=["nope"])
