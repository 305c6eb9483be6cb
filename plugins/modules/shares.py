#!/usr/bin/python
# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: shares
short_description: Converge many Cloudflare resource shares in one task
version_added: 0.1.0
description:
  - Converges a list of shares in one task, each item taking the options of the
    P(edgeops.cloudflare.share#module) module. For tens or hundreds of shares this is much faster than a
    C(loop) over that module, makes far fewer API requests, and keeps below Cloudflare's rate limit on its own.
  - Each share is found, planned and changed exactly as the P(edgeops.cloudflare.share#module) module does it
    (same lookup rules, same in-place changes, same refusals).
  - One share failing does not stop the others. The task then fails, and its message names every share that
    failed and why; the others are converged, and re-running the task converges the rest.
  - With O(prune), the account's other shares are deleted too, at most O(max_prune) of them.
  - The result counts what was created, updated, deleted, left unchanged and failed, and lists it by share.
author:
  - edgeops.cloudflare maintainers (@edgeops)
options:
  shares:
    description:
      - The shares to converge. Each item takes the options of the P(edgeops.cloudflare.share#module) module.
      - Each share may appear once; two items with the same O(shares[].name) or O(shares[].share_id) are an
        error before any request.
      - Each item is checked on its own against these options; an item with invalid options (a wrong type, an
        unknown choice, a malformed id) fails on its own and is named; the other items are still converged.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The share's name; the lookup key when O(shares[].share_id) is not given (among the account's active
            shares of kind C(sent); two or more matches fail this item and name every id).
          - With O(shares[].share_id), the share is renamed to this name if it differs.
          - Required to create a share. One of O(shares[].name) and O(shares[].share_id) is required.
        type: str
      share_id:
        description:
          - The share's id, a 32-character lowercase hexadecimal identifier. A share is never created when it
            is given.
        type: str
      state:
        description:
          - V(present) creates the share or converges it; V(absent) deletes it (and refuses
            O(shares[].recipients) and O(shares[].resources), as the P(edgeops.cloudflare.share#module) module does).
        type: str
        choices: [present, absent]
        default: present
      recipients:
        description:
          - "Who receives the share: V({account_id: <id>}) items, or one V({organization_id: <id>}) or V({})
            item for the owner's whole organization. Omit to leave the recipients alone."
          - As the P(edgeops.cloudflare.share#module) module's O(edgeops.cloudflare.share#module:recipients).
        type: list
        elements: dict
        suboptions:
          account_id:
            description:
              - The receiving account's id. Sent to the API as C(recipient_account_id).
            type: str
            aliases: [recipient_account_id]
          organization_id:
            description:
              - The owner's organization id, to share with the whole organization.
            type: str
      purge_recipients:
        description:
          - If V(true), account recipients not listed are removed; if V(false), listed ones are only added.
        type: bool
        default: true
      resources:
        description:
          - What the share contains; omit to leave the resources alone.
          - As the P(edgeops.cloudflare.share#module) module's O(edgeops.cloudflare.share#module:resources).
        type: list
        elements: dict
        suboptions:
          resource_id:
            description:
              - The id of the shared object.
            type: str
            required: true
          resource_type:
            description:
              - The kind of object shared.
            type: str
            required: true
            choices:
              - custom-ruleset
              - gateway-policy
              - gateway-destination-ip
              - gateway-block-page-settings
              - gateway-extended-email-matching
              - idp-federation-grant
              - trust-grant
          resource_account_id:
            description:
              - The account that owns the shared object. Defaults to O(account_id).
            type: str
          meta:
            description:
              - Free-form metadata of the share resource, a mapping. If omitted, an existing resource's metadata
                is left as it is, and a new resource gets V({}).
            type: dict
      purge_resources:
        description:
          - If V(true), resources not listed are removed; if V(false), listed ones are only added or updated.
        type: bool
        default: true
      excluded_recipients:
        description:
          - For a share with the whole organization, the accounts it leaves out; as the
            P(edgeops.cloudflare.share#module) module's O(edgeops.cloudflare.share#module:excluded_recipients).
        type: list
        elements: str
      purge_excluded_recipients:
        description:
          - If V(true), exclusions not listed are lifted; if V(false), listed ones are only added.
        type: bool
        default: true
      allow_duplicate_name:
        description:
          - Allow a rename (O(shares[].share_id) with a new O(shares[].name)) to the name of another active share
            of the account; refused by default, as for the P(edgeops.cloudflare.share#module) module.
        type: bool
        default: false
      wait:
        description:
          - With O(shares[].state=present), wait until no recipient is C(associating) or C(disassociating);
            with O(shares[].state=absent), until the share is C(deleted).
        type: bool
        default: false
      wait_timeout:
        description:
          - Seconds to wait when O(shares[].wait=true).
        type: int
        default: 300
  prune:
    description:
      - If V(true), every active share of kind C(sent) in the account that no item names (by
        O(shares[].name) or O(shares[].share_id)) is deleted. Check mode shows what would be deleted.
      - Shares that items name are never pruned, even when their item fails.
      - Prune deletes only what is certain. While any item is invalid, or names by O(shares[].share_id) a share
        that is not an active share of the account, it deletes nothing and says why (that item's name or id could be
        the one that protects a share). A share whose name differs from an
        item's name only in case or spacing is kept, with a warning.
    type: bool
    default: false
  max_prune:
    description:
      - The most shares O(prune) may delete in one task. A prune that would delete more fails before any write,
        names the shares and says how many (the classic accident is a truncated list of shares).
      - With an empty O(shares) list, O(prune) fails before any write unless this is V(0), since an empty list is
        more often an empty or missing variable file than a wish to delete every share.
      - V(0) means no limit.
    type: int
    default: 10
  concurrency:
    description:
      - How many shares are worked on at the same time (1 to 32). Each worker has its own connection.
    type: int
    default: 4
  request_budget:
    description:
      - At most this many requests (retries included) in any O(request_budget_window) seconds; requests beyond
        it wait. The default stays below Cloudflare's limit of about 1,200 requests per 5 minutes per user,
        leaving some for other clients of the same user.
      - The budget counts this task's requests only; tasks that run back to back share Cloudflare's limit.
        A 429 answer pauses every worker for its C(Retry-After) and the request is retried (see O(max_retries)).
      - V(0) disables the budget (429 answers are still honoured).
    type: int
    default: 1100
  request_budget_window:
    description:
      - The window of O(request_budget), in seconds.
    type: int
    default: 300
  include_recipients:
    description:
      - If V(true), every share in the results carries its C(recipients) as the API lists them (after the
        changes), as the P(edgeops.cloudflare.share#module) module returns them.
      - If V(false), a share's recipients are read only when its item gives account O(shares[].recipients) (they
        are needed to plan), or to show a deletion in diff mode; the returned C(share) has no C(recipients)
        otherwise. After a create or a replacement of the recipients, C(share.recipients) is then the predicted
        list (new recipients are C(associating) with a null V(id)).
      - Costs one request per share whose recipients the plan did not read anyway, and one after a create or a
        replacement of the recipients.
    type: bool
    default: false
  keep_alive:
    description:
      - If V(true), requests go over kept-alive connections (one per worker) of Python's C(http.client), with
        the same certificate (O(validate_certs), O(ca_path)), proxy (E(HTTPS_PROXY), E(NO_PROXY)), timeout and
        retry behaviour as ansible-core's C(open_url).
      - If V(false), every request uses ansible-core's C(open_url), opening a new connection each time.
    type: bool
    default: true
extends_documentation_fragment:
  - edgeops.cloudflare.api
  - edgeops.cloudflare.api.attributes
attributes:
  check_mode:
    description: Computes every change (and every share O(prune) would delete) without making any write request.
    support: full
  diff_mode:
    description: Shows a before/after view of each changed share (name, target type, sorted recipients, sorted resources).
    support: full
notes:
  - "How it works: the account's active sent shares are read once (with their resources); then O(concurrency)
    workers each work on one share at a time, over kept-alive HTTPS connections, within a request budget
    (O(request_budget)) that keeps below Cloudflare's rate limit."
  - "Requests: one listing of the account's shares, then per share: nothing more for a share whose item gives no
    account recipients, one read of its recipients otherwise; one request per change (a changed set of account
    recipients is one C(PUT)); a create is one request; a deletion is one request. The
    R(Requests guide,ansible_collections.edgeops.cloudflare.docsite.guide_requests) has every count, the
    R(Performance guide,ansible_collections.edgeops.cloudflare.docsite.guide_performance) the timings."
seealso:
  - module: edgeops.cloudflare.share
  - module: edgeops.cloudflare.share_info
"""

EXAMPLES = r"""
- name: One share per team
  edgeops.cloudflare.shares:
    shares:
      - name: WAF rules for team-a
        recipients: [{account_id: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10}]
        resources: [{resource_type: custom-ruleset, resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9}]
      - name: WAF rules for team-b
        recipients: [{account_id: 2c7a1f5b0d3e4f9a9b8c7d6e5f4a3b21}]
        resources: [{resource_type: custom-ruleset, resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9}]

- name: Make the account's sent shares exactly these (delete every other one)
  edgeops.cloudflare.shares:
    shares:
      - name: Shared WAF rules
        recipients:
          - account_id: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10
        resources:
          - resource_type: custom-ruleset
            resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9
      - name: Old share
        state: absent
    prune: true
    concurrency: 8
  register: applied

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ applied.results | selectattr('changed') | map(attribute='name') | list }}"
"""

RETURN = r"""
results:
  description:
    - One entry per item of O(shares), in order, then one per share deleted by O(prune).
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: The item's position in O(shares) (from 0); null for a pruned share.
      type: int
    name:
      description: The item's O(shares[].name) (for a pruned share, its name).
      type: str
    share_id:
      description: The share's id (the item's O(shares[].share_id), or the id of the share found or created).
      type: str
    state:
      description: The item's O(shares[].state); V(absent) for a pruned share.
      type: str
    pruned:
      description: Whether this share is deleted because of O(prune).
      type: bool
    changed:
      description: Whether this share changed (or would change, in check mode).
      type: bool
    failed:
      description: Whether this share failed.
      type: bool
    msg:
      description: Why this share failed.
      type: str
      returned: when failed
    change:
      description:
        - What happens to the share as a whole, V(create), V(update), V(delete) or V(none) (planned, in check mode).
      type: str
      sample: update
    actions:
      description: The changes planned for this share, in order, in words.
      type: list
      elements: str
      sample: ["add recipient account 2c7a1f5b0d3e4f9a9b8c7d6e5f4a3b21"]
    share:
      description:
        - The share, as the P(edgeops.cloudflare.share#module) module returns it, with the differences in the
          description of this module (C(recipients) only when read).
      type: dict
    diff:
      description: The before/after view of this share.
      type: dict
      returned: in diff mode
summary:
  description:
    - What the task changed (in check mode, would change), share by share, grouped; a drift report.
    - Each group lists the shares as C(name), C(share_id) and C(pruned) (deleted by O(prune)).
  returned: always
  type: dict
  contains:
    drift:
      description: Whether any share was (or would be) created, updated or deleted.
      type: bool
      sample: true
    counts:
      description: How many shares are in each group.
      type: dict
      sample: {created: 1, updated: 2, deleted: 1, unchanged: 7, failed: 0}
    created:
      description: The shares created (in check mode, to create).
      type: list
      elements: dict
    updated:
      description: The shares changed in place (name, recipients, resources, meta).
      type: list
      elements: dict
    deleted:
      description: The shares deleted, by their item's O(shares[].state=absent) or by O(prune).
      type: list
      elements: dict
    unchanged:
      description: The shares that already were as described.
      type: list
      elements: dict
    failed:
      description: The shares that failed (see C(results) and C(msg)).
      type: list
      elements: dict
failed_shares:
  description: The shares that failed, named as in the task's failure message.
  returned: when some shares failed
  type: list
  elements: str
stats:
  description: What the task cost.
  returned: always
  type: dict
  contains:
    requests:
      description: HTTP requests sent, retries included.
      type: int
    connections:
      description: Connections opened (with O(keep_alive=true)); null otherwise.
      type: int
    rate_limited:
      description: Answers 429 (rate limited) received.
      type: int
    throttled_seconds:
      description: Seconds workers waited for the request budget or after a 429, added up over workers.
      type: float
    seconds:
      description: Wall-clock seconds spent on the shares (listing, work and pruning), without the module's start-up.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.cloudflare.plugins.module_utils._bulk import (
    DEFAULT_BUDGET_REQUESTS,
    DEFAULT_BUDGET_WINDOW,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_PRUNE,
    run_bulk,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import common_argument_spec, run_module


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        # Each item is validated on its own against the share module's options (_bulk.validated_item),
        # so that one bad item fails alone; the documentation's suboptions are that spec.
        shares=dict(type="list", elements="dict", required=True),
        prune=dict(type="bool", default=False),
        max_prune=dict(type="int", default=DEFAULT_MAX_PRUNE),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        request_budget=dict(type="int", default=DEFAULT_BUDGET_REQUESTS),
        request_budget_window=dict(type="int", default=DEFAULT_BUDGET_WINDOW),
        keep_alive=dict(type="bool", default=True),
        include_recipients=dict(type="bool", default=False),
    )
    return spec


def run(task, connection, guard):
    return run_bulk(task.params, connection, guard, task.check_mode, task.diff)


RULES = {}
WRITES = True


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **RULES)
    run_module(module, run, writes=WRITES)


if __name__ == "__main__":
    main()
