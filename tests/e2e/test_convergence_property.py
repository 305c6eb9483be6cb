"""Convergence as a property, over real HTTP to the emulator: random current shares and random desired specs;
one converge reaches the spec, a second one changes nothing and writes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import FOREIGN_ACCOUNT, MAIN_ACCOUNT, MEMBER_ACCOUNTS
from ansible_collections.edgeops.cloudflare.tests.e2e.inprocess import converge_share, dumped_view, share_api

ACCOUNTS = list(MEMBER_ACCOUNTS) + ["4e9c3b7d2f5a4b1c8d0e9f8a7b6c5d43", "5fad4c8e3a6b4c2d9e1f0a9b8c7d6e54"]
RESOURCE_IDS = [f"{n:032x}" for n in range(0xB0, 0xB5)]
TYPES = ["custom-ruleset", "gateway-policy"]
METAS = [{}, {"tier": "gold"}, {"list": [1, 2]}]
MAX_EXAMPLES = 60
EXAMPLES_RUN = []

recipient_records = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS), st.sampled_from(["associating", "associated", "disassociating", "disassociated"])
    ),
    max_size=5,
    unique_by=lambda item: item[0],
)
resource_records = st.lists(
    st.tuples(
        st.sampled_from(RESOURCE_IDS),
        st.sampled_from(TYPES),
        st.sampled_from(METAS),
        st.sampled_from(["active", "deleting", "deleted"]),
    ),
    max_size=5,
    unique_by=lambda item: item[:2],
)


@st.composite
def worlds(draw):
    """The target share (maybe absent), plus noise: a duplicate-named share of another name and a received share."""
    target = None
    if draw(st.booleans()):
        target = {
            "name": "target",
            "recipients": [{"account_id": a, "association_status": s} for a, s in draw(recipient_records)],
            "resources": [
                {"resource_id": r, "resource_type": t, "meta": m, "status": s} for r, t, m, s in draw(resource_records)
            ],
        }
    noise = [
        {"name": "other"},
        {"name": "other"},
        {"name": "target", "account_id": FOREIGN_ACCOUNT, "recipients": [{"account_id": MAIN_ACCOUNT}]},
    ]
    for share in noise:
        share.setdefault("resources", [{"resource_id": RESOURCE_IDS[0], "resource_type": TYPES[0]}])
        share.setdefault("recipients", [{"account_id": ACCOUNTS[0]}])
    return target, noise


@st.composite
def desired_specs(draw):
    recipients = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=5, unique=True))
    resources = draw(
        st.lists(
            st.tuples(st.sampled_from(RESOURCE_IDS), st.sampled_from(TYPES), st.sampled_from(METAS)),
            min_size=1,
            max_size=5,
            unique_by=lambda item: item[:2],
        )
    )
    return {
        "name": "target",
        "recipients": [{"account_id": a} for a in recipients],
        "resources": [
            {"resource_id": r, "resource_type": t, "resource_account_id": None, "meta": m} for r, t, m in resources
        ],
        "purge_recipients": draw(st.booleans()),
        "purge_resources": draw(st.booleans()),
    }


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds(), spec=desired_specs())
def test_one_run_converges_and_the_second_writes_nothing(clean_emulator, world, spec):
    emulator = clean_emulator
    emulator.reset()
    target, noise = world
    emulator.seed(([target] if target else []) + noise)
    noise_before = [s for s in emulator.state() if s["name"] != "target" or s["account_id"] != MAIN_ACCOUNT]

    first = converge_share(share_api(emulator), spec)
    view = dumped_view(emulator, first["share"]["id"])
    accounts = {r["account_id"] for r in view["recipients"]}
    wanted_accounts = {r["account_id"] for r in spec["recipients"]}
    assert accounts == wanted_accounts if spec["purge_recipients"] else accounts >= wanted_accounts
    resources = {(r["resource_type"], r["resource_id"]): r["meta"] for r in view["resources"]}
    wanted = {(r["resource_type"], r["resource_id"]): r["meta"] for r in spec["resources"]}
    assert {key: resources.get(key) for key in wanted} == wanted
    if spec["purge_resources"]:
        assert set(resources) == set(wanted)

    emulator.clear_log()
    second = converge_share(share_api(emulator), spec)
    assert second["changed"] is False
    assert [r for r in emulator.requests_log() if r["method"] != "GET"] == []
    assert [s for s in emulator.state() if s["name"] != "target" or s["account_id"] != MAIN_ACCOUNT] == noise_before
    EXAMPLES_RUN.append(first["changed"])


def test_print_property_examples(capsys):
    with capsys.disabled():
        print(
            f"\nconvergence property: {len(EXAMPLES_RUN)} examples over HTTP, {sum(EXAMPLES_RUN)} of them changed "
            "something, all converged in one run"
        )
    assert len(EXAMPLES_RUN) >= MAX_EXAMPLES // 2, f"hypothesis ran too few examples: {len(EXAMPLES_RUN)}"
