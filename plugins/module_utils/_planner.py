# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The share planner: (current share, desired share) -> ordered API actions. Pure: no I/O.

A *state* is the share as the API describes it (a dict of its fields) with two
extra keys, ``recipients`` and ``resources``, holding the API's recipient and
share-resource objects in any status; ``None`` means "no active share".
``apply_action`` predicts the state after an action (or folds the API's answer
into it), so check mode, diff mode and the property tests share one model.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import copy

from ._errors import InputError

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
ACTIVE_RESOURCE_STATUS = "active"
ACTIVE_SHARE_STATUS = "active"
TARGET_ACCOUNT = "account"
TARGET_ORGANIZATION = "organization"


class Action:
    """One API call the planner asks for. ``kind`` names it; ``fields`` carry its arguments."""

    def __init__(self, kind, **fields):
        self.kind = kind
        self.fields = fields

    def __eq__(self, other):
        return isinstance(other, Action) and (self.kind, self.fields) == (other.kind, other.fields)

    def __repr__(self):
        return "Action(%r, %r)" % (self.kind, self.fields)

    def describe(self):
        fields = self.fields
        if self.kind == "create_share":
            return "create share %r" % fields["body"]["name"]
        if self.kind == "rename_share":
            return "rename share to %r" % fields["name"]
        if self.kind == "replace_recipients":
            return "set recipient accounts to %s" % ", ".join(fields["account_ids"])
        if self.kind in ("add_recipient", "remove_recipient"):
            return "%s recipient account %s" % (self.kind.split("_")[0], fields["account_id"])
        if self.kind in ("add_resource", "update_resource", "remove_resource"):
            verb = {"add": "add", "update": "update meta of", "remove": "remove"}[self.kind.split("_")[0]]
            return "%s resource %s" % (verb, "/".join(fields["key"]))
        return "delete share"


class DesiredShare:
    """What the task asks for, validated and normalised. ``None`` in a list field means "leave alone"."""

    def __init__(self, name, recipient_accounts, organization_id, resources, purge_recipients, purge_resources):
        self.name = name
        self.recipient_accounts = recipient_accounts  # sorted tuple of account ids, or None
        self.organization_id = organization_id  # the org id when targeting an organization ("" = the owner's own)
        self.resources = resources  # dict: resource key -> meta, or None
        self.purge_recipients = purge_recipients
        self.purge_resources = purge_resources

    @property
    def target_type(self):
        if self.organization_id is not None:
            return TARGET_ORGANIZATION
        if self.recipient_accounts is not None:
            return TARGET_ACCOUNT
        return None


def resource_key(resource):
    return (resource["resource_type"], resource["resource_account_id"], resource["resource_id"])


def _check_hex(option, value):
    # Same rule as _module.check_hex_id; kept import-free so the planner stays pure.
    if not isinstance(value, str) or len(value) != 32 or value.strip("0123456789abcdef"):
        raise InputError("%s must be a 32-character lowercase hexadecimal Cloudflare identifier, got %r" % (option, value))
    return value


MAX_NAME_LENGTH = 255


def check_share_name(option, name):
    """A share name the API will take as it is: no control characters, no outer whitespace, 1-255 characters."""
    if name is None:
        return None
    if not name.strip():
        raise InputError("%s must not be empty or only whitespace." % option)
    if name != name.strip():
        raise InputError("%s must not start or end with whitespace (got %r): the API would store another name "
                         "than the one this task looks up." % (option, name))
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in name):
        raise InputError("%s must not contain control characters (got %r)." % (option, name))
    if len(name) > MAX_NAME_LENGTH:
        raise InputError("%s is %d characters long; at most %d are allowed." % (option, len(name), MAX_NAME_LENGTH))
    return name


def normalize_recipients(recipients):
    """Return (sorted account ids, organization id) from the ``recipients`` option; one of them is None."""
    if recipients is None:
        return None, None
    if not recipients:
        raise InputError("recipients must not be empty: a share needs at least one recipient. "
                         "Omit recipients to leave them alone, or use state=absent to delete the share.")
    accounts, organizations = set(), set()
    for index, item in enumerate(recipients):
        option = "recipients[%d]" % index
        account_id, organization_id = item.get("account_id"), item.get("organization_id")
        if account_id is not None and organization_id is not None:
            raise InputError("%s sets both account_id and organization_id; give one (or {} for your own organization)." % option)
        if account_id is not None:
            accounts.add(_check_hex(option + ".account_id", account_id))
        else:
            organizations.add("" if organization_id is None else _check_hex(option + ".organization_id", organization_id))
    if accounts and organizations:
        raise InputError("recipients mixes accounts and an organization; a share targets either accounts or "
                         "an organization. Split them into two shares.")
    if accounts:
        return tuple(sorted(accounts)), None
    named = organizations - {""}
    if len(named) > 1:
        raise InputError("recipients names several organizations (%s); a share can only target its owner's organization."
                         % ", ".join(sorted(named)))
    return None, named.pop() if named else ""


def normalize_resources(resources, owner_account_id):
    """Return {resource key: meta} from the ``resources`` option; exact duplicates collapse, conflicting ones fail."""
    if resources is None:
        return None
    if not resources:
        raise InputError("resources must not be empty: a share needs at least one resource. "
                         "Omit resources to leave them alone, or use state=absent to delete the share.")
    wanted = {}
    for index, item in enumerate(resources):
        option = "resources[%d]" % index
        resource_id = (item.get("resource_id") or "").strip()
        if not resource_id:
            raise InputError("%s.resource_id must be a non-empty string." % option)
        if item.get("resource_type") not in RESOURCE_TYPES:
            raise InputError("%s.resource_type must be one of %s, got %r." % (option, ", ".join(RESOURCE_TYPES), item.get("resource_type")))
        account = item.get("resource_account_id") or owner_account_id
        key = (item["resource_type"], _check_hex(option + ".resource_account_id", account), resource_id)
        meta = item.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise InputError("%s.meta must be a mapping (a dict), got %s." % (option, type(meta).__name__))
        meta = {} if meta is None else meta
        if key in wanted and wanted[key] != meta:
            raise InputError("%s repeats resource %s with a different meta; list each resource once." % (option, "/".join(key)))
        wanted[key] = meta
    return wanted


def desired_from_params(params, owner_account_id):
    """Build a DesiredShare from the ``share`` module's options (already type-checked by the argspec)."""
    name = check_share_name("name", params.get("name"))
    accounts, organization_id = normalize_recipients(params.get("recipients"))
    return DesiredShare(
        name=name,
        recipient_accounts=accounts,
        organization_id=organization_id,
        resources=normalize_resources(params.get("resources"), owner_account_id),
        purge_recipients=params.get("purge_recipients", True),
        purge_resources=params.get("purge_resources", True),
    )


def active_recipients(state):
    return {r["account_id"]: r for r in state.get("recipients") or () if r.get("association_status") in ACTIVE_RECIPIENT_STATUSES}


def active_resources(state):
    return {resource_key(r): r for r in state.get("resources") or () if r.get("status") == ACTIVE_RESOURCE_STATUS}


def _create_body(desired):
    if desired.recipient_accounts is not None:
        recipients = [{"recipient_account_id": account} for account in desired.recipient_accounts]
    else:
        recipients = [{"organization_id": desired.organization_id} if desired.organization_id else {}]
    resources = [
        {"resource_type": key[0], "resource_account_id": key[1], "resource_id": key[2], "meta": meta}
        for key, meta in sorted(desired.resources.items())
    ]
    return {"name": desired.name, "recipients": recipients, "resources": resources}


def plan_create(desired):
    missing = [option for option, value in (("name", desired.name), ("recipients", desired.target_type),
                                            ("resources", desired.resources)) if value is None]
    if missing:
        raise InputError("The share does not exist yet, and creating it needs %s: a share needs a name, at least one "
                         "recipient and at least one resource." % " and ".join(missing))
    return [Action("create_share", body=_create_body(desired))]


def _check_target(current, desired):
    current_target = current.get("target_type") or TARGET_ACCOUNT
    if desired.target_type not in (None, current_target):
        raise InputError(
            "Share %s targets %s recipients, but the task asks for %s recipients; a share cannot switch. "
            "Delete it (state=absent) and create a new one, or fix recipients." % (current.get("id"), current_target, desired.target_type))
    wanted_org, current_org = desired.organization_id, current.get("organization_id")
    if wanted_org and current_org and wanted_org != current_org:
        raise InputError("Share %s is shared with organization %s, not %s; a share can only target its owner's organization."
                         % (current.get("id"), current_org, wanted_org))


def _plan_recipients(current, desired):
    """Return (actions to run first, actions to run last): removals before, additions after the resource changes."""
    if desired.recipient_accounts is None:
        return [], []
    present = active_recipients(current)
    wanted = set(desired.recipient_accounts)
    additions = sorted(wanted - set(present))
    removals = sorted(set(present) - wanted) if desired.purge_recipients else []
    if desired.purge_recipients and len(additions) + len(removals) > 1:
        return [Action("replace_recipients", account_ids=list(desired.recipient_accounts))], []
    first = [Action("remove_recipient", recipient_id=present[account]["id"], account_id=account) for account in removals]
    last = [Action("add_recipient", account_id=account) for account in additions]
    return first, last


def _plan_resources(current, desired):
    if desired.resources is None:
        return []
    present = active_resources(current)
    actions = []
    for key, meta in sorted(desired.resources.items()):
        if key not in present:
            actions.append(Action("add_resource", key=key, meta={} if meta is None else meta))
        elif meta is not None and present[key].get("meta") != meta:
            actions.append(Action("update_resource", key=key, share_resource_id=present[key]["id"], meta=meta))
    if desired.purge_resources:
        actions.extend(Action("remove_resource", key=key, share_resource_id=present[key]["id"])
                       for key in sorted(set(present) - set(desired.resources)))
    return actions


def plan(current, desired):
    """The ordered actions that turn ``current`` into ``desired``; empty when nothing is to change.

    Order: recipient removals first (stop exposure early), then resource additions and
    updates, then resource removals (so the share is never left empty), then
    recipient additions (new recipients get the final resource set), then the rename.
    """
    if current is None:
        return plan_create(desired)
    _check_target(current, desired)
    first, last = _plan_recipients(current, desired)
    actions = first + _plan_resources(current, desired) + last
    if desired.name is not None and desired.name != current.get("name"):
        actions.append(Action("rename_share", name=desired.name))
    return actions


def _part_of(current, recipient_accounts=None, organization_id=None, resources=None):
    return DesiredShare(name=None, recipient_accounts=recipient_accounts, organization_id=organization_id,
                        resources=resources, purge_recipients=False, purge_resources=False)


def plan_recipient(current, account_id, organization_id, present):
    """Actions for one recipient of an existing share; the other recipients are never touched."""
    accounts = None if account_id is None else (account_id,)
    if present:
        return plan(current, _part_of(current, accounts, organization_id))
    _check_target(current, _part_of(current, accounts, organization_id))
    if account_id is None:
        raise InputError("Share %s is shared with the whole organization; that recipient cannot be removed on its own. "
                         "Delete the share instead (edgeops.cloudflare.share with state=absent)." % current.get("id"))
    recipient = active_recipients(current).get(account_id)
    return [Action("remove_recipient", recipient_id=recipient["id"], account_id=account_id)] if recipient else []


def plan_resource(current, key, meta, present):
    """Actions for one resource of an existing share (``meta`` None: leave it as it is); others are never touched."""
    if present:
        return plan(current, _part_of(current, resources={key: meta}))
    resource = active_resources(current).get(key)
    return [Action("remove_resource", key=key, share_resource_id=resource["id"])] if resource else []


def plan_delete(current):
    return [] if current is None else [Action("delete_share")]


def _replace_by_id(items, new_item):
    """Replace the item with ``new_item``'s id in place, or append ``new_item`` when it is new."""
    new_id = new_item.get("id")
    if new_id is not None and any(item.get("id") == new_id for item in items):
        return [new_item if item.get("id") == new_id else item for item in items]
    return items + [new_item]


def _find_by_id(items, item_id):
    return next(item for item in items if item.get("id") == item_id)


def _recipient(account_id, status):
    return {"id": None, "account_id": account_id, "association_status": status}


def apply_action(state, action, owner_account_id, answer=None):
    """Return the state after ``action``: from the API's ``answer`` when given, else predicted."""
    kind, fields = action.kind, action.fields
    if kind == "create_share":
        return _created_state(fields["body"], owner_account_id, answer)
    state = copy.deepcopy(state)
    recipients, resources = state.get("recipients") or [], state.get("resources") or []
    if kind in ("rename_share", "delete_share"):
        update = answer or ({"name": fields["name"]} if kind == "rename_share" else {"status": "deleting"})
        state.update({k: v for k, v in update.items() if k not in ("recipients", "resources")})
    elif kind == "replace_recipients":
        state["recipients"] = answer if answer is not None else _predict_replace(recipients, fields["account_ids"])
    elif kind == "add_recipient":
        state["recipients"] = _replace_by_id(recipients, answer or _recipient(fields["account_id"], "associating"))
    elif kind == "remove_recipient":
        predicted = dict(_find_by_id(recipients, fields["recipient_id"]), association_status="disassociating")
        state["recipients"] = _replace_by_id(recipients, answer or predicted)
    elif kind == "add_resource":
        predicted = dict(key_to_resource(fields["key"]), id=None, meta=fields["meta"], status=ACTIVE_RESOURCE_STATUS)
        state["resources"] = _replace_by_id(resources, answer or predicted)
    else:
        existing = _find_by_id(resources, fields["share_resource_id"])
        predicted = dict(existing, meta=fields["meta"]) if kind == "update_resource" else dict(existing, status="deleting")
        state["resources"] = _replace_by_id(resources, answer or predicted)
    return state


def key_to_resource(key):
    return {"resource_type": key[0], "resource_account_id": key[1], "resource_id": key[2]}


def _predict_replace(current_recipients, account_ids):
    wanted = set(account_ids)
    recipients = []
    for recipient in current_recipients:
        recipient = dict(recipient)
        if recipient.get("association_status") in ACTIVE_RECIPIENT_STATUSES and recipient["account_id"] not in wanted:
            recipient["association_status"] = "disassociating"
        recipients.append(recipient)
    present = set(active_recipients({"recipients": recipients}))
    recipients.extend(_recipient(account, "associating") for account in sorted(wanted - present))
    return recipients


def _created_state(body, owner_account_id, answer):
    if answer is not None:
        state = dict(answer)
        state.setdefault("resources", [])
        state.setdefault("recipients", [])
        return state
    organization = [r.get("organization_id") for r in body["recipients"] if "recipient_account_id" not in r]
    return {
        "id": None,
        "name": body["name"],
        "account_id": owner_account_id,
        "kind": "sent",
        "status": ACTIVE_SHARE_STATUS,
        "target_type": TARGET_ORGANIZATION if organization else TARGET_ACCOUNT,
        "organization_id": organization[0] if organization else None,
        "recipients": [_recipient(r["recipient_account_id"], "associating") for r in body["recipients"] if not organization],
        "resources": [dict(r, id=None, status=ACTIVE_RESOURCE_STATUS) for r in body["resources"]],
    }


def apply_plan(state, actions, owner_account_id):
    for action in actions:
        state = apply_action(state, action, owner_account_id)
    return state


def share_view(state):
    """The normalised view shown in diff mode: name, target, sorted recipients, sorted resources."""
    if not state or state.get("status") != ACTIVE_SHARE_STATUS:
        return {}
    if state.get("target_type") == TARGET_ORGANIZATION:
        recipients = [{"organization_id": state.get("organization_id") or "(owner's organization)"}]
    else:
        recipients = [{"account_id": account} for account in sorted(active_recipients(state))]
    resources = [dict(key_to_resource(key), meta=resource.get("meta") or {})
                 for key, resource in sorted(active_resources(state).items())]
    return {"name": state.get("name"), "target_type": state.get("target_type"),
            "recipients": recipients, "resources": resources}
