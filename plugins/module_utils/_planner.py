# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The share planner: (current share, desired share) -> ordered API actions. Pure: no I/O.

States are described in ``_model``; the actions, their requests and their effects are the
table of ``_actions``. ``plan`` and its variants only decide *what* to do and in which order.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

from ._actions import Action
from ._errors import InputError
from ._model import (
    RESOURCE_TYPES,
    TARGET_ACCOUNT,
    TARGET_ORGANIZATION,
    active_recipients,
    present_resources,
    resource_identity,
    resource_key,
    same_meta,
)
from ._validation import check_hex_id, check_share_name


class DesiredShare:
    """What the task asks for, validated and normalised. ``None`` in a list field means "leave alone".

    ``recipient_accounts``: sorted tuple of account ids; ``organization_id``: the organization
    when the share targets one (``""`` for the owner's own); ``resources``: {resource key: meta,
    None meaning "leave the meta as it is"}; ``excluded_accounts``: sorted tuple of the accounts an
    organization share leaves out.
    """

    def __init__(
        self,
        *,
        name,
        recipient_accounts,
        organization_id,
        resources,
        purge_recipients,
        purge_resources,
        excluded_accounts=None,
        purge_excluded=True,
    ):
        self.name = name
        self.recipient_accounts = recipient_accounts
        self.organization_id = organization_id
        self.resources = resources
        self.purge_recipients = purge_recipients
        self.purge_resources = purge_resources
        self.excluded_accounts = excluded_accounts
        self.purge_excluded = purge_excluded

    @property
    def target_type(self):
        if self.organization_id is not None:
            return TARGET_ORGANIZATION
        if self.recipient_accounts is not None:
            return TARGET_ACCOUNT
        return None


def normalize_recipients(recipients, prefix=""):
    """Return (sorted account ids, organization id) from the ``recipients`` option; one of them is None.

    ``prefix`` starts every option name in messages (``shares[2].`` for an item of the bulk module).
    """
    if recipients is None:
        return None, None
    if not recipients:
        raise InputError(
            f"{prefix}recipients must not be empty: a share needs at least one recipient. "
            "Omit recipients to leave them alone, or use state=absent to delete the share."
        )
    accounts, organizations = set(), set()
    for index, item in enumerate(recipients):
        option = f"{prefix}recipients[{index}]"
        account_id, organization_id = item.get("account_id"), item.get("organization_id")
        if account_id is not None and organization_id is not None:
            raise InputError(
                f"{option} sets both account_id and organization_id; give one (or {{}} for your own organization)."
            )
        if account_id is not None:
            accounts.add(check_hex_id(option + ".account_id", account_id))
        else:
            organizations.add(
                "" if organization_id is None else check_hex_id(option + ".organization_id", organization_id)
            )
    if accounts and organizations:
        raise InputError(
            f"{prefix}recipients mixes accounts and an organization; a share targets either accounts or "
            "an organization. Split them into two shares."
        )
    if accounts:
        return tuple(sorted(accounts)), None
    named = organizations - {""}
    if len(named) > 1:
        raise InputError(
            "{}recipients names several organizations ({}); a share can only target its owner's organization.".format(
                prefix, ", ".join(sorted(named))
            )
        )
    return None, named.pop() if named else ""


def check_resource_fields(item, option, owner_account_id):
    """The resource key of one ``resources`` item (or of the ``share_resource`` options), checked."""
    resource_id = item.get("resource_id")
    if not isinstance(resource_id, str) or not resource_id.strip():
        raise InputError(f"{option}resource_id must be a non-empty string.")
    if resource_id != resource_id.strip():
        raise InputError(f"{option}resource_id must not start or end with whitespace (got {resource_id!r}).")
    if item.get("resource_type") not in RESOURCE_TYPES:
        raise InputError(
            "{}resource_type must be one of {}, got {!r}.".format(
                option, ", ".join(RESOURCE_TYPES), item.get("resource_type")
            )
        )
    account = item.get("resource_account_id") or owner_account_id
    return (item["resource_type"], check_hex_id(option + "resource_account_id", account), resource_id)


def check_meta(option, meta):
    """``meta`` when it is a mapping or None (None: leave an existing resource's meta as it is)."""
    if meta is not None and not isinstance(meta, dict):
        raise InputError(f"{option} must be a mapping (a dict), got {type(meta).__name__}.")
    return meta


def normalize_resources(resources, owner_account_id, prefix=""):
    """Return {resource key: meta or None} from the ``resources`` option.

    A meta of None means "leave it as it is" (a new resource gets ``{}``). Exact duplicates
    collapse, and an item without meta merges with one that has it; two different metas fail.
    """
    if resources is None:
        return None
    if not resources:
        raise InputError(
            f"{prefix}resources must not be empty: a share needs at least one resource. "
            "Omit resources to leave them alone, or use state=absent to delete the share."
        )
    wanted = {}
    keys = {}
    for index, item in enumerate(resources):
        option = f"{prefix}resources[{index}]"
        key = check_resource_fields(item, option + ".", owner_account_id)
        key = keys.setdefault(resource_identity(key), key)  # one resource, in whichever form it came first
        meta = check_meta(option + ".meta", item.get("meta"))
        known = wanted.get(key)
        if known is not None and meta is not None and known != meta:
            raise InputError(
                "{} repeats resource {} with a different meta; list each resource once.".format(option, "/".join(key))
            )
        wanted[key] = meta if meta is not None else known
    return wanted


def normalize_excluded(excluded, accounts, prefix=""):
    """The sorted account ids of ``excluded_recipients``; refused for a share given account recipients."""
    if excluded is None:
        return None
    if accounts is not None:
        raise InputError(
            f"{prefix}excluded_recipients is for shares that target the whole organization; this one lists account "
            "recipients. Leave out excluded_recipients, or share with the organization (recipients: [{}])."
        )
    return tuple(
        sorted(
            {check_hex_id(f"{prefix}excluded_recipients[{index}]", account) for index, account in enumerate(excluded)}
        )
    )


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
        excluded_accounts=normalize_excluded(params.get("excluded_recipients"), accounts, prefix),
        purge_excluded=params.get("purge_excluded_recipients", True),
    )


def check_absent_options(params, prefix=""):
    """``state=absent`` deletes the whole share: refuse the options that suggest removing only a part of it."""
    given = [option for option in ("recipients", "resources") if params.get(option) is not None]
    if given:
        raise InputError(
            "{}state=absent deletes the whole share, but the task also gives {}. To remove one recipient or resource "
            "and keep the share, use edgeops.cloudflare.share_recipient or edgeops.cloudflare.share_resource with "
            "state=absent (or list what should remain with state=present); to delete the share, leave {} out.".format(
                prefix, " and ".join(prefix + option for option in given), " and ".join(given)
            )
        )


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
    missing = [
        option
        for option, value in (
            ("name", desired.name),
            ("recipients", desired.target_type),
            ("resources", desired.resources),
        )
        if value is None
    ]
    if missing:
        raise InputError(
            "The share does not exist yet, and creating it needs {}: a share needs a name, at least one "
            "recipient and at least one resource.".format(" and ".join(missing))
        )
    if desired.excluded_accounts and desired.target_type != TARGET_ORGANIZATION:
        raise InputError(
            "excluded_recipients is for shares that target the whole organization; to create one, give "
            "recipients: [{}] as well."
        )
    first, last = _plan_exclusions({}, desired)
    return [Action("create_share", body=_create_body(desired))] + first + last


def _check_target(current, desired):
    current_target = current.get("target_type") or TARGET_ACCOUNT
    if desired.target_type not in (None, current_target):
        raise InputError(
            "Share {} targets {} recipients, but the task asks for {} recipients; a share cannot switch. "
            "Delete it (state=absent) and create a new one, or fix recipients.".format(
                current.get("id"), current_target, desired.target_type
            )
        )
    wanted_org, current_org = desired.organization_id, current.get("organization_id")
    if wanted_org and current_org and wanted_org != current_org:
        raise InputError(
            "Share {} is shared with organization {}, not {}; a share can only target its owner's organization.".format(
                current.get("id"), current_org, wanted_org
            )
        )
    if desired.excluded_accounts is not None and current_target != TARGET_ORGANIZATION:
        raise InputError(
            "Share {} targets accounts; excluded_recipients is for shares that target the whole "
            "organization. Leave it out, or manage the account recipients instead.".format(current.get("id"))
        )


def _plan_exclusions(current, desired):
    """Return (new exclusions: run first, lifted exclusions: run last) of an organization share.

    An exclusion takes an account out, as a recipient removal does; lifting one lets it in, as a
    recipient addition does; so they follow the same order and batching as recipients (see
    ``_plan_recipients``): one ``PUT`` of the list at that point for two or more.
    """
    if desired.excluded_accounts is None:
        return [], []
    present = {item["account_id"]: item for item in current.get("excluded_recipients") or ()}
    wanted = set(desired.excluded_accounts)
    added = sorted(wanted - set(present))
    lifted = sorted(set(present) - wanted) if desired.purge_excluded else []
    if desired.purge_excluded and len(added) > 1:
        first = [Action("replace_excluded_recipients", account_ids=sorted(set(present) | wanted))]
    else:
        first = [Action("add_excluded_recipient", account_id=account) for account in added]
    if desired.purge_excluded and len(lifted) > 1:
        last = [Action("replace_excluded_recipients", account_ids=sorted(wanted))]
    else:
        last = [
            Action("remove_excluded_recipient", excluded_recipient_id=present[account]["id"], account_id=account)
            for account in lifted
        ]
    return first, last


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
        first = [
            Action("remove_recipient", recipient_id=present[account]["id"], account_id=account) for account in removals
        ]
    if desired.purge_recipients and len(additions) > 1:
        last = [Action("replace_recipients", account_ids=list(desired.recipient_accounts))]
    else:
        last = [Action("add_recipient", account_id=account) for account in additions]
    return first, last


def _plan_resources(current, desired):
    """Resources are matched by identity (``_model.resource_identity``), and a new one is added as the task says it."""
    if desired.resources is None:
        return []
    present = present_resources(current)
    wanted = {resource_identity(key): key for key in desired.resources}
    actions = []
    for identity, key in sorted(wanted.items()):
        meta, resource = desired.resources[key], present.get(identity)
        if resource is None:
            actions.append(Action("add_resource", key=key, meta={} if meta is None else meta))
        elif meta is not None and not same_meta(resource.get("meta"), meta):
            actions.append(
                Action("update_resource", key=resource_key(resource), share_resource_id=resource["id"], meta=meta)
            )
    if desired.purge_resources:
        actions.extend(
            Action("remove_resource", key=resource_key(present[identity]), share_resource_id=present[identity]["id"])
            for identity in sorted(set(present) - set(wanted))
        )
    return actions


def plan(current, desired):
    """The ordered actions that turn ``current`` into ``desired``; empty when nothing is to change.

    Order: recipient removals and new exclusions first (an account on its way out never gains a
    resource), then resource additions and updates, then resource removals (so the share is never
    left without a resource), then recipient additions and lifted exclusions (a new recipient never
    sees a resource being withdrawn), then the rename.
    """
    if current is None:
        return plan_create(desired)
    _check_target(current, desired)
    first, last = _plan_recipients(current, desired)
    excluded_first, excluded_last = _plan_exclusions(current, desired)
    actions = first + excluded_first + _plan_resources(current, desired) + last + excluded_last
    if desired.name is not None and desired.name != current.get("name"):
        actions.append(Action("rename_share", name=desired.name))
    return actions


def _part_of(recipient_accounts=None, organization_id=None, resources=None):
    """A DesiredShare about one part of a share only: everything else is left alone."""
    return DesiredShare(
        name=None,
        recipient_accounts=recipient_accounts,
        organization_id=organization_id,
        resources=resources,
        purge_recipients=False,
        purge_resources=False,
    )


def plan_recipient(current, account_id, organization_id, present):
    """Actions for one recipient of an existing share; the other recipients are never touched."""
    accounts = None if account_id is None else (account_id,)
    if present:
        return plan(current, _part_of(accounts, organization_id))
    _check_target(current, _part_of(accounts, organization_id))
    if account_id is None:
        raise InputError(
            "Share {} is shared with the whole organization; that recipient cannot be removed on its own. "
            "Delete the share instead (edgeops.cloudflare.share with state=absent).".format(current.get("id"))
        )
    recipient = active_recipients(current).get(account_id)
    return [Action("remove_recipient", recipient_id=recipient["id"], account_id=account_id)] if recipient else []


def plan_resource(current, key, meta, present):
    """Actions for one resource of an existing share (``meta`` None: leave it as it is); others are never touched."""
    if present:
        return plan(current, _part_of(resources={key: meta}))
    resource = present_resources(current).get(resource_identity(key))
    return [Action("remove_resource", key=resource_key(resource), share_resource_id=resource["id"])] if resource else []


def plan_delete(current):
    return [] if current is None else [Action("delete_share")]
