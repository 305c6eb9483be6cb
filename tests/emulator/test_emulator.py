"""Behaviour of the Cloudflare Resource Sharing API emulator (tests/emulator/CONTRACT.md)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest
import requests

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    EMAIL,
    FOREIGN_ACCOUNT,
    FOREIGN_ORG,
    KEY,
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
    READ_TOKEN,
    TOKEN,
    Emulator,
    EmulatorError,
)

MEMBER_B, MEMBER_C, MEMBER_D = MEMBER_ACCOUNTS
SHARES = f"/accounts/{MAIN_ACCOUNT}/shares"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
HEX_ID = re.compile(r"[0-9a-f]{32}")
TIMEOUT = 5
KEY_HEADERS = {"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}
DEFAULT_CONFIG = {
    "latency_ms": 0,
    "transition_seconds": 0.0,
    "unpaginated_max": None,
    "rate_limit": None,
    "answer_profile": "minimal",
    "resource_id_form": "as_sent",
    "empty_meta_echo": "object",
    "meta_key_order": "as_sent",
    "deleted_shares": "kept",
}


pytestmark = pytest.mark.usefixtures("clean_emulator")  # every test starts from the default world


def call(emulator: Emulator, method: str, path: str, *, headers: dict | None = None, **kwargs) -> requests.Response:
    """One API request, with the token, or with the Global API key on organization endpoints (tokens are refused there)."""
    if headers is None:
        headers = KEY_HEADERS if path.startswith("/organizations/") else emulator.auth_headers
    return requests.request(
        method, emulator.base_url + path, headers=headers, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs
    )


def resource(resource_id: str = "ruleset-1", resource_type: str = "custom-ruleset", **extra) -> dict:
    return {
        "resource_id": resource_id,
        "resource_account_id": MAIN_ACCOUNT,
        "resource_type": resource_type,
        "meta": {},
        **extra,
    }


def share_body(name: str = "waf", recipients: list | None = None, resources: list | None = None) -> dict:
    return {
        "name": name,
        "recipients": [{"recipient_account_id": MEMBER_B}] if recipients is None else recipients,
        "resources": [resource()] if resources is None else resources,
    }


def create(emulator: Emulator, **body) -> dict:
    """A new share, read back with its resources and recipient counts (the create answer promises neither)."""
    response = call(emulator, "POST", SHARES, json=share_body(**body))
    assert response.status_code == 201, response.text
    share_id = response.json()["result"]["id"]
    return result(
        call(
            emulator,
            "GET",
            f"{SHARES}/{share_id}",
            params={"include_resources": "true", "include_recipient_counts": "true"},
        )
    )


def result(response: requests.Response, status: int = 200):
    assert response.status_code == status, response.text
    document = response.json()
    assert document["success"] is True and document["errors"] == []
    return document["result"]


def first_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    document = response.json()
    assert document["success"] is False and document["result"] is None
    return document["errors"][0]


def recipients_of(emulator: Emulator, share_id: str) -> dict[str, dict]:
    return {r["account_id"]: r for r in result(call(emulator, "GET", f"{SHARES}/{share_id}/recipients"))}


def statuses(emulator: Emulator, share_id: str) -> dict[str, str]:
    return {account: r["association_status"] for account, r in recipients_of(emulator, share_id).items()}


# --- envelope and shapes -------------------------------------------------------------------


def test_create_answers_201_with_the_share_in_the_envelope_and_no_more_than_promised(emulator):
    """Minimal profile (the default): the schema promises resources and counts only when asked with include_*."""
    response = call(emulator, "POST", SHARES, json=share_body())
    document = response.json()
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert (document["success"], document["errors"], document["messages"]) == (True, [], [])
    share = document["result"]
    assert HEX_ID.fullmatch(share["id"])
    assert TIMESTAMP.fullmatch(share["created"]) and share["created"] == share["modified"]
    assert share | {"id": None, "created": None, "modified": None} == {
        "id": None,
        "account_id": MAIN_ACCOUNT,
        "account_name": "Account A",
        "organization_id": MAIN_ORG,
        "name": "waf",
        "status": "active",
        "target_type": "account",
        "kind": "sent",
        "created": None,
        "modified": None,
    }


def test_generous_profile_answers_a_create_as_the_reference_example_shows(emulator):
    emulator.configure(answer_profile="generous")
    share = result(call(emulator, "POST", SHARES, json=share_body()), 201)
    assert (
        share["associated_recipient_count"],
        share["associating_recipient_count"],
        share["disassociated_recipient_count"],
        share["disassociating_recipient_count"],
    ) == (0, 1, 0, 0)
    [added] = share["resources"]
    assert HEX_ID.fullmatch(added["id"])
    assert (added["resource_id"], added["resource_version"], added["status"], added["meta"]) == (
        "ruleset-1",
        0,
        "active",
        {},
    )


def test_list_answers_result_info(emulator):
    create(emulator)
    document = call(emulator, "GET", SHARES).json()
    assert document["result_info"] == {"page": 1, "per_page": 1, "count": 1, "total_count": 1, "total_pages": 1}
    assert "result_info" not in call(emulator, "GET", f"{SHARES}/{document['result'][0]['id']}").json()


def test_recipient_objects_carry_the_account_as_account_id(emulator):
    share = create(emulator)
    [recipient] = result(call(emulator, "GET", f"{SHARES}/{share['id']}/recipients"))
    assert set(recipient) == {"id", "account_id", "association_status", "created", "modified"}
    assert (recipient["account_id"], recipient["association_status"]) == (MEMBER_B, "associated")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", f"{SHARES}/{'0' * 32}", 404, 1004),
        ("GET", f"{SHARES}/{'0' * 32}/recipients", 404, 1004),
        ("GET", "/accounts/{0}/sharez", 404, 7003),
        ("GET", "/nothing/here", 404, 7003),
        ("GET", "/accounts/not-an-id/shares", 400, 7003),
        ("GET", f"{SHARES}/ABCDEF", 400, 7003),
        ("PATCH", SHARES, 405, 7001),
    ],
)
def test_unknown_things_answer_cloudflare_errors(emulator, method, path, status, code):
    failure = first_error(call(emulator, method, path.format(MAIN_ACCOUNT)), status)
    assert failure["code"] == code
    if code == 7003:
        assert failure["message"].endswith("perhaps your object identifier is invalid?")


def test_unknown_recipient_and_resource_answer_404(emulator):
    share = create(emulator)
    missing = "f" * 32
    assert first_error(call(emulator, "GET", f"{SHARES}/{share['id']}/recipients/{missing}"), 404)["code"] == 1005
    assert first_error(call(emulator, "DELETE", f"{SHARES}/{share['id']}/resources/{missing}"), 404)["code"] == 1006


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 400, 9106),
        ({"X-Auth-Email": EMAIL}, 400, 9106),
        ({"Authorization": "Bearer wrong-token"}, 403, 10000),
        ({"X-Auth-Email": EMAIL, "X-Auth-Key": "wrong-key"}, 403, 10000),
        ({"X-Auth-Email": "someone@example.com", "X-Auth-Key": KEY}, 403, 10000),
    ],
)
def test_authentication_failures(emulator, headers, status, code):
    assert first_error(call(emulator, "GET", SHARES, headers=headers), status)["code"] == code


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", TOKEN])
def test_malformed_authorization_header(emulator, authorization):
    failure = first_error(call(emulator, "GET", SHARES, headers={"Authorization": authorization}), 400)
    assert failure == {
        "code": 6003,
        "message": "Invalid request headers",
        "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}],
    }


def test_token_and_global_key_both_work(emulator):
    assert call(emulator, "GET", SHARES).status_code == 200
    assert call(emulator, "GET", SHARES, headers={"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}).status_code == 200
    assert [entry["auth"] for entry in emulator.requests_log()] == ["token", "key"]


# --- pagination ----------------------------------------------------------------------------------


def seed_named(emulator: Emulator, count: int) -> list[str]:
    return [share["id"] for share in emulator.seed([{"name": f"share-{n:02}"} for n in range(count)])]


@pytest.mark.parametrize(
    ("query", "expected_ids", "info"),
    [
        ({}, slice(0, 45), {"page": 1, "per_page": 45, "count": 45, "total_pages": 1}),
        ({"per_page": 10}, slice(0, 10), {"page": 1, "per_page": 10, "count": 10, "total_pages": 5}),
        ({"page": 2}, slice(20, 40), {"page": 2, "per_page": 20, "count": 20, "total_pages": 3}),
        ({"page": 3, "per_page": 20}, slice(40, 45), {"page": 3, "per_page": 20, "count": 5, "total_pages": 3}),
        ({"page": 9, "per_page": 20}, slice(0, 0), {"page": 9, "per_page": 20, "count": 0, "total_pages": 3}),
        ({"per_page": 100}, slice(0, 45), {"page": 1, "per_page": 100, "count": 45, "total_pages": 1}),
    ],
)
def test_pagination(emulator, query, expected_ids, info):
    ids = seed_named(emulator, 45)
    document = call(emulator, "GET", SHARES, params=query).json()
    assert [share["id"] for share in document["result"]] == ids[expected_ids]
    assert document["result_info"] == {**info, "total_count": 45}


@pytest.mark.parametrize("per_page", [1, 7, 20, 44, 45])
def test_pages_cover_every_share_once(emulator, per_page):
    ids = seed_named(emulator, 45)
    seen, page = [], 1
    while True:
        document = call(emulator, "GET", SHARES, params={"page": page, "per_page": per_page}).json()
        seen += [share["id"] for share in document["result"]]
        if page >= document["result_info"]["total_pages"]:
            break
        page += 1
    assert seen == ids


@pytest.mark.parametrize(
    "query", [{"per_page": 101}, {"per_page": 0}, {"page": 0}, {"page": "x"}, {"per_page": "-1"}, {"page": "1.5"}]
)
def test_invalid_pagination_is_refused(emulator, query):
    failure = first_error(call(emulator, "GET", SHARES, params=query), 400)
    assert failure["code"] == 1002 and failure["source"]["parameter"] in query


def test_unpaginated_max_paginates_requests_without_page_or_per_page(emulator):
    seed_named(emulator, 12)
    assert emulator.configure(unpaginated_max=5)["unpaginated_max"] == 5
    document = call(emulator, "GET", SHARES).json()
    assert len(document["result"]) == 5
    assert document["result_info"] == {"page": 1, "per_page": 5, "count": 5, "total_count": 12, "total_pages": 3}
    assert len(call(emulator, "GET", SHARES, params={"per_page": 50}).json()["result"]) == 12


def test_empty_list(emulator):
    document = call(emulator, "GET", SHARES, params={"per_page": 20}).json()
    assert document["result"] == []
    assert document["result_info"] == {"page": 1, "per_page": 20, "count": 0, "total_count": 0, "total_pages": 1}


def test_sub_lists_are_paginated_too(emulator):
    share = create(
        emulator,
        recipients=[{"recipient_account_id": a} for a in MEMBER_ACCOUNTS],
        resources=[resource(f"r{n}") for n in range(3)],
    )
    for sub in ("recipients", "resources"):
        document = call(emulator, "GET", f"{SHARES}/{share['id']}/{sub}", params={"per_page": 2, "page": 2}).json()
        assert document["result_info"] == {"page": 2, "per_page": 2, "count": 1, "total_count": 3, "total_pages": 2}


# --- filters and ordering ----------------------------------------------------------------------


def seed_filter_world(emulator: Emulator) -> dict[str, str]:
    shares = emulator.seed(
        [
            {
                "name": "b-active",
                "resources": [{"resource_id": "r1", "resource_type": "custom-ruleset"}],
                "recipients": [
                    {"account_id": MEMBER_B},
                    {"account_id": MEMBER_C, "association_status": "disassociated"},
                ],
            },
            {
                "name": "a-deleting",
                "status": "deleting",
                "resources": [{"resource_id": "p1", "resource_type": "gateway-policy"}],
            },
            {
                "name": "c-org",
                "target_type": "organization",
                "recipients": [{"account_id": MEMBER_B}],
                "resources": [{"resource_id": "t1", "resource_type": "trust-grant", "status": "deleted"}],
            },
            {"name": "d-received", "account_id": MEMBER_B, "recipients": [{"account_id": MAIN_ACCOUNT}]},
            {"name": "e-foreign", "account_id": FOREIGN_ACCOUNT},
        ]
    )
    return {share["name"]: share["id"] for share in shares}


def listed_names(emulator: Emulator, params: dict | list, path: str = SHARES) -> list[str]:
    return [share["name"] for share in result(call(emulator, "GET", path, params=params))]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, ["b-active", "a-deleting", "c-org", "d-received"]),
        ({"status": "active"}, ["b-active", "c-org", "d-received"]),
        ({"status": "deleting"}, ["a-deleting"]),
        ({"kind": "sent"}, ["b-active", "a-deleting", "c-org"]),
        ({"kind": "received"}, ["d-received"]),
        ({"target_type": "organization"}, ["c-org"]),
        ({"resource_types": "gateway-policy"}, ["a-deleting"]),
        ([("resource_types", "gateway-policy"), ("resource_types", "custom-ruleset")], ["b-active", "a-deleting"]),
        ([("resource_types[]", "custom-ruleset")], ["b-active"]),
        ({"resource_types": "trust-grant"}, []),  # its only trust-grant is deleted
        ({"order": "name"}, ["a-deleting", "b-active", "c-org", "d-received"]),
        ({"order": "name", "direction": "desc"}, ["d-received", "c-org", "b-active", "a-deleting"]),
        ({"order": "created", "direction": "desc"}, ["d-received", "c-org", "a-deleting", "b-active"]),
        ({"status": "active", "kind": "sent", "target_type": "account"}, ["b-active"]),
    ],
)
def test_share_list_filters(emulator, params, names):
    seed_filter_world(emulator)
    assert listed_names(emulator, params) == names


@pytest.mark.parametrize(
    "params",
    [
        {"status": "gone"},
        {"kind": "both"},
        {"target_type": "zone"},
        {"resource_types": "zone"},
        {"order": "id"},
        {"direction": "up"},
        {"include_resources": "maybe"},
        {"tag": "env=prod"},
    ],
)
def test_invalid_filters_are_refused(emulator, params):
    failure = first_error(call(emulator, "GET", SHARES, params=params), 400)
    assert failure["source"]["parameter"] == next(iter(params))


def test_include_resources_and_recipient_counts(emulator):
    ids = seed_filter_world(emulator)
    plain = result(call(emulator, "GET", f"{SHARES}/{ids['b-active']}"))
    assert "resources" not in plain and "associated_recipient_count" not in plain
    params = {"include_resources": "true", "include_recipient_counts": "true"}
    for share in (
        result(call(emulator, "GET", f"{SHARES}/{ids['b-active']}", params=params)),
        result(call(emulator, "GET", SHARES, params={**params, "kind": "sent"}))[0],
    ):
        assert [r["resource_id"] for r in share["resources"]] == ["r1"]
        assert [
            share[f"{status}_recipient_count"]
            for status in ("associating", "associated", "disassociating", "disassociated")
        ] == [0, 1, 0, 1]


def test_resource_list_filters(emulator):
    share = emulator.seed(
        [
            {
                "name": "s",
                "resources": [
                    {"resource_id": "r1", "resource_type": "custom-ruleset"},
                    {"resource_id": "p1", "resource_type": "gateway-policy"},
                    {"resource_id": "p2", "resource_type": "gateway-policy", "status": "deleted"},
                ],
            }
        ]
    )[0]
    path = f"{SHARES}/{share['id']}/resources"

    def resource_ids(params):
        return [r["resource_id"] for r in result(call(emulator, "GET", path, params=params))]

    assert resource_ids({}) == ["r1", "p1", "p2"]
    assert resource_ids({"resource_type": "gateway-policy"}) == ["p1", "p2"]
    assert resource_ids({"status": "active", "resource_type": "gateway-policy"}) == ["p1"]
    assert first_error(call(emulator, "GET", path, params={"resource_type": "zone"}), 400)["code"] == 1002


def test_recipient_include_resources(emulator):
    share = create(emulator, resources=[resource("r1"), resource("r2", "gateway-policy")])
    path = f"{SHARES}/{share['id']}/recipients"
    [listed] = result(call(emulator, "GET", path, params={"include_resources": "true"}))
    assert listed["resources"] == [
        {"resource_id": "r1", "resource_version": 0, "error": "", "terminal": False},
        {"resource_id": "r2", "resource_version": 0, "error": "", "terminal": False},
    ]
    single = result(call(emulator, "GET", f"{path}/{listed['id']}", params={"include_resources": "true"}))
    assert single == listed
    assert "resources" not in result(call(emulator, "GET", f"{path}/{listed['id']}"))


# --- sent and received -------------------------------------------------------------------------


def test_kind_is_relative_to_the_account_in_the_path(emulator):
    ids = seed_filter_world(emulator)
    as_owner = result(call(emulator, "GET", f"/accounts/{MEMBER_B}/shares/{ids['d-received']}"))
    as_recipient = result(call(emulator, "GET", f"{SHARES}/{ids['d-received']}"))
    assert (as_owner["kind"], as_recipient["kind"]) == ("sent", "received")
    assert as_recipient["account_id"] == MEMBER_B and as_recipient["account_name"] == "Account B"
    member_view = {s["name"]: s["kind"] for s in result(call(emulator, "GET", f"/accounts/{MEMBER_B}/shares"))}
    assert member_view == {"b-active": "received", "c-org": "received", "d-received": "sent"}


def test_a_disassociated_recipient_no_longer_sees_the_share(emulator):
    ids = seed_filter_world(emulator)
    assert "b-active" not in listed_names(emulator, {}, f"/accounts/{MEMBER_C}/shares")
    assert first_error(call(emulator, "GET", f"/accounts/{MEMBER_C}/shares/{ids['b-active']}"), 404)["code"] == 1004


def test_a_recipient_cannot_change_a_received_share(emulator):
    ids = seed_filter_world(emulator)
    failure = first_error(call(emulator, "PUT", f"{SHARES}/{ids['d-received']}", json={"name": "mine"}), 403)
    assert failure["code"] == 1011


def test_organization_shares_lists_shares_of_the_organization_accounts(emulator):
    seed_filter_world(emulator)
    names = listed_names(emulator, {}, f"/organizations/{MAIN_ORG}/shares")
    assert names == ["b-active", "a-deleting", "c-org", "d-received"]
    assert listed_names(
        emulator, {"status": "active", "order": "name", "direction": "desc"}, f"/organizations/{MAIN_ORG}/shares"
    ) == ["d-received", "c-org", "b-active"]
    assert listed_names(emulator, {}, f"/organizations/{FOREIGN_ORG}/shares") == ["e-foreign"]
    assert {s["kind"] for s in result(call(emulator, "GET", f"/organizations/{MAIN_ORG}/shares"))} == {"sent"}


# --- organization-targeted shares --------------------------------------------------------------


@pytest.mark.parametrize("recipients", [[{}], [{"organization_id": MAIN_ORG}]])
def test_organization_share_gets_one_recipient_per_member_account(emulator, recipients):
    share = create(emulator, recipients=recipients)
    assert share["target_type"] == "organization"
    assert share["associating_recipient_count"] + share["associated_recipient_count"] == 3
    assert statuses(emulator, share["id"]) == dict.fromkeys(MEMBER_ACCOUNTS, "associated")


def test_recipients_of_an_organization_share_cannot_be_added_or_replaced(emulator):
    share = create(emulator, recipients=[{}])
    path = f"{SHARES}/{share['id']}/recipients"
    assert first_error(call(emulator, "POST", path, json={"recipient_account_id": MEMBER_B}), 400)["code"] == 1010
    assert first_error(call(emulator, "PUT", path, json=[{"recipient_account_id": MEMBER_B}]), 400)["code"] == 1010


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": None}, "/name"),
        ({"name": ""}, "/name"),
        ({"name": 42}, "/name"),
        ({"name": "x" * 256}, "/name"),
        ({"recipients": []}, "/recipients"),
        ({"recipients": None}, "/recipients"),
        ({"resources": []}, "/resources"),
        ({"resources": None}, "/resources"),
        ({"resources": [resource(resource_type="zone")]}, "/resources/0/resource_type"),
        ({"resources": [resource(meta=None)]}, "/resources/0/meta"),
        ({"resources": [resource(meta=[])]}, "/resources/0/meta"),
        ({"resources": [resource(resource_id="")]}, "/resources/0/resource_id"),
        ({"resources": [resource(), resource(resource_account_id="")]}, "/resources/1/resource_account_id"),
        ({"recipients": ["x"]}, "/recipients/0"),
        ({"recipients": [{"recipient_account_id": MEMBER_B, "organization_id": MAIN_ORG}]}, "/recipients/0"),
        ({"recipients": [{"recipient_account_id": MEMBER_B}, {}]}, "/recipients"),
        ({"recipients": [{"organization_id": FOREIGN_ORG}]}, "/recipients/0/organization_id"),
        ({"recipients": [{"recipient_account_id": FOREIGN_ACCOUNT}]}, "/recipients/0/recipient_account_id"),
        ({"recipients": [{"recipient_account_id": MAIN_ACCOUNT}]}, "/recipients/0/recipient_account_id"),
        ({"recipients": [{"recipient_account_id": "B"}]}, "/recipients/0/recipient_account_id"),
        (
            {"recipients": [{"account_id": MEMBER_B}, {"recipient_account_id": MEMBER_B}]},
            "/recipients/1/recipient_account_id",
        ),
    ],
)
def test_create_validation(emulator, body, pointer):
    payload = share_body()
    payload.update(body)
    response = call(emulator, "POST", SHARES, json={k: v for k, v in payload.items() if v is not None})
    failure = first_error(response, 400)
    assert (failure["code"], failure["source"]) == (1001, {"pointer": pointer})
    assert emulator.state() == []


@pytest.mark.parametrize("raw", ["not json", "[]", ""])
def test_create_needs_a_json_object(emulator, raw):
    response = call(
        emulator, "POST", SHARES, data=raw, headers={**emulator.auth_headers, "Content-Type": "application/json"}
    )
    assert first_error(response, 400)["code"] == 1003


def test_the_same_resource_twice_is_a_conflict(emulator):
    twice = call(emulator, "POST", SHARES, json=share_body(resources=[resource(), resource()]))
    assert first_error(twice, 409) == {
        "code": 1008,
        "message": "This resource is already part of the share",
        "source": {"pointer": "/resources/1"},
    }
    share = create(emulator)
    path = f"{SHARES}/{share['id']}/resources"
    assert first_error(call(emulator, "POST", path, json=resource()), 409)["code"] == 1008
    other_account = result(call(emulator, "POST", path, json=resource(resource_account_id=MEMBER_B)), 201)
    result(call(emulator, "DELETE", f"{path}/{other_account['id']}"))
    readded = result(call(emulator, "POST", path, json=resource(resource_account_id=MEMBER_B)), 201)
    assert readded["id"] != other_account["id"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/resource_type"),
        (resource(resource_type="zone"), "/resource_type"),
        ({**resource(), "meta": "x"}, "/meta"),
    ],
)
def test_add_resource_validation(emulator, body, pointer):
    share = create(emulator)
    failure = first_error(call(emulator, "POST", f"{SHARES}/{share['id']}/resources", json=body), 400)
    assert failure["source"]["pointer"] == pointer


def test_deprecated_account_id_alias_is_accepted_with_a_warning(emulator):
    response = call(emulator, "POST", SHARES, json=share_body(recipients=[{"account_id": MEMBER_B}]))
    warning = {"code": 1100, "message": "account_id is deprecated, use recipient_account_id"}
    assert response.json()["messages"] == [warning]
    share_id = response.json()["result"]["id"]
    added = call(emulator, "POST", f"{SHARES}/{share_id}/recipients", json={"account_id": MEMBER_C})
    assert added.status_code == 201 and added.json()["messages"] == [warning]
    replaced = call(emulator, "PUT", f"{SHARES}/{share_id}/recipients", json=[{"account_id": MEMBER_D}])
    assert replaced.status_code == 204
    assert statuses(emulator, share_id) == {
        MEMBER_B: "disassociated",
        MEMBER_C: "disassociated",
        MEMBER_D: "associated",
    }


# --- recipients -------------------------------------------------------------------------------


def test_put_recipients_adds_new_disassociates_missing_and_leaves_the_rest(emulator):
    emulator.configure(transition_seconds=600)
    share = create(emulator, recipients=[{"recipient_account_id": MEMBER_B}, {"recipient_account_id": MEMBER_C}])
    before = recipients_of(emulator, share["id"])
    response = call(
        emulator,
        "PUT",
        f"{SHARES}/{share['id']}/recipients",
        json=[{"recipient_account_id": MEMBER_C}, {"recipient_account_id": MEMBER_D}],
    )
    assert (response.status_code, response.content) == (204, b"")
    after = emulator.state()[0]["recipients"]
    assert [(r["account_id"], r["association_status"]) for r in after] == [
        (MEMBER_B, "disassociating"),
        (MEMBER_C, "associating"),
        (MEMBER_D, "associating"),
    ]
    assert after[1] == before[MEMBER_C]


@pytest.mark.parametrize(
    "body",
    [
        {"x": 1},
        [{"recipient_account_id": FOREIGN_ACCOUNT}],
        [{}],
        ["x"],
        [{"recipient_account_id": MEMBER_B}, {"recipient_account_id": MEMBER_B}],
    ],
)
def test_put_recipients_validation(emulator, body):
    share = create(emulator)
    assert call(emulator, "PUT", f"{SHARES}/{share['id']}/recipients", json=body).status_code == 400


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_adding_a_removed_recipient_reassociates_the_same_record(emulator, method):
    emulator.configure(transition_seconds=600)
    share = create(emulator)
    path = f"{SHARES}/{share['id']}/recipients"
    original = recipients_of(emulator, share["id"])[MEMBER_B]
    result(call(emulator, "DELETE", f"{path}/{original['id']}"))
    emulator.advance()
    assert recipients_of(emulator, share["id"])[MEMBER_B]["association_status"] == "disassociated"
    body = {"recipient_account_id": MEMBER_B}
    response = call(emulator, method, path, json=body if method == "POST" else [body])
    assert response.status_code == (201 if method == "POST" else 204)
    [record] = emulator.state()[0]["recipients"]
    assert (record["id"], record["association_status"]) == (original["id"], "associating")
    assert record["created"] == original["created"] and record["modified"] > original["modified"]


def test_adding_a_live_recipient_is_a_conflict(emulator):
    share = create(emulator)
    response = call(emulator, "POST", f"{SHARES}/{share['id']}/recipients", json={"recipient_account_id": MEMBER_B})
    assert first_error(response, 409)["code"] == 1007


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/recipient_account_id"),
        ({"recipient_account_id": FOREIGN_ACCOUNT}, "/recipient_account_id"),
        ({"recipient_account_id": MEMBER_C, "organization_id": MAIN_ORG}, "/organization_id"),
    ],
)
def test_add_recipient_validation(emulator, body, pointer):
    share = create(emulator)
    failure = first_error(call(emulator, "POST", f"{SHARES}/{share['id']}/recipients", json=body), 400)
    assert failure["source"]["pointer"] == pointer


def test_remove_recipient(emulator):
    share = create(emulator)
    [recipient] = recipients_of(emulator, share["id"]).values()
    removed = result(call(emulator, "DELETE", f"{SHARES}/{share['id']}/recipients/{recipient['id']}"))
    assert removed["association_status"] == "disassociating"
    again = result(call(emulator, "DELETE", f"{SHARES}/{share['id']}/recipients/{recipient['id']}"))
    assert again["association_status"] == "disassociated"


# --- updates and deletion ---------------------------------------------------------------------


def test_update_share_changes_only_the_name(emulator):
    share = create(emulator)
    updated = result(
        call(
            emulator,
            "PUT",
            f"{SHARES}/{share['id']}",
            json={"name": "renamed", "target_type": "organization", "status": "deleted"},
        )
    )
    assert (updated["name"], updated["target_type"], updated["status"]) == ("renamed", "account", "active")
    assert updated["modified"] > share["modified"] and updated["created"] == share["created"]
    assert first_error(call(emulator, "PUT", f"{SHARES}/{share['id']}", json={"name": ""}), 400)["code"] == 1001


def test_update_resource_changes_only_meta_and_bumps_the_version(emulator):
    share = create(emulator)
    added = share["resources"][0]
    path = f"{SHARES}/{share['id']}/resources/{added['id']}"
    updated = result(call(emulator, "PUT", path, json={"meta": {"k": "v"}, "resource_id": "other"}))
    assert (updated["meta"], updated["resource_version"], updated["resource_id"]) == ({"k": "v"}, 1, "ruleset-1")
    assert updated["modified"] > added["modified"]
    assert result(call(emulator, "GET", path)) == updated
    assert first_error(call(emulator, "PUT", path, json={"meta": 3}), 400)["source"] == {"pointer": "/meta"}


def test_delete_share_starts_deleting_everything(emulator):
    share = create(emulator, recipients=[{"recipient_account_id": MEMBER_B}, {"recipient_account_id": MEMBER_C}])
    deleted = result(call(emulator, "DELETE", f"{SHARES}/{share['id']}"))
    assert deleted["status"] == "deleting"
    [snapshot] = emulator.state()
    assert snapshot["status"] == "deleted"
    assert {r["status"] for r in snapshot["resources"]} == {"deleted"}
    assert {r["association_status"] for r in snapshot["recipients"]} == {"disassociated"}
    assert result(call(emulator, "GET", f"{SHARES}/{share['id']}"))["status"] == "deleted"


def test_purged_deleted_shares_are_gone_once_deleted(emulator):
    emulator.configure(deleted_shares="purged")
    share, kept = create(emulator), create(emulator, name="kept")
    assert result(call(emulator, "DELETE", f"{SHARES}/{share['id']}"))["status"] == "deleting"
    assert first_error(call(emulator, "GET", f"{SHARES}/{share['id']}"), 404)["code"] == 1004
    assert [s["id"] for s in result(call(emulator, "GET", SHARES, params={"status": "deleted"}))] == []
    assert [s["id"] for s in emulator.state()] == [kept["id"]]


def test_writes_on_a_deleted_share_are_refused(emulator):
    share = create(emulator)
    result(call(emulator, "DELETE", f"{SHARES}/{share['id']}"))
    path = f"{SHARES}/{share['id']}"
    for method, sub, body in [
        ("PUT", "", {"name": "x"}),
        ("DELETE", "", None),
        ("POST", "/resources", resource("r9")),
        ("POST", "/recipients", {"recipient_account_id": MEMBER_C}),
    ]:
        assert first_error(call(emulator, method, path + sub, json=body), 400)["code"] == 1009


def test_remove_resource(emulator):
    share = create(emulator)
    path = f"{SHARES}/{share['id']}/resources/{share['resources'][0]['id']}"
    assert result(call(emulator, "DELETE", path))["status"] == "deleting"
    assert result(call(emulator, "GET", path))["status"] == "deleted"
    assert first_error(call(emulator, "PUT", path, json={"meta": {}}), 400)["code"] == 1012


# --- asynchronous transitions -------------------------------------------------------------------


def test_transition_seconds_delays_the_final_status(emulator):
    emulator.configure(transition_seconds=0.5)
    share = create(emulator)
    assert statuses(emulator, share["id"]) == {MEMBER_B: "associating"}
    time.sleep(0.55)
    assert statuses(emulator, share["id"]) == {MEMBER_B: "associated"}


def test_advance_completes_pending_transitions(emulator):
    emulator.configure(transition_seconds=600)
    share = create(emulator, recipients=[{"recipient_account_id": MEMBER_B}, {"recipient_account_id": MEMBER_C}])
    result(call(emulator, "DELETE", f"{SHARES}/{share['id']}/resources/{share['resources'][0]['id']}"))
    assert statuses(emulator, share["id"]) == {MEMBER_B: "associating", MEMBER_C: "associating"}
    assert emulator.advance() == 3
    assert statuses(emulator, share["id"]) == {MEMBER_B: "associated", MEMBER_C: "associated"}
    assert emulator.state()[0]["resources"][0]["status"] == "deleted"
    assert emulator.advance() == 0


def test_seeded_transitional_statuses_wait_for_advance(emulator):
    emulator.seed(
        [
            {
                "name": "s",
                "status": "deleting",
                "recipients": [{"account_id": MEMBER_B, "association_status": "associating"}],
            }
        ]
    )
    time.sleep(0.01)
    [share] = emulator.state()
    assert (share["status"], share["recipients"][0]["association_status"]) == ("deleting", "associating")
    assert emulator.advance() == 2
    [share] = emulator.state()
    assert (share["status"], share["recipients"][0]["association_status"]) == ("deleted", "associated")


# --- faults -------------------------------------------------------------------------------------


def test_status_fault_with_retry_after_after_and_times(emulator):
    emulator.add_faults(
        {
            "action": "status",
            "status": 503,
            "retry_after": 7,
            "method": "GET",
            "path": "/shares$",
            "after": 1,
            "times": 2,
        }
    )
    responses = [call(emulator, "GET", SHARES) for _request in range(4)]
    assert [response.status_code for response in responses] == [200, 503, 503, 200]
    assert responses[1].headers["Retry-After"] == "7"
    assert first_error(responses[2], 503) == {"code": 10001, "message": "Emulated fault"}
    emulator.add_faults({"action": "status", "status": 500, "code": 1234, "message": "boom"})
    assert first_error(call(emulator, "GET", SHARES), 500) == {"code": 1234, "message": "boom"}
    assert [entry["fault"] for entry in emulator.requests_log()] == [None, "status", "status", None, "status"]


def test_fault_matching_by_method_and_path(emulator):
    emulator.add_faults({"action": "status", "status": 502, "method": "post", "path": r"/shares$", "times": 5})
    assert call(emulator, "GET", SHARES).status_code == 200
    assert call(emulator, "POST", SHARES, json=share_body()).status_code == 502
    assert call(emulator, "GET", f"/organizations/{MAIN_ORG}/shares").status_code == 200
    assert emulator.state() == []  # a faulted request changes nothing


def test_html_fault(emulator):
    emulator.add_faults({"action": "html"})
    response = call(emulator, "GET", SHARES)
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")


def test_success_false_fault(emulator):
    emulator.add_faults({"action": "success_false"})
    document = call(emulator, "GET", SHARES).json()
    assert document["success"] is False and document["errors"][0]["code"] == 10001


def test_not_json_fault(emulator):
    emulator.add_faults({"action": "not_json"})
    response = call(emulator, "GET", SHARES)
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_truncate_fault(emulator):
    emulator.add_faults({"action": "truncate"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        call(emulator, "GET", SHARES)


def test_drop_fault(emulator):
    emulator.add_faults({"action": "drop", "method": "POST"})
    with pytest.raises(requests.exceptions.ConnectionError):
        call(emulator, "POST", SHARES, json=share_body(), timeout=1)
    assert emulator.state() == []
    entry = emulator.requests_log()[0]
    assert entry["time"] <= time.monotonic()
    assert entry | {"body": None, "client_port": None, "time": None} == {
        "seq": 1,
        "method": "POST",
        "path": f"/client/v4{SHARES}",
        "query": {},
        "body": None,
        "status": None,
        "auth": "token",
        "fault": "drop",
        "client_port": None,
        "time": None,
    }


def test_hang_fault_outlasts_a_short_client_timeout(emulator):
    emulator.add_faults({"action": "hang", "seconds": 2})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(emulator, "GET", SHARES, timeout=0.2)
    assert time.monotonic() - started < 1.5


def test_hang_fault_is_bounded(emulator):
    emulator.add_faults({"action": "hang", "seconds": 0.3})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        call(emulator, "GET", SHARES, timeout=5)
    assert 0.3 <= time.monotonic() - started < 2
    assert call(emulator, "GET", SHARES).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "explode"},
        {"status": 500},
        {"action": "status", "status": 9999},
        {"action": "drop", "path": "("},
        {"action": "drop", "colour": "red"},
    ],
)
def test_invalid_faults_are_refused(emulator, fault):
    with pytest.raises(EmulatorError, match="400"):
        emulator.add_faults(fault)


def test_clear_faults(emulator):
    emulator.add_faults({"action": "drop", "times": 100})
    emulator.clear_faults()
    assert call(emulator, "GET", SHARES).status_code == 200


# --- latency and rate limit ----------------------------------------------------------------------


def test_latency_is_added_to_api_requests(emulator):
    emulator.configure(latency_ms=150)
    started = time.monotonic()
    assert call(emulator, "GET", SHARES).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_rate_limit_answers_429_with_retry_after(emulator):
    emulator.configure(rate_limit={"requests": 3, "window_seconds": 1})
    assert [call(emulator, "GET", SHARES).status_code for _request in range(3)] == [200, 200, 200]
    limited = call(emulator, "GET", SHARES)
    assert first_error(limited, 429) == {
        "code": 971,
        "message": "Please wait and consider throttling your request speed",
    }
    retry_after = int(limited.headers["Retry-After"])
    assert retry_after == 1
    time.sleep(retry_after)
    assert call(emulator, "GET", SHARES).status_code == 200


# --- request log and admin API -------------------------------------------------------------------


def test_request_log_records_requests_but_never_a_secret(emulator):
    call(emulator, "POST", SHARES, json=share_body())
    call(emulator, "GET", SHARES, params=[("resource_types", "a"), ("resource_types", "b")])
    call(emulator, "GET", SHARES, headers={"X-Auth-Email": EMAIL, "X-Auth-Key": KEY})
    call(emulator, "GET", SHARES, headers={"Authorization": "Bearer wrong-secret-token"})
    call(emulator, "GET", SHARES, headers={"X-Auth-Email": "spy@example.com", "X-Auth-Key": "wrong-secret-key"})
    call(emulator, "POST", SHARES, data="raw text", headers={**emulator.auth_headers, "Content-Type": "text/plain"})
    call(emulator, "GET", SHARES, headers={})
    log = emulator.requests_log()
    assert [entry["seq"] for entry in log] == list(range(1, 8))
    assert [entry["auth"] for entry in log] == ["token", "token", "key", "invalid", "invalid", "token", "none"]
    assert log[0]["body"]["name"] == "waf" and log[0]["status"] == 201
    assert log[1]["query"] == {"resource_types": ["a", "b"]}
    assert log[5]["body"] == "raw text"
    logged = json.dumps(log)
    for secret in (TOKEN, EMAIL, KEY, "wrong-secret-token", "spy@example.com", "wrong-secret-key"):
        assert secret not in logged


def test_admin_requests_are_not_logged_and_the_log_clears(emulator):
    create(emulator)
    emulator.state()
    assert [entry["method"] for entry in emulator.writes()] == ["POST"]
    emulator.clear_log()
    assert emulator.requests_log() == []


def test_state_is_sorted_and_complete(emulator):
    seeded = emulator.seed(
        [{"name": "z", "id": "a" * 32}, {"name": "a", "account_id": FOREIGN_ACCOUNT, "status": "deleted"}]
    )
    assert emulator.state() == seeded
    assert [share["name"] for share in emulator.state()] == ["z", "a"]
    assert seeded[0]["id"] == "a" * 32 and seeded[1]["organization_id"] == FOREIGN_ORG


def test_seed_refuses_bad_specs_atomically(emulator):
    with pytest.raises(EmulatorError, match="400"):
        emulator.seed([{"name": "ok"}, {"account_id": MAIN_ACCOUNT}])
    emulator.seed([{"name": "ok", "id": "b" * 32}])
    with pytest.raises(EmulatorError, match="new and distinct"):
        emulator.seed([{"name": "again", "id": "b" * 32}])
    assert [share["name"] for share in emulator.state()] == ["ok"]


def test_configure_returns_the_config_and_reset_restores_it(emulator):
    config = emulator.configure(latency_ms=5, unpaginated_max=10, rate_limit={"requests": 9, "window_seconds": 60})
    assert config == dict(
        DEFAULT_CONFIG, latency_ms=5, unpaginated_max=10, rate_limit={"requests": 9, "window_seconds": 60}
    )
    with pytest.raises(EmulatorError, match="400"):
        emulator.configure(latency_ms=-1)
    with pytest.raises(EmulatorError, match="400"):
        emulator.configure(speed=3)
    emulator.reset()
    assert emulator.configure() == DEFAULT_CONFIG


# --- HTTP ----------------------------------------------------------------------------------------


def test_keep_alive_requests_do_not_stall(emulator):
    with requests.Session() as session:
        session.headers.update(emulator.auth_headers)
        session.get(emulator.base_url + SHARES, timeout=TIMEOUT)  # connect outside the timing
        started = time.perf_counter()
        for _request in range(200):
            assert session.get(emulator.base_url + SHARES, timeout=TIMEOUT).status_code == 200
        average_ms = (time.perf_counter() - started) / 200 * 1000
    assert average_ms < 20, (
        f"{average_ms:.1f} ms per kept-alive request: responses are probably written "
        "in two pieces with Nagle on (the ~40 ms delayed-ACK stall)"
    )


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=emulator",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def test_a_second_emulator_with_tls_and_its_own_flags(tls_files):
    cert, key = tls_files
    flags = ("--token", "other-token", "--transition-seconds", "60")
    with Emulator(tls_cert=cert, tls_key=key, server_args=flags) as other:
        assert other.url.startswith("https://127.0.0.1:")
        headers = {"Authorization": "Bearer other-token"}
        body = share_body()
        created = requests.post(
            other.base_url + SHARES, json=body, headers=headers, verify=other.verify, timeout=TIMEOUT
        )
        assert created.status_code == 201
        listed = requests.get(
            f"{other.base_url}{SHARES}/{created.json()['result']['id']}/recipients",
            headers=headers,
            verify=other.verify,
            timeout=TIMEOUT,
        )
        assert listed.json()["result"][0]["association_status"] == "associating"
        rejected = requests.get(
            other.base_url + SHARES, headers={"Authorization": f"Bearer {TOKEN}"}, verify=other.verify, timeout=TIMEOUT
        )
        assert rejected.status_code == 403
        process = other.process
    assert process.poll() is not None


def test_startup_failure_is_reported():
    with pytest.raises(EmulatorError, match="exit code 2"):
        Emulator(server_args=("--no-such-flag",)).start()


# --- the reference's edges (issue #10; CONTRACT.md "Reference behaviours") ------------------------------------


def test_organization_listing_ignores_include_resources_and_counts(emulator):
    create(emulator, recipients=[{}])
    [share] = result(
        call(
            emulator,
            "GET",
            f"/organizations/{MAIN_ORG}/shares",
            params={"include_resources": "true", "include_recipient_counts": "true"},
        )
    )
    assert "resources" not in share and "associated_recipient_count" not in share


def test_tokens_are_refused_on_organization_endpoints_and_read_tokens_on_writes(emulator):
    organization = f"/organizations/{MAIN_ORG}/shares"
    assert first_error(call(emulator, "GET", organization, headers=emulator.auth_headers), 403)["code"] == 10000
    assert call(emulator, "GET", organization, headers=KEY_HEADERS).status_code == 200
    read = {"Authorization": f"Bearer {READ_TOKEN}"}
    assert call(emulator, "GET", SHARES, headers=read).status_code == 200
    assert first_error(call(emulator, "POST", SHARES, json=share_body(), headers=read), 403)["code"] == 10000
    assert emulator.state() == []
    assert [entry["auth"] for entry in emulator.requests_log()][-2:] == ["read-token", "read-token"]


def excluded_path(share_id: str, excluded_id: str = "") -> str:
    return f"{SHARES}/{share_id}/excluded-recipients" + (f"/{excluded_id}" if excluded_id else "")


def test_excluded_recipients_of_an_organization_share(emulator):
    share = create(emulator, recipients=[{}])
    added = result(call(emulator, "POST", excluded_path(share["id"]), json={"account_id": MEMBER_B}), 201)
    assert set(added) == {"id", "account_id", "created", "modified"} and added["account_id"] == MEMBER_B
    assert statuses(emulator, share["id"])[MEMBER_B] == "disassociated"
    assert first_error(call(emulator, "POST", excluded_path(share["id"]), json={"account_id": MEMBER_B}), 409)
    assert first_error(call(emulator, "POST", excluded_path(share["id"]), json={"account_id": FOREIGN_ACCOUNT}), 400)
    assert result(call(emulator, "GET", excluded_path(share["id"], added["id"]))) == added
    # PUT reconciles the whole list and answers 204: B is no longer excluded, C and D are.
    response = call(
        emulator, "PUT", excluded_path(share["id"]), json=[{"account_id": MEMBER_C}, {"account_id": MEMBER_D}]
    )
    assert response.status_code == 204 and response.content == b""
    listed = result(call(emulator, "GET", excluded_path(share["id"])))
    assert sorted(e["account_id"] for e in listed) == sorted([MEMBER_C, MEMBER_D])
    assert statuses(emulator, share["id"]) == {
        MEMBER_B: "associated",
        MEMBER_C: "disassociated",
        MEMBER_D: "disassociated",
    }
    removed = result(call(emulator, "DELETE", excluded_path(share["id"], listed[0]["id"])))
    assert removed == listed[0]
    assert statuses(emulator, share["id"])[listed[0]["account_id"]] == "associated"
    assert first_error(call(emulator, "GET", excluded_path(share["id"], listed[0]["id"])), 404)["code"] == 1014


def test_excluded_recipients_are_only_for_organization_shares(emulator):
    share = create(emulator)
    assert first_error(call(emulator, "GET", excluded_path(share["id"])), 400)["code"] == 1013
    assert (
        first_error(call(emulator, "POST", excluded_path(share["id"]), json={"account_id": MEMBER_C}), 400)["code"]
        == 1013
    )


def test_an_association_error_shows_in_recipients_with_include_resources_and_holds_the_status(emulator):
    emulator.configure(transition_seconds=0)
    share = create(emulator, recipients=[{"recipient_account_id": MEMBER_B}, {"recipient_account_id": MEMBER_C}])
    emulator.add_association_error(share["id"], MEMBER_B, "Recipient is missing necessary entitlement", True)
    recipients = result(
        call(emulator, "GET", f"{SHARES}/{share['id']}/recipients", params={"include_resources": "true"})
    )
    by_account = {r["account_id"]: r for r in recipients}
    assert by_account[MEMBER_B]["resources"] == [
        {
            "resource_id": "ruleset-1",
            "resource_version": 0,
            "error": "Recipient is missing necessary entitlement",
            "terminal": True,
        }
    ]
    assert by_account[MEMBER_C]["resources"][0]["error"] == ""
    assert "resources" not in result(call(emulator, "GET", f"{SHARES}/{share['id']}/recipients"))[0]
    emulator.clear_association_errors()
    assert statuses(emulator, share["id"]) == {MEMBER_B: "associated", MEMBER_C: "associated"}


def test_a_recipient_with_an_association_error_stays_associating(emulator):
    emulator.configure(transition_seconds=0.01)
    share_id = emulator.seed(
        [
            {
                "name": "x",
                "recipients": [{"account_id": MEMBER_B, "association_status": "associating"}],
                "resources": [{"resource_id": "r", "resource_type": "custom-ruleset"}],
            }
        ]
    )[0]["id"]
    emulator.add_association_error(share_id, MEMBER_B, "transient trouble", False)
    emulator.advance()
    assert statuses(emulator, share_id) == {MEMBER_B: "associating"}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"empty_meta_echo": "null"}, {"meta": None}),
        ({"empty_meta_echo": "omitted"}, {}),
        ({"meta_key_order": "reversed"}, {"meta": {"b": 2, "a": 1}}),
    ],
)
def test_meta_echo_settings(emulator, config, expected):
    emulator.configure(**config)
    meta = {} if "empty_meta_echo" in config else {"a": 1, "b": 2}
    share = create(emulator, resources=[resource(meta=meta)])
    [echoed] = share["resources"]
    assert {key: echoed[key] for key in ("meta",) if key in echoed} == expected
    if "meta_key_order" in config:
        assert list(echoed["meta"]) == ["b", "a"]


def test_canonical_resource_ids_are_stored_lower_case_without_dashes(emulator):
    emulator.configure(resource_id_form="canonical")
    share = create(
        emulator, resources=[resource("6F1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B", "gateway-policy"), resource("not-a-uuid")]
    )
    assert sorted(r["resource_id"] for r in share["resources"]) == ["6f1c2b3a4d5e4f608a7b9c0d1e2f3a4b", "not-a-uuid"]
