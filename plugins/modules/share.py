#!/usr/bin/python
# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: share
short_description: Manage a Cloudflare resource share
version_added: 0.1.0
description:
  - Creates, updates in place, or deletes a Cloudflare resource share, which shares account configuration
    (WAF custom rulesets, Gateway policies, ...) with other accounts or with the owner's whole organization.
  - Idempotent; finds the share by O(share_id), or by O(name) among the account's active sent shares.
  - Recipients and resources are changed in place through their own endpoints; the share is never re-created.
author:
  - edgeops.cloudflare maintainers (@edgeops)
options:
  name:
    description:
      - The share's name.
      - Without O(share_id), the share is looked up by this name among the account's active shares of kind
        C(sent); if two or more match, the task fails, names every id, and changes nothing.
      - With O(share_id), the share is renamed to this name if it differs. A rename to the name of another
        active share of the account is refused (it names that share) unless O(allow_duplicate_name=true).
      - Required to create a share.
    type: str
  share_id:
    description:
      - The share's id, a 32-character lowercase hexadecimal identifier. Exact identity; a share is never
        created when O(share_id) is given.
    type: str
  state:
    description:
      - V(present) creates the share or converges it; V(absent) deletes it.
      - A share whose status is C(deleting) or C(deleted) counts as absent.
      - With V(absent), O(recipients) and O(resources) are refused (the whole share would go); to remove one
        recipient or resource, use P(edgeops.cloudflare.share_recipient#module) or
        P(edgeops.cloudflare.share_resource#module).
    type: str
    choices: [present, absent]
    default: present
  recipients:
    description:
      - "Who receives the share. Each item is V({account_id: <id>}) for an account of the owner's organization,
        V({organization_id: <id>}) for the owner's whole organization, or V({}) for the owner's own
        organization (as in Cloudflare's own example)."
      - Account and organization recipients cannot be mixed, and an existing share cannot switch between them.
      - Omit to leave the recipients alone; an empty list is an error (use O(state=absent) to stop sharing).
      - Recipients that are C(disassociating) or C(disassociated) count as absent and are added again if listed.
      - Duplicate items are merged.
    type: list
    elements: dict
    suboptions:
      account_id:
        description:
          - The receiving account's id. Matches the C(account_id) of the recipient objects this module returns.
          - Sent to the API as C(recipient_account_id).
        type: str
        aliases: [recipient_account_id]
      organization_id:
        description:
          - The owner's organization id, to share with the whole organization.
        type: str
  purge_recipients:
    description:
      - If V(true), account recipients not listed in O(recipients) are removed.
      - If V(false), listed recipients are only added.
      - Has no effect when O(recipients) is omitted, or for organization shares.
    type: bool
    default: true
  resources:
    description:
      - What the share contains. A resource's identity is (O(resources[].resource_type),
        O(resources[].resource_account_id), O(resources[].resource_id)); a changed O(resources[].meta) is
        updated in place.
      - Omit to leave the resources alone; an empty list is an error.
      - Exact duplicates are merged; the same resource twice with different meta is an error.
    type: list
    elements: dict
    suboptions:
      resource_id:
        description:
          - The id of the shared object (for example a ruleset id). Its format depends on the type and is
            checked by the API.
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
          - Free-form metadata of the share resource, a mapping.
          - If omitted, an existing resource's metadata is left as it is, and a new resource gets V({}).
            Give V({}) to clear it.
        type: dict
  purge_resources:
    description:
      - If V(true), resources not listed in O(resources) are removed from the share.
      - If V(false), listed resources are only added or updated.
      - Has no effect when O(resources) is omitted.
    type: bool
    default: true
  excluded_recipients:
    description:
      - For a share with the whole organization (O(recipients=[{}])), the accounts of the organization it leaves
        out, by account id. Omit to leave them alone; an empty list lifts every exclusion (with
        O(purge_excluded_recipients=true)).
      - Refused for a share with account recipients.
      - A new exclusion is made before any resource changes and a lifted one after them, as recipient removals and
        additions are. Cloudflare cannot create a share with its exclusions, so a new organization share with
        O(excluded_recipients) is visible to the excluded accounts until the exclusion (the next request) lands.
    type: list
    elements: str
  purge_excluded_recipients:
    description:
      - If V(true), exclusions not listed in O(excluded_recipients) are lifted; if V(false), listed ones are
        only added.
    type: bool
    default: true
  allow_duplicate_name:
    description:
      - Allow a rename (O(share_id) with a new O(name)) to the name of another active share of the account.
      - Cloudflare does not make names unique, but this collection finds shares by name, and a lookup that finds
        two fails; so the default refuses such a rename.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until no recipient is C(associating) or C(disassociating). A terminal
        association error (Cloudflare will not retry it) fails the task at once, naming the recipient account,
        the resource and Cloudflare's message; a timeout names the errors Cloudflare is still retrying.
      - With O(state=absent), wait until the share is C(deleted), also when it was already C(deleting) before
        the task.
      - Checks at once, then waits 0.5, 1, 2 and 4 seconds between checks, then 5 seconds between checks.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait when O(wait=true); the task fails when they pass.
    type: int
    default: 300
extends_documentation_fragment:
  - edgeops.cloudflare.api
  - edgeops.cloudflare.api.attributes
attributes:
  check_mode:
    description: Computes every change and reports it without making any write request.
    support: full
  diff_mode:
    description: Shows a before/after view of the name, target type, sorted recipients and sorted resources.
    support: full
seealso:
  - name: Cloudflare API reference for Resource Sharing
    description: The endpoints this module uses.
    link: https://developers.cloudflare.com/api/resources/resource_sharing/
"""

EXAMPLES = r"""
- name: Share a WAF custom ruleset with two accounts of our organization
  edgeops.cloudflare.share:
    name: Shared WAF rules
    recipients:
      - account_id: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10
      - account_id: 2c7a1f5b0d3e4f9a9b8c7d6e5f4a3b21
    resources:
      - resource_type: custom-ruleset
        resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9
  register: waf_share

- name: Share with the whole organization, as in Cloudflare's own example
  edgeops.cloudflare.share:
    name: Org-wide WAF rules
    recipients:
      - {}
    resources:
      - resource_type: custom-ruleset
        resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9

- name: Add one recipient and one resource without touching the others, and wait until it is associated
  edgeops.cloudflare.share:
    name: Shared WAF rules
    recipients:
      - account_id: 3d8b2a6c1e4f4a0bac9d8e7f6a5b4c32
    purge_recipients: false
    resources:
      - resource_type: custom-ruleset
        resource_id: 1b2c3d4e5f40718293a4b5c6d7e8f9a0
    purge_resources: false
    wait: true

- name: Rename the share by its id (in check mode, a share that is not created yet has no id)
  edgeops.cloudflare.share:
    share_id: "{{ waf_share.share.id }}"
    name: Shared WAF rules (production)
  when: waf_share.share.id is not none

- name: Set credentials once for every module of the collection
  module_defaults:
    group/edgeops.cloudflare.cloudflare:
      api_token: "{{ vault_cloudflare_api_token }}"
      account_id: 023e105f4ecef8ad9ca31a8372d0c353
  block:
    - name: Delete a share and wait until it is gone
      edgeops.cloudflare.share:
        name: Org-wide WAF rules
        state: absent
        wait: true
"""

RETURN = r"""
share:
  description:
    - The share as the API describes it, plus its recipients and resources.
    - After a deletion, the last state seen (status C(deleting), or C(deleted) with O(wait=true)).
    - Empty when there is no share. In check mode, the predicted share (new objects have a null V(id)).
  returned: always
  type: dict
  contains:
    id:
      description: The share's id.
      type: str
      sample: 3fd85f74b32742f1bff64a85009dda07
    name:
      description: The share's name.
      type: str
      sample: Shared WAF rules
    account_id:
      description: The owning account.
      type: str
      sample: 023e105f4ecef8ad9ca31a8372d0c353
    account_name:
      description: The owning account's display name.
      type: str
      sample: Account A
    organization_id:
      description: The owner's organization.
      type: str
      sample: 5f0c7c1b2ed04c41a0e0d7e5a2f7c0d1
    status:
      description: The share's status.
      type: str
      sample: active
    target_type:
      description: Whether the share targets accounts or an organization (V(account) or V(organization)).
      type: str
      sample: account
    kind:
      description: V(sent) for shares this account created.
      type: str
      sample: sent
    created:
      description: When the share was created (RFC 3339).
      type: str
      sample: "2023-09-21T18:56:32.624632Z"
    modified:
      description: When the share was last modified (RFC 3339).
      type: str
      sample: "2023-09-21T18:56:32.624632Z"
    recipients:
      description: Every recipient record, in any association status.
      type: list
      elements: dict
      contains:
        id:
          description: The recipient id.
          type: str
        account_id:
          description: The receiving account.
          type: str
        association_status:
          description: V(associating), V(associated), V(disassociating) or V(disassociated).
          type: str
        created:
          description: When the recipient was added.
          type: str
        modified:
          description: When the recipient last changed.
          type: str
        resources:
          description:
            - The recipient's association of each resource of the share (Cloudflare's C(include_resources) view).
          type: list
          elements: dict
          contains:
            resource_id:
              description: The shared object's id.
              type: str
            resource_version:
              description: The version of the share resource.
              type: int
            error:
              description: Why the association of this resource failed; empty when it did not.
              type: str
              sample: Recipient is missing necessary entitlement
            terminal:
              description: Whether the error is final (V(true)) or Cloudflare keeps retrying (V(false)).
              type: bool
    association_errors:
      description:
        - The failed associations of the share's present recipients, as Cloudflare reports them per recipient and
          resource (C(terminal) says Cloudflare will not retry).
        - Returned when the recipients were read. With O(wait=true), a terminal error fails the task at once.
      type: list
      elements: dict
      sample:
        - account_id: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10
          resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9
          error: Recipient is missing necessary entitlement
          terminal: true
    excluded_recipients:
      description: For an organization share, the accounts it leaves out (V(id), V(account_id), V(created), V(modified)).
      returned: for shares with the whole organization
      type: list
      elements: dict
    resources:
      description: Every share resource, in any status.
      type: list
      elements: dict
      contains:
        id:
          description: The share-resource id (not the shared object's id).
          type: str
        resource_id:
          description: The shared object's id.
          type: str
        resource_account_id:
          description: The account that owns the shared object.
          type: str
        resource_type:
          description: The kind of object shared.
          type: str
        resource_version:
          description: The version of the share resource.
          type: int
        meta:
          description: The share resource's metadata.
          type: dict
        status:
          description: V(active), V(deleting) or V(deleted).
          type: str
        created:
          description: When the resource was added.
          type: str
        modified:
          description: When the resource last changed.
          type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import (
    SHARE_RULES,
    common_argument_spec,
    run_module,
    share_options,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._api import ShareApi
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share import converge, share_request


def argument_spec():
    spec = common_argument_spec()
    spec.update(share_options())
    return spec


def run(task, connection, guard):
    account_id = connection.require_account()
    request = share_request(task.params, account_id, task.check_mode, diff=task.diff)
    result = converge(ShareApi(task.client(connection, guard), account_id), request)
    if not task.diff:
        del result["diff"]
    return result


RULES = SHARE_RULES
WRITES = True


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **RULES)
    run_module(module, run, writes=WRITES)


if __name__ == "__main__":
    main()
