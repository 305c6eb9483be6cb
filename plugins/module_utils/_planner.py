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
from ._validation import check_hex_id, check_share_name

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


def normalize_recipients(recipients, prefix=""):
    """Return (sorted account ids, organization id) from the ``recipients`` option; one of them is None.

    ``prefix`` starts every option name in messages (``shares[2].`` for an item of the bulk module).
    """
    if recipients is None:
        return None, None
    if not recipients:
        raise InputError("%srecipients must not be empty: a share needs at least one recipient. "
                         "Omit recipients to leave them alone, or use state=absent to delete the share." % prefix)
    accounts, organizations = set(), set()
    for index, item in enumerate(recipients):
        option = "%srecipients[%d]" % (prefix, index)
        account_id, organization_id = item.get("account_id"), item.get("organization_id")
        if account_id is not None and organization_id is not None:
            raise InputError("%s sets both account_id and organization_id; give one (or {} for your own organization)." % option)
        if account_id is not None:
            accounts.add(check_hex_id(option + ".account_id", account_id))
        else:
            organizations.add("" if organization_id is None else check_hex_id(option + ".organization_id", organization_id))
    if accounts and organizations:
        raise InputError("%srecipients mixes accounts and an organization; a share targets either accounts or "
                         "an organization. Split them into two shares." % prefix)
    if accounts:
        return tuple(sorted(accounts)), None
    named = organizations - {""}
    if len(named) > 1:
        raise InputError("%srecipients names several organizations (%s); a share can only target its owner's "
                         "organization." % (prefix, ", ".join(sorted(named))))
    return None, named.pop() if named else ""


def check_resource_fields(item, option, owner_account_id):
    """The resource key of one ``resources`` item (or of the ``share_resource`` options), checked."""
    resource_id = item.get("resource_id")
    if not isinstance(resource_id, str) or not resource_id.strip():
        raise InputError("%sresource_id must be a non-empty string." % option)
    if resource_id != resource_id.strip():
        raise InputError("%sresource_id must not start or end with whitespace (got %r)." % (option, resource_id))
    if item.get("resource_type") not in RESOURCE_TYPES:
        raise InputError("%sresource_type must be one of %s, got %r."
                         % (option, ", ".join(RESOURCE_TYPES), item.get("resource_type")))
    account = item.get("resource_account_id") or owner_account_id
    return (item["resource_type"], check_hex_id(option + "resource_account_id", account), resource_id)


def check_meta(option, meta):
    """``meta`` when it is a mapping or None (None: leave an existing resource's meta as it is)."""
    if meta is not None and not isinstance(meta, dict):
        raise InputError("%s must be a mapping (a dict), got %s." % (option, type(meta).__name__))
    return meta


def normalize_resources(resources, owner_account_id, prefix=""):
    """Return {resource key: meta or None} from the ``resources`` option.

    A meta of None means "leave it as it is" (a new resource gets ``{}``). Exact duplicates
    collapse, and an item without meta merges with one that has it; two different metas fail.
    """
    if resources is None:
        return None
    if not resources:
        raise InputError("%sresources must not be empty: a share needs at least one resource. "
                         "Omit resources to leave them alone, or use state=absent to delete the share." % prefix)
    wanted = {}
    for index, item in enumerate(resources):
        option = "%sresources[%d]" % (prefix, index)
        key = check_resource_fields(item, option + ".", owner_account_id)
        meta = check_meta(option + ".meta", item.get("meta"))
        known = wanted.get(key)
        if known is not None and meta is not None and known != meta:
            raise InputError("%s repeats resource %s with a different meta; list each resource once." % (option, "/".join(key)))
        wanted[key] = meta if meta is not None else known
    return wanted


def desired_from_params(params, owner_account_id, prefix=""):
    """Build a DesiredShare from the ``share`` module's options (already type-checked by the argspec)."""
    name = check_share_name(prefix + "name", params.get("name"))
    accounts, organization_id = normalize_recipients(params.get("recipients"), prefix)
    return DesiredShare(
        name=name,
        recipient_accounts=accounts,
        organization_id=organization_id,
        resources=normalize_resources(params.get("resources"), owner_account_id, prefix),
        purge_recipients=params.get("purge_recipients", True),
        purge_resources=params.get("purge_resources", True),
    )


def check_absent_options(params, prefix=""):
    """``state=absent`` deletes the whole share: refuse the options that suggest removing only a part of it."""
    given = [option for option in ("recipients", "resources") if params.get(option) is not None]
    if given:
        raise InputError(
            "%sstate=absent deletes the whole share, but the task also gives %s. To remove one recipient or resource "
            "and keep the share, use edgeops.cloudflare.share_recipient or edgeops.cloudflare.share_resource with "
            "state=absent (or list what should remain with state=present); to delete the share, leave %s out."
            % (prefix, " and ".join(prefix + option for option in given), " and ".join(given)))


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
        {"resource_type": key[0], "resource_account_id": key[1], "resource_id": key[2], "meta": meta or {}}
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
    """Return (removals, additions): run removals before any resource change, additions after all of them.

    That order keeps the exposure rule: an account that is not a final recipient never gains a
    resource, and a new recipient never sees a resource that is being withdrawn. With purge, a
    batch of two or more removals (or additions) is one ``PUT`` of the recipient list at that
    point (the kept accounts, then the final ones); a removal batch that would leave no account
    is sent as one ``DELETE`` each, since an empty list is not something the API promises to take.
    """
    if desired.recipient_accounts is None:
        return [], []
    present = active_recipients(current)
    wanted = set(desired.recipient_accounts)
    additions = sorted(wanted - set(present))
    removals = sorted(set(present) - wanted) if desired.purge_recipients else []
    kept = sorted(set(present) & wanted)
    if desired.purge_recipients and len(removals) > 1 and kept:
        first = [Action("replace_recipients", account_ids=kept)]
    else:
        first = [Action("remove_recipient", recipient_id=present[account]["id"], account_id=account) for account in removals]
    if desired.purge_recipients and len(additions) > 1:
        last = [Action("replace_recipients", account_ids=list(desired.recipient_accounts))]
    else:
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

    Order: recipient removals first (an account on its way out never gains a resource), then
    resource additions and updates, then resource removals (so the share is never left without
    a resource), then recipient additions (a new recipient never sees a resource being
    withdrawn), then the rename.
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
    """pick(state) -> the resource's record: the active one, else the latest one, else {}."""
    def pick(state):
        records = [r for r in state.get("resources") or () if resource_key(r) == key]
        active = [r for r in records if r.get("status") == ACTIVE_RESOURCE_STATUS]
        return (active or records or [{}])[-1]
    return pick


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
    """The new share: the API's answer, completed from the request where the answer leaves something out.

    The request says which resources were created (the API promises them in an answer only when
    asked with ``include_resources``), and which accounts were asked for; an organization share's
    recipients come from the organization's membership, so they stay unknown (no key) until read.
    """
    organization = [r.get("organization_id") for r in body["recipients"] if "recipient_account_id" not in r]
    predicted = {
        "id": None,
        "name": body["name"],
        "account_id": owner_account_id,
        "kind": "sent",
        "status": ACTIVE_SHARE_STATUS,
        "target_type": TARGET_ORGANIZATION if organization else TARGET_ACCOUNT,
        "organization_id": organization[0] if organization else None,
        "resources": [dict(r, id=None, status=ACTIVE_RESOURCE_STATUS) for r in body["resources"]],
    }
    if not organization:
        predicted["recipients"] = [_recipient(r["recipient_account_id"], "associating") for r in body["recipients"]]
    if answer is None:
        return predicted
    state = dict(answer)
    for key in ("resources", "recipients"):
        if key not in state and key in predicted:
            state[key] = predicted[key]
    return state


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
