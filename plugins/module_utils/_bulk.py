# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Converging many shares in one task: one listing, bounded concurrency, a request budget.

Each share goes through exactly the code of the ``share`` module (``_share.share_plan`` and
``_share.share_result``, so the planner and client rules apply unchanged); this file only adds
what is about many shares at once: input checks across items, the shared listing, the
worker pool, the request budget, pruning, and the summary.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import collections
import threading
import time

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ._client import open_url_transport, parse_retry_after
from ._errors import CloudflareError, InputError
from ._module import SHARE_RULES, share_options
from ._api import ShareApi
from ._share import Reads, ShareRequest, is_active_sent, list_sent_shares, share_plan, share_request, share_result
from ._transport import KeepAliveTransport

# Cloudflare allows about 1,200 requests per 5 minutes per user. The default budget leaves
# 100 of them (8 %) for other clients of the same user and for clock skew between
# the client's and the server's windows.
DEFAULT_BUDGET_REQUESTS = 1100
DEFAULT_BUDGET_WINDOW = 300
DEFAULT_CONCURRENCY = 4
# prune deletes at most this many shares in one task unless max_prune says otherwise (0: no limit).
DEFAULT_MAX_PRUNE = 10
CHANGE_KINDS = (("create_share", "create"), ("delete_share", "delete"))
MAX_CONCURRENCY = 32
# Pause after a 429 that carries no usable Retry-After.
DEFAULT_429_PAUSE = 1.0


class RequestBudget:
    """At most ``requests`` requests in any ``window`` seconds (a sliding window, as Cloudflare counts), thread-safe.

    ``acquire()`` blocks until a request may go; ``pause(seconds)`` holds every thread back
    (after a 429). ``requests=0`` disables the budget, not the pauses. ``waited`` is the
    total time threads spent blocked.
    """

    def __init__(
        self, requests=DEFAULT_BUDGET_REQUESTS, window=DEFAULT_BUDGET_WINDOW, clock=time.monotonic, sleep=time.sleep
    ):
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


ITEM_VALIDATOR = ArgumentSpecValidator(share_options(), **SHARE_RULES)


def validated_item(index, raw):
    """(params, None) for a valid ``shares`` item, with the argspec's defaults; else (raw, error message).

    Each item is checked on its own against the ``share`` module's argument spec, so one bad item
    (a wrong type, an unknown choice) fails alone and is named.
    """
    prefix = f"shares[{index}]"
    if not isinstance(raw, dict):
        return {}, f"{prefix} must be a mapping of the share module's options, got {type(raw).__name__}"
    result = ITEM_VALIDATOR.validate(raw)
    if result.error_messages:
        messages = [
            ("unsupported option %s" if isinstance(error, UnsupportedError) else "%s") % error.msg
            for error in result.errors.errors
        ]
        return raw, "{}: {}".format(prefix, "; ".join(messages))
    return result.validated_parameters, None


def check_distinct(items_params):
    """The clashes between items that name the same share: they would race, and one would undo the other.

    An item is its ``share_id`` when it has one (its ``name`` is then what the share is called, which two
    shares may share), else its ``name``.
    """
    seen = {}
    clashes = {}
    for index, params in enumerate(items_params):
        key = ("share_id", params["share_id"]) if params.get("share_id") is not None else ("name", params.get("name"))
        if key[1] is None:
            continue
        if key in seen:
            message = f"shares[{seen[key]}] and shares[{index}] both have {key[0]} {key[1]!r}; merge them into one item"
            clashes.setdefault(seen[key], message)
            clashes.setdefault(index, message)
        else:
            seen[key] = index
    return clashes


def prepare(items_raw, owner_account_id, check_mode, diff=False):
    """Validate every item as the ``share`` module validates its options. An invalid item fails alone."""
    validated = [validated_item(index, raw) for index, raw in enumerate(items_raw)]
    clashes = check_distinct([params if error is None else {} for params, error in validated])
    items = []
    for index, (params, error) in enumerate(validated):
        if error is None and index in clashes:
            error = clashes[index]
        if error is None:
            try:
                request = share_request(params, owner_account_id, check_mode, diff=diff, prefix=f"shares[{index}].")
                items.append(Item(index, params, request=request))
                continue
            except InputError as input_error:
                error = str(input_error)
        items.append(Item(index, params, error=error))
    return items


def _same_share_clashes(listing, items):
    """Items that address one listed share twice (one by name, another by share_id): {index: message}."""
    by_id = {}
    for item in items:
        if item.error is not None:
            continue
        if item.request.share_id:
            by_id.setdefault(item.request.share_id, []).append(item)
        elif item.request.name is not None:
            matches = [
                share["id"] for share in listing if share.get("name") == item.request.name and is_active_sent(share)
            ]
            if len(matches) == 1:
                by_id.setdefault(matches[0], []).append(item)
    clashes = {}
    for share_id, addressing in by_id.items():
        if len(addressing) > 1:
            names = " and ".join(
                "shares[{}] ({})".format(item.index, "by share_id" if item.request.share_id else "by name")
                for item in addressing
            )
            for item in addressing:
                clashes[item.index] = (
                    f"{names} address the same share {share_id}; they would undo each other on every run. "
                    "Merge them into one item."
                )
    return clashes


def _near(name):
    return " ".join(name.split()).casefold() if isinstance(name, str) else None


def prune_plan(listing, items):
    """(the shares ``prune`` deletes, why it deletes nothing or keeps some): only what is certain.

    Nothing is deleted while an item is invalid, or names by ``share_id`` a share that is not there
    (its name or id might be the one that protects a share). A share no item names is deleted, unless
    its name differs from an item's name only in case or spacing (more likely a typo than a share to
    delete): that one is kept and reported.
    """
    invalid = [item for item in items if item.error is not None]
    if invalid:
        return [], [
            "prune deleted nothing: {} item(s) are invalid ({}), and a share an invalid item means could be "
            "one prune would delete; fix them and re-run".format(
                len(invalid), ", ".join(f"shares[{item.index}]" for item in invalid)
            )
        ]
    matchable = {share.get("id") for share in listing if is_active_sent(share)} | {None}
    unmatched = [
        item for item in items if item.params.get("state") != "absent" and item.params.get("share_id") not in matchable
    ]
    if unmatched:
        return [], [
            "prune deleted nothing: {} item(s) name a share_id that is no active share of the account ({}), and "
            "the share they mean could be one prune would delete; fix them and re-run".format(
                len(unmatched), ", ".join(f"shares[{item.index}]" for item in unmatched)
            )
        ]
    names = {item.params.get("name") for item in items} - {None}
    ids = {item.params.get("share_id") for item in items} - {None}
    near = {_near(name): name for name in names}
    targets, notes = [], []
    for share in listing:
        if not is_active_sent(share) or share.get("name") in names or share.get("id") in ids:
            continue
        if _near(share.get("name")) in near:
            notes.append(
                "prune kept share {!r} ({}): its name differs from the item name {!r} only in case or spacing".format(
                    share.get("name"), share.get("id"), near[_near(share.get("name"))]
                )
            )
            continue
        targets.append(share)
    return targets, notes


def _change(actions):
    """What the actions do to the share as a whole: create, delete, update, or none."""
    kinds = {action.kind for action in actions}
    return next((change for kind, change in CHANGE_KINDS if kind in kinds), "update" if kinds else "none")


def _outcome(item_fields, result=None, actions=(), error=None):
    outcome = dict(item_fields)
    outcome.update(
        changed=False,
        failed=False,
        actions=[action.describe() for action in actions],
        share={},
        change=_change(actions),
    )
    if result is not None:
        outcome.update(changed=result["changed"], share=result["share"], diff=result["diff"])
    if error is not None:
        outcome.update(failed=True, msg=str(error))
        partial = getattr(error, "result", None) or {}
        outcome.update(changed=bool(partial.get("changed")), share=partial.get("share") or outcome["share"])
    return outcome


def _run_one(api, request, listing, fields, reads):
    actions = ()
    try:
        planned = share_plan(api, request, listing=listing, reads=reads)
        actions = planned.actions
        return _outcome(fields, share_result(api, request, planned, reads=reads), actions)
    except (InputError, CloudflareError) as error:
        return _outcome(fields, actions=actions, error=error)


def _item_fields(item):
    return {
        "index": item.index,
        "name": item.params.get("name"),
        "share_id": item.params.get("share_id"),
        "state": item.params.get("state"),
        "pruned": False,
    }


def prune_refusal(targets, items, max_prune):
    """Why the prune must not run at all (None: it may): the classic accidents of an empty or truncated list."""
    listed = ", ".join("{!r} ({})".format(share.get("name"), share["id"]) for share in targets[:10])
    listed += ", ..." if len(targets) > 10 else ""
    if not items and targets and max_prune != 0:
        return (
            f"prune with an empty list of shares would delete all {len(targets)} sent shares of the account: {listed}. An empty list "
            "is more often an accident (an empty or missing variable file) than a wish; to delete them all, set "
            "max_prune to 0 (no limit). Nothing was changed."
        )
    if max_prune and len(targets) > max_prune:
        return (
            f"prune would delete {len(targets)} shares, more than max_prune={max_prune:d}: {listed}. Check that the list of shares is complete "
            "(a truncated variable file?); to allow it, raise max_prune (0: no limit). Nothing was changed."
        )
    return None


def converge_all(
    api,
    items,
    concurrency=DEFAULT_CONCURRENCY,
    prune=False,
    check_mode=False,
    diff=False,
    include_recipients=False,
    max_prune=DEFAULT_MAX_PRUNE,
    stop=None,
):
    """Converge every item (and prune) with ``concurrency`` workers; return (per-share outcomes, notes).

    Items first (in the given order), then the pruned shares. The one listing is read
    before any work; if it fails, nothing is done and the error propagates. Without a valid
    item (an empty list included) there is nothing to look at, and no request is made, unless
    prune is asked with an empty list. ``notes``: what prune left alone, and why. ``stop(reason)``:
    called if waiting for the workers ends in an exception (an interruption the guard did not turn
    into a stop), so that no worker sends another request; the jobs not started are cancelled.
    """
    if all(item.error is not None for item in items) and not (prune and not items):
        # Nothing valid to converge, and prune refuses to run while an item is invalid: no request at all.
        notes = prune_plan([], items)[1] if prune else []
        return [_outcome(_item_fields(item), error=InputError(item.error)) for item in items], notes
    listing = list_sent_shares(api)
    clashes = _same_share_clashes(listing, items)
    jobs = [(item.request, _item_fields(item), clashes.get(item.index, item.error)) for item in items]
    notes = []
    if prune:
        targets, notes = prune_plan(listing, items)
        refusal = prune_refusal(targets, items, max_prune)
        if refusal:
            raise InputError(refusal)
        for share in targets:
            request = ShareRequest(name=None, share_id=share["id"], present=False, check_mode=check_mode, diff=diff)
            jobs.append(
                (
                    request,
                    {
                        "index": None,
                        "name": share.get("name"),
                        "share_id": share["id"],
                        "state": "absent",
                        "pruned": True,
                    },
                    None,
                )
            )
    reads = Reads.FULL if include_recipients else Reads.PLANNING
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs) or 1))) as pool:
        futures = [
            pool.submit(_run_one, api, request, listing, fields, reads) if error is None else None
            for request, fields, error in jobs
        ]
        try:
            outcomes = [
                _outcome(fields, error=InputError(error)) if future is None else future.result()
                for future, (_request, fields, error) in zip(futures, jobs)
            ]
        except BaseException:
            if stop is not None:
                stop("the task was interrupted")
            for future in futures:
                if future is not None:
                    future.cancel()
            raise
    for outcome in outcomes:
        if outcome["share"].get("id") and not outcome["share_id"]:
            outcome["share_id"] = outcome["share"]["id"]
    return outcomes, notes


def outcome_label(outcome):
    if outcome["pruned"]:
        return "pruned share {!r} ({})".format(outcome["name"], outcome["share_id"])
    if outcome["name"] is not None:
        return repr(outcome["name"])
    if outcome["share_id"]:
        return "share_id {}".format(outcome["share_id"])
    return "shares[{:d}]".format(outcome["index"])


def drift_summary(outcomes):
    """Counts and names/ids of the shares created, updated, deleted (prune included), unchanged, and failed.

    ``drift``: something was (or, in check mode, would be) changed. (Past-tense group names: ``update``
    would hide behind the dict method of that name in Jinja.)
    """
    group_of = {"create": "created", "update": "updated", "delete": "deleted", "none": "unchanged"}
    groups = {"created": [], "updated": [], "deleted": [], "unchanged": [], "failed": []}
    for outcome in outcomes:
        group = "failed" if outcome["failed"] else group_of[outcome["change"]]
        groups[group].append({"name": outcome["name"], "share_id": outcome["share_id"], "pruned": outcome["pruned"]})
    drift = bool(groups["created"] or groups["updated"] or groups["deleted"])
    return dict(groups, drift=drift, counts={group: len(entries) for group, entries in groups.items()})


def summary(outcomes, diff, notes=()):
    """The module result: changed, results, the drift summary, and in diff mode one diff per changed share;
    failed with a msg."""
    result = {
        "changed": any(outcome["changed"] for outcome in outcomes),
        "results": outcomes,
        "summary": drift_summary(outcomes),
    }
    if notes:
        result["warnings"] = list(notes)
    if diff:
        result["diff"] = [
            dict(outcome["diff"], before_header=outcome_label(outcome), after_header=outcome_label(outcome))
            for outcome in outcomes
            if outcome["changed"] and "diff" in outcome
        ]
    else:
        for outcome in outcomes:
            outcome.pop("diff", None)
    failed = [outcome for outcome in outcomes if outcome["failed"]]
    if failed:
        result["failed"] = True
        result["msg"] = "{} of {} shares failed (the others were converged; fix the causes and re-run): {}".format(
            len(failed),
            len(outcomes),
            "; ".join("{}: {}".format(outcome_label(outcome), outcome["msg"]) for outcome in failed),
        )
        result["msg"] += "".join(". " + note for note in notes if note.startswith("prune deleted nothing"))
        result["failed_shares"] = [outcome_label(outcome) for outcome in failed]
    return result


def check_bulk_options(params):
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise InputError("concurrency must be between 1 and {}, got {}".format(MAX_CONCURRENCY, params["concurrency"]))
    if params["request_budget"] < 0:
        raise InputError("request_budget must be 0 (no budget) or more, got {}".format(params["request_budget"]))
    if params["max_prune"] < 0:
        raise InputError("max_prune must be 0 (no limit) or more, got {}".format(params["max_prune"]))
    if params["request_budget_window"] <= 0:
        raise InputError(
            "request_budget_window must be a positive number of seconds, got {}".format(params["request_budget_window"])
        )


def run_bulk(params, connection, guard, check_mode, diff):
    """The ``shares`` module: validate, converge every item over budgeted (kept-alive) connections, summarise."""
    account_id = connection.require_account()
    check_bulk_options(params)
    items = prepare(params["shares"], account_id, check_mode, diff=diff)
    connections = KeepAliveTransport() if params["keep_alive"] else None
    budget = RequestBudget(params["request_budget"], params["request_budget_window"])
    transport = BudgetedTransport(connections or open_url_transport, budget)
    started = time.monotonic()
    try:
        api = ShareApi(connection.client(guard=guard, transport=transport), account_id)
        outcomes, notes = converge_all(
            api,
            items,
            concurrency=params["concurrency"],
            prune=params["prune"],
            max_prune=params["max_prune"],
            stop=guard.stop,
            check_mode=check_mode,
            diff=diff,
            include_recipients=params["include_recipients"],
        )
    finally:
        if connections is not None:
            connections.close()
    result = summary(outcomes, diff, notes)
    result["stats"] = {
        "requests": transport.requests,
        "connections": connections.connections_opened if connections is not None else None,
        "rate_limited": transport.rate_limited,
        "throttled_seconds": round(budget.waited, 3),
        "seconds": round(time.monotonic() - started, 3),
    }
    return result
