# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Converging one share: the request, the lookup, the plan, its execution, the result.

The pipeline of a task, each step named by what it gives: ``share_request`` (the validated
request), ``share_plan`` (the share as it is, and the actions), ``share_result`` (the actions
run, or predicted in check mode, then waited for; the module result). ``converge`` chains them.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

from ._actions import apply_action, apply_plan
from ._errors import CloudflareError, InputError
from ._model import ACTIVE_SHARE_STATUS, TARGET_ORGANIZATION, association_errors, share_view
from ._planner import check_absent_options, desired_from_params, plan, plan_delete
from ._validation import check_hex_id, check_share_name, check_wait_timeout
from ._wait import WaitFailed, wait_for_deleting, wait_for_deletion, wait_for_recipients

RECIPIENT_COUNT_FIELDS = (
    "associated_recipient_count",
    "associating_recipient_count",
    "disassociated_recipient_count",
    "disassociating_recipient_count",
)


class Reads:
    """How much a converge reads beyond what planning needs.

    ``FULL`` (the ``share`` module): the recipients are always read, to be returned, and read
    back after a create or a replacement of the list. ``PLANNING`` (the bulk module): only what
    the plan needs, or a diff shows; predicted recipients are returned after a create or a
    replacement.
    """

    FULL = "full"
    PLANNING = "planning"


class ShareRequest:
    """What a task asks for: which share, whether it should exist (and as ``desired``), and how to run.

    ``desired`` is the DesiredShare of the ``share`` module; the part modules leave it None.
    ``wait_accounts`` limits ``wait`` to some recipients (None: all of them). ``diff``: the task
    shows a diff, so a deletion reads the recipients it shows as "before".
    ``allow_duplicate_name``: a rename may give the share a name another active share has.
    """

    def __init__(
        self,
        *,
        name,
        share_id,
        present,
        check_mode,
        desired=None,
        wait=False,
        wait_timeout=0,
        wait_accounts=None,
        diff=False,
        allow_duplicate_name=False,
    ):
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


class SharePlan:
    """The share as it is (None: no active share) and the actions that converge it."""

    def __init__(self, *, current, actions):
        self.current = current
        self.actions = actions


class PartialFailure(CloudflareError):
    """A failure after some writes; carries the module result (``changed``, ``share``) to return with it."""

    def __init__(self, message, error, result):
        super().__init__(message, status=error.status, codes=error.codes)
        self.result = result


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
    return ShareRequest(
        name=params.get("name"),
        share_id=share_id,
        present=present,
        check_mode=check_mode,
        desired=desired,
        wait=params.get("wait"),
        wait_timeout=params.get("wait_timeout"),
        diff=diff,
        allow_duplicate_name=params.get("allow_duplicate_name", False),
    )


# --- lookup -------------------------------------------------------------------------------------------------


def share_facts(state):
    """The share returned to the task, with ``association_errors`` when its recipients were read.

    The recipient counts are dropped: only some answers carry them, they go stale as soon as an
    association settles, and ``recipients`` holds the same facts.
    """
    facts = {key: value for key, value in (state or {}).items() if key not in RECIPIENT_COUNT_FIELDS}
    if "recipients" in facts:
        facts["association_errors"] = association_errors(facts)
    return facts


def with_recipients(api, share):
    return dict(share, recipients=api.list_recipients(share["id"]))


def with_parts(api, share, recipients=True, excluded=True):
    """The share with its recipients and, for an organization share, its excluded recipients, as asked."""
    if recipients:
        share = with_recipients(api, share)
    if excluded and share.get("target_type") == TARGET_ORGANIZATION:
        share = dict(share, excluded_recipients=api.list_excluded_recipients(share["id"]))
    return share


def list_sent_shares(api):
    """The account's active sent shares with their resources: one request while the API answers unpaginated."""
    return api.list_shares(kind="sent", status="active", include_resources="true")


def is_active_sent(share):
    return share.get("status") == ACTIVE_SHARE_STATUS and share.get("kind", "sent") == "sent"


def find_share(api, name=None, share_id=None, include_recipients=True, listing=None, include_excluded=None):
    """The active sent share by id or by name (with its recipients, and excluded recipients, if asked); None
    when there is none. ``include_excluded`` defaults to ``include_recipients``.

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
            raise InputError(
                "Share {} was received from account {}; only shares this account sent can be managed.".format(
                    share_id, share.get("account_id")
                )
            )
        matches = [share] if share.get("status") == ACTIVE_SHARE_STATUS else []
    else:
        shares = list_sent_shares(api) if listing is None else listing
        matches = [share for share in shares if share.get("name") == name and is_active_sent(share)]
    if len(matches) > 1:
        raise InputError(
            "{} active shares are named {!r} (ids: {}); names are not unique in Cloudflare, so this task will "
            "not guess. Pass share_id to pick one, or delete the extra shares.".format(
                len(matches), name, ", ".join(sorted(share["id"] for share in matches))
            )
        )
    if not matches:
        return None
    excluded = include_recipients if include_excluded is None else include_excluded
    return with_parts(api, dict(matches[0]), recipients=include_recipients, excluded=excluded)


# --- plan ---------------------------------------------------------------------------------------------------


def share_plan(api, request, listing=None, reads=Reads.FULL):
    """The SharePlan of a request: the share found (by id or name) and the actions that converge it.

    ``listing``: see ``find_share``. With ``Reads.PLANNING``, the recipients are read only when
    the plan needs them (the request manages account recipients) or the diff shows them.
    """
    if request.present:
        read_recipients = reads == Reads.FULL or request.desired.recipient_accounts is not None
        read_excluded = reads == Reads.FULL or request.desired.excluded_accounts is not None
    else:
        read_recipients = read_excluded = reads == Reads.FULL or request.diff
    current = find_share(
        api,
        name=request.name,
        share_id=request.share_id,
        include_recipients=read_recipients,
        include_excluded=read_excluded,
        listing=listing,
    )
    if not request.present:
        return SharePlan(current=current, actions=plan_delete(current))
    if current is None and request.share_id:
        raise InputError(
            f"No active share {request.share_id} in account {api.account_id}; to create a share, give name and no share_id."
        )
    actions = plan(current, request.desired)
    if any(action.kind == "rename_share" for action in actions) and not request.allow_duplicate_name:
        _refuse_duplicate_name(api, current, request.desired.name, listing)
    return SharePlan(current=current, actions=actions)


def _refuse_duplicate_name(api, current, name, listing):
    """A rename must not give the share a name another active sent share has: later lookups by name would fail."""
    shares = list_sent_shares(api) if listing is None else listing
    others = sorted(
        share["id"]
        for share in shares
        if share.get("name") == name and is_active_sent(share) and share.get("id") != current.get("id")
    )
    if others:
        raise InputError(
            "Renaming share {} to {!r} would give it the name of the active share {}; names are not unique in "
            "Cloudflare, so later lookups by that name would fail. Pick another name, delete the other share, or set "
            "allow_duplicate_name=true.".format(current.get("id"), name, ", ".join(others))
        )


# --- execution and result -----------------------------------------------------------------------------------


def execute(api, state, actions, read_back=True):
    """Run the actions in order, folding each answer into the state. On an API error, say what was and was not done.

    ``read_back``: after a create or a recipients replace (whose answers do not list the recipients),
    read the recipients back, and after a create whose answer does not list the resources (the API
    promises them only when asked), the share with its resources; without it, the state holds the
    planner's prediction of them (the request says what was created).
    """
    resources_unread = False
    for index, action in enumerate(actions):
        try:
            answer = api.perform(state["id"] if state else None, action)
        except CloudflareError as error:
            raise _partial_failure(error, state, actions, index)
        resources_unread |= action.kind == "create_share" and "resources" not in (answer or {})
        state = apply_action(state, action, api.account_id, answer)
    kinds = {action.kind for action in actions}
    if read_back and kinds & {"create_share", "replace_recipients", "replace_excluded_recipients"}:
        try:
            if resources_unread:
                state = dict(state, **api.get_share(state["id"]))
            state = with_parts(
                api,
                state,
                recipients=bool(kinds & {"create_share", "replace_recipients"}),
                excluded=bool(kinds & {"create_share", "replace_excluded_recipients"}),
            )
        except CloudflareError as error:
            raise _partial_failure(error, state, actions, len(actions))
    return state


def _partial_failure(error, state, actions, failed_at):
    done = [action.describe() for action in actions[:failed_at]]
    not_done = [action.describe() for action in actions[failed_at:]]
    message = str(error)
    if done or len(actions) > 1:
        message = "{}. Done before the error: {}. Not done: {}. Re-run the task to converge.".format(
            message, "; ".join(done) or "nothing", "; ".join(not_done) or "nothing (reading the result back failed)"
        )
    return PartialFailure(message, error, {"changed": bool(done), "share": share_facts(state)})


def final_state(api, request, current, actions, read_back=True):
    """The state after the actions: predicted (check mode), or from running them and waiting if asked."""
    if request.check_mode:
        return apply_plan(current, actions, api.account_id)
    state = execute(api, current, actions, read_back=read_back)
    return _waited(api, request, state, changed=bool(actions))


def _view(state, recipients_known):
    view = share_view(state)
    if not recipients_known and view.get("target_type") != TARGET_ORGANIZATION:
        view.pop("recipients", None)
    return view


def share_result(api, request, planned, reads=Reads.FULL):
    """The module result (changed, share, diff) of running (or, in check mode, predicting) the plan."""
    current, actions = planned.current, planned.actions
    final = final_state(api, request, current, actions, read_back=reads == Reads.FULL)
    recipients_known = reads == Reads.FULL or current is None or "recipients" in current
    return {
        "changed": bool(actions),
        "share": share_facts(final),
        "diff": {"before": _view(current, recipients_known), "after": _view(final, recipients_known)},
    }


def converge(api, request, listing=None, reads=Reads.FULL):
    """Bring one share to the requested state. Returns the module result (changed, share, diff)."""
    return share_result(api, request, share_plan(api, request, listing=listing, reads=reads), reads=reads)


def converge_part(api, request, plan_part, pick, part):
    """Converge one part of an existing share (a recipient, a resource) and leave the rest alone.

    ``plan_part(share)`` returns the actions; ``pick(share)`` returns the part's API object, or {} when absent.
    The result (and the result of a failure after a write) has ``changed``, ``share_id``, ``part`` (the
    picked object) and ``diff``.
    """
    current = find_share(api, name=request.name, share_id=request.share_id)
    if current is None:
        raise InputError(
            "No active share {} in account {}.".format(request.share_id or f"named {request.name!r}", api.account_id)
        )
    actions = plan_part(current)
    before = pick(current)
    try:
        final = final_state(api, request, current, actions)
    except PartialFailure as failure:
        latest = failure.result.get("share") or current
        failure.result = {
            "changed": failure.result.get("changed", False),
            "share_id": current["id"],
            part: pick(latest),
        }
        raise
    after = pick(final)
    return {
        "changed": bool(actions),
        "share_id": current["id"],
        part: after,
        "diff": {"before": before, "after": after},
    }


def _waited(api, request, state, changed):
    """The state once what ``wait`` asks for has settled (the state itself without ``wait``)."""
    if not request.wait:
        return state
    try:
        if not state:
            return (
                {} if request.present else wait_for_deleting(api, request.share_id, request.name, request.wait_timeout)
            )
        if request.present or request.wait_accounts is not None:
            return wait_for_recipients(api, state, request.wait_timeout, request.wait_accounts)
        return wait_for_deletion(api, state, request.wait_timeout)
    except WaitFailed as error:
        label = state.get("id") if state else request.share_id or repr(request.name)
        raise PartialFailure(
            f"Share {label}: {error}",
            CloudflareError(str(error)),
            {"changed": changed, "share": share_facts(error.latest or state)},
        )
