# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting for Cloudflare's asynchronous statuses to settle: bounded polls with growing delays.

The waits between polls are the client's (``CloudflareClient.sleep``), so they end early when
the run is interrupted.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import time

from ._model import PENDING_RECIPIENT_STATUSES, association_errors

POLL_FIRST_DELAY = 0.5
POLL_MAX_DELAY = 5.0


class WaitFailed(Exception):
    """What was waited for did not happen: the time ran out, or Cloudflare says it never will (a terminal error).

    ``latest``: the last state seen.
    """

    def __init__(self, message, latest=None):
        super().__init__(message)
        self.latest = latest


def wait_until(check, timeout, describe_pending, clock=time.monotonic, sleep=time.sleep):
    """Poll ``check()`` (returns (done, value)) at once, then after 0.5, 1, 2, 4, 5, 5, ... seconds.

    Returns the value once done; raises WaitFailed naming what is pending after ``timeout`` seconds.
    ``check`` may raise WaitFailed itself to stop at once.
    """
    deadline = clock() + timeout
    delay = POLL_FIRST_DELAY
    done, value = check()
    while not done:
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitFailed(f"gave up after wait_timeout={timeout} s: {describe_pending(value)}", value)
        sleep(min(delay, remaining))
        delay = min(delay * 2, POLL_MAX_DELAY)
        done, value = check()
    return value


def pending_recipients(state, accounts=None):
    return [
        "{} ({})".format(r.get("account_id"), r.get("association_status"))
        for r in state.get("recipients") or ()
        if r.get("association_status") in PENDING_RECIPIENT_STATUSES
        and (accounts is None or r.get("account_id") in accounts)
    ]


def describe_errors(errors):
    return "; ".join(
        "recipient account {}, resource {}: {}{}".format(
            error["account_id"], error["resource_id"], error["error"], " (terminal)" if error["terminal"] else ""
        )
        for error in errors
    )


def wait_for_recipients(api, state, timeout, accounts=None):
    """The share once no recipient (of ``accounts``, or of the share) is associating or disassociating.

    Fails at once when Cloudflare reports a terminal association error (it will not be retried);
    a timeout names the errors that were still being retried.
    """

    def check():
        latest = dict(state, recipients=api.list_recipients(state["id"]))
        terminal = [error for error in association_errors(latest, accounts) if error["terminal"]]
        if terminal:
            raise WaitFailed(f"Cloudflare will not associate it: {describe_errors(terminal)}", latest)
        return not pending_recipients(latest, accounts), latest

    def describe(latest):
        pending = "recipients still pending: " + ", ".join(pending_recipients(latest, accounts))
        errors = association_errors(latest, accounts)
        return pending + (f"; errors being retried: {describe_errors(errors)}" if errors else "")

    return wait_until(check, timeout, describe, sleep=api.client.sleep)


def wait_for_deletion(api, state, timeout):
    """The share's last state once the API says it is deleted (or no longer knows it)."""

    def check():
        share = api.get_share(state["id"])
        return share is None or share.get("status") == "deleted", dict(state, **(share or {"status": "deleted"}))

    return wait_until(
        check,
        timeout,
        lambda latest: "share {} is still {}".format(state["id"], latest.get("status")),
        sleep=api.client.sleep,
    )


def wait_for_deleting(api, share_id, name, timeout):
    """The last state of the share(s) of that id or name that are still ``deleting`` once deleted; {} if none."""
    if share_id:
        share = api.get_share(share_id)
        deleting = [share] if share and share.get("status") == "deleting" else []
    else:
        deleting = [share for share in api.list_shares(kind="sent", status="deleting") if share.get("name") == name]
    state = {}
    for share in deleting:
        state = wait_for_deletion(api, share, timeout)
    return state
