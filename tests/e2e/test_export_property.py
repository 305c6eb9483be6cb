"""Export round trip as a property, over real HTTP to the emulator: random accounts with shares in every shape and
status (organization shares with and without excluded recipients); ``share_info`` exports the specs; the ``shares`` engine converges them and writes nothing.

In-process (the modules' own code with its real HTTP client) like the convergence property: hundreds of
exports and converges through ansible-playbook would take minutes; test_export.py covers the playbooks.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.cloudflare.plugins.module_utils._bulk import converge_all, prepare
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share_info import InfoQuery, find_shares
from ansible_collections.edgeops.cloudflare.tests.e2e.inprocess import share_api
from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, MEMBER_ACCOUNTS

NAMES = ["waf", "gateway", "dup"]
RESOURCE_IDS = [f"{n:032x}" for n in range(0xD0, 0xD4)] + ["6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"]
TYPES = ["custom-ruleset", "gateway-policy"]
METAS = [{}, {"owner": "netops"}, {"nested": {"list": [1, {"b": 2}]}, "a": None}]
MAX_EXAMPLES = 50
EXAMPLES_RUN = []
EXCLUSIONS_EXPORTED = []

recipient_records = st.lists(
    st.tuples(
        st.sampled_from(MEMBER_ACCOUNTS),
        st.sampled_from(["associating", "associated", "disassociating", "disassociated"]),
    ),
    max_size=3,
    unique_by=lambda item: item[0],
)
resource_records = st.lists(
    st.tuples(
        st.sampled_from(RESOURCE_IDS),
        st.sampled_from(TYPES),
        st.sampled_from(METAS),
        st.sampled_from(["active", "active", "deleting", "deleted"]),
    ),
    max_size=4,
    unique_by=lambda item: item[:2],
)


@st.composite
def shares(draw):
    shape = draw(st.sampled_from(["account", "organization", "received"]))
    share = {
        "name": draw(st.sampled_from(NAMES)),
        "status": draw(st.sampled_from(["active", "active", "deleting", "deleted"])),
        "resources": [
            {"resource_id": r, "resource_type": t, "meta": m, "status": s} for r, t, m, s in draw(resource_records)
        ],
    }
    if shape == "organization":
        excluded = draw(st.lists(st.sampled_from(MEMBER_ACCOUNTS), max_size=2, unique=True))
        share.update(
            target_type="organization",
            recipients=[{"account_id": a} for a in MEMBER_ACCOUNTS if a not in excluded],
            excluded_recipients=excluded,
        )
    elif shape == "received":
        share.update(account_id=MEMBER_ACCOUNTS[0], recipients=[{"account_id": MAIN_ACCOUNT}])
        for resource in share["resources"]:
            resource["resource_account_id"] = MEMBER_ACCOUNTS[0]
    else:
        share["recipients"] = [{"account_id": a, "association_status": s} for a, s in draw(recipient_records)]
    return share


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=st.lists(shares(), min_size=1, max_size=6))
def test_exported_specs_converge_with_no_write(clean_emulator, world):
    emulator = clean_emulator
    emulator.reset()
    emulator.seed(world)
    api = share_api(emulator)
    exported = find_shares(
        api.client, InfoQuery(filters={"kind": "sent", "status": "active"}, include_spec=True), MAIN_ACCOUNT
    )
    specs = [share["spec"] for share in exported]
    assert len(specs) == sum(
        1 for s in world if s["status"] == "active" and s.get("account_id", MAIN_ACCOUNT) == MAIN_ACCOUNT
    )
    emulator.clear_log()
    outcomes, notes = converge_all(api, prepare(specs, MAIN_ACCOUNT, False), concurrency=2)
    assert [o for o in outcomes if o["failed"] or o["changed"]] == [] and notes == []
    assert [r for r in emulator.requests_log() if r["method"] != "GET"] == []
    EXAMPLES_RUN.append(len(specs))
    EXCLUSIONS_EXPORTED.append(sum(len(spec.get("excluded_recipients") or ()) for spec in specs))


def test_print_property_examples(capsys):
    with capsys.disabled():
        print(
            f"\nexport round trip: {len(EXAMPLES_RUN)} accounts over HTTP, {sum(EXAMPLES_RUN)} shares exported "
            f"({sum(EXCLUSIONS_EXPORTED)} excluded recipients), all converged with no write"
        )
    assert len(EXAMPLES_RUN) >= MAX_EXAMPLES // 2, f"hypothesis ran too few examples: {len(EXAMPLES_RUN)}"
    assert sum(EXCLUSIONS_EXPORTED) > 0, "no example exported an excluded recipient"
