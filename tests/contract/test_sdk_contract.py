"""The official Cloudflare SDK (cloudflare-python) against the emulator.

Every method of ``client.resource_sharing`` and of its ``recipients`` and
``resources`` is called here, and the typed (pydantic) answers are checked field
by field: if the emulator answered something the SDK cannot parse, these tests
fail (the client validates strictly). ``test_every_sdk_method_has_a_test`` fails when the SDK grows a method that
has no ``test_<group>_<method>`` here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import cloudflare
import pytest
from cloudflare import Cloudflare
from cloudflare.types.resource_sharing import (
    RecipientCreateResponse,
    RecipientDeleteResponse,
    RecipientGetResponse,
    RecipientListResponse,
    ResourceCreateResponse,
    ResourceDeleteResponse,
    ResourceGetResponse,
    ResourceListResponse,
    ResourceSharingCreateResponse,
    ResourceSharingDeleteResponse,
    ResourceSharingGetResponse,
    ResourceSharingListResponse,
    ResourceSharingUpdateResponse,
    ResourceUpdateResponse,
)

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    EMAIL,
    KEY,
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
    TOKEN,
    Emulator,
)

MEMBER_B, MEMBER_C, MEMBER_D = MEMBER_ACCOUNTS
RULESET = {
    "resource_id": "ruleset-1",
    "resource_account_id": MAIN_ACCOUNT,
    "resource_type": "custom-ruleset",
    "meta": {},
}
SDK_WRAPPERS = {"with_raw_response", "with_streaming_response"}
SDK_SUB_RESOURCES = {"recipients", "resources"}
SDK_ENVIRONMENT = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_API_USER_SERVICE_KEY",
    "CLOUDFLARE_BASE_URL",
)


pytestmark = pytest.mark.usefixtures("clean_emulator")  # every test starts from the default world


@pytest.fixture(autouse=True)
def _no_cloudflare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Cloudflare credentials or base URL in the environment for the SDK to pick up."""
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def sdk_client(emulator: Emulator, **credentials: str) -> Cloudflare:
    # Strict: an answer that does not fit the SDK's models raises instead of passing through raw.
    return Cloudflare(
        base_url=emulator.base_url, max_retries=0, timeout=10, _strict_response_validation=True, **credentials
    )


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Cloudflare]:
    with sdk_client(emulator, api_token=TOKEN) as sdk:
        yield sdk


def assert_utc(*moments: datetime) -> None:
    for moment in moments:
        assert isinstance(moment, datetime) and moment.utcoffset() == timedelta(0)


def create_share(
    client: Cloudflare, recipients: list[dict] | None = None, resources: list[dict] | None = None
) -> ResourceSharingCreateResponse:
    return client.resource_sharing.create(
        account_id=MAIN_ACCOUNT,
        name="waf",
        recipients=[{"recipient_account_id": MEMBER_B}] if recipients is None else recipients,
        resources=[RULESET] if resources is None else resources,
    )


def new_share(
    client: Cloudflare, recipients: list[dict] | None = None, resources: list[dict] | None = None
) -> ResourceSharingGetResponse:
    """A new share read back with its resources (the create answer does not promise them)."""
    created = create_share(client, recipients, resources)
    return client.resource_sharing.get(created.id, account_id=MAIN_ACCOUNT, include_resources=True)


def sdk_requests(emulator: Emulator) -> list[tuple[str, dict]]:
    return [(entry["method"], entry["query"]) for entry in emulator.requests_log()]


# --- client.resource_sharing -----------------------------------------------------------------


def test_resource_sharing_create(client, emulator):
    share = create_share(client)
    assert isinstance(share, ResourceSharingCreateResponse)
    assert (share.account_id, share.account_name, share.organization_id) == (MAIN_ACCOUNT, "Account A", MAIN_ORG)
    assert (share.name, share.status, share.kind, share.target_type) == ("waf", "active", "sent", "account")
    assert_utc(share.created, share.modified)
    # The minimal profile (the default) answers only what the schema promises without include_*.
    assert (share.resources, share.associating_recipient_count) == (None, None)
    emulator.configure(answer_profile="generous")
    share = create_share(client)
    assert (share.associating_recipient_count, share.associated_recipient_count) == (1, 0)
    [shared] = share.resources
    assert (shared.resource_type, shared.resource_version, shared.status, shared.meta) == (
        "custom-ruleset",
        0,
        "active",
        {},
    )
    assert_utc(shared.created, shared.modified)

    organization_share = create_share(client, recipients=[{}])
    assert organization_share.target_type == "organization"
    assert organization_share.associating_recipient_count == len(MEMBER_ACCOUNTS)


def test_resource_sharing_update(client):
    share = new_share(client)
    updated = client.resource_sharing.update(share.id, account_id=MAIN_ACCOUNT, name="renamed")
    assert isinstance(updated, ResourceSharingUpdateResponse)
    assert (updated.id, updated.name, updated.status) == (share.id, "renamed", "active")
    assert updated.created == share.created and updated.modified > share.modified
    assert updated.resources is None and updated.associated_recipient_count is None


def test_resource_sharing_list(client, emulator):
    seeded = emulator.seed(
        [
            {
                "name": f"share-{n:02}",
                "recipients": [{"account_id": MEMBER_B}],
                "resources": [{"resource_id": f"r{n}", "resource_type": "gateway-policy"}],
            }
            for n in range(45)
        ]
    )
    emulator.clear_log()
    listed = list(client.resource_sharing.list(account_id=MAIN_ACCOUNT, per_page=20))
    assert [share.id for share in listed] == [share["id"] for share in seeded]
    assert all(isinstance(share, ResourceSharingListResponse) for share in listed)
    assert_utc(*(share.created for share in listed))
    pages = [(query.get("page"), query["per_page"]) for _method, query in sdk_requests(emulator)]
    assert pages == [(None, ["20"]), (["2"], ["20"]), (["3"], ["20"]), (["4"], ["20"])]  # page 4 is empty

    emulator.clear_log()
    [first] = client.resource_sharing.list(
        account_id=MAIN_ACCOUNT,
        status="active",
        kind="sent",
        target_type="account",
        resource_types=["gateway-policy", "trust-grant"],
        order="name",
        direction="desc",
        include_resources=True,
        include_recipient_counts=True,
        per_page=1,
    ).result
    assert first.name == "share-44" and first.kind == "sent"
    assert first.resources[0].resource_type == "gateway-policy" and first.associated_recipient_count == 1
    [(_method, query)] = sdk_requests(emulator)
    assert query["resource_types"] == ["gateway-policy", "trust-grant"]
    assert query["include_resources"] == ["true"]


def test_resource_sharing_delete(client):
    share = new_share(client)
    deleted = client.resource_sharing.delete(share.id, account_id=MAIN_ACCOUNT)
    assert isinstance(deleted, ResourceSharingDeleteResponse)
    assert (deleted.id, deleted.status) == (share.id, "deleting")
    assert client.resource_sharing.get(share.id, account_id=MAIN_ACCOUNT).status == "deleted"


def test_resource_sharing_get(client, emulator):
    share = new_share(client)
    fetched = client.resource_sharing.get(
        share.id, account_id=MAIN_ACCOUNT, include_resources=True, include_recipient_counts=True
    )
    assert isinstance(fetched, ResourceSharingGetResponse)
    assert (fetched.id, fetched.name, fetched.associated_recipient_count) == (share.id, "waf", 1)
    assert [r.resource_id for r in fetched.resources] == ["ruleset-1"]

    [received] = emulator.seed(
        [{"name": "for-a", "account_id": MEMBER_B, "recipients": [{"account_id": MAIN_ACCOUNT}]}]
    )
    seen_by_recipient = client.resource_sharing.get(received["id"], account_id=MAIN_ACCOUNT)
    assert (seen_by_recipient.kind, seen_by_recipient.account_id) == ("received", MEMBER_B)


# --- client.resource_sharing.recipients --------------------------------------------------------


def test_recipients_create(client):
    share = new_share(client)
    added = client.resource_sharing.recipients.create(
        share.id, path_account_id=MAIN_ACCOUNT, recipient_account_id=MEMBER_C
    )
    assert isinstance(added, RecipientCreateResponse)
    assert (added.account_id, added.association_status, added.resources) == (MEMBER_C, "associating", None)
    assert_utc(added.created, added.modified)
    by_alias = client.resource_sharing.recipients.create(
        share.id, path_account_id=MAIN_ACCOUNT, body_account_id=MEMBER_D
    )
    assert by_alias.account_id == MEMBER_D


def test_recipients_list(client):
    share = new_share(client, recipients=[{"recipient_account_id": account} for account in MEMBER_ACCOUNTS])
    listed = list(client.resource_sharing.recipients.list(share.id, account_id=MAIN_ACCOUNT, include_resources=True))
    assert [r.account_id for r in listed] == list(MEMBER_ACCOUNTS)
    assert all(isinstance(r, RecipientListResponse) and r.association_status == "associated" for r in listed)
    [report] = listed[0].resources
    assert (report.resource_id, report.resource_version, report.error, report.terminal) == ("ruleset-1", 0, "", False)


def test_recipients_get(client):
    share = new_share(client)
    [recipient] = client.resource_sharing.recipients.list(share.id, account_id=MAIN_ACCOUNT)
    fetched = client.resource_sharing.recipients.get(
        recipient.id, account_id=MAIN_ACCOUNT, share_id=share.id, include_resources=True
    )
    assert isinstance(fetched, RecipientGetResponse)
    assert (fetched.id, fetched.account_id) == (recipient.id, MEMBER_B)
    assert [r.resource_id for r in fetched.resources] == ["ruleset-1"]


def test_recipients_delete(client):
    share = new_share(client)
    [recipient] = client.resource_sharing.recipients.list(share.id, account_id=MAIN_ACCOUNT)
    removed = client.resource_sharing.recipients.delete(recipient.id, account_id=MAIN_ACCOUNT, share_id=share.id)
    assert isinstance(removed, RecipientDeleteResponse)
    assert (removed.id, removed.association_status) == (recipient.id, "disassociating")


# --- client.resource_sharing.resources ---------------------------------------------------------


def test_resources_create(client):
    share = new_share(client)
    added = client.resource_sharing.resources.create(
        share.id,
        account_id=MAIN_ACCOUNT,
        resource_id="11111111-2222-3333-4444-555555555555",
        resource_account_id=MAIN_ACCOUNT,
        resource_type="gateway-policy",
        meta={"note": "uuid ids are fine"},
    )
    assert isinstance(added, ResourceCreateResponse)
    assert (added.resource_type, added.status, added.resource_version, added.meta) == (
        "gateway-policy",
        "active",
        0,
        {"note": "uuid ids are fine"},
    )
    assert_utc(added.created, added.modified)


def test_resources_update(client):
    share = new_share(client)
    updated = client.resource_sharing.resources.update(
        share.resources[0].id, account_id=MAIN_ACCOUNT, share_id=share.id, meta={"version": 2}
    )
    assert isinstance(updated, ResourceUpdateResponse)
    assert (updated.meta, updated.resource_version) == ({"version": 2}, 1)
    assert updated.modified > updated.created


def test_resources_list(client):
    share = new_share(client, resources=[RULESET, {**RULESET, "resource_id": "ruleset-2"}])
    client.resource_sharing.resources.delete(share.resources[1].id, account_id=MAIN_ACCOUNT, share_id=share.id)
    listed = list(client.resource_sharing.resources.list(share.id, account_id=MAIN_ACCOUNT, per_page=1))
    assert [(r.resource_id, r.status) for r in listed] == [("ruleset-1", "active"), ("ruleset-2", "deleted")]
    assert all(isinstance(r, ResourceListResponse) for r in listed)
    active = client.resource_sharing.resources.list(
        share.id, account_id=MAIN_ACCOUNT, status="active", resource_type="custom-ruleset"
    )
    assert [r.resource_id for r in active] == ["ruleset-1"]


def test_resources_delete(client):
    share = new_share(client)
    removed = client.resource_sharing.resources.delete(
        share.resources[0].id, account_id=MAIN_ACCOUNT, share_id=share.id
    )
    assert isinstance(removed, ResourceDeleteResponse)
    assert removed.status == "deleting"


def test_resources_get(client):
    share = new_share(client)
    fetched = client.resource_sharing.resources.get(share.resources[0].id, account_id=MAIN_ACCOUNT, share_id=share.id)
    assert isinstance(fetched, ResourceGetResponse)
    assert fetched == ResourceGetResponse.model_validate(share.resources[0].model_dump())


# --- authentication, errors, pagination, coverage ----------------------------------------------


def test_legacy_global_key_authentication(emulator):
    with sdk_client(emulator, api_email=EMAIL, api_key=KEY) as legacy:
        assert list(legacy.resource_sharing.list(account_id=MAIN_ACCOUNT)) == []
    assert {entry["auth"] for entry in emulator.requests_log()} == {"key"}


def wrong_token(emulator: Emulator, client: Cloudflare) -> None:
    with sdk_client(emulator, api_token="wrong-token") as stranger:
        stranger.resource_sharing.list(account_id=MAIN_ACCOUNT)


def missing_share(emulator: Emulator, client: Cloudflare) -> None:
    client.resource_sharing.get("0" * 32, account_id=MAIN_ACCOUNT)


def empty_name(emulator: Emulator, client: Cloudflare) -> None:
    client.resource_sharing.update(new_share(client).id, account_id=MAIN_ACCOUNT, name="")


def recipient_twice(emulator: Emulator, client: Cloudflare) -> None:
    share = new_share(client)
    client.resource_sharing.recipients.create(share.id, path_account_id=MAIN_ACCOUNT, recipient_account_id=MEMBER_B)


def rate_limited(emulator: Emulator, client: Cloudflare) -> None:
    emulator.configure(rate_limit={"requests": 1, "window_seconds": 60})
    for _request in range(2):
        client.resource_sharing.list(account_id=MAIN_ACCOUNT)


def unauthorized_fault(emulator: Emulator, client: Cloudflare) -> None:
    emulator.add_faults({"action": "status", "status": 401, "code": 10000, "message": "Authentication error"})
    client.resource_sharing.list(account_id=MAIN_ACCOUNT)


def unavailable_fault(emulator: Emulator, client: Cloudflare) -> None:
    emulator.add_faults({"action": "status", "status": 503, "retry_after": 1})
    client.resource_sharing.list(account_id=MAIN_ACCOUNT)


@pytest.mark.parametrize(
    ("trigger", "exception", "code"),
    [
        (wrong_token, cloudflare.PermissionDeniedError, 10000),
        (unauthorized_fault, cloudflare.AuthenticationError, 10000),
        (missing_share, cloudflare.NotFoundError, 1004),
        (empty_name, cloudflare.BadRequestError, 1001),
        (recipient_twice, cloudflare.ConflictError, 1007),
        (rate_limited, cloudflare.RateLimitError, 971),
        (unavailable_fault, cloudflare.InternalServerError, 10001),
    ],
)
def test_errors_map_to_sdk_exceptions(emulator, client, trigger: Callable, exception: type, code: int):
    with pytest.raises(exception) as raised:
        trigger(emulator, client)
    assert [error.code for error in raised.value.errors] == [code]
    assert raised.value.body["success"] is False


def test_the_sdk_client_validates_answers(client, emulator):
    [odd] = emulator.seed([{"name": "odd", "status": "archived"}])
    with pytest.raises(cloudflare.APIResponseValidationError):
        client.resource_sharing.get(odd["id"], account_id=MAIN_ACCOUNT)


def test_sdk_auto_pagination_without_per_page_repeats_items(client, emulator):
    """A hazard for callers, faithful to the reference: without page/per_page the first answer
    holds everything; the SDK then asks for page=2, which the API paginates at the default 20
    per page, so shares 21-45 come a second time. Callers must always pass per_page."""
    ids = [share["id"] for share in emulator.seed([{"name": f"s{n}"} for n in range(45)])]
    assert [share.id for share in client.resource_sharing.list(account_id=MAIN_ACCOUNT)] == ids + ids[20:]


def test_every_sdk_method_has_a_test(client):
    groups = {
        "resource_sharing": client.resource_sharing,
        "recipients": client.resource_sharing.recipients,
        "resources": client.resource_sharing.resources,
    }
    methods = {
        name: {
            attribute
            for attribute in dir(resource)
            if not attribute.startswith("_") and inspect.ismethod(getattr(resource, attribute))
        }
        for name, resource in groups.items()
    }
    other_attributes = {attribute for attribute in dir(client.resource_sharing) if not attribute.startswith("_")}
    assert other_attributes - methods["resource_sharing"] - SDK_WRAPPERS == SDK_SUB_RESOURCES
    untested = sorted(
        f"{group}.{method}"
        for group, names in methods.items()
        for method in names
        if f"test_{group}_{method}" not in globals()
    )
    assert not untested, f"SDK methods without a contract test: {untested}"
    assert sum(len(names) for names in methods.values()) == 14
