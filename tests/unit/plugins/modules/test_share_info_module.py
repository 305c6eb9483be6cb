"""Unit tests of ``share_info``: its docs match its argspec, and its queries send exactly the requests they need.

(Named ``..._module.py``: tests/integration/test_share_info.py has the plain name, and the suites have no
``__init__.py``, so two test files with one basename would clash in a whole-repository pytest run.)
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from ansible_collections.edgeops.cloudflare.plugins.doc_fragments.api import ModuleDocFragment
from ansible_collections.edgeops.cloudflare.plugins.module_utils._client import CloudflareClient, RawResponse
from ansible_collections.edgeops.cloudflare.plugins.module_utils._errors import CloudflareError, InputError
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share_info import (
    InfoQuery,
    filters_from_params,
    find_shares,
)
from ansible_collections.edgeops.cloudflare.plugins.modules import share_info

BASE = "https://api.example.test/client/v4"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
OWNER = "1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10"
ORG = "5f0c7c1b2ed04c41a0e0d7e5a2f7c0d1"
S1, S2, S3 = (f"{n:032x}" for n in (1, 2, 3))


# --- documentation and argspec agree ------------------------------------------------------------------


def documented_options():
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(yaml.safe_load(share_info.DOCUMENTATION)["options"])
    return options


def test_every_option_is_documented_with_its_type_default_and_choices():
    spec, docs = share_info.argument_spec(), documented_options()
    assert set(spec) == set(docs)
    for name, option in spec.items():
        doc = docs[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name


def test_examples_use_only_documented_options():
    docs = documented_options()
    for task in yaml.safe_load(share_info.EXAMPLES):
        for item in [task] + task.get("block", []):
            args = item.get("edgeops.cloudflare.share_info")
            if args is not None:
                assert set(args) <= set(docs), item["name"]


def test_return_documents_recipients_and_resources_as_conditional():
    fields = yaml.safe_load(share_info.RETURN)["shares"]["contains"]
    assert "include_recipients" in fields["recipients"]["returned"]
    assert "include_resources" in fields["resources"]["returned"]
    assert {"id", "name", "account_id", "status", "kind", "target_type"} <= set(fields)


def test_filters_from_params_keeps_only_the_api_filters_that_are_set():
    params = dict(kind="sent", status=None, target_type="account", resource_types=[], name="x", share_id=None)
    assert filters_from_params(params) == {"kind": "sent", "target_type": "account"}


# --- requests against a stub API ---------------------------------------------------------------------


class StubApi:
    """Answers GETs from a table of path -> result and records (path, query) of each request."""

    def __init__(self, routes):
        self.routes = routes
        self.calls = []

    def __call__(self, method, url, headers, body, timeout, validate_certs, ca_path):
        parts = urlsplit(url)
        path = parts.path[len("/client/v4") :]
        self.calls.append((path, parse_qs(parts.query)))
        if path not in self.routes:
            return RawResponse(
                404,
                {},
                json.dumps({"success": False, "errors": [{"code": 1004, "message": "Share not found"}]}).encode(),
            )
        result = self.routes[path]
        info = (
            {"page": 1, "per_page": len(result), "count": len(result), "total_count": len(result)}
            if isinstance(result, list)
            else None
        )
        return RawResponse(
            200, {}, json.dumps({"success": True, "errors": [], "result": result, "result_info": info}).encode()
        )


def share(share_id, name, owner=ACCOUNT, **extra):
    return dict(dict(id=share_id, name=name, account_id=owner, status="active", kind="sent"), **extra)


def run(routes, query, account_id=ACCOUNT):
    stub = StubApi(routes)
    client = CloudflareClient(BASE, {"Authorization": "Bearer t"}, transport=stub, sleep=lambda seconds: None)
    return find_shares(client, query, account_id), stub.calls


LIST = f"/accounts/{ACCOUNT}/shares"


def test_list_sends_filters_and_filters_names_client_side():
    routes = {LIST: [share(S1, "a"), share(S2, "b"), share(S3, "a")]}
    query = InfoQuery(name="a", filters={"kind": "sent", "resource_types": ["custom-ruleset", "trust-grant"]})
    shares, calls = run(routes, query)
    assert [s["id"] for s in shares] == [S1, S3]
    assert calls == [(LIST, {"kind": ["sent"], "resource_types": ["custom-ruleset", "trust-grant"]})]


def test_nothing_matching_is_an_empty_list():
    shares, calls = run({LIST: [share(S1, "a")]}, InfoQuery(name="zzz"))
    assert shares == [] and len(calls) == 1


def test_resources_only_when_asked_and_without_extra_request():
    routes = {LIST: [share(S1, "a", resources=[{"id": "r"}])]}
    shares, calls = run(routes, InfoQuery())
    assert "resources" not in shares[0] and calls == [(LIST, {})]
    shares, calls = run(routes, InfoQuery(include_resources=True))
    assert shares[0]["resources"] == [{"id": "r"}] and calls == [(LIST, {"include_resources": ["true"]})]


def test_recipients_cost_one_request_per_share_left_after_the_name_filter():
    routes = {
        LIST: [share(S1, "a"), share(S2, "b"), share(S3, "a")],
        LIST + "/" + S1 + "/recipients": [{"account_id": OWNER}],
        LIST + "/" + S3 + "/recipients": [],
    }
    shares, calls = run(routes, InfoQuery(name="a", include_recipients=True))
    assert [s["recipients"] for s in shares] == [[{"account_id": OWNER}], []]
    assert [call[0] for call in calls] == [LIST, LIST + "/" + S1 + "/recipients", LIST + "/" + S3 + "/recipients"]


def test_organization_listing_reads_recipients_through_each_owner():
    org_path = f"/organizations/{ORG}/shares"
    owner_recipients = f"/accounts/{OWNER}/shares/{S2}/recipients"
    routes = {org_path: [share(S2, "b", owner=OWNER)], owner_recipients: [{"account_id": ACCOUNT}]}
    shares, calls = run(
        routes, InfoQuery(organization_id=ORG, filters={"status": "active"}, include_recipients=True), account_id=None
    )
    assert shares[0]["recipients"] == [{"account_id": ACCOUNT}]
    assert calls == [(org_path, {"status": ["active"]}), (owner_recipients, {"include_resources": ["true"]})]


def test_organization_listing_reads_each_shares_resources_through_its_owner():
    """The organization listing takes no include_resources: never a silently empty list, one GET per share."""
    org_path = f"/organizations/{ORG}/shares"
    owner_share = f"/accounts/{OWNER}/shares/{S2}"
    routes = {
        org_path: [share(S2, "b", owner=OWNER)],
        owner_share: share(S2, "b", owner=OWNER, resources=[{"id": "r"}]),
    }
    shares, calls = run(routes, InfoQuery(organization_id=ORG, include_resources=True), account_id=None)
    assert shares[0]["resources"] == [{"id": "r"}]
    assert calls == [(org_path, {}), (owner_share, {"include_resources": ["true"]})]


def test_by_id_is_one_request_and_an_unknown_id_a_clear_error():
    routes = {LIST + "/" + S1: share(S1, "a")}
    shares, calls = run(routes, InfoQuery(share_id=S1, include_resources=True))
    assert [s["id"] for s in shares] == [S1] and calls == [(LIST + "/" + S1, {"include_resources": ["true"]})]
    with pytest.raises(InputError, match=f"No share {S2} in account {ACCOUNT} .*HTTP 404: \\[1004\\] Share not found"):
        run(routes, InfoQuery(share_id=S2))


def test_other_api_errors_are_not_disguised_as_not_found():
    class Forbidden(StubApi):
        def __call__(self, *args):
            return RawResponse(
                403,
                {},
                json.dumps({"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}).encode(),
            )

    client = CloudflareClient(BASE, {"Authorization": "Bearer t"}, transport=Forbidden({}), sleep=lambda seconds: None)
    with pytest.raises(CloudflareError, match="HTTP 403") as caught:
        find_shares(client, InfoQuery(share_id=S1), ACCOUNT)
    assert not isinstance(caught.value, InputError)


def test_include_spec_costs_a_recipients_read_per_exported_account_share_and_no_extra_listing():
    resource = {
        "id": "r",
        "resource_type": "custom-ruleset",
        "resource_account_id": ACCOUNT,
        "resource_id": S3,
        "meta": {"a": 1},
        "status": "active",
    }
    routes = {
        LIST: [
            share(S1, "dup", target_type="account", resources=[resource]),
            share(S2, "dup", target_type="account", resources=[resource]),
            share(S3, "org", target_type="organization", organization_id=ORG, resources=[resource]),
            share(f"{4:032x}", "got", owner=OWNER, kind="received", target_type="account"),
        ],
        LIST + "/" + S1 + "/recipients": [
            {"account_id": OWNER, "association_status": "associated"},
            {"account_id": ORG, "association_status": "disassociated"},
        ],
        LIST + "/" + S2 + "/recipients": [],
        LIST + "/" + S3 + "/excluded-recipients": [{"id": "e", "account_id": OWNER}],
    }
    shares, calls = run(routes, InfoQuery(filters={"kind": "sent", "status": "active"}, include_spec=True))
    assert [call[0] for call in calls] == [
        LIST,
        LIST + "/" + S1 + "/recipients",
        LIST + "/" + S2 + "/recipients",
        LIST + "/" + S3 + "/excluded-recipients",
    ]
    assert calls[0][1] == {"kind": ["sent"], "status": ["active"], "include_resources": ["true"]}
    specs = [s.get("spec") for s in shares]
    exported_resource = {
        "resource_type": "custom-ruleset",
        "resource_account_id": ACCOUNT,
        "resource_id": S3,
        "meta": {"a": 1},
    }
    assert specs == [
        {"share_id": S1, "name": "dup", "recipients": [{"account_id": OWNER}], "resources": [exported_resource]},
        {"share_id": S2, "name": "dup", "resources": [exported_resource]},
        {"name": "org", "recipients": [{}], "resources": [exported_resource], "excluded_recipients": [OWNER]},
        None,
    ]
    # A filtered query lists the account's active sent shares once more, to find names that are not unique.
    _shares, calls = run(routes, InfoQuery(filters={"target_type": "organization"}, include_spec=True))
    listings = [call[1] for call in calls if call[0] == LIST]
    assert listings == [
        {"target_type": ["organization"], "include_resources": ["true"]},
        {"kind": ["sent"], "status": ["active"], "include_resources": ["true"]},
    ]
    with pytest.raises(InputError, match="include_spec exports the shares the account owns"):
        InfoQuery(organization_id=ORG, include_spec=True)
