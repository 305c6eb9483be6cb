# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Share service: the Resource Sharing endpoints, share lookup, plan execution and waiting.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import time

from ._errors import CloudflareError, InputError
from ._planner import (
    ACTIVE_SHARE_STATUS,
    TARGET_ORGANIZATION,
    apply_action,
    apply_plan,
    check_absent_options,
    desired_from_params,
    key_to_resource,
    plan,
    plan_delete,
    share_view,
)
from ._validation import check_hex_id, check_share_name, check_wait_timeout

POLL_FIRST_DELAY = 0.5
POLL_MAX_DELAY = 5.0
PENDING_RECIPIENT_STATUSES = frozenset(("associating", "disassociating"))


class ShareApi:
    """The Resource Sharing endpoints of one account."""

    def __init__(self, client, account_id):
        self.client = client
        self.account_id = account_id

    def _path(self, *segments):
        return self.client.path("accounts", self.account_id, "shares", *segments)

    def get_share(self, share_id):
        """The share with its resources, or None when the API does not know it."""
        try:
            return self.client.get(self._path(share_id), {"include_resources": "true"})
        except CloudflareError as error:
            if error.status == 404:
                return None
            raise

    def list_shares(self, **filters):
        return self.client.list_all(self._path(), filters)

    def list_organization_shares(self, organization_id, **filters):
        return self.client.list_all(self.client.path("organizations", organization_id, "shares"), filters)

    def list_recipients(self, share_id):
        return self.client.list_all(self._path(share_id, "recipients"))

    def perform(self, share_id, action):
        """Send the request for one planner action; return the API's answer (None for a 204)."""
        fields = action.fields
        request = self.client.request
        if action.kind == "create_share":
            answer = request("POST", self._path(), body=fields["body"])
        elif action.kind == "rename_share":
            answer = request("PUT", self._path(share_id), body={"name": fields["name"]})
        elif action.kind == "delete_share":
            answer = request("DELETE", self._path(share_id))
        elif action.kind == "replace_recipients":
            body = [{"recipient_account_id": account} for account in fields["account_ids"]]
            answer = request("PUT", self._path(share_id, "recipients"), body=body)
        elif action.kind == "add_recipient":
            answer = request("POST", self._path(share_id, "recipients"), body={"recipient_account_id": fields["account_id"]})
        elif action.kind == "remove_recipient":
            answer = request("DELETE", self._path(share_id, "recipients", fields["recipient_id"]))
        elif action.kind == "add_resource":
            body = dict(key_to_resource(fields["key"]), meta=fields["meta"])
            answer = request("POST", self._path(share_id, "resources"), body=body)
        elif action.kind == "update_resource":
            answer = request("PUT", self._path(share_id, "resources", fields["share_resource_id"]), body={"meta": fields["meta"]})
        else:
            answer = request("DELETE", self._path(share_id, "resources", fields["share_resource_id"]))
        return answer.get("result")


class PartialFailure(CloudflareError):
    """A failure after some writes; carries the module result (``changed``, ``share``) to return with it."""

    def __init__(self, message, error, result):
        super().__init__(message, status=error.status, codes=error.codes)
        self.result = result


RECIPIENT_COUNT_FIELDS = ("associated_recipient_count", "associating_recipient_count",
                          "disassociated_recipient_count", "disassociating_recipient_count")


def share_facts(state):
    """The share returned to the task. The recipient counts are dropped: only some answers carry them, they go
    stale as soon as an association settles, and ``recipients`` holds the same facts."""
    return {key: value for key, value in (state or {}).items() if key not in RECIPIENT_COUNT_FIELDS}


def with_recipients(api, share):
    state = dict(share)
    state["recipients"] = api.list_recipients(share["id"])
    return state


def list_sent_shares(api):
    """The account's active sent shares with their resources: one request while the API answers unpaginated."""
    return api.list_shares(kind="sent", status="active", include_resources="true")


def is_active_sent(share):
    return share.get("status") == ACTIVE_SHARE_STATUS and share.get("kind", "sent") == "sent"


def find_share(api, name=None, share_id=None, include_recipients=True, listing=None):
    """The active sent share by id or by name (with its recipients if asked); None when there is none.

    ``listing``: the result of ``list_sent_shares`` when the caller already has it (the bulk module
    lists once for all its shares); a lookup by name then costs no request, and so does a lookup
    by id of a listed share.
    """
    if share_id:
        listed = [share for share in listing or () if share.get("id") == share_id]
        share = listed[0] if listed else api.get_share(share_id)
        if share is None:
            return None
        if share.get("kind") == "received":
            raise InputError("Share %s was received from account %s; only shares this account sent can be managed."
                             % (share_id, share.get("account_id")))
        matches = [share] if share.get("status") == ACTIVE_SHARE_STATUS else []
    else:
        shares = list_sent_shares(api) if listing is None else listing
        matches = [share for share in shares if share.get("name") == name and is_active_sent(share)]
    if len(matches) > 1:
        raise InputError("%d active shares are named %r (ids: %s); names are not unique in Cloudflare, so this task will "
                         "not guess. Pass share_id to pick one, or delete the extra shares."
                         % (len(matches), name, ", ".join(sorted(share["id"] for share in matches))))
    if not matches:
        return None
    return with_recipients(api, matches[0]) if include_recipients else dict(matches[0])


def execute(api, state, actions, owner_account_id, read_back=True):
    """Run the actions in order, folding each answer into the state. On an API error, say what was and was not done.

    ``read_back``: after a create or a recipients replace (whose answers do not list the recipients),
    read the recipients back; without it, the state holds the planner's prediction of them.
    """
    for index, action in enumerate(actions):
        try:
            answer = api.perform(state["id"] if state else None, action)
        except CloudflareError as error:
            raise _partial_failure(error, state, actions, index)
        state = apply_action(state, action, owner_account_id, answer)
    if read_back and any(action.kind in ("create_share", "replace_recipients") for action in actions):
        try:
            state = with_recipients(api, state)
        except CloudflareError as error:
            raise _partial_failure(error, state, actions, len(actions))
    return state


def _partial_failure(error, state, actions, failed_at):
    done = [action.describe() for action in actions[:failed_at]]
    not_done = [action.describe() for action in actions[failed_at:]]
    message = str(error)
    if done or len(actions) > 1:
        message = "%s. Done before the error: %s. Not done: %s. Re-run the task to converge." % (
            message, "; ".join(done) or "nothing", "; ".join(not_done) or "nothing (reading the result back failed)")
    return PartialFailure(message, error, {"changed": bool(done), "share": state or {}})


def wait_until(check, timeout, describe_pending, clock=time.monotonic, sleep=time.sleep):
    """Poll ``check()`` (returns (done, value)) with growing delays until done or ``timeout`` seconds pass."""
    deadline = clock() + timeout
    delay = POLL_FIRST_DELAY
    done, value = check()
    while not done:
        remaining = deadline - clock()
        if remaining <= 0:
            raise TimeoutError("gave up after wait_timeout=%s s: %s" % (timeout, describe_pending(value)))
        sleep(min(delay, remaining))
        delay = min(delay * 2, POLL_MAX_DELAY)
        done, value = check()
    return value


def pending_recipients(state, accounts=None):
    return ["%s (%s)" % (r.get("account_id"), r.get("association_status"))
            for r in state.get("recipients") or ()
            if r.get("association_status") in PENDING_RECIPIENT_STATUSES and (accounts is None or r.get("account_id") in accounts)]


def wait_for_recipients(api, state, timeout, accounts=None):
    """Poll until no recipient (of ``accounts``, or of the share) is associating or disassociating."""
    def check():
        latest = with_recipients(api, state)
        return not pending_recipients(latest, accounts), latest
    return wait_until(check, timeout, lambda latest: "recipients still pending: " + ", ".join(pending_recipients(latest, accounts)))


def wait_for_deletion(api, state, timeout):
    def check():
        share = api.get_share(state["id"])
        return share is None or share.get("status") == "deleted", dict(state, **(share or {"status": "deleted"}))
    return wait_until(check, timeout, lambda latest: "share %s is still %s" % (state["id"], latest.get("status")))


class ShareRequest:
    """What a task asks for: which share, whether its subject should exist, and how to run.

    ``desired`` is the DesiredShare of the ``share`` module; the part modules leave it None.
    ``wait_accounts`` limits ``wait`` to some recipients (None: all of them). ``diff``: the task
    shows a diff, so a deletion reads the recipients it shows as "before".
    ``allow_duplicate_name``: a rename may give the share a name another active share has.
    """

    def __init__(self, name, share_id, present, check_mode, desired=None, wait=False, wait_timeout=0, wait_accounts=None,
                 diff=False, allow_duplicate_name=False):
        self.name = name
        self.share_id = share_id
        self.present = present
        self.check_mode = check_mode
        self.desired = desired
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.wait_accounts = wait_accounts
        self.diff = diff
        self.allow_duplicate_name = allow_duplicate_name


def share_request(params, owner_account_id, check_mode, diff=False, prefix=""):
    """The ShareRequest of the ``share`` module's options (or of one ``shares`` item, named by ``prefix``).

    Checks everything that needs no request: ids, the name, recipients, resources, and options that
    contradict ``state``.
    """
    share_id = None if params.get("share_id") is None else check_hex_id(prefix + "share_id", params["share_id"])
    check_share_name(prefix + "name", params.get("name"))
    check_wait_timeout(params, prefix)
    present = params.get("state", "present") == "present"
    if present:
        desired = desired_from_params(params, owner_account_id, prefix)
    else:
        check_absent_options(params, prefix)
        desired = None
    return ShareRequest(params.get("name"), share_id, present, check_mode, desired=desired, wait=params.get("wait"),
                        wait_timeout=params.get("wait_timeout"), diff=diff,
                        allow_duplicate_name=params.get("allow_duplicate_name", False))


def apply_actions(api, request, current, actions, read_back=True):
    """Predict (check mode) or perform the actions, then wait if asked; return the final state."""
    if request.check_mode:
        return apply_plan(current, actions, api.account_id)
    final = execute(api, current, actions, api.account_id, read_back=read_back)
    return _wait(api, request, final, changed=bool(actions))


def plan_share(api, request, listing=None, lean=False):
    """Find the share and plan the request: returns (current state, actions).

    ``listing``: see ``find_share``. ``lean`` (the bulk module): read the recipients only when the
    plan needs them (the request manages account recipients) or the diff shows them, not just to
    return them.
    """
    if request.present:
        read_recipients = not (lean and request.desired.recipient_accounts is None)
    else:
        read_recipients = request.diff or not lean
    current = find_share(api, name=request.name, share_id=request.share_id, include_recipients=read_recipients,
                         listing=listing)
    if not request.present:
        return current, plan_delete(current)
    if current is None and request.share_id:
        raise InputError("No active share %s in account %s; to create a share, give name and no share_id."
                         % (request.share_id, api.account_id))
    actions = plan(current, request.desired)
    if any(action.kind == "rename_share" for action in actions) and not request.allow_duplicate_name:
        _refuse_duplicate_name(api, current, request.desired.name, listing)
    return current, actions


def _refuse_duplicate_name(api, current, name, listing):
    """A rename must not give the share a name another active sent share has: later lookups by name would fail."""
    shares = list_sent_shares(api) if listing is None else listing
    others = sorted(share["id"] for share in shares
                    if share.get("name") == name and is_active_sent(share) and share.get("id") != current.get("id"))
    if others:
        raise InputError(
            "Renaming share %s to %r would give it the name of the active share %s; names are not unique in "
            "Cloudflare, so later lookups by that name would fail. Pick another name, delete the other share, or set "
            "allow_duplicate_name=true." % (current.get("id"), name, ", ".join(others)))


def _view(state, recipients_known):
    view = share_view(state)
    if not recipients_known and view.get("target_type") != TARGET_ORGANIZATION:
        view.pop("recipients", None)
    return view


def finish(api, request, current, actions, lean=False):
    """Run (or, in check mode, predict) the planned actions; return the module result (changed, share, diff).

    ``lean``: no read-back of the recipients after a create or a recipients replace (see ``execute``).
    """
    final = apply_actions(api, request, current, actions, read_back=not lean)
    recipients_known = not lean or current is None or "recipients" in current
    return {
        "changed": bool(actions),
        "share": share_facts(final),
        "diff": {"before": _view(current, recipients_known), "after": _view(final, recipients_known)},
    }


def converge(api, request, listing=None, lean=False):
    """Bring one share to the requested state. Returns the module result (changed, share, diff)."""
    current, actions = plan_share(api, request, listing=listing, lean=lean)
    return finish(api, request, current, actions, lean=lean)


def converge_part(api, request, plan_part, pick, part):
    """Converge one part of an existing share (a recipient, a resource) and leave the rest alone.

    ``plan_part(share)`` returns the actions; ``pick(share)`` returns the part's API object, or {} when absent.
    The result (and the result of a failure after a write) has ``changed``, ``share_id``, ``part`` (the
    picked object) and ``diff``.
    """
    current = find_share(api, name=request.name, share_id=request.share_id)
    if current is None:
        raise InputError("No active share %s in account %s." % (
            request.share_id or "named %r" % request.name, api.account_id))
    actions = plan_part(current)
    before = pick(current)
    try:
        final = apply_actions(api, request, current, actions)
    except PartialFailure as failure:
        latest = failure.result.get("share") or current
        failure.result = {"changed": failure.result.get("changed", False), "share_id": current["id"], part: pick(latest)}
        raise
    after = pick(final)
    return {"changed": bool(actions), "share_id": current["id"], part: after, "diff": {"before": before, "after": after}}


def _wait(api, request, state, changed):
    if not request.wait:
        return state
    try:
        if not state:
            return _wait_for_deleting(api, request)
        if request.present or request.wait_accounts is not None:
            return wait_for_recipients(api, state, request.wait_timeout, request.wait_accounts)
        return wait_for_deletion(api, state, request.wait_timeout)
    except TimeoutError as error:
        label = state.get("id") if state else request.share_id or repr(request.name)
        raise PartialFailure("Share %s: %s" % (label, error), CloudflareError(str(error)),
                             {"changed": changed, "share": state or {}})


def _wait_for_deleting(api, request):
    """``state=absent`` with ``wait`` and no active share: wait for the share(s) of that id or name still deleting."""
    if request.present:
        return {}
    if request.share_id:
        share = api.get_share(request.share_id)
        deleting = [share] if share and share.get("status") == "deleting" else []
    else:
        deleting = [share for share in api.list_shares(kind="sent", status="deleting")
                    if share.get("name") == request.name]
    state = {}
    for share in deleting:
        state = wait_for_deletion(api, share, request.wait_timeout)
    return state
