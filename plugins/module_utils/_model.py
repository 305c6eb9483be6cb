# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the API's share objects look like to the collection: statuses, identities, pickers, the diff view. Pure.

A *state* is a share as the API describes it (a dict of its fields) with two extra keys,
``recipients`` and ``resources``, holding the API's recipient and share-resource objects in
any status; ``None`` or ``{}`` means "no active share".

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import re

RESOURCE_TYPES = (
    "custom-ruleset",
    "gateway-policy",
    "gateway-destination-ip",
    "gateway-block-page-settings",
    "gateway-extended-email-matching",
    "idp-federation-grant",
    "trust-grant",
)
ACTIVE_RECIPIENT_STATUSES = frozenset(("associating", "associated"))
PENDING_RECIPIENT_STATUSES = frozenset(("associating", "disassociating"))
ACTIVE_RESOURCE_STATUS = "active"
ACTIVE_SHARE_STATUS = "active"
TARGET_ACCOUNT = "account"
TARGET_ORGANIZATION = "organization"
# A resource id that is a UUID or a 32-hex id: Gateway rules are UUIDs, rulesets 32-hex ids.
UUID_OR_HEX_ID = re.compile(
    r"\A(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\Z"
)


def resource_key(resource):
    """A share resource's identity: (resource_type, resource_account_id, resource_id)."""
    return (resource["resource_type"], resource["resource_account_id"], resource["resource_id"])


def resource_identity(key):
    """The resource key compared across forms: a UUID or hex ``resource_id`` in lower case without dashes.

    The API may store or echo such an id in another form than the task gives it (upper case, with or
    without dashes); any other id is compared as it is.
    """
    resource_type, account, resource_id = key
    if UUID_OR_HEX_ID.match(resource_id):
        resource_id = resource_id.replace("-", "").lower()
    return (resource_type, account, resource_id)


def key_to_resource(key):
    return {"resource_type": key[0], "resource_account_id": key[1], "resource_id": key[2]}


def active_recipients(state):
    """{account id: recipient} of the recipients that count as present (associating or associated)."""
    return {
        r["account_id"]: r
        for r in (state or {}).get("recipients") or ()
        if r.get("association_status") in ACTIVE_RECIPIENT_STATUSES
    }


def active_resources(state):
    """{resource key: share resource} of the resources that count as present (active)."""
    return {
        resource_key(r): r for r in (state or {}).get("resources") or () if r.get("status") == ACTIVE_RESOURCE_STATUS
    }


def present_resources(state):
    """{resource identity: share resource} of the active resources (see ``resource_identity``)."""
    return {resource_identity(key): resource for key, resource in active_resources(state).items()}


def same_meta(current, wanted):
    """Whether an echoed ``meta`` is the wanted one: missing or null is ``{}``; key order does not matter."""
    return (current or {}) == wanted


def association_errors(state, accounts=None):
    """The failed associations of the share's present recipients (of ``accounts`` only, when given).

    Cloudflare reports them per recipient and resource (recipients read with ``include_resources``):
    ``error`` is its message, ``terminal`` says it will not be retried.
    """
    return [
        {
            "account_id": account,
            "resource_id": item.get("resource_id"),
            "error": item["error"],
            "terminal": bool(item.get("terminal")),
        }
        for account, recipient in sorted(active_recipients(state).items())
        if accounts is None or account in accounts
        for item in recipient.get("resources") or ()
        if item.get("error")
    ]


def recipient_picker(account_id):
    """pick(state) -> the recipient's record: the active one, else the latest one, else {}.

    ``account_id`` None picks the organization an organization share targets.
    """

    def pick(state):
        if account_id is None:
            targets_org = state.get("status") == ACTIVE_SHARE_STATUS and state.get("target_type") == TARGET_ORGANIZATION
            return {"organization_id": state.get("organization_id")} if targets_org else {}
        records = [r for r in state.get("recipients") or () if r.get("account_id") == account_id]
        active = [r for r in records if r.get("association_status") in ACTIVE_RECIPIENT_STATUSES]
        return (active or records or [{}])[-1]

    return pick


def resource_picker(key):
    """pick(state) -> the resource's record (compared by identity): the active one, else the latest one, else {}."""
    identity = resource_identity(key)

    def pick(state):
        records = [r for r in state.get("resources") or () if resource_identity(resource_key(r)) == identity]
        active = [r for r in records if r.get("status") == ACTIVE_RESOURCE_STATUS]
        return (active or records or [{}])[-1]

    return pick


def share_view(state):
    """The normalised view shown in diff mode: name, target, sorted recipients, sorted resources."""
    if not state or state.get("status") != ACTIVE_SHARE_STATUS:
        return {}
    if state.get("target_type") == TARGET_ORGANIZATION:
        recipients = [{"organization_id": state.get("organization_id") or "(owner's organization)"}]
    else:
        recipients = [{"account_id": account} for account in sorted(active_recipients(state))]
    resources = [
        dict(key_to_resource(key), meta=resource.get("meta") or {})
        for key, resource in sorted(active_resources(state).items())
    ]
    view = {
        "name": state.get("name"),
        "target_type": state.get("target_type"),
        "recipients": recipients,
        "resources": resources,
    }
    if "excluded_recipients" in state:
        view["excluded_recipients"] = excluded_accounts(state)
    return view


def excluded_accounts(state):
    """The sorted accounts an organization share leaves out."""
    return sorted(item["account_id"] for item in state.get("excluded_recipients") or ())


def share_spec(state, by_id=False):
    """The ``share`` module options that describe the share as it is (its export), in a stable order.

    Converging these options changes nothing. ``by_id``: add ``share_id`` (the account has two active
    shares of that name, so the name alone does not identify it). Recipients and resources list what
    counts as present; every resource carries its ``meta``, so the export pins it. A list with nothing
    present (every recipient removed, say) is left out, meaning "leave alone": the modules take no
    empty list.
    """
    recipients = (
        [{}]
        if state.get("target_type") == TARGET_ORGANIZATION
        else [{"account_id": account} for account in sorted(active_recipients(state))]
    )
    resources = [
        dict(key_to_resource(key), meta=resource.get("meta") or {})
        for key, resource in sorted(active_resources(state).items())
    ]
    spec = {"share_id": state["id"]} if by_id else {}
    spec["name"] = state.get("name")
    spec.update((key, value) for key, value in (("recipients", recipients), ("resources", resources)) if value)
    if state.get("target_type") == TARGET_ORGANIZATION and "excluded_recipients" in state:
        spec["excluded_recipients"] = excluded_accounts(state)
    return spec
