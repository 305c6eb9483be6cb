# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Converging many shares in one task: one listing, bounded concurrency, a request budget.

Each share goes through exactly the code of the ``share`` module (``_share.plan_share`` and
``_share.finish``, so the planner and client rules apply unchanged); this file only adds
what is about many shares at once: input checks across items, the shared listing, the
worker pool, the request budget, pruning, and the summary.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import collections
import threading
import time

from concurrent.futures import ThreadPoolExecutor

from ._client import parse_retry_after
from ._errors import CloudflareError, InputError
from ._module import check_wait_timeout, optional_hex_id
from ._planner import desired_from_params
from ._share import ShareRequest, finish, is_active_sent, list_sent_shares, plan_share

# Cloudflare allows about 1,200 requests per 5 minutes per user. The default budget leaves
# 100 of them (8 %) for other clients of the same user and for clock skew between
# the client's and the server's windows.
DEFAULT_BUDGET_REQUESTS = 1100
DEFAULT_BUDGET_WINDOW = 300
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32
# Pause after a 429 that carries no usable Retry-After.
DEFAULT_429_PAUSE = 1.0


class RequestBudget:
    """At most ``requests`` requests in any ``window`` seconds (a sliding window, as Cloudflare counts), thread-safe.

    ``acquire()`` blocks until a request may go; ``pause(seconds)`` holds every thread back
    (after a 429). ``requests=0`` disables the budget, not the pauses. ``waited`` is the
    total time threads spent blocked.
    """

    def __init__(self, requests=DEFAULT_BUDGET_REQUESTS, window=DEFAULT_BUDGET_WINDOW,
                 clock=time.monotonic, sleep=time.sleep):
        self.requests = requests
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent = collections.deque()
        self._paused_until = 0.0
        self.waited = 0.0

    def _delay(self, now):
        """Seconds until a request may go (0: it may go now, and is counted)."""
        if now < self._paused_until:
            return self._paused_until - now
        if self.requests:
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) >= self.requests:
                delay = self._sent[0] + self.window - now
                if delay > 0:
                    return delay
                self._sent.popleft()  # leaves the window now (float rounding kept it above)
            self._sent.append(now)
        return 0.0

    def acquire(self):
        while True:
            with self._lock:
                delay = self._delay(self._clock())
                if delay <= 0:
                    return
                self.waited += delay
            self._sleep(delay)

    def pause(self, seconds):
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


class BudgetedTransport:
    """Wraps a transport: every attempt (retries included) waits for the budget; a 429 pauses every thread."""

    def __init__(self, transport, budget):
        self._transport = transport
        self.budget = budget
        self._lock = threading.Lock()
        self.requests = 0
        self.rate_limited = 0

    def __call__(self, method, url, headers, body, timeout, validate_certs, ca_path):
        self.budget.acquire()
        with self._lock:
            self.requests += 1
        response = self._transport(method, url, headers, body, timeout, validate_certs, ca_path)
        if response.status == 429:
            with self._lock:
                self.rate_limited += 1
            retry_after = parse_retry_after(response.headers)
            self.budget.pause(DEFAULT_429_PAUSE if retry_after is None else retry_after)
        return response


class Item:
    """One entry of ``shares``: its label for messages, and its ShareRequest or the input error that stops it."""

    def __init__(self, index, params, request=None, error=None):
        self.index = index
        self.params = params
        self.request = request
        self.error = error

    @property
    def label(self):
        if self.params.get("name") is not None:
            return repr(self.params["name"])
        if self.params.get("share_id"):
            return "share_id %s" % self.params["share_id"]
        return "shares[%d]" % self.index


def check_distinct(items_params):
    """Fail (before any request) when two items name the same share: they would race, and one would undo the other."""
    seen = {}
    clashes = []
    for index, params in enumerate(items_params):
        for key in ("name", "share_id"):
            value = params.get(key)
            if value is None:
                continue
            if (key, value) in seen:
                clashes.append("shares[%d] and shares[%d] both have %s %r" % (seen[(key, value)], index, key, value))
            else:
                seen[(key, value)] = index
    if clashes:
        raise InputError("Each share may appear once in shares: %s. Merge them into one item." % "; ".join(clashes))


def prepare(items_params, owner_account_id, check_mode):
    """Validate every item as the ``share`` module validates its options. An invalid item fails alone."""
    check_distinct(items_params)
    items = []
    for index, params in enumerate(items_params):
        try:
            share_id = optional_hex_id(params, "share_id")
            check_wait_timeout(params)
            present = params["state"] == "present"
            desired = desired_from_params(params, owner_account_id) if present else None
            request = ShareRequest(params.get("name"), share_id, present, check_mode, desired=desired,
                                   wait=params.get("wait"), wait_timeout=params.get("wait_timeout"))
            items.append(Item(index, params, request=request))
        except InputError as error:
            items.append(Item(index, params, error=str(error)))
    return items


def prune_targets(listing, items):
    """The listed shares no item names (neither by name nor by share_id): what ``prune`` deletes."""
    names = {item.params.get("name") for item in items} - {None}
    ids = {item.params.get("share_id") for item in items} - {None}
    return [share for share in listing
            if is_active_sent(share) and share.get("name") not in names and share.get("id") not in ids]


def _outcome(item_fields, result=None, actions=(), error=None):
    outcome = dict(item_fields)
    outcome.update(changed=False, failed=False, actions=[action.describe() for action in actions], share={})
    if result is not None:
        outcome.update(changed=result["changed"], share=result["share"], diff=result["diff"])
    if error is not None:
        outcome.update(failed=True, msg=str(error))
        partial = getattr(error, "result", None) or {}
        outcome.update(changed=bool(partial.get("changed")), share=partial.get("share") or outcome["share"])
    return outcome


def _run_one(api, request, listing, fields):
    actions = ()
    try:
        current, actions = plan_share(api, request, listing=listing, lean=True)
        return _outcome(fields, finish(api, request, current, actions, lean=True), actions)
    except (InputError, CloudflareError) as error:
        return _outcome(fields, actions=actions, error=error)


def converge_all(api, items, concurrency=DEFAULT_CONCURRENCY, prune=False, check_mode=False):
    """Converge every item (and prune) with ``concurrency`` workers; return the per-share outcomes in order.

    Items first (in the given order), then the pruned shares. The one listing is read
    before any work; if it fails, nothing is done and the error propagates. An empty list
    without prune has nothing to look at and makes no request.
    """
    if not items and not prune:
        return []
    listing = list_sent_shares(api)
    jobs = []
    for item in items:
        fields = {"index": item.index, "name": item.params.get("name"), "share_id": item.params.get("share_id"),
                  "state": item.params.get("state"), "pruned": False}
        jobs.append((item.request, fields, item.error))
    if prune:
        for share in prune_targets(listing, items):
            request = ShareRequest(None, share["id"], False, check_mode)
            jobs.append((request, {"index": None, "name": share.get("name"), "share_id": share["id"],
                                   "state": "absent", "pruned": True}, None))
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs) or 1))) as pool:
        futures = [pool.submit(_run_one, api, request, listing, fields) if error is None else None
                   for request, fields, error in jobs]
        outcomes = []
        for future, (_request, fields, error) in zip(futures, jobs):
            outcomes.append(_outcome(fields, error=InputError(error)) if future is None else future.result())
    for outcome in outcomes:
        if outcome["share"].get("id") and not outcome["share_id"]:
            outcome["share_id"] = outcome["share"]["id"]
    return outcomes


def outcome_label(outcome):
    if outcome["pruned"]:
        return "pruned share %r (%s)" % (outcome["name"], outcome["share_id"])
    if outcome["name"] is not None:
        return repr(outcome["name"])
    if outcome["share_id"]:
        return "share_id %s" % outcome["share_id"]
    return "shares[%d]" % outcome["index"]


def summary(outcomes, diff):
    """The module result: changed, results, and in diff mode one diff per changed share."""
    result = {"changed": any(outcome["changed"] for outcome in outcomes), "results": outcomes}
    if diff:
        result["diff"] = [dict(outcome["diff"], before_header=outcome_label(outcome), after_header=outcome_label(outcome))
                          for outcome in outcomes if outcome["changed"] and "diff" in outcome]
    else:
        for outcome in outcomes:
            outcome.pop("diff", None)
    failed = [outcome for outcome in outcomes if outcome["failed"]]
    if failed:
        result["msg"] = "%d of %d shares failed (the others were converged; fix the causes and re-run): %s" % (
            len(failed), len(outcomes), "; ".join("%s: %s" % (outcome_label(outcome), outcome["msg"]) for outcome in failed))
        result["failed_shares"] = [outcome_label(outcome) for outcome in failed]
    return result
