# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The API actions the planner can ask for, in one table: request, description, and effect on a state. Pure.

Each kind says which request it is (method, path below ``/accounts/{account_id}/shares``, body),
how it reads in a message, and what it does to a share state: ``apply_action`` folds the API's
answer into the state, or predicts the change when there is no answer (check mode, a 204, or
the planner's own look-ahead). Check mode, diff mode, execution and the property tests all use
this table; a kind that is not in it is an error.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import copy

from ._model import (
    ACTIVE_RECIPIENT_STATUSES,
    ACTIVE_RESOURCE_STATUS,
    ACTIVE_SHARE_STATUS,
    TARGET_ACCOUNT,
    TARGET_ORGANIZATION,
    active_recipients,
    key_to_resource,
)

SHARE_FIELDS_ONLY = ("recipients", "resources", "excluded_recipients")


class ActionKind:
    """One kind of API call. ``path(share_id, fields)`` gives the path segments below the account's shares;
    ``apply(state, fields, owner_account_id, answer)`` gives the state after the call (``answer`` None: predicted)."""

    def __init__(self, *, method, path, describe, apply, body=None):
        self.method = method
        self.path = path
        self.describe = describe
        self.apply = apply
        self.body = body


class Action:
    """One API call the planner asks for: a kind of ``ACTION_KINDS`` and its fields."""

    def __init__(self, kind, **fields):
        if kind not in ACTION_KINDS:
            raise ValueError(f"unknown action kind {kind!r}")
        self.kind = kind
        self.fields = fields

    @property
    def spec(self):
        return ACTION_KINDS[self.kind]

    def __eq__(self, other):
        return isinstance(other, Action) and (self.kind, self.fields) == (other.kind, other.fields)

    def __repr__(self):
        return f"Action({self.kind!r}, {self.fields!r})"

    def describe(self):
        return self.spec.describe(self.fields)

    def request(self, share_id):
        """(method, path segments below the account's shares, body or None)."""
        spec = self.spec
        return spec.method, spec.path(share_id, self.fields), spec.body(self.fields) if spec.body else None


def apply_action(state, action, owner_account_id, answer=None):
    """The state after ``action``: from the API's ``answer`` when given, else predicted."""
    return action.spec.apply(state, action.fields, owner_account_id, answer)


def apply_plan(state, actions, owner_account_id):
    for action in actions:
        state = apply_action(state, action, owner_account_id)
    return state


# --- effects ------------------------------------------------------------------------------------------------


def recipient_record(account_id, status):
    """A predicted recipient (the API gives it an id when it is really made)."""
    return {"id": None, "account_id": account_id, "association_status": status}


def _replace_by_id(items, new_item):
    """Replace the item with ``new_item``'s id, or append ``new_item`` when it is new."""
    new_id = new_item.get("id")
    if new_id is not None and any(item.get("id") == new_id for item in items):
        return [new_item if item.get("id") == new_id else item for item in items]
    return items + [new_item]


def _find_by_id(items, item_id):
    return next(item for item in items if item.get("id") == item_id)


def _changing(key, predicted):
    """apply() for a call that adds or changes one item of ``state[key]``; ``predicted(items, fields)`` is that item."""

    def apply(state, fields, owner_account_id, answer):
        state = copy.deepcopy(state)
        items = state.get(key) or []
        state[key] = _replace_by_id(items, answer or predicted(items, fields))
        return state

    return apply


def _updating_share(predicted):
    """apply() for a call on the share itself; ``predicted(fields)`` are the fields it changes."""

    def apply(state, fields, owner_account_id, answer):
        state = copy.deepcopy(state)
        state.update({k: v for k, v in (answer or predicted(fields)).items() if k not in SHARE_FIELDS_ONLY})
        return state

    return apply


def _replacing_recipients(state, fields, owner_account_id, answer):
    """The PUT of the recipient list answers 204: the recipients it leaves out disassociate, new ones associate."""
    state = copy.deepcopy(state)
    wanted = set(fields["account_ids"])
    recipients = []
    for recipient in state.get("recipients") or []:
        if recipient.get("association_status") in ACTIVE_RECIPIENT_STATUSES and recipient["account_id"] not in wanted:
            recipient = dict(recipient, association_status="disassociating")
        recipients.append(recipient)
    present = set(active_recipients({"recipients": recipients}))
    recipients.extend(recipient_record(account, "associating") for account in sorted(wanted - present))
    state["recipients"] = recipients
    return state


def _replacing_exclusions(state, fields, owner_account_id, answer):
    """The PUT of the excluded recipients answers 204: the list becomes the given accounts (known ones keep their id)."""
    state = copy.deepcopy(state)
    known = {item["account_id"]: item for item in state.get("excluded_recipients") or ()}
    state["excluded_recipients"] = [
        known.get(account) or {"id": None, "account_id": account} for account in fields["account_ids"]
    ]
    return state


def _lifting_exclusion(state, fields, owner_account_id, answer):
    state = copy.deepcopy(state)
    state["excluded_recipients"] = [
        item for item in state.get("excluded_recipients") or () if item.get("id") != fields["excluded_recipient_id"]
    ]
    return state


def _creating(state, fields, owner_account_id, answer):
    """The new share: the API's answer, completed from the request where the answer leaves something out.

    The request says which resources were created (the API promises them in an answer only when
    asked with ``include_resources``), and which accounts were asked for; an organization share's
    recipients come from the organization's membership, so they stay unknown (no key) until read.
    """
    body = fields["body"]
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
        predicted["recipients"] = [
            recipient_record(r["recipient_account_id"], "associating") for r in body["recipients"]
        ]
    if answer is None:
        return predicted
    created = dict(answer)
    for key in ("recipients", "resources"):
        if key not in created and key in predicted:
            created[key] = predicted[key]
    if organization:
        created.setdefault("excluded_recipients", [])
    return created


# --- the table ----------------------------------------------------------------------------------------------


def _share_path(share_id, fields):
    return (share_id,)


def _part_path(part, id_field=None):
    def path(share_id, fields):
        return (share_id, part) if id_field is None else (share_id, part, fields[id_field])

    return path


def _resource_label(fields):
    return "/".join(fields["key"])


ACTION_KINDS = {
    "create_share": ActionKind(
        method="POST",
        path=lambda share_id, fields: (),
        body=lambda fields: fields["body"],
        describe=lambda fields: "create share {!r}".format(fields["body"]["name"]),
        apply=_creating,
    ),
    "rename_share": ActionKind(
        method="PUT",
        path=_share_path,
        body=lambda fields: {"name": fields["name"]},
        describe=lambda fields: "rename share to {!r}".format(fields["name"]),
        apply=_updating_share(lambda fields: {"name": fields["name"]}),
    ),
    "delete_share": ActionKind(
        method="DELETE",
        path=_share_path,
        describe=lambda fields: "delete share",
        apply=_updating_share(lambda fields: {"status": "deleting"}),
    ),
    "replace_recipients": ActionKind(
        method="PUT",
        path=_part_path("recipients"),
        body=lambda fields: [{"recipient_account_id": account} for account in fields["account_ids"]],
        describe=lambda fields: "set recipient accounts to {}".format(", ".join(fields["account_ids"])),
        apply=_replacing_recipients,
    ),
    "add_recipient": ActionKind(
        method="POST",
        path=_part_path("recipients"),
        body=lambda fields: {"recipient_account_id": fields["account_id"]},
        describe=lambda fields: "add recipient account {}".format(fields["account_id"]),
        apply=_changing("recipients", lambda items, fields: recipient_record(fields["account_id"], "associating")),
    ),
    "remove_recipient": ActionKind(
        method="DELETE",
        path=_part_path("recipients", "recipient_id"),
        describe=lambda fields: "remove recipient account {}".format(fields["account_id"]),
        apply=_changing(
            "recipients",
            lambda items, fields: dict(_find_by_id(items, fields["recipient_id"]), association_status="disassociating"),
        ),
    ),
    "add_resource": ActionKind(
        method="POST",
        path=_part_path("resources"),
        body=lambda fields: dict(key_to_resource(fields["key"]), meta=fields["meta"]),
        describe=lambda fields: f"add resource {_resource_label(fields)}",
        apply=_changing(
            "resources",
            lambda items, fields: dict(
                key_to_resource(fields["key"]), id=None, meta=fields["meta"], status=ACTIVE_RESOURCE_STATUS
            ),
        ),
    ),
    "update_resource": ActionKind(
        method="PUT",
        path=_part_path("resources", "share_resource_id"),
        body=lambda fields: {"meta": fields["meta"]},
        describe=lambda fields: f"update meta of resource {_resource_label(fields)}",
        apply=_changing(
            "resources",
            lambda items, fields: dict(_find_by_id(items, fields["share_resource_id"]), meta=fields["meta"]),
        ),
    ),
    "remove_resource": ActionKind(
        method="DELETE",
        path=_part_path("resources", "share_resource_id"),
        describe=lambda fields: f"remove resource {_resource_label(fields)}",
        apply=_changing(
            "resources", lambda items, fields: dict(_find_by_id(items, fields["share_resource_id"]), status="deleting")
        ),
    ),
    # Excluded recipients of an organization share: the body names the account as account_id (not
    # recipient_account_id), and a PUT of the whole list answers 204 (tests/emulator/CONTRACT.md).
    "add_excluded_recipient": ActionKind(
        method="POST",
        path=_part_path("excluded-recipients"),
        body=lambda fields: {"account_id": fields["account_id"]},
        describe=lambda fields: "exclude account {}".format(fields["account_id"]),
        apply=_changing("excluded_recipients", lambda items, fields: {"id": None, "account_id": fields["account_id"]}),
    ),
    "remove_excluded_recipient": ActionKind(
        method="DELETE",
        path=_part_path("excluded-recipients", "excluded_recipient_id"),
        describe=lambda fields: "stop excluding account {}".format(fields["account_id"]),
        apply=_lifting_exclusion,
    ),
    "replace_excluded_recipients": ActionKind(
        method="PUT",
        path=_part_path("excluded-recipients"),
        body=lambda fields: [{"account_id": account} for account in fields["account_ids"]],
        describe=lambda fields: "set excluded accounts to {}".format(", ".join(fields["account_ids"]) or "none"),
        apply=_replacing_exclusions,
    ),
}
